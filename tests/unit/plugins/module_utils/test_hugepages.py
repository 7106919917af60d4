# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""HugepageManager against a fake sysfs/procfs tree; FakeKernel plays the kernel's side of the writes
and of the commands each test names, in order (harness.Commands: no other command may run)."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os

import pytest

from ansible_collections.kbypass.testbed.plugins.module_utils import hugepages as hp
from ansible_collections.kbypass.testbed.plugins.module_utils.hugepages import (
    GRUB_FILE, SYSCTL_FILE, HugepageManager, HugepagesError)
from ansible_collections.kbypass.testbed.plugins.module_utils.ledger import STATE_DIR, Ledger

from ...harness import Commands, expected


def mount(path, pagesize='2M'):
    return ['mount', '-t', 'hugetlbfs', '-o', 'pagesize=' + pagesize, 'nodev', path]


def umount(path):
    return ['umount', path]


class FakeKernel(object):
    """A fake /sys + /proc under ``root``.

    Writing nr_hugepages gives at most ``cap`` pages (None: as many as asked) and moves the free
    count along; mount/umount edit /proc/mounts. ``writes`` records what the manager wrote;
    ``commands`` is its run_command: the commands a test ``expect()``s, in order, each answered by
    ``answer``.
    """

    def __init__(self, root, sizes=(2048, 1048576), nodes=(0,), count=0, free=None, surplus=0, mounts='',
                 cap=None):
        self.root = str(root)
        self.cap = cap
        self.writes = []
        self.commands = Commands([], 'FakeKernel', answer=self.answer)
        self.mount_rc = 0
        for kb in sizes:
            dirs = ['sys/kernel/mm/hugepages/hugepages-%dkB' % kb]
            dirs += ['sys/devices/system/node/node%d/hugepages/hugepages-%dkB' % (n, kb) for n in nodes]
            for directory in dirs:
                self.put(directory + '/nr_hugepages', count)
                self.put(directory + '/free_hugepages', count - surplus if free is None else free)
                self.put(directory + '/surplus_hugepages', surplus)
        for extra in ('possible', 'online'):
            self.put('sys/devices/system/node/' + extra, '0')
        self.put('proc/mounts', mounts)

    def put(self, rel, value):
        path = os.path.join(self.root, rel)
        if not os.path.isdir(os.path.dirname(path)):
            os.makedirs(os.path.dirname(path))
        with open(path, 'w') as handle:
            handle.write('%s\n' % value if not isinstance(value, str) else value)

    def get(self, rel):
        with open(os.path.join(self.root, rel.lstrip('/'))) as handle:
            return handle.read()

    def writer(self, path, text):
        rel = os.path.relpath(path, self.root)
        self.writes.append(('/' + rel, text))
        if rel.endswith('/nr_hugepages'):
            base = os.path.dirname(path)
            old = int(open(os.path.join(base, 'nr_hugepages')).read())
            free = int(open(os.path.join(base, 'free_hugepages')).read())
            new = int(text) if self.cap is None else min(int(text), self.cap)
            with open(os.path.join(base, 'nr_hugepages'), 'w') as handle:
                handle.write('%d\n' % new)
            with open(os.path.join(base, 'free_hugepages'), 'w') as handle:
                handle.write('%d\n' % max(0, free + new - old))
            return
        with open(path, 'w') as handle:
            handle.write(text)

    def expect(self, *argvs):
        """The commands the code must run next, in this order."""
        self.commands.expect(*[expected(argv) for argv in argvs])
        return self

    def answer(self, argv):
        mounts = self.get('proc/mounts')
        if argv[0] == 'mount':
            if self.mount_rc:
                return self.mount_rc, '', 'mount: %s: unknown filesystem type' % argv[-1]
            size = argv[argv.index('-o') + 1].split('=')[1]
            self.put('proc/mounts', mounts + 'nodev %s hugetlbfs rw,relatime,pagesize=%s 0 0\n'
                     % (argv[-1].replace(' ', '\\040'), size))
        elif argv[0] == 'umount':
            lines = [ln for ln in mounts.splitlines(True) if ln.split()[1] != argv[-1]]
            self.put('proc/mounts', ''.join(lines))
        return 0, '', ''

    def manager(self, **kwargs):
        return HugepageManager(root=self.root, run_command=self.commands, writer=self.writer, **kwargs)

    def count(self, size_kb=2048, node=None):
        base = ('sys/kernel/mm/hugepages' if node is None else 'sys/devices/system/node/node%d/hugepages' % node)
        return int(self.get('%s/hugepages-%dkB/nr_hugepages' % (base, size_kb)))


GLOBAL_2M = '/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages'
NODE0_2M = '/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages'
GLOBAL_1G = '/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages'


@pytest.mark.parametrize('kwargs, target, written', [
    ({'count': 512}, GLOBAL_2M, 512),
    ({'count': 0}, GLOBAL_2M, 0),
    ({'count': 512, 'node': 0}, NODE0_2M, 512),
    ({'count': 2, 'size': '1G'}, GLOBAL_1G, 2),
], ids=['grow-global', 'shrink-global', 'node0', '1G'])
def test_sets_the_count_and_is_idempotent(tmp_path, kwargs, target, written):
    kernel = FakeKernel(tmp_path, count=64)
    result = kernel.manager(**kwargs).ensure()
    assert result['changed'] is True
    assert kernel.writes == [(target, str(written))]
    assert result['before']['count'] == 64 and result['after']['count'] == written
    assert result['after']['size'] == kwargs.get('size', '2M') and result['after']['node'] == kwargs.get('node')
    assert result['reboot_required'] is False and result['files'] == []
    kernel.writes = []
    again = kernel.manager(**kwargs).ensure()
    assert again['changed'] is False and kernel.writes == []
    assert again['before'] == again['after'] == result['after']


def test_free_pages_are_reported(tmp_path):
    kernel = FakeKernel(tmp_path, count=100, free=40)
    result = kernel.manager(count=150).ensure()
    assert result['before']['free'] == 40 and result['after']['free'] == 90


def test_surplus_pages_are_not_counted(tmp_path):
    """After shrinking below the pages in use, nr_hugepages still counts them as surplus."""
    kernel = FakeKernel(tmp_path, count=300, surplus=100)
    result = kernel.manager(count=200).ensure()
    assert result['changed'] is False and result['before']['count'] == 200 and kernel.writes == []


def test_check_mode_touches_nothing(tmp_path):
    kernel = FakeKernel(tmp_path, count=64)
    result = kernel.manager(count=128, mount='/dev/hugepages', persistent=True, check_mode=True).ensure()
    assert result['changed'] is True
    assert result['after']['count'] == 128 and result['after']['free'] == 128
    assert result['after']['mount'] == {'path': '/dev/hugepages', 'fstype': 'hugetlbfs', 'pagesize': '2M'}
    assert result['files'] == [SYSCTL_FILE]
    assert kernel.writes == [] and kernel.count() == 64   # and no command ran
    assert not os.path.exists(str(tmp_path) + '/dev/hugepages')
    assert not os.path.exists(str(tmp_path) + SYSCTL_FILE)


def test_shortage_restores_the_previous_count_and_fails(tmp_path):
    kernel = FakeKernel(tmp_path, count=64, cap=100)
    with pytest.raises(HugepagesError) as err:
        kernel.manager(count=1000).ensure()
    msg = str(err.value)
    for words in ('size=2M', 'node=global', 'asked for 1000', 'gave 100', 'previous reservation 64',
                  'put back to 64', 'persistent: true', 'drop_caches'):
        assert words in msg
    assert kernel.writes == [(GLOBAL_2M, '1000'), (GLOBAL_2M, '64')]
    assert kernel.count() == 64
    assert err.value.result['asked'] == 1000 and err.value.result['got'] == 100


def test_shortage_on_a_node_names_the_node(tmp_path):
    kernel = FakeKernel(tmp_path, count=8, cap=10)
    with pytest.raises(HugepagesError, match='size=1G node=0: asked for 16 pages, the kernel gave 10'):
        kernel.manager(size='1G', count=16, node=0).ensure()
    assert kernel.count(1048576, 0) == 8


def test_shortage_with_persistent_1g_keeps_the_boot_file(tmp_path):
    kernel = FakeKernel(tmp_path, count=0, cap=1)
    with pytest.raises(HugepagesError) as err:
        kernel.manager(size='1G', count=4, persistent=True).ensure()
    assert 'update-grub and reboot' in str(err.value)
    assert err.value.result['reboot_required'] is True and err.value.result['changed'] is True
    assert 'hugepagesz=1G hugepages=4' in kernel.get(GRUB_FILE)
    assert kernel.count(1048576) == 0


@pytest.mark.parametrize('kwargs, words', [
    ({'count': 1, 'size': '1G'}, ['size=1G is not supported', 'supported sizes: 2M', 'hugepages-1048576kB']),
    ({'count': 1, 'node': 3}, ['node=3 is not a NUMA node', 'lists 0']),
    ({'count': -1}, ['count=-1', '0 or more']),
    ({'count': 1, 'size': '4M'}, ["size='4M'", '1G, 2M']),
    ({'count': 1, 'mount': 'relative/dir'}, ["mount='relative/dir'", 'absolute path']),
], ids=['unsupported-size', 'unknown-node', 'negative', 'unknown-size', 'relative-mount'])
def test_bad_input(tmp_path, kwargs, words):
    kernel = FakeKernel(tmp_path, sizes=(2048,), count=0)
    with pytest.raises(HugepagesError) as err:
        kernel.manager(**kwargs).ensure()
    for word in words:
        assert word in str(err.value)
    assert kernel.writes == []


def test_no_hugetlbfs_in_the_kernel(tmp_path):
    with pytest.raises(HugepagesError, match='no huge page support'):
        HugepageManager(count=1, root=str(tmp_path)).ensure()


def test_mounts_hugetlbfs_once(tmp_path):
    kernel = FakeKernel(tmp_path, count=8)
    result = kernel.expect(mount('/dev/hugepages')).manager(count=8, mount='/dev/hugepages').ensure()
    assert result['changed'] is True
    kernel.commands.verify()
    assert os.path.isdir(str(tmp_path) + '/dev/hugepages')
    assert result['before']['mount'] == {'path': '/dev/hugepages', 'fstype': None, 'pagesize': None}
    assert result['after']['mount'] == {'path': '/dev/hugepages', 'fstype': 'hugetlbfs', 'pagesize': '2M'}
    assert kernel.manager(count=8, mount='/dev/hugepages/').ensure()['changed'] is False   # runs nothing


def test_mount_point_with_a_space(tmp_path):
    kernel = FakeKernel(tmp_path, count=8)
    kernel.expect(mount('/mnt/huge pages')).manager(count=8, mount='/mnt/huge pages').ensure()
    assert 'huge\\040pages' in kernel.get('proc/mounts')
    assert kernel.manager(count=8, mount='/mnt/huge pages').ensure()['changed'] is False


def test_remounts_another_page_size(tmp_path):
    kernel = FakeKernel(tmp_path, count=2, mounts='nodev /mnt/huge hugetlbfs rw,relatime,pagesize=2M 0 0\n')
    kernel.expect(umount('/mnt/huge'), mount('/mnt/huge', '1G'))
    result = kernel.manager(size='1G', count=2, mount='/mnt/huge').ensure()
    assert result['changed'] is True
    assert result['after']['mount']['pagesize'] == '1G'


def test_refuses_another_file_system_on_the_mount_point(tmp_path):
    kernel = FakeKernel(tmp_path, count=2, mounts='tmpfs /mnt/huge tmpfs rw 0 0\n')
    with pytest.raises(HugepagesError, match='already holds a tmpfs file system'):
        kernel.manager(count=2, mount='/mnt/huge').ensure()   # runs nothing


def test_failed_mount_names_the_command(tmp_path):
    kernel = FakeKernel(tmp_path, count=2)
    kernel.mount_rc = 32
    kernel.expect(mount('/mnt/huge'))
    with pytest.raises(HugepagesError, match='mount -t hugetlbfs -o pagesize=2M nodev /mnt/huge failed'):
        kernel.manager(count=2, mount='/mnt/huge').ensure()


def test_unmounts_with_mount_state_absent(tmp_path):
    kernel = FakeKernel(tmp_path, count=8, mounts='nodev /dev/hugepages hugetlbfs rw,relatime,pagesize=2M 0 0\n')
    kernel.expect(umount('/dev/hugepages'))
    result = kernel.manager(count=0, mount='/dev/hugepages', mount_state='absent').ensure()
    assert result['changed'] is True
    kernel.commands.verify()
    assert result['after']['mount']['fstype'] is None and result['after']['count'] == 0
    assert kernel.manager(count=0, mount='/dev/hugepages', mount_state='absent').ensure()['changed'] is False


def test_persistent_2m_global_writes_sysctl(tmp_path):
    kernel = FakeKernel(tmp_path, count=8)
    result = kernel.manager(count=8, persistent=True).ensure()
    assert result['changed'] is True and result['reboot_required'] is False
    assert result['files'] == [SYSCTL_FILE]
    assert 'vm.nr_hugepages = 8\n' in kernel.get(SYSCTL_FILE)
    assert result['diff'][1]['after_header'] == SYSCTL_FILE and result['diff'][1]['before'] == ''
    again = kernel.manager(count=8, persistent=True).ensure()
    assert again['changed'] is False and again['files'] == []


def test_persistent_1g_writes_the_kernel_command_line(tmp_path):
    kernel = FakeKernel(tmp_path, count=0)
    result = kernel.manager(size='1G', count=2, persistent=True).ensure()
    assert result['changed'] is True and result['reboot_required'] is True
    assert 'update-grub' in result['hint'] and 'reboot' in result['hint']
    text = kernel.get(GRUB_FILE)
    assert 'GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT hugepagesz=1G hugepages=2"' in text
    again = kernel.manager(size='1G', count=2, persistent=True).ensure()
    assert again['changed'] is False and again['reboot_required'] is False
    # a per-node 2M reservation joins the same line; the 1G entry stays
    node = kernel.manager(size='2M', count=0, node=0, persistent=True).ensure()
    assert node['reboot_required'] is True
    assert 'hugepagesz=2M hugepages=0:0 hugepagesz=1G hugepages=2"' in kernel.get(GRUB_FILE)
    assert not os.path.exists(str(tmp_path) + SYSCTL_FILE)


@pytest.mark.parametrize('old, count, node, new', [
    (None, 4, None, '4'),
    ('2', 4, None, '4'),
    (None, 4, 1, '1:4'),
    ('0:2,1:3', 4, 1, '0:2,1:4'),
    ('8', 4, 0, '0:4'),
])
def test_merge_grub_value(old, count, node, new):
    assert hp.merge_grub_value(old, count, node) == new


def test_parsers():
    assert hp.size_to_kb('2M') == 2048 and hp.size_to_kb('1024M') == 1048576 and hp.size_to_kb('x') is None
    assert hp.kb_to_size(2048) == '2M' and hp.kb_to_size(1048576) == '1G' and hp.kb_to_size(64) == '64K'
    mounts = hp.parse_mounts('nodev /mnt/a\\040b hugetlbfs rw,pagesize=1024M 0 0\nbroken\n')
    assert mounts == [{'source': 'nodev', 'path': '/mnt/a b', 'fstype': 'hugetlbfs',
                       'options': ['rw', 'pagesize=1024M']}]
    assert hp.mount_pagesize(mounts[0]['options']) == '1G'
    assert hp.parse_grub_pages('# hugepagesz=2M hugepages=9\nX="$X hugepagesz=1G hugepages=0:1,1:1"\n') == {
        '1G': '0:1,1:1'}


def _dpdk_configure(kernel, book, count):
    """roles/dpdk/tasks/configure.yml: read the pool (check mode), record it, reserve."""
    now = kernel.manager(count=count, check_mode=True).ensure()
    book.record('hugepages', '2M', {'count': now['before']['count']})
    kernel.manager(count=count).ensure()


def _dpdk_teardown(kernel, book):
    """roles/dpdk/tasks/teardown.yml: put each recorded reservation back, then forget it."""
    for size, value in sorted(book.records(['hugepages']).get('hugepages', {}).items()):
        kernel.manager(size=size, count=int(value['count'])).ensure()
        book.forget('hugepages', size)


def test_the_dpdk_role_records_the_first_reservation_and_gives_it_back(tmp_path):
    kernel = FakeKernel(tmp_path / 'root', count=64)
    book = Ledger(kernel.root)
    _dpdk_configure(kernel, book, 1024)
    _dpdk_configure(kernel, book, 512)  # a later run finds 1024: the ledger keeps 64
    assert book.records() == {'hugepages': {'2M': {'count': 64}}} and kernel.count() == 512
    _dpdk_teardown(kernel, book)
    assert kernel.count() == 64 and book.records() == {} and book.files() == []


def test_the_previous_versions_hugepages_json_is_given_back(tmp_path):
    kernel = FakeKernel(tmp_path / 'root', count=1024)
    kernel.put(STATE_DIR.lstrip('/') + '/hugepages.json', '{"size": "2M", "count": 8}\n')
    book = Ledger(kernel.root)
    _dpdk_teardown(kernel, book)
    assert kernel.count() == 8 and book.files() == []


def test_boot_files_are_written_atomically(tmp_path):
    kernel = FakeKernel(tmp_path, count=0)
    kernel.manager(count=16, persistent=True).ensure()
    assert kernel.get(SYSCTL_FILE) == hp.render_sysctl(16)
    assert os.listdir(os.path.dirname(os.path.join(str(tmp_path), SYSCTL_FILE.lstrip('/')))) == [
        os.path.basename(SYSCTL_FILE)]
