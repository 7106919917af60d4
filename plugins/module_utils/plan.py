# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plan stage: validate the benchmark's inputs against one host, expand the case matrix,
plan the CPUs. Pure functions: no I/O except in read_online_cpus() and read_total_vfs()."""

from __future__ import annotations

from ansible_collections.kbypass.testbed.plugins.module_utils import paths as registry
from ansible_collections.kbypass.testbed.plugins.module_utils.results_schema import (
    HEADER_BYTES, MIN_FRAME, case_id,
)

# The data paths: one registry (paths.py); plan.DATA_PATHS is the same dict.
DATA_PATHS = registry.DATA_PATHS
KERNEL_BACKENDS = ('udp', 'udp-mmsg', 'raw', 'raw-mmsg', 'ring')
# the kernel backends that send Ethernet frames on an interface (AF_PACKET): they need --iface and --dst-mac
FRAME_BACKENDS = ('raw', 'raw-mmsg', 'ring')
DPDK_BACKEND = 'dpdk'
# reference tool -> the kind of path it runs on
REFERENCE_TOOLS = {'sockperf': 'kernel', 'testpmd': 'dpdk'}
TOPOLOGIES = ('auto', 'pair', 'loop')
# how the throughput cases find their figure (benchmark_method; docs/method.md)
METHODS = ('sweep', 'search')
# Where the paths' sockets live on the host; bind-mounted at the same place in the containers.
SOCKET_ROOT = '/run/kbypass'
# Where the paths' roles record what they chose (registry role_vars 'record'), one JSON file a path.
RECORD_DIR = SOCKET_ROOT + '/provisioned'
# EAL memory of the DPDK peers: hugepages (reserved by the dpdk role) without a hugetlbfs
# mount in the container, or plain memory.
DPDK_MEMORY = {
    'hugepages': '--in-memory --single-file-segments',
    'no-huge': '--no-huge -m 512',
}
MAX_BURST = 1024
MAX_REPEATS = 100
MAX_FRAME = 9014
CONTAINER_PREFIX = 'kbp-'
# RFC 2544 / RFC 5737-style benchmarking range (198.18.0.0/15): never routed anywhere.
ADDRESS_BLOCK = '198.18'


class PlanError(ValueError):
    """A bad input: the message names the variable, the value and the allowed values."""


def parse_cpu_list(text):
    """'0-3,6' -> [0, 1, 2, 3, 6]. Raises PlanError on bad syntax."""
    cpus = []
    text = str(text).strip()
    if not text:
        return cpus
    for part in text.split(','):
        part = part.strip()
        try:
            if '-' in part:
                lo, hi = part.split('-', 1)
                lo, hi = int(lo), int(hi)
                if hi < lo:
                    raise ValueError(part)
                cpus.extend(range(lo, hi + 1))
            else:
                cpus.append(int(part))
        except ValueError:
            raise PlanError("bad CPU list %r: use the kernel's syntax, e.g. '0-3,6'" % text)
    return sorted(set(cpus))


def format_cpu_list(cpus):
    """[0, 1, 2, 5] -> '0-2,5'."""
    ranges = []
    for cpu in sorted(set(cpus)):
        if ranges and cpu == ranges[-1][1] + 1:
            ranges[-1][1] = cpu
        else:
            ranges.append([cpu, cpu])
    return ','.join(str(lo) if lo == hi else '%d-%d' % (lo, hi) for lo, hi in ranges)


def read_online_cpus(path='/sys/devices/system/cpu/online'):
    with open(path) as handle:
        return parse_cpu_list(handle.read())


def _rate(value, var):
    if isinstance(value, str) and value.strip().lower() in ('max', '0'):
        return 0
    try:
        rate = float(value)
    except (TypeError, ValueError):
        raise PlanError("%s: %r is not a rate: give packets per second (> 0) or 'max'" % (var, value))
    if rate <= 0:
        raise PlanError("%s: %r must be > 0 packets per second, or 'max' for unpaced" % (var, value))
    return int(rate) if rate == int(rate) else rate


def _positive_ints(values, var, upper=None):
    if not isinstance(values, (list, tuple)) or not values:
        raise PlanError('%s must be a non-empty list' % var)
    out = []
    for value in values:
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise PlanError('%s: %r is not a whole number' % (var, value))
        if number <= 0 or (upper is not None and number > upper):
            raise PlanError('%s: %r must be between 1 and %s' % (var, value, upper or 'any'))
        out.append(number)
    return out


def _sizes(values, var, mtu, path):
    top = min(MAX_FRAME, mtu + 14)
    sizes = _positive_ints(values, var)
    for size in sizes:
        if size < MIN_FRAME or size > top:
            raise PlanError('%s: frame size %d is outside %d..%d for path %s (MTU %d + 14 bytes of Ethernet '
                            'header); pick sizes in that range or raise the MTU'
                            % (var, size, MIN_FRAME, top, path, mtu))
    return sizes


def _choices(values, var, allowed):
    if not isinstance(values, (list, tuple)) or not values:
        raise PlanError('%s must be a non-empty list; allowed values: %s' % (var, ', '.join(allowed)))
    for value in values:
        if value not in allowed:
            raise PlanError('%s: unknown value %r; allowed values: %s' % (var, value, ', '.join(allowed)))
    return list(values)


def _cpu_pool(host_cpus, wanted_cpus):
    if wanted_cpus is None:
        return list(host_cpus)
    missing = [c for c in wanted_cpus if c not in host_cpus]
    if missing:
        raise PlanError('benchmark_cpus: CPU(s) %s do not exist on this host (online: %s); pick from the '
                        'online list' % (format_cpu_list(missing), format_cpu_list(host_cpus)))
    return list(wanted_cpus)


def allocate_cpus(pool, demands, reserve_housekeeping=True):
    """Give each busy thread group its own CPUs, in order (switch first, then the peers).

    pool: the CPUs allowed. demands: [(name, count)]. Returns cpus (name -> cpu list string),
    cores_shared, oversubscribed, housekeeping (CPU list string), note.
    """
    pool = list(pool)
    need = sum(count for _name, count in demands)
    names = [name for name, _count in demands]
    housekeeping = []
    if reserve_housekeeping and len(pool) > need:
        housekeeping = [pool[0]]
        pool = pool[1:]
    if len(pool) >= need:
        cpus, at = {}, 0
        for name, count in demands:
            cpus[name] = format_cpu_list(pool[at:at + count])
            at += count
        note = 'each of %s on its own CPUs' % ', '.join(names)
        if not housekeeping:
            note += '; no CPU left for housekeeping'
        return {'cpus': cpus, 'cores_shared': False, 'oversubscribed': False,
                'housekeeping': format_cpu_list(housekeeping), 'note': note}
    shared = format_cpu_list(pool)
    return {'cpus': dict((name, shared) for name in names), 'cores_shared': True, 'oversubscribed': True,
            'housekeeping': format_cpu_list(housekeeping),
            'note': '%s need %d CPUs, host offers %d: they share CPUs %s' % (', '.join(names), need, len(pool), shared)}


def plan_cpus(host_cpus, wanted_cpus, peers, cpus_per_peer, reserve_housekeeping=True):
    """Give each peer its own CPUs when the host has enough, else share and say so.

    host_cpus: CPUs online on the host. wanted_cpus: the CPUs the user allows (subset), or None.
    Returns a dict: cpus (peer -> cpu list string), cores_shared, oversubscribed, housekeeping, note.
    """
    return allocate_cpus(_cpu_pool(host_cpus, wanted_cpus), [(peer, cpus_per_peer) for peer in peers],
                         reserve_housekeeping)


def plan_path_cpus(path, pool, cpus_per_peer, switch_cpus=1, topology='auto', reserve_housekeeping=True):
    """CPU plan and topology of one path.

    Paths whose switch busy-polls need CPUs for it too. Topology pair: a -> switch -> b (switch +
    2 peers); loop: the switch sends a's traffic back to a (switch + 1 peer), chosen by 'auto'
    when the pair does not fit. Paths without a polling switch always run the pair.
    Returns allocate_cpus()'s dict plus topology and cpus['main'] (the switch's non-polling
    threads: the housekeeping CPU when there is one, else peer a's CPUs).
    """
    if not DATA_PATHS[path]['switch']:
        out = allocate_cpus(pool, [('a', cpus_per_peer), ('b', cpus_per_peer)], reserve_housekeeping)
        out['topology'] = 'pair'
        return out
    pair_need = switch_cpus + 2 * cpus_per_peer
    if topology == 'auto':
        topology = 'pair' if len(pool) >= pair_need else 'loop'
    if topology == 'pair':
        out = allocate_cpus(pool, [('switch', switch_cpus), ('a', cpus_per_peer), ('b', cpus_per_peer)],
                            reserve_housekeeping)
    else:
        out = allocate_cpus(pool, [('switch', switch_cpus), ('a', cpus_per_peer)], reserve_housekeeping)
        # b only idles in a loop: it keeps a's CPUs
        out['cpus']['b'] = out['cpus']['a']
        out['note'] += '; loop: the switch returns a\'s traffic to a (b idle)'
    out['cpus']['main'] = out['housekeeping'] or out['cpus']['a']
    out['topology'] = topology
    return out


def socket_dir(path):
    """The host folder of a path's sockets (bind-mounted at the same place in its containers)."""
    return '%s/%s' % (SOCKET_ROOT, path) if DATA_PATHS[path]['sockets'] else ''


def dpdk_device(path, peer, name, mac):
    """The DPDK device (EAL --vdev) through which a container's peer reaches the path
    (docs/data-paths.md; the registry's device format). None for kernel paths."""
    device = DATA_PATHS[path]['device']
    if not device:
        return None
    return device.format(socket_dir=socket_dir(path), name=name, mac=mac, role='server' if peer == 'b' else 'client')


def path_network(path, host_index=0):
    """Addresses, MACs (and DPDK devices) of the two containers of a path (deterministic).

    host_index: the host's position in the inventory group; hosts whose paths share a link (two-host
    cases) thus never share an address or a MAC. Host 0: a = .1, b = .2; host 1: .3, .4; ...
    ready: what the receiving peer prints on stderr once the other side may start (icperf's DPDK
    backend: 'link up'; a memif server's link comes up only when the client connects: 'started').
    """
    index = DATA_PATHS[path]['index']
    short = DATA_PATHS[path]['short']
    net = {'prefix': 24, 'socket_dir': socket_dir(path)}
    for peer, host in (('a', 1), ('b', 2)):
        name = '%s%s-%s' % (CONTAINER_PREFIX, short, peer)
        mac = '02:6b:62:%02x:%02x:%02x' % (index, host_index, host)
        net[peer] = {'name': name, 'ip': '%s.%d.%d' % (ADDRESS_BLOCK, index, 2 * host_index + host), 'mac': mac}
        if DATA_PATHS[path]['kind'] == 'dpdk':
            net[peer]['vdev'] = dpdk_device(path, peer, name, mac)
            net[peer]['ready'] = DATA_PATHS[path]['ready'][peer]
            listens = DATA_PATHS[path]['listens'].get(peer)
            if listens:
                net[peer]['listens'] = listens.format(socket_dir=socket_dir(path), name=name)
    return net


# The busybox template bind-mounts the host's library folders so that dynamically linked
# programs run in its containers. The containers' lxc.mount.entry key is managed as a whole
# (kbypass.testbed.lxc_container), so these lines are kept by listing them here.
BUSYBOX_MOUNTS = [
    '/lib lib none ro,bind,optional 0 0',
    '/usr/lib usr/lib none ro,bind,optional 0 0',
    '/lib64 lib64 none ro,bind,optional 0 0',
    '/usr/lib64 usr/lib64 none ro,bind,optional 0 0',
    '/sys/kernel/security sys/kernel/security none ro,bind,optional 0 0',
]


def path_mounts(path):
    """Mounts a path's containers need (LXC lxc.mount.entry lines)."""
    mounts = []
    sock = socket_dir(path)
    if sock:
        mounts.append('%s %s none bind,create=dir 0 0' % (sock, sock.lstrip('/')))
    return mounts


def path_containers(path, cpus, container_config=None, template='busybox', template_options=None, host_index=0):
    """The two containers of a path, in the form the path roles' attach entry point takes."""
    net = path_network(path, host_index)
    out = []
    for peer in ('a', 'b'):
        config = dict(container_config or {})
        mounts = list(config.get('lxc.mount.entry') or []) + path_mounts(path)
        mounts = (BUSYBOX_MOUNTS if template == 'busybox' else []) + mounts
        if mounts:
            config['lxc.mount.entry'] = mounts
        if cpus and cpus.get(peer):
            config['lxc.cgroup.cpuset.cpus'] = cpus[peer]
        out.append({'name': net[peer]['name'], 'ip': net[peer]['ip'], 'prefix': net['prefix'],
                    'mac': net[peer]['mac'], 'template': template,
                    'template_options': list(template_options or []), 'config': config})
    return out


# The NIC of a path (the registry's uplink: the macvlans' parent, the OVS bridge's uplink port,
# the PF whose VFs the sriov containers get): empty = the path stays inside the host, except for
# the paths whose registry entry has nic_required. Two-host cases need it on both hosts.
# containers of one path on one host (a and b), each with its own VF on the sriov path
PEERS = ('a', 'b')
# at most this many hosts share one path's /24 (two addresses each)
MAX_HOSTS = 127


def check_parents(parents, paths, host_links, total_vfs=None):
    """A host link named for a path (macvlan_parent, ovs_uplink, sriov_pf) must exist.

    total_vfs: {interface: sriov_totalvfs} of the host's PFs, to list them for sriov_pf (None: unknown)."""
    for path, parent in sorted((parents or {}).items()):
        if path in paths and parent and parent not in host_links:
            var = DATA_PATHS[path]['uplink'] if path in DATA_PATHS else '%s_parent' % path
            required = DATA_PATHS.get(path, {}).get('nic_required')
            if required:
                raise PlanError("%s: link %r does not exist on this host; set %s to the interface of %s, "
                                "or remove %s from benchmark_paths%s"
                                % (var, parent, var, required, path, _pf_list(total_vfs)))
            raise PlanError("%s: link %r does not exist on this host; set %s to one of: %s, "
                            "or leave it empty to keep the path inside the host"
                            % (var, parent, var, ', '.join(sorted(host_links)) or 'none'))


def _pf_list(total_vfs):
    """'; SR-IOV PFs on this host: ens1f0 (8 VFs)' from {interface: total VFs or None}, '' when unknown."""
    if total_vfs is None:
        return ''
    pfs = ['%s (%d VF%s)' % (name, total, '' if total == 1 else 's')
           for name, total in sorted(total_vfs.items()) if total is not None]
    return '; SR-IOV PFs on this host: %s' % (', '.join(pfs) if pfs else
                                              'none (no interface has device/sriov_totalvfs: the NIC has no '
                                              'SR-IOV, SR-IOV is off in the firmware, or, in a QEMU guest, the '
                                              'NIC is not an igb on a PCIe bus)')


def check_sriov(parents, paths, total_vfs=None):
    """The sriov path needs its PF (sriov_pf): named, an SR-IOV PF, with a VF for each container.

    total_vfs: {interface: sriov_totalvfs, None for an interface that is not a PF} as read on the
    host (read_total_vfs); None: the PF is not checked beyond being named (no host at hand).
    """
    if 'sriov' not in paths:
        return
    pf = (parents or {}).get('sriov')
    if not pf:
        raise PlanError('sriov_pf is empty: set it to the interface of %s or remove sriov from benchmark_paths%s'
                        % (DATA_PATHS['sriov']['nic_required'], _pf_list(total_vfs)))
    if total_vfs is None or pf not in total_vfs:
        return  # unknown here, or a missing link (check_parents names it)
    total = total_vfs[pf]
    if total is None:
        raise PlanError('sriov_pf: %r is not an SR-IOV physical function (no /sys/class/net/%s/device/'
                        'sriov_totalvfs); set sriov_pf to the interface of %s, enable SR-IOV for the NIC in the '
                        'firmware, or remove sriov from benchmark_paths%s'
                        % (pf, pf, DATA_PATHS['sriov']['nic_required'], _pf_list(total_vfs)))
    if total < len(PEERS):
        raise PlanError('sriov_pf: %s offers %d VF%s (sriov_totalvfs) but the sriov path needs %d, one per '
                        'container; set sriov_pf to a NIC with more VFs, or remove sriov from benchmark_paths%s'
                        % (pf, total, '' if total == 1 else 's', len(PEERS), _pf_list(total_vfs)))


def read_total_vfs(links, root=''):
    """{interface: sriov_totalvfs of its PCI device, or None} for each name in links (I/O)."""
    out = {}
    for name in links or []:
        try:
            with open('%s/sys/class/net/%s/device/sriov_totalvfs' % (root, name)) as handle:
                out[name] = int(handle.read().strip())
        except (IOError, OSError, ValueError):
            out[name] = None
    return out


def check_cross(params, paths):
    """Two-host pairs (benchmark_cross_pairs) and their paths (benchmark_cross_paths).

    Returns (host_index, [peer host names this host sends to]). The pairs are checked on every
    host, so a typo stops the run on all of them before anything changes.
    """
    hosts = list(params.get('hosts') or [])
    host = params.get('host')
    if len(hosts) > MAX_HOSTS:
        raise PlanError('the inventory group has %d hosts; at most %d can share the address plan'
                        % (len(hosts), MAX_HOSTS))
    index = hosts.index(host) if host in hosts else 0
    uplinks = registry.uplink_vars()
    pairs = _param(params, 'cross_pairs')
    cross_paths = list(_param(params, 'cross_paths'))
    if not isinstance(pairs, list):
        raise PlanError('benchmark_cross_pairs must be a list of {a: host, b: host}, e.g. [{a: lab1, b: lab2}]')
    peers, mine = [], False
    for pair in pairs:
        if not isinstance(pair, dict) or set(pair) != set(('a', 'b')):
            raise PlanError('benchmark_cross_pairs: %r must be a mapping with exactly the keys a (the sending '
                            "host) and b (the receiving host), e.g. {a: lab1, b: lab2}" % (pair,))
        for side in ('a', 'b'):
            if pair[side] not in hosts:
                raise PlanError('benchmark_cross_pairs: host %r (%s) is not in the play; hosts: %s'
                                % (pair[side], side, ', '.join(hosts) or 'none'))
        if pair['a'] == pair['b']:
            raise PlanError('benchmark_cross_pairs: %r pairs a host with itself; one-host cases need no pair' % (pair,))
        mine = mine or host in (pair['a'], pair['b'])
        if pair['a'] == host and pair['b'] not in peers:
            peers.append(pair['b'])
    if pairs and not cross_paths:
        raise PlanError('benchmark_cross_pairs is set but benchmark_cross_paths is empty; list the paths to '
                        'run between the hosts, from: %s' % ', '.join(uplinks))
    for path in cross_paths:
        if path not in uplinks:
            raise PlanError('benchmark_cross_paths: %r cannot join two hosts; allowed: %s'
                            % (path, ', '.join(uplinks)))
        if mine and path not in paths:
            raise PlanError('benchmark_cross_paths: %r is not in benchmark_paths (%s) of %s'
                            % (path, ', '.join(paths), host))
        if mine and not (params.get('parents') or {}).get(path):
            raise PlanError('benchmark_cross_paths: %s joins two hosts only through a NIC of each: set %s '
                            '(on %s) to the NIC that links the hosts'
                            % (path, uplinks[path], host))
    return index, peers


def _ratio(value, var, upper, lower=0.0, closed=True):
    """A ratio in [lower, upper] (upper excluded unless closed)."""
    try:
        ratio = float(value)
    except (TypeError, ValueError):
        raise PlanError('%s: %r is not a number; give a ratio, e.g. 0.005 for 0.5 %%' % (var, value))
    if ratio < lower or ratio > upper or (not closed and ratio == upper):
        raise PlanError('%s: %r must be a ratio from %g to %g%s (0.005 is 0.5 %%)'
                        % (var, value, lower, upper, '' if closed else ' (excluded)'))
    return ratio


def search_options(params, duration, warmup):
    """The options of a search case (benchmark_search_*), checked: loss goals, precision, trial
    durations, time budget. The short trials run the warm-up plus benchmark_search_trial_s."""
    ndr = _ratio(_param(params, 'search_ndr_loss'), 'benchmark_search_ndr_loss', 1.0, closed=False)
    pdr = _ratio(_param(params, 'search_pdr_loss'), 'benchmark_search_pdr_loss', 1.0, closed=False)
    if pdr < ndr:
        raise PlanError('benchmark_search_pdr_loss: %r is below benchmark_search_ndr_loss (%r); the PDR allows '
                        'at least the loss the NDR allows' % (pdr, ndr))
    precision = _ratio(_param(params, 'search_precision'), 'benchmark_search_precision', 0.5)
    precision_pps = _positive_ints([_param(params, 'search_precision_pps')], 'benchmark_search_precision_pps')[0]
    trial_s = _positive_ints([_param(params, 'search_trial_s')], 'benchmark_search_trial_s')[0]
    short_s = warmup + trial_s
    if short_s > duration:
        raise PlanError('benchmark_search_trial_s: %d s after the %d s warm-up is longer than benchmark_duration '
                        '(%d s, the confirming trials); make it at most %d'
                        % (trial_s, warmup, duration, duration - warmup))
    max_s = _positive_ints([_param(params, 'search_max_s')], 'benchmark_search_max_s')[0]
    if max_s < 3 * duration:
        raise PlanError('benchmark_search_max_s: %d s leaves no room for a search of %d s trials; give at least '
                        '%d (three full-length trials)' % (max_s, duration, 3 * duration))
    soak_s = _param(params, 'search_soak_s')
    if soak_s:
        soak_s = _positive_ints([soak_s], 'benchmark_search_soak_s')[0]
        if soak_s < duration:
            raise PlanError('benchmark_search_soak_s: %d s is shorter than a confirming trial (benchmark_duration, '
                            '%d s); give 0 (no soak) or at least %d' % (soak_s, duration, duration))
    return {'goals': {'ndr': ndr, 'pdr': pdr}, 'precision': precision, 'precision_pps': precision_pps,
            'short_s': short_s, 'full_s': duration, 'max_s': max_s,
            'latency': bool(_param(params, 'search_latency')), 'soak_s': int(soak_s or 0)}


def _param(params, name):
    """One benchmark parameter; every one must be given (their defaults have one home: the benchmark
    role's meta/argument_specs.yml, read by the lookup kbypass.testbed.bench_parameters)."""
    if params.get(name) is None:
        raise PlanError('benchmark_%s is not set; the benchmark role sets every parameter, each to its default '
                        'from roles/benchmark/meta/argument_specs.yml unless the inventory sets it' % name)
    return params[name]


def make_plan(params, host_cpus, mtus=None, host_links=None, total_vfs=None):
    """Validate params (the benchmark_* variables without their prefix) and expand the matrix.

    Raises PlanError with a message naming the variable before anything is changed.
    host_links: names of the host's network links (None: not checked).
    total_vfs: {link: sriov_totalvfs or None} of the host's links (read_total_vfs; None: not checked).
    """
    mtus = mtus or {}
    paths = _choices(_param(params, 'paths'), 'benchmark_paths', tuple(DATA_PATHS))
    backends = _choices(_param(params, 'backends'), 'benchmark_backends', KERNEL_BACKENDS)
    modes = _choices(_param(params, 'modes'), 'benchmark_modes', ('tput', 'lat'))
    rates = [_rate(r, 'benchmark_rates') for r in _param(params, 'rates')]
    bursts = _positive_ints(_param(params, 'bursts'), 'benchmark_bursts', MAX_BURST)
    lat_rates = [_rate(r, 'benchmark_lat_rates') for r in _param(params, 'lat_rates')]
    lat_bursts = _positive_ints(_param(params, 'lat_bursts'), 'benchmark_lat_bursts', MAX_BURST)
    duration = _positive_ints([_param(params, 'duration')], 'benchmark_duration')[0]
    warmup = _param(params, 'warmup')
    if not isinstance(warmup, int) or warmup < 0 or warmup >= duration:
        raise PlanError('benchmark_warmup: %r must be a whole number of seconds, >= 0 and below '
                        'benchmark_duration (%d)' % (warmup, duration))
    cpp = _positive_ints([_param(params, 'cpus_per_container')], 'benchmark_cpus_per_container')[0]
    switch_cpus = _positive_ints([_param(params, 'switch_cpus')], 'benchmark_switch_cpus')[0]
    topology = _param(params, 'topology')
    if topology not in TOPOLOGIES:
        raise PlanError('benchmark_topology: unknown value %r; allowed values: %s' % (topology, ', '.join(TOPOLOGIES)))
    memory = _param(params, 'dpdk_memory')
    if memory not in DPDK_MEMORY:
        raise PlanError('benchmark_dpdk_memory: unknown value %r; allowed values: %s'
                        % (memory, ', '.join(DPDK_MEMORY)))
    cpus_text = _param(params, 'cpus')
    wanted = parse_cpu_list(cpus_text) if cpus_text not in (None, '') else None
    tools = _choices(_param(params, 'reference_tools'), 'benchmark_reference_tools',
                     tuple(REFERENCE_TOOLS)) if _param(params, 'reference_tools') else []
    ref_paths = _param(params, 'reference_paths')
    for path in ref_paths:
        if path not in paths:
            raise PlanError('benchmark_reference_paths: %r is not in benchmark_paths (%s)' % (path, ', '.join(paths)))
        kind = DATA_PATHS[path]['kind']
        if not [t for t in tools if REFERENCE_TOOLS[t] == kind]:
            raise PlanError('benchmark_reference_paths: %r is a %s path and no reference tool for it is in '
                            'benchmark_reference_tools (%s); add one of: %s'
                            % (path, kind, ', '.join(tools) or 'empty',
                               ', '.join(t for t in REFERENCE_TOOLS if REFERENCE_TOOLS[t] == kind)))
    touch = bool(_param(params, 'touch'))
    repeats = _positive_ints([_param(params, 'repeats')], 'benchmark_repeats', MAX_REPEATS)[0]
    path_repeats = dict(_param(params, 'path_repeats'))
    if not isinstance(path_repeats, dict):
        raise PlanError('benchmark_path_repeats must be a mapping of path name to a number of rounds, e.g. {testpmd: 3}')
    for path, count in path_repeats.items():
        if path not in DATA_PATHS:
            raise PlanError('benchmark_path_repeats: unknown path %r; allowed paths: %s' % (path, ', '.join(DATA_PATHS)))
        path_repeats[path] = _positive_ints([count], 'benchmark_path_repeats[%s]' % path, MAX_REPEATS)[0]
    method = _param(params, 'method')
    if method not in METHODS:
        raise PlanError('benchmark_method: unknown value %r; allowed values: %s' % (method, ', '.join(METHODS)))
    search = search_options(params, duration, warmup) if method == 'search' else None
    tolerance = _ratio(_param(params, 'offered_tolerance'), 'benchmark_offered_tolerance', 0.5)
    # what every trial of every case takes along (cross cases too)
    trial_opts = {'offered_tolerance': tolerance,
                  'warmup_stable': _ratio(_param(params, 'warmup_stable'), 'benchmark_warmup_stable', 1.0)}
    check_sriov(params.get('parents'), paths, total_vfs)
    if host_links is not None:
        check_parents(params.get('parents'), paths, host_links, total_vfs)
    host_index, cross_peers = check_cross(params, paths)
    hosts = list(params.get('hosts') or [])
    pool = _cpu_pool(host_cpus, wanted)
    reserve = _param(params, 'reserve_housekeeping')
    cpu = plan_cpus(host_cpus, wanted, ('a', 'b'), cpp, reserve)
    path_plans = {}
    for path in paths:
        path_plans[path] = plan_path_cpus(path, pool, cpp, switch_cpus, topology, reserve)
        path_plans[path]['socket_dir'] = socket_dir(path)

    cases = []
    for path in paths:
        mtu = int(mtus.get(path, 1500))
        sizes = _sizes(_param(params, 'sizes'), 'benchmark_sizes', mtu, path)
        lat_sizes = _sizes(_param(params, 'lat_sizes'), 'benchmark_lat_sizes', mtu, path)
        net = path_network(path, host_index)
        pp = path_plans[path]
        kind = DATA_PATHS[path]['kind']
        path_backends = backends if kind == 'kernel' else [DPDK_BACKEND]
        if kind == 'dpdk':
            net['eal'] = DPDK_MEMORY[memory] + ' --no-pci'
        common = {'path': path, 'duration_s': duration, 'warmup_s': warmup, 'touch': touch,
                  'topology': pp['topology'], 'cpus': pp['cpus'], 'cores_shared': pp['cores_shared'],
                  'oversubscribed': pp['oversubscribed'], 'network': net,
                  'switch_process': DATA_PATHS[path]['process']}
        common.update(trial_opts)
        runs = []
        if 'tput' in modes and search:
            # one search per backend, size and burst: it finds its own rates
            runs += [('icperf', b, 'search', s, 0, u) for b in path_backends for s in sizes for u in bursts]
        elif 'tput' in modes:
            runs += [('icperf', b, 'tput', s, r, u) for b in path_backends for s in sizes for r in rates
                     for u in bursts]
        if 'lat' in modes:
            runs += [('icperf', b, 'lat', s, r, u) for b in path_backends for s in lat_sizes for r in lat_rates
                     for u in lat_bursts]
        if path in ref_paths:
            for tool in tools:
                if REFERENCE_TOOLS[tool] != kind:
                    continue
                if tool == 'sockperf':
                    # sockperf has no bursts nor pacing in its throughput test: burst 1, unpaced.
                    if 'tput' in modes:
                        runs += [(tool, 'udp', 'tput', s, 0, 1) for s in sizes]
                    if 'lat' in modes:
                        runs += [(tool, 'udp', 'lat', s, r, 1) for s in lat_sizes for r in lat_rates]
                elif 'tput' in modes:
                    # testpmd as a traffic generator (txonly/rxonly, or flowgen in a loop): unpaced,
                    # icperf's bursts, so that icperf's rate can be compared with it
                    runs += [(tool, DPDK_BACKEND, 'tput', s, 0, u) for s in sizes for u in bursts]
                    if pp['topology'] == 'loop':
                        # a loop's tput is a round trip (what came back, counted and checked);
                        # the senders alone, icperf send against testpmd txonly, give the
                        # generators' own capacity through the switch (mode tx)
                        runs += [(t, DPDK_BACKEND, 'tx', s, 0, u) for t in ('icperf', tool) for s in sizes
                                 for u in bursts]
        # repeated cases run in rounds (every case once, then again): icperf and a reference tool
        # alternate, so that a slow minute of a shared machine does not fall on one tool only
        count = path_repeats.get(path, repeats)
        for rnd in range(1, count + 1):
            for tool, backend, mode, size, rate, burst in runs:
                case = dict(common, tool=tool, backend=backend, mode=mode, size=size, rate_pps=rate, burst=burst,
                            repeat=rnd if count > 1 else None)
                case['case_id'] = case_id(path, tool, backend, mode, size, rate, burst, touch and tool == 'icperf',
                                          case['repeat'])
                case['touch'] = touch and tool == 'icperf'
                if mode == 'search':
                    case['search'] = search
                cases.append(case)
    cross_cases = []
    for peer in cross_peers:
        cross_cases += plan_cross_cases(params, peer, hosts.index(peer), host_index, backends, modes, rates, bursts,
                                        lat_rates, lat_bursts, mtus, path_plans, duration, warmup, trial_opts)
    seen = set()
    unique = []
    for case in cases:
        if case['case_id'] not in seen:
            seen.add(case['case_id'])
            unique.append(case)
    template = _param(params, 'container_template')
    containers = {}
    for p in paths:
        # DPDK peers run icperf and testpmd linked against the host's DPDK: only busybox
        # containers (the host's library folders bind-mounted) have it
        dpdk = DATA_PATHS[p]['kind'] == 'dpdk'
        containers[p] = path_containers(p, path_plans[p]['cpus'], params.get('container_config'),
                                        'busybox' if dpdk else template,
                                        [] if dpdk else _param(params, 'container_template_options'), host_index)
    all_path_plans = dict((p, dict(plan_path_cpus(p, pool, cpp, switch_cpus, topology, reserve),
                                   socket_dir=socket_dir(p))) for p in DATA_PATHS)
    all_containers = dict((p, path_containers(p, None, host_index=host_index)) for p in DATA_PATHS)
    return {'cases': unique, 'cross_cases': cross_cases, 'host_index': host_index,
            'cpu_plan': cpu, 'path_plans': path_plans, 'paths': paths, 'containers': containers,
            'dpdk_paths': [p for p in paths if DATA_PATHS[p]['kind'] == 'dpdk'],
            # the planned paths whose role checks the host at the plan stage (registry 'check')
            'checked_paths': registry.checked(paths),
            'path_vars': dict((p, path_vars(p, containers[p], path_plans[p], mtus.get(p, 1500))) for p in paths),
            # teardown: every path the collection knows, whatever benchmark_paths says now
            'all_path_vars': dict((p, path_vars(p, all_containers[p], all_path_plans[p], mtus.get(p, 1500)))
                                  for p in DATA_PATHS),
            'known_paths': list(DATA_PATHS),
            # {path: its record file} of the planned paths whose role records what it chose
            'records': dict((p, '%s/%s.json' % (RECORD_DIR, p)) for p in paths if 'record' in DATA_PATHS[p]['role_vars']),
            'record_dir': RECORD_DIR,
            'payload_bytes_min': MIN_FRAME - HEADER_BYTES}


def path_vars(path, containers, path_plan, mtu):
    """What the benchmark hands one path's role: {role, vars: {<prefix>_<key>: value}} from the plan
    (containers, mtu, topology, the switch's and main CPUs, the sockets folder) and the registry."""
    plan_vars = {'containers': containers, 'mtu': int(mtu), 'topology': path_plan['topology'],
                 'cpus': path_plan['cpus'].get('switch', ''), 'main_cpus': path_plan['cpus'].get('main', ''),
                 'socket_dir': path_plan['socket_dir'], 'cores_shared': bool(path_plan['cores_shared']),
                 'record': '%s/%s.json' % (RECORD_DIR, path)}
    return {'role': DATA_PATHS[path]['role'], 'vars': registry.role_vars(path, plan_vars)}


def plan_cross_cases(params, peer, peer_index, host_index, backends, modes, rates, bursts, lat_rates, lat_bursts,
                     mtus, path_plans, duration, warmup, trial_opts):
    """icperf cases from this host's container a to container b of host `peer` over each of
    benchmark_cross_paths (kernel paths joined by a NIC of each host). Both hosts must run the
    path; b's address and MAC follow from the peer's index as its own plan computes them."""
    cases = []
    host = params.get('host')
    for path in _param(params, 'cross_paths'):
        mtu = int(mtus.get(path, 1500))
        sizes = _sizes(_param(params, 'sizes'), 'benchmark_sizes', mtu, path)
        lat_sizes = _sizes(_param(params, 'lat_sizes'), 'benchmark_lat_sizes', mtu, path)
        net = path_network(path, host_index)
        net['b'] = path_network(path, peer_index)['b']
        pp = path_plans[path]
        runs = []
        if 'tput' in modes:
            runs += [(b, 'tput', s, r, u) for b in backends for s in sizes for r in rates for u in bursts]
        if 'lat' in modes:
            runs += [(b, 'lat', s, r, u) for b in backends for s in lat_sizes for r in lat_rates for u in lat_bursts]
        for backend, mode, size, rate, burst in runs:
            case = {'path': path, 'tool': 'icperf', 'backend': backend, 'mode': mode, 'size': size,
                    'rate_pps': rate, 'burst': burst, 'duration_s': duration, 'warmup_s': warmup,
                    'touch': bool(_param(params, 'touch')), 'topology': 'pair', 'cpus': pp['cpus'],
                    'cores_shared': pp['cores_shared'], 'oversubscribed': pp['oversubscribed'],
                    'repeat': None, 'peer_host': peer, 'hosts': {'a': host, 'b': peer}, 'network': net,
                    'switch_process': DATA_PATHS[path]['process']}
            case.update(trial_opts)
            case['case_id'] = case_id(path, 'icperf', backend, mode, size, rate, burst, case['touch'],
                                      peer_host=peer)
            cases.append(case)
    return cases
