# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""DeviceBinder against a fake sysfs tree; FakePci plays the kernel's reaction to the writes and
to the commands, which each test names, in order (harness.Commands: no other command may run)."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import os
import shutil
import subprocess

import pytest

from ansible_collections.kbypass.testbed.plugins.module_utils import devbind
from ansible_collections.kbypass.testbed.plugins.module_utils.devbind import (
    STATE_FILE, DeviceBinder, DevbindError)
from ansible_collections.kbypass.testbed.plugins.module_utils.ledger import LEGACY_DEVBIND, Ledger

from ...harness import Commands, call, expected

ROUTE_HEADER = 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n'
NETDEV_DRIVERS = ('e1000e', 'igb', 'virtio-pci')
SETTLE = ['udevadm', 'settle', '--timeout=10']


def ip_addr(ifname):
    """The command that reads an interface's IPv4 addresses."""
    return ['ip', '-o', '-4', 'addr', 'show', 'dev', ifname]


def modprobe(name, dry_run=False):
    return ['modprobe'] + (['--dry-run'] if dry_run else []) + [name]


class FakePci(object):
    """A fake /sys with PCI devices and drivers, laid out as the kernel does it.

    ``/sys/bus/pci/devices/<addr>`` is a symlink to ``/sys/devices/pci0000:00/<addr>``, whose
    ``driver`` is a symlink to ``../../../bus/pci/drivers/<name>``. Writing ``drivers_probe`` binds
    the device to its ``driver_override`` (or, when it is empty, to its native driver) if that
    driver is loaded and does not refuse the device; a kernel network driver creates the device's
    interface again, under the kernel's name ``eth0`` when ``udev_renames`` (as on a host whose udev
    names interfaces by rule: the final name comes only when udev is done, ``udevadm settle``).
    ``modprobe`` creates the driver's directory when loadable. ``commands`` is the run_command:
    the commands a test ``expect()``s, in order, each answered by ``answer``.
    """

    def __init__(self, root):
        self.root = str(root)
        self.writes = []
        self.commands = Commands([], type(self).__name__, answer=self.answer)
        self.native = {}
        self.ifnames = {}
        self.refuse = set()
        self.loadable = set()
        self.addresses = {}
        self.udev_renames = False
        self.unnamed = []
        self.put('sys/bus/pci/drivers_probe', '')
        self.put('proc/net/route', ROUTE_HEADER)
        self.groups = 0

    # -- tree -------------------------------------------------------------------------------
    def p(self, rel):
        return os.path.join(self.root, rel.lstrip('/'))

    def put(self, rel, text):
        path = self.p(rel)
        if not os.path.isdir(os.path.dirname(path)):
            os.makedirs(os.path.dirname(path))
        with open(path, 'w') as handle:
            handle.write(text)

    def get(self, rel):
        with open(self.p(rel)) as handle:
            return handle.read()

    def driver(self, name):
        directory = self.p('sys/bus/pci/drivers/' + name)
        if not os.path.isdir(directory):
            os.makedirs(directory)
            self.put('sys/bus/pci/drivers/%s/bind' % name, '')
            self.put('sys/bus/pci/drivers/%s/unbind' % name, '')
        return self

    def device(self, address, klass='0x020000', native='e1000e', bound=True, ifname=None, virtio=False,
               group=None):
        real = 'sys/devices/pci0000:00/' + address
        for name, value in (('class', klass), ('vendor', '0x8086'), ('device', '0x10d3'),
                            ('driver_override', '(null)\n')):
            self.put('%s/%s' % (real, name), value + '\n' if name != 'driver_override' else value)
        os.makedirs(self.p('sys/bus/pci/devices'), exist_ok=True)
        os.symlink('../../../devices/pci0000:00/' + address, self.p('sys/bus/pci/devices/' + address))
        if group is None:
            group, self.groups = self.groups, self.groups + 1
        members = self.p('sys/kernel/iommu_groups/%d/devices' % group)
        os.makedirs(members, exist_ok=True)
        os.symlink('../../../../devices/pci0000:00/' + address, os.path.join(members, address))
        os.symlink('../../../kernel/iommu_groups/%d' % group, self.p(real + '/iommu_group'))
        self.native[address] = native
        self.ifnames[address] = (ifname, virtio)
        if bound:
            self.driver(native)
            self._bind(address, native)
        return self

    def dev(self, address):
        return self.p('sys/devices/pci0000:00/' + address)

    def bound_to(self, address):
        link = os.path.join(self.dev(address), 'driver')
        return os.path.basename(os.readlink(link)) if os.path.islink(link) else None

    def route(self, ifname):
        self.put('proc/net/route', self.get('proc/net/route') +
                 '%s\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n' % ifname)
        return self

    def _netdir(self, address, name=None):
        ifname, virtio = self.ifnames[address]
        return os.path.join(self.dev(address), 'virtio0' if virtio else '', 'net', name or ifname or '')

    def _bind(self, address, name):
        os.symlink('../../../bus/pci/drivers/' + name, os.path.join(self.dev(address), 'driver'))
        if name in NETDEV_DRIVERS and self.ifnames[address][0]:
            if self.udev_renames:
                os.makedirs(self._netdir(address, 'eth0'))
                self.unnamed.append(address)
            else:
                os.makedirs(self._netdir(address))

    def _unbind(self, address):
        os.unlink(os.path.join(self.dev(address), 'driver'))
        for name in (None, 'eth0'):
            if self.ifnames[address][0] and os.path.isdir(self._netdir(address, name)):
                os.rmdir(self._netdir(address, name))

    # -- the kernel side of the writes --------------------------------------------------------
    def writer(self, path, text):
        rel = '/' + os.path.relpath(path, self.root)
        self.writes.append((rel.replace('/sys/devices/pci0000:00/', '/sys/bus/pci/devices/'), text))
        parts = rel.split('/')
        if rel.endswith('/driver/unbind'):
            address = parts[-3]
            assert text == address and self.bound_to(address) is not None
            self._unbind(address)
        elif rel.endswith('/driver_override'):
            value = text.strip()
            self.put(rel, (value or '(null)') + '\n')
        elif rel == '/sys/bus/pci/drivers_probe':
            address = text
            if self.bound_to(address) is not None:
                return
            override = self.get('sys/bus/pci/devices/%s/driver_override' % address).strip()
            name = self.native[address] if override == '(null)' else override
            if name and os.path.isdir(self.p('sys/bus/pci/drivers/' + name)) and name not in self.refuse:
                self._bind(address, name)
        else:
            raise AssertionError('unexpected write to %s' % rel)

    def expect(self, *argvs):
        """The commands the code must run next, in this order."""
        self.commands.expect(*[expected(argv) for argv in argvs])
        return self

    def answer(self, argv):
        if argv[0] == 'ip':
            ifname = argv[-1]
            addr = self.addresses.get(ifname)
            line = '2: %s    inet %s brd 10.0.0.255 scope global %s\\       valid_lft forever\n' % (
                ifname, addr, ifname) if addr else ''
            return 0, line, ''
        if argv[0] == 'modprobe':
            name = argv[-1]
            if name in self.loadable:
                if '--dry-run' not in argv:
                    self.driver(name)
                return 0, '', ''
            return 1, '', 'modprobe: FATAL: Module %s not found in directory /lib/modules/6.1.0-25-amd64' % name
        if argv == SETTLE:
            for address in self.unnamed:
                os.rename(self._netdir(address, 'eth0'), self._netdir(address))
            self.unnamed = []
            return 0, '', ''
        raise AssertionError('unexpected command %r' % argv)

    def binder(self, device, driver, **kwargs):
        return DeviceBinder(device, driver, root=self.root, run_command=self.commands, writer=self.writer, **kwargs)

    def state(self):
        path = self.p(STATE_FILE)
        if not os.path.exists(path):
            return None
        with open(path) as handle:
            return json.load(handle)


NIC = '0000:03:00.0'


def host(tmp_path):
    """One e1000e NIC (eth1, no route, no address), an NVMe disk, vfio-pci loaded, an IOMMU."""
    fake = FakePci(tmp_path)
    fake.device(NIC, native='e1000e', ifname='eth1')
    fake.device('0000:04:00.0', klass='0x010802', native='nvme')
    fake.driver('vfio-pci')
    return fake


BIND_VFIO = [('/sys/bus/pci/devices/%s/driver/unbind' % NIC, NIC),
             ('/sys/bus/pci/devices/%s/driver_override' % NIC, 'vfio-pci\n'),
             ('/sys/bus/pci/drivers_probe', NIC),
             ('/sys/bus/pci/devices/%s/driver_override' % NIC, '\n')]


def case_bind_vfio(fake):
    return NIC, 'vfio-pci', {}


def case_short_address(fake):
    return '03:00.0', 'vfio-pci', {}


def case_already_bound(fake):
    fake.expect(ip_addr('eth1')).binder(NIC, 'vfio-pci').ensure()
    fake.writes = []
    return NIC, 'vfio-pci', {}


def case_back_to_recorded_driver(fake):
    fake.expect(ip_addr('eth1')).binder(NIC, 'vfio-pci').ensure()
    fake.writes = []
    return NIC, 'kernel', {}


def case_back_with_udev_rename(fake):
    fake.expect(ip_addr('eth1')).binder(NIC, 'vfio-pci').ensure()
    fake.writes = []
    fake.udev_renames = True  # the lab's guests: e1000e comes back as eth0, udev renames it by MAC
    return NIC, 'kernel', {}


def case_kernel_chooses(fake):
    fake.device('0000:05:00.0', native='igb', bound=False, ifname='eth2')
    fake.driver('igb')
    return '05:00.0', 'kernel', {}


def case_kernel_already(fake):
    return NIC, 'kernel', {}


def case_uio_via_modprobe(fake):
    fake.loadable.add('uio_pci_generic')
    return NIC, 'uio_pci_generic', {}


def case_force_default_route(fake):
    fake.route('eth1')
    fake.addresses['eth1'] = '10.0.0.2/24'
    return NIC, 'vfio-pci', {'force': True}


def remove_iommu(fake):
    shutil.rmtree(fake.p('sys/kernel/iommu_groups'))
    os.makedirs(fake.p('sys/kernel/iommu_groups'))
    for address in os.listdir(fake.p('sys/devices/pci0000:00')):
        os.unlink(os.path.join(fake.dev(address), 'iommu_group'))


def case_noiommu_mode(fake):
    remove_iommu(fake)
    fake.put('sys/module/vfio/parameters/enable_unsafe_noiommu_mode', 'Y\n')
    return NIC, 'vfio-pci', {}


def case_virtio_netdev(fake):
    fake.device('0000:00:03.0', native='virtio-pci', ifname='eth0', virtio=True)
    return '00:03.0', 'vfio-pci', {}


def case_check_mode(fake):
    return NIC, 'vfio-pci', {'check_mode': True}


def case_check_mode_modprobe(fake):
    fake.loadable.add('uio_pci_generic')
    return NIC, 'uio_pci_generic', {'check_mode': True}


# id, setup, changed, before driver/netdevs, after driver/netdevs, writes, commands (in order)
CASES = [
    ('bind-vfio', case_bind_vfio, True, ('e1000e', ['eth1']), ('vfio-pci', []), BIND_VFIO, [ip_addr('eth1')]),
    ('short-address', case_short_address, True, ('e1000e', ['eth1']), ('vfio-pci', []), BIND_VFIO,
     [ip_addr('eth1')]),
    ('already-bound', case_already_bound, False, ('vfio-pci', []), ('vfio-pci', []), [], []),
    ('back-to-kernel-driver', case_back_to_recorded_driver, True, ('vfio-pci', []), ('e1000e', ['eth1']),
     [('/sys/bus/pci/devices/%s/driver/unbind' % NIC, NIC),
      ('/sys/bus/pci/devices/%s/driver_override' % NIC, 'e1000e\n'),
      ('/sys/bus/pci/drivers_probe', NIC),
      ('/sys/bus/pci/devices/%s/driver_override' % NIC, '\n')], [SETTLE]),
    ('back-with-udev-rename', case_back_with_udev_rename, True, ('vfio-pci', []), ('e1000e', ['eth1']),
     [('/sys/bus/pci/devices/%s/driver/unbind' % NIC, NIC),
      ('/sys/bus/pci/devices/%s/driver_override' % NIC, 'e1000e\n'),
      ('/sys/bus/pci/drivers_probe', NIC),
      ('/sys/bus/pci/devices/%s/driver_override' % NIC, '\n')], [SETTLE]),
    ('kernel-chooses', case_kernel_chooses, True, (None, []), ('igb', ['eth2']),
     [('/sys/bus/pci/devices/0000:05:00.0/driver_override', '\n'),
      ('/sys/bus/pci/drivers_probe', '0000:05:00.0')], [SETTLE]),
    ('kernel-already', case_kernel_already, False, ('e1000e', ['eth1']), ('e1000e', ['eth1']), [], []),
    ('uio-via-modprobe', case_uio_via_modprobe, True, ('e1000e', ['eth1']), ('uio_pci_generic', []),
     [(p, t.replace('vfio-pci', 'uio_pci_generic')) for p, t in BIND_VFIO],
     [ip_addr('eth1'), modprobe('uio_pci_generic')]),
    # forced: the interface's addresses are not even read
    ('force-default-route', case_force_default_route, True, ('e1000e', ['eth1']), ('vfio-pci', []), BIND_VFIO,
     []),
    ('noiommu-mode', case_noiommu_mode, True, ('e1000e', ['eth1']), ('vfio-pci', []), BIND_VFIO,
     [ip_addr('eth1')]),
    ('virtio-netdev', case_virtio_netdev, True, ('virtio-pci', ['eth0']), ('vfio-pci', []),
     [(p.replace(NIC, '0000:00:03.0'), t.replace(NIC, '0000:00:03.0')) for p, t in BIND_VFIO],
     [ip_addr('eth0')]),
    ('check-mode', case_check_mode, True, ('e1000e', ['eth1']), ('vfio-pci', []), [], [ip_addr('eth1')]),
    ('check-mode-modprobe', case_check_mode_modprobe, True, ('e1000e', ['eth1']), ('uio_pci_generic', []), [],
     [ip_addr('eth1'), modprobe('uio_pci_generic', dry_run=True)]),
]


@pytest.mark.parametrize('setup, changed, before, after, writes, commands', [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_bind(tmp_path, setup, changed, before, after, writes, commands):
    fake = host(tmp_path)
    device, driver, kwargs = setup(fake)
    fake.commands.verify()
    state_before = fake.state()
    result = fake.expect(*commands).binder(device, driver, **kwargs).ensure()
    assert result['changed'] is changed
    assert (result['before']['driver'], result['before']['netdevs']) == before
    assert (result['after']['driver'], result['after']['netdevs']) == after
    assert result['driver'] == after[0] and result['warnings'] == []
    assert result['diff']['before'] == result['before'] and result['diff']['after'] == result['after']
    assert fake.writes == writes
    address = result['device']
    assert len(address) == 12 and address.startswith('0000:')
    if not kwargs.get('check_mode'):
        assert fake.bound_to(address) == after[0]
    else:
        assert fake.bound_to(address) == before[0] and fake.state() == state_before
    if writes and before[0] in ('e1000e', 'virtio-pci'):
        assert fake.state()[address]['driver'] == before[0]


def test_warns_about_iommu_group_peers(tmp_path):
    fake = host(tmp_path)
    fake.device('0000:03:00.1', native='e1000e', ifname='eth3', group=0)
    result = fake.expect(ip_addr('eth1')).binder(NIC, 'vfio-pci').ensure()
    assert result['iommu_group'] == '0' and result['warnings'] == [
        'IOMMU group 0 of 0000:03:00.0 also holds 0000:03:00.1 (e1000e), bound to host drivers: DPDK cannot '
        'open the group until they are bound to vfio-pci too (or unbound)']
    assert fake.expect(ip_addr('eth3')).binder('03:00.1', 'vfio-pci').ensure()['warnings'] == []


def test_check_mode_runs_modprobe_dry_run(tmp_path):
    fake = host(tmp_path)
    fake.loadable.add('uio_pci_generic')
    fake.expect(ip_addr('eth1'), modprobe('uio_pci_generic', dry_run=True))
    fake.binder(NIC, 'uio_pci_generic', check_mode=True).ensure()
    fake.commands.verify()
    assert not os.path.isdir(fake.p('sys/bus/pci/drivers/uio_pci_generic'))


def test_state_file_keeps_the_kernel_driver_across_userspace_drivers(tmp_path):
    fake = host(tmp_path)
    fake.loadable.add('uio_pci_generic')
    fake.expect(ip_addr('eth1')).binder(NIC, 'vfio-pci').ensure()
    fake.expect(modprobe('uio_pci_generic')).binder(NIC, 'uio_pci_generic').ensure()
    assert fake.state() == {NIC: {'driver': 'e1000e', 'netdevs': ['eth1']}}
    result = fake.expect(SETTLE).binder(NIC, 'kernel').ensure()
    assert result['after'] == {'driver': 'e1000e', 'netdevs': ['eth1']}


def noting_writer(fake, look):
    """The fake kernel's writer, noting what ``look()`` returns before each write (the ledger's
    record at the moment the host is changed); returns (writer, the list of what it noted)."""
    seen = []

    def writer(path, text):
        seen.append(look())
        fake.writer(path, text)
    return writer, seen


def test_the_driver_is_recorded_before_the_first_write(tmp_path):
    fake = host(tmp_path)
    writer, seen = noting_writer(fake, fake.state)
    fake.expect(ip_addr('eth1'))
    DeviceBinder(NIC, 'vfio-pci', root=fake.root, run_command=fake.commands, writer=writer).ensure()
    fake.commands.verify()
    assert seen[0] == {NIC: {'driver': 'e1000e', 'netdevs': ['eth1']}}


def test_giving_back_forgets_the_record(tmp_path):
    fake = host(tmp_path)
    fake.expect(ip_addr('eth1')).binder(NIC, 'vfio-pci').ensure()
    assert fake.state() == {NIC: {'driver': 'e1000e', 'netdevs': ['eth1']}}
    check = fake.binder(NIC, 'kernel', check_mode=True).ensure()
    assert check['changed'] is True and fake.state() is not None
    back = fake.expect(SETTLE).binder(NIC, 'kernel').ensure()
    assert back['changed'] is True and fake.bound_to(NIC) == 'e1000e'
    # the ledger's file goes with its last record; its directory stays for teardown's leftover check
    assert fake.state() is None and os.listdir(fake.p(os.path.dirname(STATE_FILE))) == []
    assert fake.binder(NIC, 'kernel').ensure()['changed'] is False
    fake.commands.verify()


def test_a_failed_bind_put_back_forgets_what_it_recorded(tmp_path):
    fake = host(tmp_path)
    fake.refuse.add('vfio-pci')
    with pytest.raises(DevbindError):
        fake.expect(ip_addr('eth1')).binder(NIC, 'vfio-pci').ensure()
    fake.commands.verify()
    assert fake.bound_to(NIC) == 'e1000e' and fake.state() is None


def test_a_record_of_a_driver_given_back_already_is_dropped(tmp_path):
    fake = host(tmp_path)
    fake.put(STATE_FILE, json.dumps({NIC: {'driver': 'e1000e', 'netdevs': ['eth1']}}))
    result = fake.binder(NIC, 'kernel').ensure()
    assert result['changed'] is True and fake.writes == [] and fake.state() is None


def test_the_record_of_a_device_gone_is_dropped_with_a_warning(tmp_path):
    fake = host(tmp_path)
    fake.put(STATE_FILE, json.dumps({'0000:01:10.2': {'driver': 'igbvf', 'netdevs': ['ens1v1']},
                                     NIC: {'driver': 'e1000e', 'netdevs': ['eth1']}}))
    result = fake.binder('01:10.2', 'kernel').ensure()
    assert result['changed'] is True and fake.writes == []
    assert result['warnings'] == ['device 0000:01:10.2 is gone (no /sys/bus/pci/devices/0000:01:10.2): its kernel '
                                  'driver igbvf cannot be given back, its record was dropped from ' + STATE_FILE]
    assert list(fake.state()) == [NIC]
    with pytest.raises(DevbindError, match='unknown PCI address'):
        fake.binder('01:10.2', 'kernel').ensure()  # no record: an unknown address as before


def test_the_old_record_in_the_benchmark_folder_is_given_back(tmp_path):
    """A host bound by the previous version: its record is in /var/lib/kbypass/devbind.json."""
    fake = host(tmp_path)
    fake.expect(ip_addr('eth1')).binder(NIC, 'vfio-pci').ensure()
    os.makedirs(fake.p('/var/lib/kbypass'))
    os.rename(fake.p(STATE_FILE), fake.p(LEGACY_DEVBIND))
    check = fake.binder(NIC, 'kernel', check_mode=True).ensure()
    assert check['after'] == {'driver': 'e1000e', 'netdevs': ['eth1']}
    assert os.path.exists(fake.p(LEGACY_DEVBIND))
    result = fake.expect(SETTLE).binder(NIC, 'kernel').ensure()
    fake.commands.verify()
    assert result['after'] == {'driver': 'e1000e', 'netdevs': ['eth1']}
    assert fake.state() is None and not os.path.exists(fake.p(LEGACY_DEVBIND))


def test_a_bound_device_is_given_back_after_the_teardown_sequence(tmp_path):
    """benchmark teardown: the benchmark's folder /var/lib/kbypass goes, then the devices the
    ledger names are given back (roles/benchmark/tasks/teardown.yml; here in the order that lost the
    previous version's record: the folder first)."""
    fake = host(tmp_path)
    fake.loadable.add('uio_pci_generic')
    fake.device('0000:05:00.0', native='igb', ifname='eth2')
    fake.driver('igb')
    fake.expect(ip_addr('eth1')).binder(NIC, 'vfio-pci').ensure()
    fake.expect(ip_addr('eth2'), modprobe('uio_pci_generic')).binder('05:00.0', 'uio_pci_generic').ensure()
    os.makedirs(fake.p('/var/lib/kbypass/runs'))
    shutil.rmtree(fake.p('/var/lib/kbypass'))
    book = Ledger(fake.root)
    for address in sorted(book.records().get(devbind.OWNER, {})):
        fake.expect(SETTLE).binder(address, 'kernel').ensure()
    fake.commands.verify()
    assert fake.bound_to(NIC) == 'e1000e' and fake.bound_to('0000:05:00.0') == 'igb'
    assert book.records() == {} and book.files() == []


def err_default_route(fake):
    fake.route('eth1')
    return NIC, 'vfio-pci', {}


def err_ipv4_address(fake):
    fake.addresses['eth1'] = '10.0.0.2/24'
    return NIC, 'vfio-pci', {}


def err_unknown_address(fake):
    fake.device('0000:00:03.0', native='virtio-pci', ifname='eth0', virtio=True)
    return '0000:09:00.0', 'vfio-pci', {}


def err_bad_address(fake):
    return 'eth1', 'vfio-pci', {}


def err_bad_driver(fake):
    return NIC, '../vfio', {}


def err_no_iommu(fake):
    remove_iommu(fake)
    return NIC, 'vfio-pci', {}


def err_driver_missing(fake):
    return NIC, 'igb_uio', {}


def err_driver_missing_check_mode(fake):
    return NIC, 'igb_uio', {'check_mode': True}


def err_driver_refuses(fake):
    fake.refuse.add('vfio-pci')
    return NIC, 'vfio-pci', {}


def err_no_kernel_driver(fake):
    fake.device('0000:06:00.0', native='mlx5_core', bound=False)
    return '06:00.0', 'kernel', {}


def err_bad_state_file(fake):
    fake.put(STATE_FILE, '{broken')
    return NIC, 'vfio-pci', {}


# id, setup, words in the message, driver of NIC afterwards, commands run (in order)
ERRORS = [
    ('default-route', err_default_route, ['interface eth1', 'default route', 'force: true'], 'e1000e', []),
    ('ipv4-address', err_ipv4_address, ['interface eth1', '10.0.0.2/24', 'force: true'], 'e1000e',
     [ip_addr('eth1')]),
    ('unknown-address', err_unknown_address,
     ['device=0000:09:00.0: unknown PCI address', '0000:03:00.0 (e1000e, eth1)', '0000:00:03.0 (virtio-pci, eth0)'],
     'e1000e', []),
    ('bad-address', err_bad_address, ["device='eth1' is not a PCI address", '0000:03:00.0'], 'e1000e', []),
    ('bad-driver', err_bad_driver, ["driver='../vfio'", 'vfio-pci'], 'e1000e', []),
    ('no-iommu', err_no_iommu, ['no IOMMU', 'intel_iommu=on iommu=pt', 'amd_iommu=on', 'uio_pci_generic'], 'e1000e',
     [ip_addr('eth1')]),
    ('driver-missing', err_driver_missing, ['driver igb_uio is not available', 'modprobe igb_uio',
                                            'not found in directory'], 'e1000e',
     [ip_addr('eth1'), modprobe('igb_uio')]),
    ('driver-missing-check-mode', err_driver_missing_check_mode, ['igb_uio is not loaded', 'modprobe cannot load'],
     'e1000e', [ip_addr('eth1'), modprobe('igb_uio', dry_run=True)]),
    ('driver-refuses', err_driver_refuses, ['asked for driver vfio-pci', 'bound to no driver', 'put back to e1000e',
                                            'dmesg'], 'e1000e', [ip_addr('eth1')]),
    ('no-kernel-driver', err_no_kernel_driver, ['any kernel driver', 'name the kernel driver'], 'e1000e', []),
    ('bad-state-file', err_bad_state_file, [STATE_FILE, 'not valid JSON'], 'e1000e', []),
]


@pytest.mark.parametrize('setup, words, left, commands', [c[1:] for c in ERRORS], ids=[c[0] for c in ERRORS])
def test_errors(tmp_path, setup, words, left, commands):
    fake = host(tmp_path)
    device, driver, kwargs = setup(fake)
    with pytest.raises(DevbindError) as err:
        fake.expect(*commands).binder(device, driver, **kwargs).ensure()
    for word in words:
        assert word in str(err.value)
    assert fake.bound_to(NIC) == left
    assert os.path.isdir(os.path.join(fake.dev(NIC), 'net', 'eth1'))


REFUSALS = [c for c in ERRORS if c[0] in ('default-route', 'ipv4-address', 'no-iommu', 'driver-missing')]


@pytest.mark.parametrize('setup, commands', [(c[1], c[4]) for c in REFUSALS], ids=[c[0] for c in REFUSALS])
def test_refusals_write_nothing(tmp_path, setup, commands):
    fake = host(tmp_path)
    device, driver, kwargs = setup(fake)
    with pytest.raises(DevbindError):
        fake.expect(*commands).binder(device, driver, **kwargs).ensure()
    assert fake.writes == [] and fake.state() is None


def test_ip_failure_asks_for_force(tmp_path):
    fake = host(tmp_path)
    binder = DeviceBinder(NIC, 'vfio-pci', root=fake.root, writer=fake.writer,
                          run_command=Commands([call(ip_addr('eth1'), 127, '', 'ip: command not found')]))
    with pytest.raises(DevbindError, match='cannot read the addresses of eth1.*force: true'):
        binder.ensure()


@pytest.mark.parametrize('value, address', [
    ('03:00.0', '0000:03:00.0'), ('0000:03:00.0', '0000:03:00.0'), ('0000:AF:1f.7', '0000:af:1f.7'),
    ('1:3:0.1', '0001:03:00.1'), (' 00:03.0 ', '0000:00:03.0'),
])
def test_normalize_address(value, address):
    assert devbind.normalize_address(value) == address


@pytest.mark.parametrize('value', ['03:00', '0000:03:00.8', 'zz:00.0', '00000:03:00.0', ''])
def test_normalize_address_refuses(value):
    with pytest.raises(DevbindError, match='not a PCI address'):
        devbind.normalize_address(value)


def test_parsers():
    routes = ROUTE_HEADER + ('eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n'
                             'eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n'
                             'br0\t000012C6\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n')
    assert devbind.parse_default_routes(routes) == ['eth0']
    out = ('2: eth0    inet 192.0.2.10/24 brd 192.0.2.255 scope global eth0\\       valid_lft forever\n'
           '2: eth0    inet 192.0.2.11/24 scope global secondary eth0\\       valid_lft forever\n')
    assert devbind.parse_ipv4(out) == ['192.0.2.10/24', '192.0.2.11/24'] and devbind.parse_ipv4('') == []


def _run(argv):
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.mark.sysfs
def test_real_sysfs_refuses_the_nic_with_the_default_route():
    """Read-only, on this machine: the PCI NIC that carries the default route is refused (check mode)."""
    with open('/proc/net/route') as handle:
        routed = devbind.parse_default_routes(handle.read())
    probe = DeviceBinder('00:00.0', 'vfio-pci', run_command=_run, check_mode=True)
    found = None
    for address in sorted(os.listdir('/sys/bus/pci/devices')):
        names = probe.netdevs(address)
        if set(names) & set(routed):
            found = address, sorted(set(names) & set(routed))[0]
            break
    if found is None:
        pytest.skip('no PCI network device carries the default route here')
    address, ifname = found
    with pytest.raises(DevbindError, match='interface %s, which carries the default route' % ifname):
        DeviceBinder(address, 'vfio-pci', run_command=_run, check_mode=True).ensure()
    same = DeviceBinder(address, probe.current_driver(address) or 'none', run_command=_run,
                        check_mode=True).ensure()
    assert same['changed'] is False and ifname in same['before']['netdevs']
