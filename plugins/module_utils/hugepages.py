# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Desired-state management of the huge page reservation of one page size (and NUMA node).

The module ``kbypass.testbed.hugepages`` is a thin wrapper around :class:`HugepageManager`.

Every file is reached through ``root`` (default :data:`DEFAULT_ROOT`, the real ``/``), so the unit
tests run against a fake sysfs/procfs tree. Files are written by :func:`sysfs.write_file` unless a
``writer`` is given; a test writer can play the kernel (for example give fewer pages than asked).

The count managed is the persistent pool, ``nr_hugepages - surplus_hugepages`` of the size's
sysfs directory: when the pool shrinks below the pages in use the kernel keeps those as surplus
pages, ``nr_hugepages`` still counts them and ``/proc/sys/vm/nr_hugepages`` does not.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os
import re

from ansible_collections.kbypass.testbed.plugins.module_utils.ledger import write_atomic
from ansible_collections.kbypass.testbed.plugins.module_utils.sysfs import RootedFiles

DEFAULT_ROOT = ''

SIZES = {'2M': 2048, '1G': 1048576}
GLOBAL_DIR = '/sys/kernel/mm/hugepages'
NODE_DIR = '/sys/devices/system/node'
MOUNTS = '/proc/mounts'
SYSCTL_FILE = '/etc/sysctl.d/80-kbypass-hugepages.conf'
GRUB_FILE = '/etc/default/grub.d/80-kbypass-hugepages.cfg'

_SIZE_DIR_RE = re.compile(r'^hugepages-(\d+)kB$')
_NODE_RE = re.compile(r'^node(\d+)$')
_GRUB_PAIR_RE = re.compile(r'hugepagesz=(\S+)\s+hugepages=([0-9:,]+)')
_MOUNT_ESCAPE_RE = re.compile(r'\\([0-7]{3})')

FIX_SHORTAGE = ('reserve the pages at boot with persistent: true (then run update-grub and reboot for '
                '1G or per-node pages), or free memory first (stop programs using it, '
                'echo 3 > /proc/sys/vm/drop_caches; echo 1 > /proc/sys/vm/compact_memory) and run again')


class HugepagesError(Exception):
    """A refusal or failure, with a message that names the bad input and the fix."""

    def __init__(self, msg, **result):
        super(HugepagesError, self).__init__(msg)
        self.result = result


def kb_to_size(kb):
    """2048 -> '2M', 1048576 -> '1G', 64 -> '64K'."""
    for unit, factor in (('G', 1024 * 1024), ('M', 1024)):
        if kb % factor == 0:
            return '%d%s' % (kb // factor, unit)
    return '%dK' % kb


def size_to_kb(text):
    """'2M' / '2048k' / '1G' / '2097152' (bytes) -> kB, or None when it cannot be parsed."""
    match = re.match(r'^(\d+)([kKmMgG]?)$', str(text).strip())
    if not match:
        return None
    value, unit = int(match.group(1)), match.group(2).upper()
    if not unit:
        return value // 1024
    return value * {'K': 1, 'M': 1024, 'G': 1024 * 1024}[unit]


def _unescape_mount(text):
    return _MOUNT_ESCAPE_RE.sub(lambda m: chr(int(m.group(1), 8)), text)


def parse_mounts(text):
    """Lines of /proc/mounts -> list of dicts (source, path, fstype, options)."""
    out = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 4:
            continue
        out.append({'source': _unescape_mount(fields[0]), 'path': _unescape_mount(fields[1]),
                    'fstype': fields[2], 'options': fields[3].split(',')})
    return out


def mount_pagesize(options):
    """Page size of a hugetlbfs mount from its options, as '2M'/'1G', or None."""
    for option in options:
        if option.startswith('pagesize='):
            kb = size_to_kb(option.split('=', 1)[1])
            return kb_to_size(kb) if kb else option.split('=', 1)[1]
    return None


def parse_grub_pages(text):
    """Huge page parameters of our grub snippet -> {size: value} (value '4' or '0:4,1:2')."""
    pages = {}
    for line in text.splitlines():
        if line.lstrip().startswith('#'):
            continue
        for size, value in _GRUB_PAIR_RE.findall(line):
            kb = size_to_kb(size)
            pages[kb_to_size(kb) if kb else size] = value
    return pages


def merge_grub_value(old, count, node):
    """New hugepages= value for one size: a plain count, or node format 'N:count,...'."""
    if node is None:
        return str(count)
    per_node = {}
    if old and ':' in old:
        for item in old.split(','):
            nid, _sep, value = item.partition(':')
            if nid.isdigit() and value.isdigit():
                per_node[int(nid)] = int(value)
    per_node[node] = count
    return ','.join('%d:%d' % (nid, per_node[nid]) for nid in sorted(per_node))


def render_grub(pages):
    sizes = sorted(pages, key=lambda s: size_to_kb(s) or 0)
    params = ' '.join('hugepagesz=%s hugepages=%s' % (size, pages[size]) for size in sizes)
    return ('# Managed by kbypass.testbed.hugepages: huge pages reserved on the kernel command line.\n'
            '# Takes effect after update-grub and a reboot.\n'
            'GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT %s"\n' % params)


def render_sysctl(count):
    return ('# Managed by kbypass.testbed.hugepages: 2M huge pages reserved at boot.\n'
            'vm.nr_hugepages = %d\n' % count)


class HugepageManager(RootedFiles):
    """Read, compare and converge the reservation of one huge page size (on one NUMA node).

    ``run_command`` is a callable taking an argv list and returning (rc, stdout, stderr)
    (AnsibleModule.run_command); nothing is written or run when ``check_mode`` is true.
    """

    error = HugepagesError

    def __init__(self, size='2M', count=0, node=None, mount=None, mount_state='present',
                 persistent=False, root=None, run_command=None, check_mode=False, writer=None):
        super(HugepageManager, self).__init__(DEFAULT_ROOT if root is None else root, run_command, writer)
        self.size = size
        self.count = count
        self.node = node
        self.mount = mount
        self.mount_state = mount_state
        self.persistent = persistent
        self.check_mode = check_mode

    # ----------------------------------------------------------------- helpers
    _write = RootedFiles._write_raw

    @property
    def where(self):
        return 'node %d' % self.node if self.node is not None else 'all nodes (global)'

    # ----------------------------------------------------------------- validation
    def supported_sizes(self):
        try:
            names = os.listdir(self.path(GLOBAL_DIR))
        except OSError:
            return []
        kbs = sorted(int(m.group(1)) for m in (_SIZE_DIR_RE.match(n) for n in names) if m)
        return [kb_to_size(kb) for kb in kbs]

    def nodes(self):
        try:
            names = os.listdir(self.path(NODE_DIR))
        except OSError:
            return []
        return sorted(int(m.group(1)) for m in (_NODE_RE.match(n) for n in names) if m)

    def validate(self):
        if self.size not in SIZES:
            raise HugepagesError('size=%r is not a huge page size this module manages; use one of %s'
                                 % (self.size, ', '.join(sorted(SIZES))))
        if not isinstance(self.count, int) or self.count < 0:
            raise HugepagesError('count=%r must be a whole number of pages, 0 or more' % (self.count,))
        if not os.path.isdir(self.path(GLOBAL_DIR)):
            raise HugepagesError('%s does not exist: this kernel has no huge page support '
                                 '(CONFIG_HUGETLBFS) or /sys is not mounted; use a kernel with hugetlbfs'
                                 % GLOBAL_DIR)
        supported = self.supported_sizes()
        if self.size not in supported:
            raise HugepagesError('size=%s is not supported by this kernel (no %s/hugepages-%dkB); '
                                 'supported sizes: %s. Pick one of those (1G pages need a CPU with '
                                 'pdpe1gb on x86)' % (self.size, GLOBAL_DIR, SIZES[self.size],
                                                      ', '.join(supported) or 'none'))
        if self.node is not None:
            nodes = self.nodes()
            if self.node not in nodes:
                raise HugepagesError('node=%d is not a NUMA node of this host (%s lists %s); use one of '
                                     'those or leave node unset for a global reservation'
                                     % (self.node, NODE_DIR, ', '.join(str(n) for n in nodes) or 'none'))
            if not os.path.isdir(self.path(self.size_dir())):
                raise HugepagesError('node=%d has no %s directory: the kernel does not offer per-node %s '
                                     'pages; leave node unset' % (self.node, self.size_dir(), self.size))
        if self.mount is not None and not os.path.isabs(self.mount):
            raise HugepagesError('mount=%r must be an absolute path, e.g. /dev/hugepages' % self.mount)

    # ----------------------------------------------------------------- reading
    def size_dir(self):
        name = 'hugepages-%dkB' % SIZES[self.size]
        if self.node is None:
            return '%s/%s' % (GLOBAL_DIR, name)
        return '%s/node%d/hugepages/%s' % (NODE_DIR, self.node, name)

    def read_pool(self):
        """(count, free) of the pool: count = nr_hugepages - surplus_hugepages."""
        base = self.size_dir()
        total = self._read_int(base + '/nr_hugepages')
        if total is None:
            raise HugepagesError('cannot read %s/nr_hugepages; run as root on a kernel with hugetlbfs'
                                 % base)
        surplus = self._read_int(base + '/surplus_hugepages', 0)
        free = self._read_int(base + '/free_hugepages', 0)
        return total - surplus, free

    def read_mount(self):
        """What is mounted at ``mount`` (topmost mount): dict(path, fstype, pagesize) or None."""
        if self.mount is None:
            return None
        wanted = os.path.normpath(self.mount)
        found = None
        for entry in parse_mounts(self._read(MOUNTS, '')):
            if os.path.normpath(entry['path']) == wanted:
                found = entry
        if found is None:
            return {'path': wanted, 'fstype': None, 'pagesize': None}
        pagesize = mount_pagesize(found['options']) if found['fstype'] == 'hugetlbfs' else None
        return {'path': wanted, 'fstype': found['fstype'], 'pagesize': pagesize}

    def state(self, count, free, mount):
        return {'size': self.size, 'node': self.node, 'count': count, 'free': free, 'mount': mount}

    # ----------------------------------------------------------------- persistent files
    def wanted_files(self):
        """{path: (old text or None, new text)} of the boot-time files this run manages."""
        if not self.persistent:
            return {}
        if self.size == '2M' and self.node is None:
            return {SYSCTL_FILE: (self._read(SYSCTL_FILE), render_sysctl(self.count))}
        old = self._read(GRUB_FILE)
        pages = parse_grub_pages(old or '')
        pages[self.size] = merge_grub_value(pages.get(self.size), self.count, self.node)
        return {GRUB_FILE: (old, render_grub(pages))}

    def _write_config(self, path, text):
        write_atomic(self.path(path), text)

    # ----------------------------------------------------------------- changing
    def _set_count(self, previous):
        """Write the count, read it back; on a shortfall put ``previous`` back and fail."""
        target = self.size_dir() + '/nr_hugepages'
        try:
            self._write(target, str(self.count))
        except (IOError, OSError) as exc:
            raise HugepagesError('writing %d to %s failed: %s; run as root (the module writes sysfs)'
                                 % (self.count, target, exc))
        got, free = self.read_pool()
        if got == self.count:
            return got, free
        try:
            self._write(target, str(previous))
            restored, _free = self.read_pool()
        except (IOError, OSError) as exc:
            restored = 'unknown (%s)' % exc
        if got < self.count:
            why = 'the kernel could not find enough free contiguous memory'
        else:
            why = 'the kernel kept more pages than asked'
        raise HugepagesError(
            'hugepages size=%s node=%s: asked for %d pages, the kernel gave %d (previous reservation %d); '
            '%s. The reservation was put back to %s. Fix: %s'
            % (self.size, 'global' if self.node is None else self.node, self.count, got, previous, why,
               restored, FIX_SHORTAGE),
            asked=self.count, got=got, previous=previous)

    def _do_mount(self):
        path = self.mount
        if not os.path.isdir(self.path(path)):
            os.makedirs(self.path(path))
        argv = ['mount', '-t', 'hugetlbfs', '-o', 'pagesize=%s' % self.size, 'nodev', path]
        rc, out, err = self._run(argv)
        if rc != 0:
            raise HugepagesError('%s failed (rc=%d): %s; check that the kernel offers %s pages and that '
                                 'nothing else is mounted on %s' % (' '.join(argv), rc, (err or out).strip(),
                                                                    self.size, path))

    def _do_umount(self):
        rc, out, err = self._run(['umount', self.mount])
        if rc != 0:
            raise HugepagesError('umount %s failed (rc=%d): %s; stop the programs holding files there '
                                 '(fuser -vm %s) and run again' % (self.mount, rc, (err or out).strip(),
                                                                   self.mount))

    def _mount_actions(self, mount):
        """List of 'umount'/'mount' steps that bring ``mount`` to the wanted state."""
        if mount is None:
            return []
        if self.mount_state == 'absent':
            return ['umount'] if mount['fstype'] == 'hugetlbfs' else []
        if mount['fstype'] == 'hugetlbfs' and mount['pagesize'] == self.size:
            return []
        if mount['fstype'] not in (None, 'hugetlbfs'):
            raise HugepagesError('mount=%s already holds a %s file system, not hugetlbfs; pick another '
                                 'mount point or unmount it first' % (mount['path'], mount['fstype']))
        if mount['fstype'] == 'hugetlbfs':
            # the page size of a hugetlbfs mount cannot be changed by a remount
            return ['umount', 'mount']
        return ['mount']

    def _predict_mount(self, mount, actions):
        if mount is None or not actions:
            return mount
        if actions[-1] == 'mount':
            return {'path': mount['path'], 'fstype': 'hugetlbfs', 'pagesize': self.size}
        return {'path': mount['path'], 'fstype': None, 'pagesize': None}

    def ensure(self):
        """Converge; return the result dict (changed, before, after, reboot_required, hint, diff)."""
        self.validate()
        count, free = self.read_pool()
        mount = self.read_mount()
        before = self.state(count, free, mount)
        actions = self._mount_actions(mount)
        files = self.wanted_files()
        changed_files = [p for p, (old, new) in sorted(files.items()) if old != new]
        count_changes = count != self.count
        changed = bool(count_changes or actions or changed_files)
        reboot_required = GRUB_FILE in changed_files

        hints = []
        if GRUB_FILE in files:
            hints.append('%s sets the kernel command line: run update-grub and reboot for it to take '
                         'effect%s' % (GRUB_FILE, '' if reboot_required else ' (unchanged by this run)'))
        if SYSCTL_FILE in files:
            hints.append('%s reserves the pages at boot (applied by sysctl --system / procps)' % SYSCTL_FILE)

        if self.check_mode:
            new_free = max(0, free + (self.count - count))
            after = self.state(self.count, new_free, self._predict_mount(mount, actions))
        else:
            for path in changed_files:
                try:
                    self._write_config(path, files[path][1])
                except (IOError, OSError) as exc:
                    raise HugepagesError('cannot write %s: %s; run as root' % (path, exc))
            if 'umount' in actions and self.mount_state == 'absent':
                self._do_umount()
            if count_changes:
                try:
                    self._set_count(count)
                except HugepagesError as exc:
                    if reboot_required:
                        exc.args = (str(exc) + '. %s was written with the boot-time reservation: run '
                                    'update-grub and reboot' % GRUB_FILE,)
                    exc.result.update(reboot_required=reboot_required,
                                      changed=bool(changed_files or self.mount_state == 'absent' and actions))
                    raise
            if self.mount_state == 'present':
                if 'umount' in actions:
                    self._do_umount()
                if 'mount' in actions:
                    self._do_mount()
            new_count, new_free = self.read_pool()
            new_mount = self.read_mount()
            if self.mount_state == 'present' and 'mount' in actions and (
                    new_mount is None or new_mount['fstype'] != 'hugetlbfs'):
                raise HugepagesError('mount reported success but %s does not show hugetlbfs on %s; check '
                                     'the mount namespace the module runs in' % (MOUNTS, self.mount))
            after = self.state(new_count, new_free, new_mount)

        diff = [{'before_header': 'hugepages %s %s' % (self.size, self.where), 'before': before,
                 'after_header': 'hugepages %s %s' % (self.size, self.where), 'after': after}]
        for path in changed_files:
            diff.append({'before_header': path, 'before': files[path][0] or '',
                         'after_header': path, 'after': files[path][1]})
        return {'changed': changed, 'before': before, 'after': after, 'reboot_required': reboot_required,
                'hint': '; '.join(hints), 'files': changed_files, 'diff': diff}
