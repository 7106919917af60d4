# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""VfManager against a fake kernel: the fake PCI tree of test_devbind grown an SR-IOV PF, and a
fake netlink socket that answers with real pyroute2 messages.

Where the shapes come from (there is no SR-IOV hardware on the build machine):
- the netlink frame of every link is an RTM_NEWLINK recorded on the build VM (fixture
  ``sriov/rtm_newlink.virtio_net.ext_mask9.json``); the VF attributes spliced into it for the PF
  follow ``rtnl_fill_vfinfo`` of Linux 6.1 (net/core/rtnetlink.c: MAC, BROADCAST, VLAN, RATE,
  TX_RATE, SPOOFCHK, LINK_STATE, RSS_QUERY_EN, TRUST, VLAN_LIST, u32 -1 for "not reported"),
  and are decoded by pyroute2's own ifinfmsg, as from a kernel;
- the netlink requests are encoded by pyroute2's own request filter and decoded again before the
  fake applies them, so only what pyroute2 really sends is applied;
- the PF is QEMU's igb (an 82576: TotalVFs 8, First VF Offset 0x80, VF Stride 2, VF device 0x10ca,
  hw/net/igb.c) driven by Linux igb, which refuses more than 7 VFs with EPERM (igb_enable_sriov);
  the sysfs writes follow sriov_numvfs_store (drivers/pci/iov.c): ERANGE above sriov_totalvfs,
  ENOENT without a PF driver, EBUSY from a non-zero count to another non-zero count;
- the commands (``udevadm settle`` after the kernel added or removed devices, devbind's) are
  named by each test, in order (FakePci.expect: no other command may run).
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import copy
import errno
import json
import os
import shutil
import struct

import pytest

from pyroute2.iproute.linux import get_arguments_processor
from pyroute2.netlink.exceptions import NetlinkError
from pyroute2.netlink.rtnl.ifaddrmsg import ifaddrmsg
from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg

from ansible_collections.kbypass.testbed.plugins.module_utils import devbind, sriov
from ansible_collections.kbypass.testbed.plugins.module_utils.sriov import (
    EXT_MASK, STATE_FILE, SriovError, VfManager)

from .test_devbind import SETTLE, FakePci, ip_addr, modprobe, noting_writer

FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures', 'sriov')


def load_fixture(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return json.load(handle)


RECORDED = bytes.fromhex(load_fixture('rtm_newlink.virtio_net.ext_mask9.json')['hex'])

# include/uapi/linux/if_link.h
IFLA_ADDRESS, IFLA_IFNAME, IFLA_NUM_VF, IFLA_VFINFO_LIST = 1, 3, 21, 22
IFLA_PARENT_DEV_NAME, IFLA_PARENT_DEV_BUS_NAME = 56, 57
IFLA_VF_INFO = 1
(IFLA_VF_MAC, IFLA_VF_VLAN, IFLA_VF_TX_RATE, IFLA_VF_SPOOFCHK, IFLA_VF_LINK_STATE, IFLA_VF_RATE,
 IFLA_VF_RSS_QUERY_EN, IFLA_VF_TRUST, IFLA_VF_VLAN_LIST, IFLA_VF_BROADCAST) = 1, 2, 3, 4, 5, 6, 7, 9, 12, 13
IFLA_VF_VLAN_INFO = 1
NOT_REPORTED = -1


# --------------------------------------------------------------------------- kernel-format messages
def nla(kind, payload):
    data = struct.pack('=HH', 4 + len(payload), kind) + payload
    return data + b'\0' * (-len(data) % 4)


def mac_bytes(mac, size):
    return bytes(int(x, 16) for x in mac.split(':')) + b'\0' * (size - 6)


def vfinfo_nla(index, vf):
    """IFLA_VF_INFO of one VF as rtnl_fill_vfinfo (Linux 6.1) lays it out; stats skipped
    (RTEXT_FILTER_SKIP_STATS)."""
    setting = {True: 1, False: 0, None: NOT_REPORTED}
    body = (nla(IFLA_VF_MAC, struct.pack('=I', index) + mac_bytes(vf['mac'], 32))
            + nla(IFLA_VF_BROADCAST, mac_bytes('ff:ff:ff:ff:ff:ff', 32))
            + nla(IFLA_VF_VLAN, struct.pack('=III', index, vf['vlan'], vf['qos']))
            + nla(IFLA_VF_RATE, struct.pack('=III', index, 0, 0))
            + nla(IFLA_VF_TX_RATE, struct.pack('=II', index, 0))
            + nla(IFLA_VF_SPOOFCHK, struct.pack('=Ii', index, setting[vf['spoofchk']]))
            + nla(IFLA_VF_LINK_STATE, struct.pack('=II', index, vf['link_state']))
            + nla(IFLA_VF_RSS_QUERY_EN, struct.pack('=Ii', index, NOT_REPORTED))
            + nla(IFLA_VF_TRUST, struct.pack('=Ii', index, setting[vf['trust']]))
            + nla(IFLA_VF_VLAN_LIST, nla(IFLA_VF_VLAN_INFO, struct.pack('=III', index, vf['vlan'], vf['qos'])
                                         + struct.pack('>H', 0x8100) + b'\0\0')))
    return nla(IFLA_VF_INFO, body)


def newlink(index, ifname, up, mac, parent=None, num_vf=None, vfs=None):
    """A decoded RTM_NEWLINK: the recorded frame with index, flags, name, address, parent device,
    IFLA_NUM_VF and IFLA_VFINFO_LIST (``vfs`` None: the driver has no ndo_get_vf_config) replaced."""
    replaced = (IFLA_ADDRESS, IFLA_IFNAME, IFLA_NUM_VF, IFLA_VFINFO_LIST, IFLA_PARENT_DEV_NAME,
                IFLA_PARENT_DEV_BUS_NAME)
    attrs, offset = b'', 32
    while offset < len(RECORDED):
        length, kind = struct.unpack_from('=HH', RECORDED, offset)
        if kind not in replaced:
            attrs += RECORDED[offset:offset + length] + b'\0' * (-length % 4)
        offset += length + (-length % 4)
    attrs += nla(IFLA_IFNAME, ifname.encode() + b'\0') + nla(IFLA_ADDRESS, mac_bytes(mac, 6))
    if parent:
        attrs += nla(IFLA_PARENT_DEV_NAME, parent.encode() + b'\0') + nla(IFLA_PARENT_DEV_BUS_NAME, b'pci\0')
    if num_vf is not None:
        attrs += nla(IFLA_NUM_VF, struct.pack('=I', num_vf))
    if vfs is not None:
        attrs += nla(IFLA_VFINFO_LIST, b''.join(vfinfo_nla(i, vf) for i, vf in enumerate(vfs)))
    family, _pad, kind = struct.unpack_from('=BBH', RECORDED, 16)
    flags = 0x1043 if up else 0x1002  # UP|BROADCAST|RUNNING|MULTICAST, or BROADCAST|MULTICAST
    head = struct.pack('=IHHII', 32 + len(attrs), 16, 0, 255, 4242)
    msg = ifinfmsg(head + struct.pack('=BBHiII', family, 0, kind, index, flags, 0) + attrs)
    msg.decode()
    return msg


def newaddr(index, address, prefixlen, scope):
    msg = ifaddrmsg()
    msg['family'] = 10 if ':' in address else 2
    msg['prefixlen'] = prefixlen
    msg['scope'] = scope
    msg['index'] = index
    msg['attrs'] = [('IFA_ADDRESS', address)]
    msg.encode()
    out = ifaddrmsg(msg.data)
    out.decode()
    return out


# --------------------------------------------------------------------------- fake kernel
NET_DRIVERS = ('e1000e', 'igb', 'igbvf', 'virtio-pci')
PF = '0000:01:00.0'
VF_ADDRESSES = ['0000:01:10.0', '0000:01:10.2', '0000:01:10.4', '0000:01:10.6', '0000:01:11.0',
                '0000:01:11.2', '0000:01:11.4', '0000:01:11.6']
FRESH_VF = dict(mac='00:00:00:00:00:00', vlan=0, qos=0, spoofchk=True, trust=False, link_state=0)


class FakeSriov(FakePci):
    """FakePci with SR-IOV PFs, interfaces in sysfs (net/, /sys/class/net) and a netlink side.

    A PF (``pf()``) creates and removes its VFs when ``sriov_numvfs`` is written; a new VF is probed
    by its driver (igbvf) unless the PF's ``sriov_drivers_autoprobe`` is 0, and with autoprobe 0
    ``drivers_probe`` binds a VF only through driver_override (pci_device_can_probe, Linux 6.1).
    Probing gives the VF an interface with the MAC the PF holds for it, when the PF is up and that
    MAC is set, else a random one (igbvf). ``events`` records the sysfs writes and netlink
    requests in one list, in order. The netlink methods are those VfManager uses on IPRoute.
    """

    def __init__(self, root):
        super(FakeSriov, self).__init__(root)
        self.links = {}
        self.next_index = 1
        self.pfs = {}
        self.netlink = []
        self.events = []
        self.vf_of = {}
        self.macs = 0
        os.makedirs(self.p('sys/class/net'))
        self.add_link('lo', None, mac='00:00:00:00:00:00', up=True)
        os.makedirs(self.p('sys/devices/virtual/net/lo'))
        os.symlink('../../devices/virtual/net/lo', self.p('sys/class/net/lo'))

    # -- interfaces ---------------------------------------------------------------------------
    def add_link(self, ifname, pci, mac=None, up=False):
        if mac is None:
            self.macs += 1
            mac = '02:fe:00:00:00:%02x' % self.macs
        index, self.next_index = self.next_index, self.next_index + 1
        self.links[index] = dict(ifname=ifname, pci=pci, mac=mac, up=up, addrs=[])
        return index

    def index_of(self, ifname):
        for index, link in self.links.items():
            if link['ifname'] == ifname:
                return index
        return None

    def _bind(self, address, name):
        os.symlink('../../../bus/pci/drivers/' + name, os.path.join(self.dev(address), 'driver'))
        ifname, _virtio = self.ifnames[address]
        if name in NET_DRIVERS and ifname:
            netdir = self._netdir(address)
            os.makedirs(netdir)
            os.symlink('../..', os.path.join(netdir, 'device'))
            mac = None
            if address in self.vf_of:  # igbvf asks the PF for its MAC; a random one without it
                pf, vf = self.vf_of[address]
                pf_up = self.links[self.index_of(self.pfs[pf]['ifname'])]['up']
                if pf_up and self.pfs[pf]['vfs'][vf]['mac'] != FRESH_VF['mac']:
                    mac = self.pfs[pf]['vfs'][vf]['mac']
            index = self.add_link(ifname, address, mac=mac)
            with open(os.path.join(netdir, 'address'), 'w') as handle:
                handle.write(self.links[index]['mac'] + '\n')
            os.symlink(os.path.relpath(netdir, self.p('sys/class/net')), self.p('sys/class/net/' + ifname))

    def _unbind(self, address):
        os.unlink(os.path.join(self.dev(address), 'driver'))
        ifname, _virtio = self.ifnames[address]
        if ifname and os.path.isdir(self._netdir(address)):
            self.remove_netdev(address)

    def remove_netdev(self, address):
        """The interface goes away from this namespace (unbound, or moved into a container)."""
        ifname, _virtio = self.ifnames[address]
        shutil.rmtree(self._netdir(address))
        os.unlink(self.p('sys/class/net/' + ifname))
        del self.links[self.index_of(ifname)]

    def configure(self, ifname, up=True, addrs=()):
        link = self.links[self.index_of(ifname)]
        link['up'] = up
        link['addrs'] = list(addrs)
        return self

    # -- SR-IOV -------------------------------------------------------------------------------
    def pf(self, address, ifname, total=8, limit=7, vf_config=True, unsupported=(), vf_driver='igbvf',
           autoprobe=1):
        self.device(address, native='igb', ifname=ifname)
        base = 'sys/devices/pci0000:00/' + address
        for name, value in (('sriov_totalvfs', total), ('sriov_numvfs', 0), ('sriov_offset', 128),
                            ('sriov_stride', 2), ('sriov_drivers_autoprobe', autoprobe), ('sriov_vf_device', '10ca')):
            if value is not None:
                self.put('%s/%s' % (base, name), '%s\n' % value)
        self.driver(vf_driver)
        self.pfs[address] = dict(ifname=ifname, total=total, limit=limit, vf_config=vf_config,
                                 unsupported=set(unsupported), vf_driver=vf_driver, vfs=[])
        return self

    @staticmethod
    def vf_addr(pf, index):
        bus = int(pf.split(':')[1], 16)
        devfn = 0x80 + 2 * index
        return '0000:%02x:%02x.%d' % (bus, devfn >> 3, devfn & 7)

    def autoprobe(self, pf=PF):
        path = 'sys/bus/pci/devices/%s/sriov_drivers_autoprobe' % pf
        return int(self.get(path)) if os.path.exists(self.p(path)) else None

    def _create_vf(self, pf, index):
        conf = self.pfs[pf]
        address = self.vf_addr(pf, index)
        conf['vfs'].append(dict(FRESH_VF))
        self.vf_of[address] = (pf, index)
        self.device(address, native=conf['vf_driver'], ifname='%sv%d' % (conf['ifname'], index), bound=False)
        os.symlink('../' + address, os.path.join(self.dev(pf), 'virtfn%d' % index))
        os.symlink('../' + pf, os.path.join(self.dev(address), 'physfn'))
        if self.autoprobe(pf) != 0:
            self.driver(conf['vf_driver'])._bind(address, conf['vf_driver'])

    def _remove_vf(self, pf, index):
        address = self.vf_addr(pf, index)
        if self.bound_to(address) is not None:
            self._unbind(address)
        group = os.path.basename(os.readlink(os.path.join(self.dev(address), 'iommu_group')))
        shutil.rmtree(self.p('sys/kernel/iommu_groups/' + group))
        os.unlink(self.p('sys/bus/pci/devices/' + address))
        shutil.rmtree(self.dev(address))
        os.unlink(os.path.join(self.dev(pf), 'virtfn%d' % index))
        self.pfs[pf]['vfs'].pop()
        del self.vf_of[address]

    def numvfs(self, pf=PF):
        return int(self.get('sys/bus/pci/devices/%s/sriov_numvfs' % pf))

    def _set_numvfs(self, pf, count):
        conf = self.pfs[pf]
        now = len(conf['vfs'])
        if count > conf['total']:
            raise OSError(errno.ERANGE, os.strerror(errno.ERANGE))
        if count == now:
            return
        if self.bound_to(pf) is None:
            raise OSError(errno.ENOENT, os.strerror(errno.ENOENT))
        if count and now:
            raise OSError(errno.EBUSY, os.strerror(errno.EBUSY))
        if count > conf['limit']:
            raise OSError(errno.EPERM, os.strerror(errno.EPERM))
        for index in range(now - 1, -1, -1) if count == 0 else range(count):
            (self._remove_vf if count == 0 else self._create_vf)(pf, index)
        self.put('sys/devices/pci0000:00/%s/sriov_numvfs' % pf, '%d\n' % count)

    def writer(self, path, text):
        rel = '/' + os.path.relpath(path, self.root)
        self.events.append((rel.split('/')[-1], text))
        if rel.endswith('/sriov_numvfs') or rel.endswith('/sriov_drivers_autoprobe'):
            self.writes.append((rel.replace('/sys/devices/pci0000:00/', '/sys/bus/pci/devices/'), text))
            if rel.endswith('/sriov_numvfs'):
                self._set_numvfs(rel.split('/')[-2], int(text))
            else:
                self.put(rel, '%d\n' % int(text))
            return
        if rel == '/sys/bus/pci/drivers_probe' and text in self.vf_of and self.autoprobe(self.vf_of[text][0]) == 0:
            if self.get('sys/bus/pci/devices/%s/driver_override' % text).strip() == '(null)':
                self.writes.append((rel, text))
                return  # pci_device_can_probe: -ENODEV
        super(FakeSriov, self).writer(path, text)

    def answer(self, argv):
        if argv == SETTLE:      # the VFs are named by their drivers here: udev renames nothing
            return 0, '', ''
        return super(FakeSriov, self).answer(argv)

    # -- netlink (the IPRoute methods VfManager uses) -------------------------------------------
    def link_lookup(self, ifname):
        index = self.index_of(ifname)
        return [] if index is None else [index]

    def get_links(self, *indexes, **kwargs):
        out = []
        for index in indexes:
            if index not in self.links:
                raise NetlinkError(errno.ENODEV, 'No such device')
            link = self.links[index]
            num_vf = vfs = None
            if kwargs.get('ext_mask', 0) & 1 and link['pci']:
                conf = self.pfs.get(link['pci'])
                num_vf = len(conf['vfs']) if conf else 0
                vfs = conf['vfs'] if conf and conf['vf_config'] else None
            out.append(newlink(index, link['ifname'], link['up'], link['mac'], link['pci'], num_vf, vfs))
        return tuple(out)

    def get_addr(self, index):
        return tuple(newaddr(index, *addr) for addr in self.links[index]['addrs'])

    def link(self, command, **kwargs):
        """'set' with vf=: encoded by pyroute2, decoded again, applied as the kernel's do_setvfinfo."""
        assert command == 'set' and set(kwargs) == {'index', 'vf'}, (command, kwargs)
        self.netlink.append(copy.deepcopy(kwargs))
        self.events.append(('netlink', 'VF %d %s' % (kwargs['vf']['vf'], [k for k in kwargs['vf'] if k != 'vf'][0])))
        request = get_arguments_processor('link', 'set', copy.deepcopy(kwargs))
        msg = ifinfmsg()
        msg['index'] = kwargs['index']
        msg['attrs'] = [('IFLA_VFINFO_LIST', request['IFLA_VFINFO_LIST'])]
        msg.encode()
        sent = ifinfmsg(msg.data)
        sent.decode()
        conf = self.pfs[self.links[kwargs['index']]['pci']]
        for info in sent.get_attr('IFLA_VFINFO_LIST').get_attrs('IFLA_VF_INFO'):
            for name, value in info['attrs']:
                key = name[len('IFLA_VF_'):].lower()
                if value['vf'] >= len(conf['vfs']):
                    raise NetlinkError(errno.EINVAL, 'Invalid argument')
                if key in conf['unsupported']:
                    raise NetlinkError(errno.EOPNOTSUPP, 'Operation not supported')
                vf = conf['vfs'][value['vf']]
                if key == 'vlan':
                    vf['vlan'], vf['qos'] = value['vlan'], value['qos']
                elif key in ('spoofchk', 'trust'):
                    vf[key] = bool(value[key])
                else:
                    vf[key] = value[key]
        return ()

    def close(self):
        pass

    # -- helpers ------------------------------------------------------------------------------
    def manager(self, **kwargs):
        return VfManager(self, root=self.root, run_command=self.commands, writer=self.writer, **kwargs)

    def records(self):
        path = self.p(STATE_FILE)
        if not os.path.exists(path):
            return None
        with open(path) as handle:
            return json.load(handle)


def host(tmp_path, **pf):
    """An igb PF ens1 (0000:01:00.0, QEMU igb), a virtio NIC eth0 with the default route and an
    address (no SR-IOV), an NVMe disk; igbvf and vfio-pci loaded, an IOMMU."""
    fake = FakeSriov(tmp_path)
    fake.pf(PF, 'ens1', **pf).configure('ens1', up=True)
    fake.device('0000:00:03.0', native='virtio-pci', ifname='eth0', virtio=True)
    fake.configure('eth0', addrs=[('192.0.2.10', 24, 0)]).route('eth0')
    fake.device('0000:04:00.0', klass='0x010802', native='nvme')
    fake.driver('vfio-pci')
    return fake


def with_vfs(fake, count, **kwargs):
    """``count`` VFs made on a PF without any (udev settles once they exist, once they are bound)."""
    fake.expect(SETTLE, SETTLE).manager(pf='ens1', num_vfs=count, **kwargs).ensure()
    fake.commands.verify()
    fake.writes, fake.netlink, fake.events = [], [], []
    return fake


NUMVFS = '/sys/bus/pci/devices/%s/sriov_numvfs' % PF


def fresh(index, **kwargs):
    vf = dict(index=index, pci=VF_ADDRESSES[index], netdev='ens1v%d' % index, driver='igbvf',
              mac='00:00:00:00:00:00', vlan=0, qos=0, spoofchk=True, trust=False, link_state='auto')
    vf.update(kwargs)
    return vf


# --------------------------------------------------------------------------- pure functions
RECORDINGS = sorted(n for n in os.listdir(FIXTURES) if n.startswith('rtm_newlink.') and n.endswith('.json'))


@pytest.mark.parametrize('name', RECORDINGS)
def test_recorded_messages(name):
    """Every recorded RTM_NEWLINK (README.md in the fixture directory) parses to what ip showed.
    virtio_net (recorded on the build VM) has no ndo_get_vf_config: IFLA_NUM_VF 0 and no list."""
    recording = load_fixture(name)
    expected = recording['expected']
    assert expected, '%s: write its expected result by hand from ip_d_link_show (see README.md)' % name
    msg = ifinfmsg(bytes.fromhex(recording['hex']))
    msg.decode()
    assert msg.get_attr('IFLA_IFNAME') == expected['ifname']
    vfs = None if expected['vfs'] is None else dict((int(k), v) for k, v in expected['vfs'].items())
    assert sriov.parse_vfinfo(msg) == (expected['num_vf'], vfs)


def test_parse_vfinfo_of_kernel_layout():
    vfs = [dict(FRESH_VF), dict(mac='02:6B:62:00:01:01', vlan=100, qos=3, spoofchk=None, trust=True, link_state=2)]
    msg = newlink(7, 'ens1', True, '52:54:00:12:34:56', PF, 2, vfs)
    assert sriov.parse_vfinfo(msg) == (2, {
        0: dict(mac='00:00:00:00:00:00', vlan=0, qos=0, spoofchk=True, trust=False, link_state='auto'),
        1: dict(mac='02:6b:62:00:01:01', vlan=100, qos=3, spoofchk=None, trust=True, link_state='disable')})
    assert sriov.parse_vfinfo(newlink(7, 'ens1', True, '52:54:00:12:34:56', PF, 0, [])) == (0, {})
    assert sriov.parse_vfinfo(newlink(7, 'ens1', True, '52:54:00:12:34:56')) == (None, None)


@pytest.mark.parametrize('pf, offset, stride, index, address', [
    (PF, 0x80, 2, 0, '0000:01:10.0'),          # QEMU igb, 82576
    (PF, 0x80, 2, 5, '0000:01:11.2'),
    ('0000:82:00.1', 0x80, 2, 0, '0000:82:10.1'),  # second port of an 82576 (lspci in the igb docs)
    ('0000:3b:00.0', 0x10, 1, 63, '0000:3b:09.7'),
    ('0000:3b:00.0', 0xff, 1, 1, '0000:3c:00.0'),  # crosses into the next bus
    ('0000:ff:1f.7', 1, 1, 0, None),             # beyond the last routing ID
    (PF, None, 2, 0, None),
])
def test_vf_address(pf, offset, stride, index, address):
    assert sriov.vf_address(pf, offset, stride, index) == address


def test_check_vfs_normalizes():
    out = sriov.check_vfs([{'index': 1, 'mac': '02-AA-00-00-00-01', 'vlan': 10, 'spoofchk': False},
                           {'index': 0, 'vlan': 0, 'qos': 5, 'link_state': 'enable', 'driver': 'vfio-pci',
                            'trust': None}])
    assert out == {1: {'_position': 0, 'mac': '02:aa:00:00:00:01', 'vlan': 10, 'qos': 0, 'spoofchk': False},
                   0: {'_position': 1, 'vlan': 0, 'qos': 5, 'link_state': 'enable', 'driver': 'vfio-pci'}}
    assert sriov.check_vfs(None) == {}


@pytest.mark.parametrize('vfs, words', [
    ([{'index': -1}], ['vfs[0].index=-1']),
    ([{'mac': '02:00:00:00:00:01'}], ['vfs[0].index=None']),
    ([{'index': 0}, {'index': 0, 'trust': True}], ['vfs[1].index=0 is given twice', 'vfs[0]']),
    ([{'index': 0, 'mac': '01:00:5e:00:00:01'}], ['vfs[0].mac', 'multicast']),
    ([{'index': 0, 'mac': 'nope'}], ['vfs[0].mac', 'six hex pairs']),
    ([{'index': 0, 'vlan': 4095}], ['vfs[0].vlan=4095', '1..4094']),
    ([{'index': 0, 'qos': 3}], ['vfs[0].qos=3 needs vlan']),
    ([{'index': 0, 'vlan': 5, 'qos': 8}], ['vfs[0].qos=8', '0..7']),
    ([{'index': 0, 'link_state': 'up'}], ['vfs[0].link_state', 'auto, enable or disable']),
    (['0'], ['vfs[0] must be a dict']),
])
def test_check_vfs_refuses(vfs, words):
    with pytest.raises(SriovError) as err:
        sriov.check_vfs(vfs)
    for word in words:
        assert word in str(err.value)


@pytest.mark.parametrize('current, wanted, changes', [
    (None, {'mac': '02:00:00:00:00:01', 'vlan': 7, 'qos': 0}, [('mac', '02:00:00:00:00:01'), ('vlan', (7, 0))]),
    (dict(FRESH_VF, link_state='auto'), {'vlan': 0, 'qos': 0, 'spoofchk': True, 'link_state': 'auto'}, []),
    (dict(FRESH_VF, link_state='auto'), {'vlan': 0, 'qos': 2, 'trust': True},
     [('vlan', (0, 2)), ('trust', True)]),
    (dict(FRESH_VF, spoofchk=None), {'spoofchk': False, 'driver': 'vfio-pci'}, [('spoofchk', False)]),
])
def test_netlink_changes(current, wanted, changes):
    assert sriov.netlink_changes(current, dict(wanted, _position=0)) == changes


@pytest.mark.parametrize('key, value, request_', [
    ('mac', '02:00:00:00:00:01', {'vf': 3, 'mac': '02:00:00:00:00:01'}),
    ('vlan', (100, 3), {'vf': 3, 'vlan': {'vlan': 100, 'qos': 3}}),
    ('spoofchk', False, {'vf': 3, 'spoofchk': 0}),
    ('trust', True, {'vf': 3, 'trust': 1}),
    ('link_state', 'disable', {'vf': 3, 'link_state': 2}),
])
def test_vf_request(key, value, request_):
    assert sriov.vf_request(3, key, value) == request_


# --------------------------------------------------------------------------- converging
def case_create(fake):
    return dict(pf='ens1', num_vfs=4)


def case_create_by_address(fake):
    return dict(pf_pci='01:00.0', num_vfs=2)


def case_rerun(fake):
    with_vfs(fake, 4)
    return dict(pf='ens1', num_vfs=4)


def case_report_only(fake):
    with_vfs(fake, 2)
    return dict(pf='ens1')


def case_grow_through_zero(fake):
    with_vfs(fake, 2)
    return dict(pf='ens1', num_vfs=4)


def case_shrink_through_zero(fake):
    with_vfs(fake, 4)
    return dict(pf='ens1', num_vfs=2)


def case_absent(fake):
    with_vfs(fake, 3)
    return dict(pf='ens1', state='absent')


def case_absent_already(fake):
    return dict(pf='ens1', state='absent')


def case_mac_vlan_on_new_vfs(fake):
    return dict(pf='ens1', num_vfs=2, vfs=[{'index': 1, 'mac': '02:6B:62:00:01:01', 'vlan': 100, 'qos': 3}])


def case_flags_on_existing_vfs(fake):
    with_vfs(fake, 2)
    return dict(pf='ens1', vfs=[{'index': 0, 'spoofchk': False, 'trust': True, 'link_state': 'enable'},
                                {'index': 1, 'vlan': 0, 'spoofchk': True}])


def case_force_removes_busy_vf(fake):
    with_vfs(fake, 2)
    fake.configure('ens1v1', up=True, addrs=[('10.0.0.2', 24, 0)])
    return dict(pf='ens1', num_vfs=1, force=True)


def case_up_with_link_local_only_is_free(fake):
    with_vfs(fake, 2)
    fake.configure('ens1v0', up=True, addrs=[('fe80::1', 64, 253)])
    return dict(pf='ens1', num_vfs=1)


def case_down_with_address_is_free(fake):
    with_vfs(fake, 2)
    fake.configure('ens1v0', up=False, addrs=[('10.0.0.2', 24, 0)])
    return dict(pf='ens1', state='absent')


def case_check_mode_create(fake):
    return dict(pf='ens1', num_vfs=2, vfs=[{'index': 0, 'mac': '02:00:00:00:00:01'}], check_mode=True)


def case_check_mode_change(fake):
    with_vfs(fake, 4)
    return dict(pf='ens1', num_vfs=2, check_mode=True)


def case_check_mode_settings(fake):
    with_vfs(fake, 2)
    return dict(pf='ens1', vfs=[{'index': 1, 'trust': True}], check_mode=True)


W0, W2, W4 = (NUMVFS, '0'), (NUMVFS, '2'), (NUMVFS, '4')
AUTOPROBE = '/sys/bus/pci/devices/%s/sriov_drivers_autoprobe' % PF
DRIVERS_PROBE = '/sys/bus/pci/drivers_probe'


def creating(*counts):
    """The writes that create VFs: autoprobe off, the count(s), autoprobe back, then each VF probed."""
    return ([(AUTOPROBE, '0')] + [(NUMVFS, str(n)) for n in counts] + [(AUTOPROBE, '1')]
            + [(DRIVERS_PROBE, VF_ADDRESSES[i]) for i in range(counts[-1])])


ALL = [fresh(i) for i in range(4)]

# id, setup, changed, writes, netlink requests, VFs after, udevadm settle runs (after the count is
# written, after the new VFs are probed)
CASES = [
    ('create', case_create, True, creating(4), [], ALL, 2),
    ('create-by-address', case_create_by_address, True, creating(2), [], ALL[:2], 2),
    ('rerun', case_rerun, False, [], [], ALL, 0),
    ('report-only', case_report_only, False, [], [], ALL[:2], 0),
    ('grow-through-zero', case_grow_through_zero, True, creating(0, 4), [], ALL, 2),
    ('shrink-through-zero', case_shrink_through_zero, True, creating(0, 2), [], ALL[:2], 2),
    ('absent', case_absent, True, [W0], [], [], 1),
    ('absent-already', case_absent_already, False, [], [], [], 0),
    ('mac-vlan-on-new-vfs', case_mac_vlan_on_new_vfs, True, creating(2),
     [{'index': 2, 'vf': {'vf': 1, 'mac': '02:6b:62:00:01:01'}},
      {'index': 2, 'vf': {'vf': 1, 'vlan': {'vlan': 100, 'qos': 3}}}],
     [fresh(0), fresh(1, mac='02:6b:62:00:01:01', vlan=100, qos=3)], 2),
    ('flags-on-existing-vfs', case_flags_on_existing_vfs, True, [],
     [{'index': 2, 'vf': {'vf': 0, 'spoofchk': 0}}, {'index': 2, 'vf': {'vf': 0, 'trust': 1}},
      {'index': 2, 'vf': {'vf': 0, 'link_state': 1}}],
     [fresh(0, spoofchk=False, trust=True, link_state='enable'), fresh(1)], 0),
    ('force-removes-busy-vf', case_force_removes_busy_vf, True, creating(0, 1), [], ALL[:1], 2),
    ('up-with-link-local-only-is-free', case_up_with_link_local_only_is_free, True, creating(0, 1), [],
     ALL[:1], 2),
    ('down-with-address-is-free', case_down_with_address_is_free, True, [W0], [], [], 1),
    ('check-mode-create', case_check_mode_create, True, [], [],
     [dict(fresh(0, mac='02:00:00:00:00:01', netdev=None, driver=None), spoofchk=None, trust=None, link_state=None),
      dict(fresh(1, netdev=None, driver=None, mac=None), spoofchk=None, trust=None, link_state=None)], 0),
    ('check-mode-change', case_check_mode_change, True, [], [],
     [dict(fresh(i, netdev=None, driver=None, mac=None), spoofchk=None, trust=None, link_state=None)
      for i in range(2)], 0),
    ('check-mode-settings', case_check_mode_settings, True, [], [], [fresh(0), fresh(1, trust=True)], 0),
]


@pytest.mark.parametrize('setup, changed, writes, netlink, after, settles', [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_converge(tmp_path, setup, changed, writes, netlink, after, settles):
    fake = host(tmp_path)
    kwargs = setup(fake)
    before_count = fake.numvfs()
    records = fake.records()
    result = fake.expect(*[SETTLE] * settles).manager(**kwargs).ensure()
    fake.commands.verify()
    assert result['changed'] is changed
    assert fake.writes == writes
    assert fake.netlink == netlink
    assert result['vfs'] == after
    assert (result['pf'], result['pf_pci'], result['total_vfs'], result['num_vfs']) == ('ens1', PF, 8, len(after))
    assert result['diff']['after'] == {'num_vfs': len(after), 'vfs': after}
    assert result['diff']['before']['num_vfs'] == before_count
    if kwargs.get('check_mode'):
        assert fake.numvfs() == before_count and fake.records() == records
        assert fake.events == [] and fake.autoprobe() == 1
        assert result['actions'] and settles == 0
        return
    assert fake.numvfs() == len(after) and fake.autoprobe() == 1
    assert bool(writes) is bool(settles)
    # the PF had nothing recorded: the first change records what it had, later ones keep it
    if changed and records is None:
        assert fake.records()[PF]['num_vfs'] == before_count
    # converged: a second run changes nothing (and runs nothing)
    again = fake.manager(**dict(kwargs, force=False)).ensure()
    assert again['changed'] is False and again['vfs'] == after


def test_check_mode_predicts_the_addresses_created(tmp_path):
    fake = host(tmp_path)
    predicted = fake.manager(pf='ens1', num_vfs=8, check_mode=True).ensure()
    assert [vf['pci'] for vf in predicted['vfs']] == VF_ADDRESSES


def netdev_mac(fake, ifname):
    return fake.get('sys/class/net/%s/address' % ifname).strip()


def test_new_vfs_get_their_settings_before_their_drivers(tmp_path):
    """autoprobe off, count, netlink settings, autoprobe back, then each VF bound: igbvf (its default
    driver, through drivers_probe) reads the MAC set for it; vfio-pci through devbind."""
    fake = host(tmp_path).expect(SETTLE, SETTLE)
    result = fake.manager(pf='ens1', num_vfs=2, vfs=[{'index': 0, 'mac': '02:00:00:00:00:0a', 'vlan': 5},
                                                     {'index': 1, 'driver': 'vfio-pci'}]).ensure()
    assert fake.events == [
        ('sriov_drivers_autoprobe', '0'), ('sriov_numvfs', '2'), ('netlink', 'VF 0 mac'), ('netlink', 'VF 0 vlan'),
        ('sriov_drivers_autoprobe', '1'), ('drivers_probe', VF_ADDRESSES[0]),
        ('driver_override', 'vfio-pci\n'), ('drivers_probe', VF_ADDRESSES[1]), ('driver_override', '\n')]
    assert result['vfs'] == [fresh(0, mac='02:00:00:00:00:0a', vlan=5),
                             fresh(1, driver='vfio-pci', netdev=None)]
    assert netdev_mac(fake, 'ens1v0') == '02:00:00:00:00:0a' and result['warnings'] == []
    assert result['actions'] == ['write 2 to %s' % NUMVFS, 'VF 0: mac 02:00:00:00:00:0a', 'VF 0: vlan 5 qos 0',
                                 'VF 0: driver none -> igbvf', 'VF 1: driver none -> vfio-pci']
    fake.commands.verify()
    again = fake.manager(pf='ens1', num_vfs=2, vfs=[{'index': 0, 'mac': '02:00:00:00:00:0a', 'vlan': 5},
                                                    {'index': 1, 'driver': 'vfio-pci'}]).ensure()
    assert again['changed'] is False and fake.autoprobe() == 1


def test_autoprobe_off_by_the_admin_is_kept(tmp_path):
    fake = host(tmp_path, autoprobe=0).expect(SETTLE, SETTLE)
    result = fake.manager(pf='ens1', num_vfs=2, vfs=[{'index': 1, 'driver': 'vfio-pci'}]).ensure()
    assert fake.writes[0] == (NUMVFS, '2') and (AUTOPROBE, '0') not in fake.writes
    assert [vf['driver'] for vf in result['vfs']] == [None, 'vfio-pci'] and fake.autoprobe() == 0


def test_kernel_without_autoprobe_binds_the_vf_again_for_its_mac(tmp_path):
    """Before 4.12 (no sriov_drivers_autoprobe) the VFs are probed when created, before their MAC."""
    fake = host(tmp_path, autoprobe=None).expect(SETTLE, SETTLE)
    result = fake.manager(pf='ens1', num_vfs=2, vfs=[{'index': 1, 'mac': '02:00:00:00:00:0b'}]).ensure()
    assert fake.events == [('sriov_numvfs', '2'), ('netlink', 'VF 1 mac'), ('unbind', VF_ADDRESSES[1]),
                           ('drivers_probe', VF_ADDRESSES[1])]
    assert netdev_mac(fake, 'ens1v1') == '02:00:00:00:00:0b' and result['warnings'] == []
    assert result['vfs'] == [fresh(0), fresh(1, mac='02:00:00:00:00:0b')]


def test_mac_change_binds_an_igbvf_vf_again(tmp_path):
    fake = with_vfs(host(tmp_path), 2)
    wanted = dict(pf='ens1', vfs=[{'index': 0, 'mac': '02:00:00:00:00:aa'}])
    check = fake.manager(check_mode=True, **wanted).ensure()
    assert check['actions'] == ['VF 0: mac 02:00:00:00:00:aa', 'VF 0: bind igbvf again to take mac 02:00:00:00:00:aa']
    assert fake.events == [] and netdev_mac(fake, 'ens1v0') != '02:00:00:00:00:aa'
    result = fake.expect(SETTLE).manager(**wanted).ensure()
    assert fake.events == [('netlink', 'VF 0 mac'), ('unbind', VF_ADDRESSES[0]), ('drivers_probe', VF_ADDRESSES[0])]
    assert result['actions'] == check['actions'] and result['warnings'] == []
    assert result['vfs'][0] == fresh(0, mac='02:00:00:00:00:aa')
    assert netdev_mac(fake, 'ens1v0') == '02:00:00:00:00:aa'
    fake.events = []
    again = fake.manager(**wanted).ensure()
    assert again['changed'] is False and fake.events == [] and again['warnings'] == []


def test_mac_change_leaves_a_vf_in_use_unless_forced(tmp_path):
    fake = with_vfs(host(tmp_path), 3)
    fake.configure('ens1v1', up=True, addrs=[('10.0.0.2', 24, 0)])
    fake.expect(ip_addr('ens1v2'), ip_addr('ens1v2'), SETTLE)   # VfManager's look at VF 2, devbind's
    fake.manager(pf='ens1', vfs=[{'index': 2, 'driver': 'vfio-pci'}]).ensure()
    fake.events = []
    macs = [{'index': 1, 'mac': '02:00:00:00:00:b1'}, {'index': 2, 'mac': '02:00:00:00:00:b2'}]
    result = fake.manager(pf='ens1', vfs=macs).ensure()
    assert fake.events == [('netlink', 'VF 1 mac'), ('netlink', 'VF 2 mac')]
    assert result['warnings'] == [
        'VF 1 (0000:01:10.2) is interface ens1v1, up with address 10.0.0.2/24: it was not bound again, so its '
        'driver takes MAC 02:00:00:00:00:b1 only when it probes again (force: true binds it again now)',
        'VF 2 (0000:01:10.4) is bound to vfio-pci (a DPDK program, a VM or a container may hold it): it was not '
        'bound again, so its driver takes MAC 02:00:00:00:00:b2 only when it probes again']
    fake.events = []
    macs = [dict(vf, mac=vf['mac'][:-1] + 'f') for vf in macs]
    forced = fake.expect(SETTLE).manager(pf='ens1', vfs=macs, force=True).ensure()
    assert fake.events == [('netlink', 'VF 1 mac'), ('netlink', 'VF 2 mac'), ('unbind', VF_ADDRESSES[1]),
                           ('drivers_probe', VF_ADDRESSES[1])]
    assert netdev_mac(fake, 'ens1v1') == '02:00:00:00:00:bf' and fake.bound_to(VF_ADDRESSES[2]) == 'vfio-pci'
    assert len(forced['warnings']) == 1 and forced['warnings'][0].startswith('VF 2 (0000:01:10.4) is bound to vfio')


def test_vfs_created_while_the_pf_is_down_are_warned_about(tmp_path):
    fake = host(tmp_path)
    fake.configure('ens1', up=False)
    args = dict(pf='ens1', num_vfs=1, vfs=[{'index': 0, 'mac': '02:00:00:00:00:cc'}])
    down = ('VFs created while ens1 is down: igbvf and other VF drivers need the PF up; bring it up and rebind '
            'them')
    assert fake.manager(check_mode=True, **args).ensure()['warnings'] == [down]
    result = fake.expect(SETTLE, SETTLE).manager(**args).ensure()
    assert fake.pfs[PF]['ifname'] == 'ens1' and fake.links[fake.index_of('ens1')]['up'] is False  # left down
    assert result['warnings'][0] == down
    assert result['warnings'][1].startswith('VF 0 (0000:01:10.0) has MAC 02:00:00:00:00:cc for the PF, but its '
                                            'interface ens1v0 still uses 02:fe:')
    assert 'bring ens1 up and bind the VF again' in result['warnings'][1]


def test_driver_rebinding_goes_through_devbind(tmp_path):
    fake = host(tmp_path).expect(SETTLE, SETTLE)
    result = fake.manager(pf='ens1', num_vfs=2, vfs=[{'index': 1, 'driver': 'vfio-pci',
                                                      'mac': '02:00:00:00:01:01'}]).ensure()
    assert result['vfs'][1] == fresh(1, driver='vfio-pci', netdev=None, mac='02:00:00:00:01:01')
    assert fake.bound_to(VF_ADDRESSES[1]) == 'vfio-pci'
    assert result['actions'][-1] == 'VF 1: driver none -> vfio-pci'
    # devbind's own steps; the new VF had no driver before, so none is recorded: kernel lets the kernel choose
    assert ('/sys/bus/pci/devices/%s/driver_override' % VF_ADDRESSES[1], 'vfio-pci\n') in fake.writes
    assert not os.path.exists(fake.p(devbind.STATE_FILE))
    again = fake.manager(pf='ens1', num_vfs=2, vfs=[{'index': 1, 'driver': 'vfio-pci'}]).ensure()
    assert again['changed'] is False
    check = fake.manager(pf='ens1', vfs=[{'index': 1, 'driver': 'kernel'}], check_mode=True).ensure()
    assert check['changed'] is True and check['actions'] == ['VF 1: driver vfio-pci -> (default)']
    assert fake.bound_to(VF_ADDRESSES[1]) == 'vfio-pci'
    back = fake.expect(SETTLE, SETTLE).manager(pf='ens1', vfs=[{'index': 1, 'driver': 'kernel'}]).ensure()
    assert back['vfs'][1]['driver'] == 'igbvf' and back['vfs'][1]['netdev'] == 'ens1v1'


def test_the_pf_is_recorded_before_its_first_write(tmp_path):
    fake = host(tmp_path)
    writer, seen = noting_writer(fake, fake.records)
    fake.expect(SETTLE, SETTLE)
    VfManager(fake, root=fake.root, run_command=fake.commands, writer=writer, pf='ens1', num_vfs=2).ensure()
    fake.commands.verify()
    assert seen[0] == {PF: {'pf': 'ens1', 'num_vfs': 0, 'vfs': []}}


def test_removed_vfs_take_their_devbind_records_with_them(tmp_path):
    """A VF moved from igbvf to vfio-pci has its kernel driver in devbind's ledger file; the count
    change that removes it drops that record (there is no device left to give it back to)."""
    fake = with_vfs(host(tmp_path), 2)
    fake.expect(ip_addr('ens1v1'), ip_addr('ens1v1'), SETTLE).manager(pf='ens1', vfs=[{'index': 1, 'driver': 'vfio-pci'}]).ensure()
    with open(fake.p(devbind.STATE_FILE)) as handle:
        assert json.load(handle) == {VF_ADDRESSES[1]: {'driver': 'igbvf', 'netdevs': ['ens1v1']}}
    fake.expect(SETTLE).manager(pf='ens1', state='absent', force=True).ensure()
    assert not os.path.exists(fake.p(devbind.STATE_FILE))
    fake.manager(pf='ens1', state='restored').ensure()
    assert fake.records() is None and os.listdir(fake.p(os.path.dirname(STATE_FILE))) == []
    fake.commands.verify()


def test_a_vfio_vf_blocks_a_count_change_until_forced(tmp_path):
    fake = host(tmp_path).expect(SETTLE, SETTLE)
    fake.manager(pf='ens1', num_vfs=2, vfs=[{'index': 0, 'driver': 'vfio-pci'}]).ensure()
    fake.writes = []
    with pytest.raises(SriovError) as err:
        fake.manager(pf='ens1', num_vfs=3).ensure()
    assert str(err.value) == (
        'changing the VF count of pf ens1 (0000:01:00.0) from 2 to 3 removes every VF first (the kernel only '
        'changes a non-zero VF count through 0), and VF 0 (0000:01:10.0) is bound to vfio-pci (a DPDK program, '
        'a VM or a container may hold it); stop what uses it, or use force: true to remove them anyway')
    assert fake.writes == [] and fake.numvfs() == 2
    forced = fake.expect(SETTLE, SETTLE).manager(pf='ens1', num_vfs=3, force=True).ensure()
    assert forced['changed'] is True and [vf['driver'] for vf in forced['vfs']] == ['igbvf'] * 3


def test_restored_gives_back_what_the_pf_had(tmp_path):
    fake = with_vfs(host(tmp_path), 2)
    os.unlink(fake.p(STATE_FILE))  # as if the host had these 2 VFs before the testbed
    fake.pfs[PF]['vfs'][1]['mac'] = '02:aa:aa:aa:aa:01'  # set by the host's admin
    fake.expect(SETTLE, SETTLE).manager(pf='ens1', num_vfs=4, vfs=[{'index': 1, 'vlan': 20}]).ensure()
    assert fake.records()[PF] == {'pf': 'ens1', 'num_vfs': 2, 'vfs': [
        dict(index=0, driver='igbvf', mac='00:00:00:00:00:00', vlan=0, qos=0, spoofchk=True, trust=False,
             link_state='auto'),
        dict(index=1, driver='igbvf', mac='02:aa:aa:aa:aa:01', vlan=0, qos=0, spoofchk=True, trust=False,
             link_state='auto')]}
    fake.expect(SETTLE, SETTLE).manager(pf='ens1', num_vfs=3).ensure()  # a later change keeps the first record
    assert fake.records()[PF]['num_vfs'] == 2
    check = fake.manager(pf='ens1', state='restored', check_mode=True).ensure()
    assert check['changed'] is True and check['num_vfs'] == 2 and fake.numvfs() == 3
    # the count through 0 back to 2, the VFs probed again
    result = fake.expect(SETTLE, SETTLE, SETTLE, SETTLE).manager(pf='ens1', state='restored').ensure()
    assert result['vfs'] == [fresh(0), fresh(1, mac='02:aa:aa:aa:aa:01')]
    assert result['actions'][-1] == 'drop the record of %s from %s' % (PF, STATE_FILE)
    assert result['recorded'] is None and fake.records() is None
    nothing = fake.manager(pf='ens1', state='restored').ensure()
    assert nothing['changed'] is False and nothing['num_vfs'] == 2


# --------------------------------------------------------------------------- refusals
def err_too_many(fake):
    return dict(pf='ens1', num_vfs=9)


def err_driver_limit(fake):
    return dict(pf='ens1', num_vfs=8)


def err_unknown_pf(fake):
    return dict(pf='ens9', num_vfs=2)


def err_unknown_pf_pci(fake):
    return dict(pf_pci='0000:09:00.0', num_vfs=2)


def err_bad_pf_pci(fake):
    return dict(pf_pci='ens1', num_vfs=2)


def err_no_sriov(fake):
    return dict(pf='eth0', num_vfs=2)


def err_virtual_link(fake):
    return dict(pf='lo', num_vfs=2)


def err_pf_is_a_vf(fake):
    with_vfs(fake, 2)
    return dict(pf='ens1v1', num_vfs=2)


def err_busy_address(fake):
    with_vfs(fake, 2)
    fake.configure('ens1v1', up=True, addrs=[('10.0.0.2', 24, 0), ('fe80::2', 64, 253)])
    return dict(pf='ens1', num_vfs=4)


def err_busy_netns(fake):
    with_vfs(fake, 3)
    fake.remove_netdev(VF_ADDRESSES[2])
    return dict(pf='ens1', state='absent')


def err_index_too_high(fake):
    return dict(pf='ens1', num_vfs=2, vfs=[{'index': 2, 'mac': '02:00:00:00:00:01'}])


def err_index_without_vfs(fake):
    return dict(pf='ens1', vfs=[{'index': 0, 'trust': True}])


def err_driver_without_vf_config(fake):
    fake.pfs[PF]['vf_config'] = False
    return dict(pf='ens1', num_vfs=2, vfs=[{'index': 0, 'mac': '02:00:00:00:00:01'}])


def err_pf_without_interface(fake):
    return dict(pf_pci=PF, num_vfs=2, vfs=[{'index': 0, 'vlan': 5}])


def err_pf_without_driver(fake):
    return dict(pf_pci=PF, num_vfs=2)


def err_vf_driver_missing(fake):
    fake.expect(modprobe('igb_uio', dry_run=True))
    return dict(pf='ens1', num_vfs=2, vfs=[{'index': 0, 'driver': 'igb_uio'}])


def err_absent_with_count(fake):
    return dict(pf='ens1', num_vfs=2, state='absent')


def err_bad_state_file(fake):
    fake.put(STATE_FILE, '{broken')
    return dict(pf='ens1', num_vfs=2)


def err_both_pf_options(fake):
    return dict(pf='ens1', pf_pci=PF, num_vfs=2)


IGB_LIST = '0000:01:00.0 (igb, ens1, 8 VFs max, 0 enabled)'

# id, setup, words in the message, VF count afterwards
ERRORS = [
    ('too-many', err_too_many, ['num_vfs=9 is more than pf ens1 (0000:01:00.0) offers', 'sriov_totalvfs is 8',
                                '8 VFs or fewer'], 0),
    ('driver-limit', err_driver_limit, ['writing 8 to', 'Operation not permitted', 'igb: at most 7', 'dmesg'], 0),
    ('unknown-pf', err_unknown_pf, ['pf=ens9: no such network interface', IGB_LIST], 0),
    ('unknown-pf-pci', err_unknown_pf_pci, ['pf_pci=0000:09:00.0: unknown PCI address', IGB_LIST], 0),
    ('bad-pf-pci', err_bad_pf_pci, ["pf_pci='ens1' is not a PCI address"], 0),
    ('no-sriov', err_no_sriov, ['pf eth0 (0000:00:03.0), bound to virtio-pci, has no SR-IOV', 'sriov_totalvfs',
                                IGB_LIST], 0),
    ('virtual-link', err_virtual_link, ['pf=lo is not a PCI device', IGB_LIST], 0),
    ('pf-is-a-vf', err_pf_is_a_vf, ['pf ens1v1 (0000:01:10.2) is itself a VF of PF 0000:01:00.0 (ens1)'], 2),
    ('busy-address', err_busy_address, ['from 2 to 4 removes every VF first',
                                        'VF 1 (0000:01:10.2) is interface ens1v1, up with address 10.0.0.2/24;',
                                        'force: true'], 2),
    ('busy-netns', err_busy_netns, ['from 3 to 0 removes them', 'VF 2 (0000:01:10.4) is bound to igbvf but has no '
                                    'interface in this network namespace', 'force: true'], 3),
    ('index-too-high', err_index_too_high, ['vfs[0].index=2, but pf ens1 (0000:01:00.0) will have 2 VFs (VF '
                                            'numbers 0..1)'], 0),
    ('index-without-vfs', err_index_without_vfs, ['vfs[0].index=0', 'will have no VFs; set num_vfs'], 0),
    ('driver-without-vf-config', err_driver_without_vf_config, ['the PF driver igb of pf ens1 (0000:01:00.0) does '
                                                                'not offer VF settings', 'mac cannot be set'], 0),
    ('pf-without-interface', err_pf_without_interface, ['pf 0000:01:00.0 has no network interface', 'vlan'], 0),
    ('pf-without-driver', err_pf_without_driver, ['has no driver bound', 'dpdk_devbind driver=kernel'], 0),
    ('vf-driver-missing', err_vf_driver_missing, ['vfs[0].driver=igb_uio: driver igb_uio is not loaded',
                                                  'modprobe cannot load'], 0),
    ('absent-with-count', err_absent_with_count, ['state=absent removes every VF', 'drop num_vfs'], 0),
    ('bad-state-file', err_bad_state_file, [STATE_FILE, 'not valid JSON'], 0),
    ('both-pf-options', err_both_pf_options, ['either as pf', 'exactly one'], 0),
]


@pytest.mark.parametrize('setup, words, left', [c[1:] for c in ERRORS], ids=[c[0] for c in ERRORS])
def test_refusals(tmp_path, setup, words, left):
    fake = host(tmp_path)
    kwargs = setup(fake)
    if setup is err_pf_without_interface:
        fake._unbind(PF)
        fake.driver('igb')
        os.symlink('../../../bus/pci/drivers/vfio-pci', os.path.join(fake.dev(PF), 'driver'))
    if setup is err_pf_without_driver:
        fake._unbind(PF)
    with pytest.raises(SriovError) as err:
        fake.manager(**kwargs).ensure()
    for word in words:
        assert word in str(err.value)
    assert fake.numvfs() == left
    if setup is not err_driver_limit:
        assert fake.writes == [] and fake.netlink == []
    assert err.value.result.get('changed', False) is False


def test_unsupported_setting_names_it_after_the_vfs_exist(tmp_path):
    fake = host(tmp_path, unsupported=('link_state',)).expect(SETTLE)
    with pytest.raises(SriovError) as err:
        fake.manager(pf='ens1', num_vfs=2, vfs=[{'index': 0, 'mac': '02:00:00:00:00:01',
                                                 'link_state': 'disable'}]).ensure()
    assert str(err.value) == (
        'VF 0 of pf ens1 (0000:01:00.0): setting link_state disable over netlink failed: (95, \'Operation not '
        'supported\'); the PF driver igb does not support setting link_state of a VF (igb, for one, has no VF link '
        'state control); drop vfs[].link_state')
    # the new VFs still get their drivers, and autoprobe is back
    assert err.value.result == {'changed': True, 'actions': [
        'write 2 to %s' % NUMVFS, 'VF 0: mac 02:00:00:00:00:01', 'VF 0: driver none -> igbvf',
        'VF 1: driver none -> igbvf']}
    assert fake.autoprobe() == 1 and netdev_mac(fake, 'ens1v0') == '02:00:00:00:00:01'


def test_a_failed_count_gives_the_old_vfs_back(tmp_path):
    fake = with_vfs(host(tmp_path), 2)
    with pytest.raises(SriovError) as err:
        fake.manager(pf='ens1', num_vfs=8).ensure()
    assert 'the PF was given its 2 VFs back' in str(err.value)
    assert fake.numvfs() == 2 and fake.writes == [(AUTOPROBE, '0'), W0, (NUMVFS, '8'), (AUTOPROBE, '1'), W2]
    assert [fake.bound_to(a) for a in VF_ADDRESSES[:2]] == ['igbvf', 'igbvf']  # probed as before
    assert err.value.result['changed'] is True


def test_extended_mask_asks_for_vfs_without_stats():
    assert EXT_MASK == 9


@pytest.mark.sysfs
def test_real_host_lists_or_refuses_without_changing_anything():
    """Read-only, on this machine (check mode): a NIC without SR-IOV is refused with the list."""
    from pyroute2 import IPRoute
    names = [n for n in sorted(os.listdir('/sys/class/net')) if os.path.exists('/sys/class/net/%s/device' % n)]
    if not names:
        pytest.skip('no network interface backed by a device here')
    ipr = IPRoute()
    try:
        manager = VfManager(ipr, pf=names[0], check_mode=True)
        try:
            result = manager.ensure()
        except SriovError as exc:
            assert 'SR-IOV capable devices on this host' in str(exc) or 'not a PCI device' in str(exc)
        else:
            assert result['changed'] is False and result['total_vfs'] >= result['num_vfs']
    finally:
        ipr.close()
