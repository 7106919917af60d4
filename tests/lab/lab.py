"""Lab harness: Debian 12 guests under QEMU for testing kbypass.testbed over SSH.

  lab.py deps                      install QEMU >= 8 (bookworm-backports), debootstrap, e2fsprogs
  lab.py image                     build or reuse the cached guest image
  lab.py up [--guests N]           boot N guests, write an inventory, leave them running
  lab.py down --workdir DIR|--all  stop guests of a workdir and remove it
  lab.py run [--guests N] [--keep-logs DIR] -- CMD ARGS...
                                   up, run CMD (env KBYPASS_LAB_INVENTORY, KBYPASS_LAB_WORKDIR), down
  lab.py prune                     remove cached images other than the current recipe's

Guests: NICs mgmt0 (virtio, user net + SSH port forward), data0 (virtio), spare0 (e1000e) and
sriov0 (igb, SR-IOV). data0, spare0 and sriov0 each form one L2 segment joining all guests: a
QEMU hub inside lab1 with one unix stream socket per other guest (nothing on the host network).
Needs root. Stdlib + paramiko only. See tests/lab/README.md.
"""
import argparse
import ctypes
import fcntl
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
RECIPE_VERSION = 1
CACHE = Path(os.environ.get('KBYPASS_LAB_CACHE', '/var/cache/kbypass-lab'))
WORK_BASE = Path('/var/tmp')
PREFIX = 'kbypass-lab-'
MAX_GUESTS = 16
NICS = {'mgmt0': 1, 'data0': 2, 'spare0': 3, 'sriov0': 4}   # name -> MAC role byte
SEGMENTS = [('data0', 'virtio-net-pci', 0), ('spare0', 'e1000e', 1), ('sriov0', 'igb', 2)]
SUITE = 'bookworm'
MIRROR = os.environ.get('KBYPASS_LAB_MIRROR', 'http://deb.debian.org/debian')
PACKAGES = ['linux-image-amd64', 'openssh-server', 'python3', 'python3-apt', 'iproute2',
            'systemd-sysv', 'dbus', 'udev', 'kmod', 'ifupdown', 'isc-dhcp-client', 'pciutils',
            'ethtool', 'sudo', 'iputils-ping', 'procps', 'ca-certificates', 'netbase',
            'libnss-myhostname', 'less',  # not systemd-resolved: its virtual dependency breaks debootstrap
            # what the kernel-path roles install (lxc, icperf, openvswitch): their apt tasks then find
            # them; under TCG installing them takes ~15 min of every lab run (they are installed
            # for real on CI's own host)
            'lxc', 'lxc-templates', 'busybox-static', 'debootstrap', 'rsync', 'gcc', 'make', 'libc6-dev',
            'openvswitch-switch']
IMAGE_SIZE = '6G'
APT_OPTS = ['-y', '-q', '--no-install-recommends', '-o', 'DPkg::Lock::Timeout=600']


class LabError(Exception):
    """A failure with a message that names the missing thing and the fix."""


class Interrupted(BaseException):
    pass


def log(msg):
    print(f'[lab] {msg}', flush=True)


def run(argv, quiet=False, **kw):
    """Run argv (a list) in its own process group, which is killed if the harness is
    interrupted (and gets SIGKILL if the harness dies); LabError with the output's tail on failure."""
    p = subprocess.Popen(argv, stdout=subprocess.PIPE if quiet else None, text=True,
                         stderr=subprocess.STDOUT if quiet else None,
                         preexec_fn=pdeathsig(signal.SIGKILL), **kw)
    try:
        out = p.communicate()[0]
    except BaseException:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
        raise
    if p.returncode != 0:
        tail_ = '\n'.join((out or '').splitlines()[-20:])
        raise LabError(f'{" ".join(argv[:4])}... failed with exit code {p.returncode}\n{tail_}')
    return out


def mac(role, index):
    return f'52:54:00:4b:{role:02x}:{index:02x}'


def mac_of(nic, index):
    return mac(NICS[nic], index)


def pid_alive(pid, needle):
    """True if pid runs and its command line contains needle (guards against pid reuse)."""
    try:
        return needle in Path(f'/proc/{int(pid)}/cmdline').read_bytes().decode(errors='replace')
    except (OSError, ValueError, TypeError):
        return False


def tail(path, lines=30):
    """Last lines of a log, without blank lines and terminal colour codes."""
    try:
        text = re.sub(r'\x1b\[[0-9;?]*[A-Za-z]|\r', '', Path(path).read_text(errors='replace'))
    except OSError:
        return f'({path} not readable)'
    return '\n'.join([line for line in text.splitlines() if line.strip()][-lines:]) or '(empty)'


def pdeathsig(sig):
    """preexec_fn: new session; the child gets sig when the harness dies (even on SIGKILL)."""
    parent = os.getpid()
    prctl = ctypes.CDLL(None, use_errno=True).prctl     # looked up before fork, not in the child

    def fn():
        os.setsid()
        prctl(1, int(sig), 0, 0, 0)     # PR_SET_PDEATHSIG
        if os.getppid() != parent:
            os._exit(1)
    return fn


# ---------------------------------------------------------------- host dependencies

def qemu_version():
    exe = shutil.which('qemu-system-x86_64')
    if not exe:
        return None
    out = subprocess.run([exe, '--version'], capture_output=True, text=True, check=False).stdout
    m = re.search(r'version (\d+)\.(\d+)\.(\d+)', out)
    return tuple(int(x) for x in m.groups()) if m else None


def has_backports(codename):
    files = [Path('/etc/apt/sources.list')] + sorted(Path('/etc/apt/sources.list.d').glob('*'))
    for f in files:
        if f.suffix not in ('.list', '.sources') or not f.is_file():
            continue
        for line in f.read_text(errors='replace').splitlines():
            if not line.lstrip().startswith('#') and f'{codename}-backports' in line:
                return True
    return False


def ensure_deps():
    """Install what is missing; return a dict of what was done."""
    codename = ''
    for line in Path('/etc/os-release').read_text().splitlines():
        if line.startswith('VERSION_CODENAME='):
            codename = line.split('=', 1)[1].strip('"')
    qv = qemu_version()
    need_qemu = qv is None or qv < (8, 0, 0) or not shutil.which('qemu-img')
    base = [pkg for pkg, exe in (('debootstrap', 'debootstrap'), ('e2fsprogs', 'mkfs.ext4'),
                                 ('openssh-client', 'ssh-keygen')) if not shutil.which(exe)]
    if not need_qemu and not base:
        log(f'host deps present: QEMU {".".join(map(str, qv))}, debootstrap, mkfs.ext4, ssh-keygen')
        return {'installed': [], 'qemu': '.'.join(map(str, qv))}
    qemu_pkgs = ['qemu-system-x86', 'qemu-utils'] if need_qemu else []
    if os.geteuid() != 0:
        raise LabError(f'missing {" ".join(base + qemu_pkgs)} (QEMU >= 8 needed for the igb NIC); '
                       'run this as root so it can install them with apt-get')
    env = dict(os.environ, DEBIAN_FRONTEND='noninteractive')
    target = []
    if need_qemu and codename == 'bookworm':
        target = ['-t', 'bookworm-backports']
        if not has_backports(codename):
            src = Path('/etc/apt/sources.list.d/kbypass-lab-backports.list')
            src.write_text('deb http://deb.debian.org/debian bookworm-backports main\n')
            log(f'added apt source {src} (bookworm-backports, for QEMU >= 8)')
    log('apt-get update')
    run(['apt-get', 'update', '-q'], env=env)
    if base:
        log(f'installing {" ".join(base)}')
        run(['apt-get', 'install'] + APT_OPTS + base, env=env)
    if qemu_pkgs:
        log(f'installing {" ".join(qemu_pkgs)} {" ".join(target)}')
        run(['apt-get', 'install'] + APT_OPTS + target + qemu_pkgs, env=env)
    qv = qemu_version()
    if qv is None or qv < (8, 0, 0):
        raise LabError(f'QEMU >= 8 needed (has {qv}); install qemu-system-x86 from bookworm-backports')
    log(f'installed {" ".join(base + qemu_pkgs)}; QEMU is {".".join(map(str, qv))}')
    return {'installed': base + qemu_pkgs, 'qemu': '.'.join(map(str, qv))}


# ---------------------------------------------------------------- guest image

def link_files():
    out = []
    for nic, role in NICS.items():
        macs = ' '.join(mac(role, i) for i in range(1, MAX_GUESTS + 1))
        out.append(f"cat > /etc/systemd/network/10-kbypass-lab-{nic}.link <<'EOF'\n"
                   f"[Match]\nMACAddress={macs}\n\n[Link]\nName={nic}\nEOF\n")
    return ''.join(out)


def recipe():
    script = (HERE / 'guest-configure.sh').read_text()
    for key, value in (('@MIRROR@', MIRROR), ('@SUITE@', SUITE), ('@LINKS@', link_files().rstrip())):
        script = script.replace(key, value)
    return {'harness_recipe_version': RECIPE_VERSION, 'suite': SUITE, 'mirror': MIRROR,
            'packages': PACKAGES, 'configure': script, 'image_size': IMAGE_SIZE,
            'max_guests': MAX_GUESTS}


def recipe_hash(rec):
    return hashlib.sha256(json.dumps(rec, sort_keys=True).encode()).hexdigest()[:16]


def mounts_under(path):
    path = os.path.realpath(path)
    out = []
    for line in Path('/proc/self/mounts').read_text().splitlines():
        mnt = line.split()[1].replace('\\040', ' ')
        if mnt == path or mnt.startswith(path + '/'):
            out.append(mnt)
    return sorted(out, key=len, reverse=True)


def remove_tree(path):
    """rm -rf path, after unmounting anything (a killed debootstrap's proc, sys, dev) under it."""
    for mnt in mounts_under(path):
        subprocess.run(['umount', '-l', mnt], check=False)
    if mounts_under(path):
        raise LabError(f'{path} still has mounts under it ({mounts_under(path)}); unmount them by hand')
    shutil.rmtree(path, ignore_errors=True)


class CacheLock:
    def __enter__(self):
        CACHE.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(CACHE / '.lock', os.O_CREAT | os.O_RDWR, 0o644)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        os.close(self.fd)


def ensure_image(force=False):
    """Return (image dir, 'reused'|'built', timings dict)."""
    rec = recipe()
    h = recipe_hash(rec)
    final = CACHE / h
    t0 = time.monotonic()
    with CacheLock():
        for stale in CACHE.glob('.build-*'):
            pid = stale.name.rsplit('-', 1)[-1]
            if not pid_alive(pid, 'lab.py'):
                log(f'removing stale build dir {stale}')
                remove_tree(stale)
        if final.is_dir() and not force:
            log(f'reusing guest image {final} (recipe {h})')
            return final, 'reused', {'image_s': round(time.monotonic() - t0, 1)}
        for tool in ('debootstrap', 'mkfs.ext4', 'ssh-keygen'):
            if not shutil.which(tool):
                raise LabError(f'{tool} not found; run: lab.py deps')
        build = CACHE / f'.build-{h}-{os.getpid()}'
        times = {}
        try:
            build.mkdir()
            rootfs = build / 'rootfs'
            log(f'building guest image {h}: debootstrap {SUITE} from {MIRROR} (takes minutes)')
            t = time.monotonic()
            run(['debootstrap', '--variant=minbase', '--include=' + ','.join(PACKAGES),
                 SUITE, str(rootfs), MIRROR], quiet=True)
            times['debootstrap_s'] = round(time.monotonic() - t, 1)
            t = time.monotonic()
            run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', f'kbypass-lab-{h}',
                 '-f', str(build / 'id_ed25519')])
            (rootfs / 'tmp/kbypass-configure.sh').write_text(rec['configure'])
            run(['chroot', str(rootfs), '/bin/sh', '/tmp/kbypass-configure.sh'], quiet=True,
                env={'PATH': '/usr/sbin:/usr/bin:/sbin:/bin', 'HOME': '/root'})
            (rootfs / 'tmp/kbypass-configure.sh').unlink()
            auth = rootfs / 'root/.ssh/authorized_keys'
            auth.write_text((build / 'id_ed25519.pub').read_text())
            auth.chmod(0o600)
            kernels = sorted((rootfs / 'boot').glob('vmlinuz-*'))
            if not kernels:
                raise LabError('no kernel in the guest rootfs: linux-image-amd64 did not install')
            ver = kernels[-1].name[len('vmlinuz-'):]
            shutil.copy2(kernels[-1], build / 'vmlinuz')
            shutil.copy2(rootfs / 'boot' / f'initrd.img-{ver}', build / 'initrd.img')
            times['configure_s'] = round(time.monotonic() - t, 1)
            t = time.monotonic()
            run(['mkfs.ext4', '-q', '-F', '-L', 'kbypass-lab', '-d', str(rootfs),
                 str(build / 'base.img'), IMAGE_SIZE], quiet=True)
            times['mkfs_s'] = round(time.monotonic() - t, 1)
            remove_tree(rootfs)
            (build / 'recipe.json').write_text(json.dumps(dict(rec, hash=h, kernel=ver,
                                               built=time.strftime('%Y-%m-%dT%H:%M:%S%z'),
                                               timings=times), indent=1) + '\n')
            if final.exists():      # --rebuild: swap, then drop the old one
                os.rename(final, CACHE / f'.build-old-{os.getpid()}')
            os.rename(build, final)
            remove_tree(CACHE / f'.build-old-{os.getpid()}')
        finally:
            if build.exists():
                remove_tree(build)
    times['image_s'] = round(time.monotonic() - t0, 1)
    log(f'built guest image {final} in {times["image_s"]} s ({times})')
    return final, 'built', times


def prune():
    keep = recipe_hash(recipe())
    with CacheLock():
        for d in sorted(CACHE.iterdir()) if CACHE.is_dir() else []:
            if d.is_dir() and d.name != keep and not d.name.startswith('.build-'):
                log(f'removing old image {d}')
                remove_tree(d)
    log(f'kept {CACHE / keep}' if (CACHE / keep).is_dir() else 'no current image in cache')


# ---------------------------------------------------------------- guests

def choose_accel(want):
    flags = set()
    for line in Path('/proc/cpuinfo').read_text().splitlines():
        if line.startswith('flags'):
            flags.update(line.split(':', 1)[1].split())
    kvm_ok = bool(flags & {'vmx', 'svm'}) and os.access('/dev/kvm', os.R_OK | os.W_OK)
    if want == 'kvm' and not kvm_ok:
        raise LabError('--accel kvm: no vmx/svm flag in /proc/cpuinfo or /dev/kvm not usable')
    if want == 'kvm' or (want == 'auto' and kvm_ok):
        return 'kvm', ['-accel', 'kvm', '-cpu', 'host']
    return 'tcg', ['-accel', 'tcg,thread=multi,tb-size=256', '-cpu', 'max,svm=off']


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def sock_path(workdir, nic, index):
    return str(Path(workdir) / f'{nic}-lab{index}.sock')


def qemu_argv(g, n, image, workdir, accel_args, cpus, memory):
    i, name = g['index'], g['name']
    w = Path(workdir)
    machine_id = hashlib.md5(f'{w}/{name}'.encode()).hexdigest()
    append = (f'root=/dev/vda rw console=ttyS0 intel_iommu=on iommu=pt systemd.hostname={name} '
              f'systemd.machine_id={machine_id} net.ifnames=1 fsck.mode=skip mitigations=off')
    a = ['qemu-system-x86_64', '-name', name, '-nodefaults', '-display', 'none',
         '-machine', 'q35,kernel-irqchip=split', *accel_args, '-smp', str(cpus), '-m', str(memory),
         '-device', 'intel-iommu,intremap=on',
         '-kernel', str(image / 'vmlinuz'), '-initrd', str(image / 'initrd.img'), '-append', append,
         '-drive', f'if=none,id=disk,file={g["overlay"]},format=qcow2,cache=unsafe',
         '-device', 'virtio-blk-pci,drive=disk',
         '-object', 'rng-random,id=rng,filename=/dev/urandom', '-device', 'virtio-rng-pci,rng=rng',
         '-serial', f'file:{g["console"]}', '-qmp', f'unix:{g["qmp"]},server=on,wait=off',
         '-pidfile', g['pidfile'],
         '-netdev', f'user,id=mgmt0,hostfwd=tcp:127.0.0.1:{g["ssh_port"]}-:22',
         '-device', f'virtio-net-pci,netdev=mgmt0,mac={mac_of("mgmt0", i)},romfile=']
    for nic, model, hub in SEGMENTS:
        if i == 1:      # lab1 holds the segment's hub: its own NIC plus one stream socket per peer
            a += ['-netdev', f'hubport,id={nic},hubid={hub}']
            for j in range(2, n + 1):
                a += ['-netdev', f'stream,id={nic}p{j},server=on,addr.type=unix,'
                      f'addr.path={sock_path(w, nic, j)}',
                      '-netdev', f'hubport,id={nic}h{j},hubid={hub},netdev={nic}p{j}']
        else:
            a += ['-netdev', f'stream,id={nic},server=off,addr.type=unix,'
                  f'addr.path={sock_path(w, nic, i)}']
        bus = ''
        if model != 'virtio-net-pci':   # PCIe NICs behind their own root port (igb needs it for SR-IOV)
            a += ['-device', f'pcie-root-port,id=rp{hub},chassis={hub + 1},slot={hub + 1}']
            bus = f',bus=rp{hub}'
        a += ['-device', f'{model},netdev={nic},mac={mac_of(nic, i)},romfile={bus}']
    return a


class Lab:
    def __init__(self, args, mode):
        self.args, self.mode = args, mode
        self.procs = {}
        self.timings = {}
        self.workdir = None
        self.state = None

    # -- state
    def save(self):
        tmp = self.workdir / 'state.json.tmp'
        tmp.write_text(json.dumps(self.state, indent=1) + '\n')
        os.rename(tmp, self.workdir / 'state.json')

    def create_workdir(self):
        if self.args.workdir:
            self.workdir = Path(self.args.workdir).resolve()
            if self.workdir.exists() and any(self.workdir.iterdir()):
                raise LabError(f'--workdir {self.workdir} is not empty; use "down --workdir" first')
            self.workdir.mkdir(parents=True, exist_ok=True)
        else:
            self.workdir = Path(tempfile.mkdtemp(prefix=PREFIX, dir=WORK_BASE))
        if len(sock_path(self.workdir, 'sriov0', 99)) > 100:
            raise LabError(f'workdir path {self.workdir} too long for unix sockets (max ~80 chars)')
        self.state = {'kbypass_lab': 1, 'mode': self.mode, 'harness_pid': os.getpid(),
                      'workdir': str(self.workdir), 'created': time.time(), 'guests': []}
        self.save()
        log(f'workdir {self.workdir}')

    # -- boot
    def boot(self, image):
        a = self.args
        accel, accel_args = choose_accel(a.accel)
        self.timings['accelerator'] = accel
        self.state['accelerator'] = accel
        log(f'accelerator: {accel}' + ('' if accel == 'kvm' else
                                       ' (no vmx/svm in /proc/cpuinfo: TCG emulation, slow)'))
        n = a.guests
        w = self.workdir
        for i in range(1, n + 1):
            name = f'lab{i}'
            g = {'name': name, 'index': i, 'ssh_port': free_port(), 'pid': None,
                 'overlay': str(w / f'{name}.qcow2'), 'console': str(w / f'{name}.console.log'),
                 'qemu_log': str(w / f'{name}.qemu.log'), 'qmp': str(w / f'{name}.qmp'),
                 'pidfile': str(w / f'{name}.pid')}
            run(['qemu-img', 'create', '-q', '-f', 'qcow2', '-F', 'raw', '-b',
                 str(image / 'base.img'), g['overlay']], quiet=True)
            argv = qemu_argv(g, n, image, w, accel_args, a.cpus, a.memory)
            (w / f'{name}.argv.json').write_text(json.dumps(argv) + '\n')
            with open(g['qemu_log'], 'w') as out:
                # run: QEMU dies with the harness; up: QEMU outlives it (own session, no PDEATHSIG)
                pre = pdeathsig(signal.SIGKILL) if self.mode == 'run' else os.setsid
                p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out,
                                     stderr=subprocess.STDOUT, preexec_fn=pre, close_fds=True)
            g['pid'], g['started'] = p.pid, time.time()
            self.procs[name] = p
            self.state['guests'].append(g)
            self.save()
            log(f'{name}: QEMU pid {p.pid}, ssh 127.0.0.1:{g["ssh_port"]}, console {g["console"]}')
            if i == 1 and n > 1:    # peers connect to lab1's hub sockets: wait for them
                socks = [sock_path(w, seg[0], j) for seg in SEGMENTS for j in range(2, n + 1)]
                deadline = time.monotonic() + 60
                while not all(os.path.exists(s) for s in socks):
                    self.check_alive()
                    if time.monotonic() > deadline:
                        raise LabError(f'lab1 did not create its hub sockets; see {g["qemu_log"]}')
                    time.sleep(0.2)
        time.sleep(1)
        self.check_alive()

    def dead_guests(self):
        dead = []
        for g in self.state['guests'] if self.state else []:
            p = self.procs.get(g['name'])
            if p is not None and p.poll() is not None:
                dead.append((g, p.returncode))
        return dead

    def check_alive(self):
        for g, rc in self.dead_guests():
            how = f'killed by signal {-rc}' if rc < 0 else f'exit code {rc}'
            raise LabError(f'{g["name"]}: QEMU (pid {g["pid"]}) died ({how}).\n'
                           f'--- {g["qemu_log"]} (tail)\n{tail(g["qemu_log"], 15)}\n'
                           f'--- {g["console"]} (tail)\n{tail(g["console"], 15)}')

    # -- ssh
    def wait_ssh(self, image):
        import logging
        import paramiko
        logging.getLogger('paramiko').setLevel(logging.CRITICAL + 1)   # refused banners are expected
        key = paramiko.Ed25519Key.from_private_key_file(str(image / 'id_ed25519'))
        timeout = self.args.ssh_timeout or (600 if self.state['accelerator'] == 'tcg' else 240)
        results, stop = {}, threading.Event()

        def worker(g):
            deadline = g['started'] + timeout
            while not stop.is_set() and time.time() < deadline:
                c = paramiko.SSHClient()
                c.set_missing_host_key_policy(paramiko.AutoAddPolicy())
                try:
                    c.connect('127.0.0.1', port=g['ssh_port'], username='root', pkey=key,
                              timeout=5, banner_timeout=10, auth_timeout=10,
                              allow_agent=False, look_for_keys=False)
                    out = c.exec_command('readlink -f /sys/class/net/spare0/device '
                                         '/sys/class/net/sriov0/device; uname -r', timeout=30)[1]
                    results[g['name']] = (time.time() - g['started'], out.read().decode().split())
                    return
                except Exception:   # not up yet: refused, reset, no banner, auth not ready
                    time.sleep(2)
                finally:
                    c.close()

        threads = [threading.Thread(target=worker, args=(g,), daemon=True)
                   for g in self.state['guests']]
        for t in threads:
            t.start()
        log(f'waiting for SSH on {len(threads)} guests (timeout {timeout} s)')
        try:
            while any(t.is_alive() for t in threads):
                self.check_alive()
                time.sleep(1)
        finally:
            stop.set()
        boot = {}
        for g in self.state['guests']:
            if g['name'] not in results:
                raise LabError(f'{g["name"]}: no SSH on 127.0.0.1:{g["ssh_port"]} after {timeout} s.'
                               f'\n--- {g["console"]} (tail)\n{tail(g["console"])}')
            secs, out = results[g['name']]
            if len(out) != 3:
                raise LabError(f'{g["name"]}: spare0/sriov0 missing in the guest (NIC naming by MAC '
                               f'failed?); got {out}; console: {g["console"]}')
            g['spare_pci'], g['sriov_pci'], g['kernel'] = os.path.basename(out[0]), \
                os.path.basename(out[1]), out[2]
            boot[g['name']] = round(secs, 1)
            log(f'{g["name"]}: SSH up after {secs:.1f} s (kernel {out[2]}, spare0 {g["spare_pci"]}, '
                f'sriov0 {g["sriov_pci"]})')
        self.timings['boot_to_ssh_s'] = boot
        self.save()

    def write_inventory(self, image):
        inv = self.workdir / 'inventory'
        inv.mkdir(exist_ok=True)
        q = json.dumps
        lines = [f'# written by tests/lab/lab.py for {self.workdir}; removed by "lab.py down"',
                 'all:', '  children:', '    kbypass_hosts:', '      hosts:']
        common = '-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null'
        for g in self.state['guests']:
            hv = {'ansible_host': '127.0.0.1', 'ansible_port': g['ssh_port'],
                  'ansible_user': 'root', 'ansible_ssh_private_key_file': str(image / 'id_ed25519'),
                  'ansible_ssh_common_args': common, 'ansible_python_interpreter': '/usr/bin/python3',
                  'lab_index': g['index'], 'lab_data_nic': 'data0', 'lab_spare_nic': 'spare0',
                  'lab_spare_pci': g['spare_pci'], 'lab_sriov_pf': 'sriov0',
                  'lab_sriov_pci': g['sriov_pci']}
            lines.append(f'        {g["name"]}:')
            lines += [f'          {k}: {q(v)}' for k, v in hv.items()]
        (inv / 'hosts.yml').write_text('\n'.join(lines) + '\n')
        gv = REPO / 'tests/lab/group_vars'
        if gv.is_dir():
            os.symlink(gv, inv / 'group_vars')
        log(f'inventory {inv / "hosts.yml"}' + (f' (group_vars -> {gv})' if gv.is_dir() else ''))
        return inv

    def write_timings(self, dest=None):
        text = json.dumps(self.timings, indent=1) + '\n'
        for d in filter(None, [self.workdir if self.workdir and self.workdir.exists() else None, dest]):
            Path(d).mkdir(parents=True, exist_ok=True)
            (Path(d) / 'timings.json').write_text(text)

    # -- teardown
    def teardown(self, keep_logs=None):
        if self.workdir is None:
            return
        t0 = time.monotonic()
        stop_guests(self.state['guests'] if self.state else [], self.workdir, self.procs,
                    self.args.grace)
        if keep_logs:
            keep = Path(keep_logs)
            keep.mkdir(parents=True, exist_ok=True)
            for f in [*self.workdir.glob('*.log'), *self.workdir.glob('*.argv.json')]:
                shutil.copy2(f, keep / f.name)
            for f in ('state.json', 'inventory/hosts.yml'):
                if (self.workdir / f).exists():
                    shutil.copy2(self.workdir / f, keep / Path(f).name)
        remove_tree(self.workdir)
        self.timings['teardown_s'] = round(time.monotonic() - t0, 1)
        log(f'removed {self.workdir}; teardown {self.timings["teardown_s"]} s')
        self.workdir = None
        if keep_logs:
            self.write_timings(keep_logs)
            log(f'logs and timings kept in {keep_logs}')


def stop_guests(guests, workdir, procs, grace):
    """SIGTERM every QEMU of the workdir, SIGKILL after grace seconds, reap our children."""
    live = [g for g in guests if g.get('pid') and pid_alive(g['pid'], str(workdir))]
    for g in live:
        log(f'stopping {g["name"]} (QEMU pid {g["pid"]})')
        os.kill(g['pid'], signal.SIGTERM)
    deadline = time.monotonic() + grace
    for g in live:
        while pid_alive(g['pid'], str(workdir)) and time.monotonic() < deadline:
            p = procs.get(g['name'])
            if p is not None:
                try:
                    p.wait(timeout=0.2)
                except subprocess.TimeoutExpired:
                    pass
            else:
                time.sleep(0.2)
        if pid_alive(g['pid'], str(workdir)):
            log(f'{g["name"]}: still running after {grace} s, SIGKILL')
            os.kill(g['pid'], signal.SIGKILL)
    for p in procs.values():
        p.wait()


def read_state(workdir):
    try:
        st = json.loads((Path(workdir) / 'state.json').read_text())
        return st if st.get('kbypass_lab') == 1 else None
    except (OSError, ValueError):
        return None


def state_alive(st):
    if st['mode'] == 'run' and pid_alive(st['harness_pid'], 'lab.py'):
        return True
    return any(g.get('pid') and pid_alive(g['pid'], st['workdir']) for g in st['guests'])


def clean_stale():
    for d in sorted(WORK_BASE.glob(PREFIX + '*')):
        st = read_state(d)
        if d.is_dir() and st is not None and not state_alive(st):
            log(f'removing stale workdir {d} (its harness and guests are gone)')
            remove_tree(d)


def down(workdir, grace):
    d = Path(workdir).resolve()
    st = read_state(d)
    if st is None:
        raise LabError(f'{d} has no lab state.json: not a lab workdir (nothing removed)')
    if st['mode'] == 'run' and pid_alive(st['harness_pid'], 'lab.py'):
        log(f'harness pid {st["harness_pid"]} still runs {d}: sending it SIGTERM (it tears down)')
        os.kill(st['harness_pid'], signal.SIGTERM)
        deadline = time.monotonic() + grace + 10
        while time.monotonic() < deadline:
            if not d.exists():
                return
            time.sleep(0.2)
    stop_guests(st['guests'], d, {}, grace)
    remove_tree(d)
    log(f'removed {d}')


# ---------------------------------------------------------------- commands

def on_signal(signum, _frame):
    raise Interrupted(signum)


def cmd_up(args, mode, command=None):
    timings = {}
    t = time.monotonic()
    timings['deps'] = ensure_deps()
    timings['deps_s'] = round(time.monotonic() - t, 1)
    image, action, itimes = ensure_image()
    timings.update(itimes, image_action=action, image=str(image))
    clean_stale()
    lab = Lab(args, mode)
    lab.timings.update(timings, guests=args.guests, cpus=args.cpus, memory_mib=args.memory,
                       qemu=timings['deps']['qemu'])
    rc = 0
    child = None
    try:
        lab.create_workdir()
        lab.boot(image)
        lab.wait_ssh(image)
        inv = lab.write_inventory(image)
        lab.write_timings()
        if mode == 'up':
            print(json.dumps(lab.timings, indent=1))
            print(f'KBYPASS_LAB_WORKDIR={lab.workdir}\nKBYPASS_LAB_INVENTORY={inv}\n'
                  f'stop with: {sys.argv[0]} down --workdir {lab.workdir}', flush=True)
            lab.workdir = None      # keep running
            return 0
        env = dict(os.environ, KBYPASS_LAB_INVENTORY=str(inv), KBYPASS_LAB_WORKDIR=str(lab.workdir))
        log(f'running: {" ".join(command)}')
        t = time.monotonic()
        try:
            child = subprocess.Popen(command, env=env, preexec_fn=pdeathsig(signal.SIGKILL))
        except OSError as e:
            raise LabError(f'cannot run {command[0]}: {e}')
        while True:
            try:
                rc = child.wait(timeout=1)
                break
            except subprocess.TimeoutExpired:
                lab.check_alive()
        rc = 128 - rc if rc < 0 else rc
        lab.timings.update(command_s=round(time.monotonic() - t, 1), command_rc=rc)
        log(f'command exited {rc} after {lab.timings["command_s"]} s')
    except LabError as e:
        log(f'ERROR: {e}')
        rc = 2
    except Interrupted as e:
        log(f'signal {e.args[0]}: tearing down')
        rc = 128 + e.args[0]
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if child is not None and child.poll() is None:
            log(f'stopping the command (pid {child.pid})')
            os.killpg(child.pid, signal.SIGTERM)
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
        if rc and mode == 'run' and 'command_rc' not in lab.timings:
            lab.timings['error'] = 'lab failed before or while the command ran (see log above)'
        lab.write_timings()
        lab.teardown(args.keep_logs if mode == 'run' else None)
    if mode == 'run':
        print(json.dumps(lab.timings, indent=1))
    return rc


def main(argv=None):
    head, _sep, body = __doc__.partition('\n\n')
    p = argparse.ArgumentParser(description=head, epilog=body,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest='cmd', required=True)
    sub.add_parser('deps', help='install host packages (QEMU >= 8, debootstrap, e2fsprogs)')
    sp = sub.add_parser('image', help='build or reuse the cached guest image')
    sp.add_argument('--rebuild', action='store_true', help='build even if cached')
    sub.add_parser('prune', help='remove cached images other than the current recipe')
    sp = sub.add_parser('down', help='stop the guests of a workdir and remove it')
    g = sp.add_mutually_exclusive_group(required=True)
    g.add_argument('--workdir')
    g.add_argument('--all', action='store_true', help=f'every {WORK_BASE}/{PREFIX}* workdir')
    sp.add_argument('--grace', type=float, default=10)
    for name in ('up', 'run'):
        what = ', run a command, tear down' if name == 'run' else ' and leave them running'
        sp = sub.add_parser(name, help='boot guests' + what)
        sp.add_argument('--guests', type=int, default=2)
        sp.add_argument('--cpus', type=int, default=2, help='vCPUs per guest')
        # under 2816 MiB q35 keeps all RAM below 4 GiB, so the firmware puts the igb VFs' BARs
        # below 4 GiB too: QEMU 9.2-10.0.5 (bookworm-backports has 10.0.2) maps VF BARs above
        # 4 GiB at their low 32 bits only (fixed by 2e54e5fda779 in 10.0.6/10.1.2/10.2), and the
        # VFs' registers then read 0: no mailbox, no link
        sp.add_argument('--memory', type=int, default=2560,
                        help='MiB per guest (above 2815 the igb VFs of QEMU < 10.0.6 do not work)')
        sp.add_argument('--accel', choices=['auto', 'kvm', 'tcg'], default='auto')
        sp.add_argument('--ssh-timeout', type=int, default=0, help='s (default 600 TCG, 240 KVM)')
        sp.add_argument('--workdir', help=f'default: a new {WORK_BASE}/{PREFIX}XXXX')
        sp.add_argument('--grace', type=float, default=10, help='s between SIGTERM and SIGKILL')
        if name == 'run':
            sp.add_argument('--keep-logs', metavar='DIR', help='copy console logs and timings here')
            sp.add_argument('command', nargs=argparse.REMAINDER, help='-- CMD ARGS...')
    args = p.parse_args(argv)
    if getattr(args, 'guests', 1) not in range(1, MAX_GUESTS + 1):
        p.error(f'--guests must be 1..{MAX_GUESTS}')
    if args.cmd == 'run':
        args.command = args.command[1:] if args.command[:1] == ['--'] else args.command
        if not args.command:
            p.error('run needs a command after --')
    if os.geteuid() != 0:
        p.error('run me as root (debootstrap, chroot, apt-get and /var/cache need it)')
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        if args.cmd == 'deps':
            ensure_deps()
        elif args.cmd == 'image':
            image, action, times = ensure_image(force=args.rebuild)
            print(json.dumps(dict(times, image=str(image), action=action), indent=1))
        elif args.cmd == 'prune':
            prune()
        elif args.cmd == 'down':
            dirs = [args.workdir] if args.workdir else sorted(WORK_BASE.glob(PREFIX + '*'))
            for d in dirs:
                down(d, args.grace)
        else:
            return cmd_up(args, args.cmd, getattr(args, 'command', None))
    except LabError as e:
        print(f'lab.py: error: {e}', file=sys.stderr)
        return 2
    except Interrupted as e:
        print(f'lab.py: interrupted by signal {e.args[0]}', file=sys.stderr)
        return 128 + e.args[0]
    return 0


if __name__ == '__main__':
    sys.exit(main())
