# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""SR-IOV virtual functions (VFs) of one physical function (PF): count, per-VF settings, VF drivers.

The module ``kbypass.testbed.sriov_vf`` is a thin wrapper around :class:`VfManager`.

Three kernel interfaces are used, each for what only it does:

- sysfs (under ``root``, a fake tree in unit tests): ``sriov_totalvfs``/``sriov_numvfs`` of the PF,
  its ``virtfn<N>`` links to the VFs' PCI devices, their ``driver`` links and ``net/`` interfaces.
  The kernel refuses to change a non-zero VF count to another non-zero count (EBUSY), so such a
  change writes 0 first.
- netlink on the PF's interface (an IPRoute-like ``ipr``, as in :mod:`netlink`): the per-VF
  settings the PF driver keeps (MAC, VLAN/QoS, spoof checking, trust, link state), set with
  ``ipr.link('set', index=<PF>, vf={'vf': N, ...})`` and read back from the PF's
  ``IFLA_VFINFO_LIST``, asked for with ``get_links(<PF>, ext_mask=RTEXT_FILTER_VF | SKIP_STATS)``.
  A PF driver without ``ndo_get_vf_config`` sends ``IFLA_NUM_VF`` but no ``IFLA_VFINFO_LIST``
  (net/core/rtnetlink.c, rtnl_fill_vf): such a driver cannot take VF settings, which is known
  before anything is changed.
- :class:`devbind.DeviceBinder` for the driver of a VF (vfio-pci for DPDK, or back to the kernel).

A VF driver reads its MAC address from the PF when it probes (igbvf, iavf, ixgbevf), and before
Linux 6.3 igb let new VFs be probed before it was ready for them (fixed by 50f303496d92, "igb:
Enable SR-IOV after reinit"): they failed their reset handshake and took random addresses. So new
VFs are created with the PF's ``sriov_drivers_autoprobe`` at 0, given their settings, and only then
bound: autoprobe is put back first, since the kernel probes a VF of a PF with autoprobe 0 only
through driver_override (pci_device_can_probe), then each VF goes to its ``vfs[].driver`` or,
through ``drivers_probe``, to its default driver. A VF already bound to a kernel driver whose MAC
is changed is bound again, unless it is in use.

Before the first change to a PF, its VF count and per-VF settings are recorded in the ledger
(:mod:`ledger`, owner ``sriov``: ``state_file`` names its file), so ``state=restored`` can give the
PF back what it had (the teardown habit of this collection); the record is dropped once restored.
The VFs' own drivers are recorded by devbind in the same ledger directory; the records of VFs the
PF no longer has are dropped when their count changes.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import errno
import os
import re

from ansible_collections.kbypass.testbed.plugins.module_utils import devbind
from ansible_collections.kbypass.testbed.plugins.module_utils.devbind import (
    DRIVERS_PROBE, USERSPACE_DRIVERS, DeviceBinder, DevbindError, normalize_address)
from ansible_collections.kbypass.testbed.plugins.module_utils.ledger import Ledger, LedgerError
from ansible_collections.kbypass.testbed.plugins.module_utils.netlink import (
    LinkError, normalize_mac, validate_ifname)
from ansible_collections.kbypass.testbed.plugins.module_utils.sysfs import RootedFiles

DEFAULT_ROOT = ''

PCI_DEVICES = '/sys/bus/pci/devices'
CLASS_NET = '/sys/class/net'
OWNER = 'sriov'
STATE_FILE = Ledger().file(OWNER)
VFIO_PCI_SRIOV_PARAM = '/sys/module/vfio_pci/parameters/enable_sriov'

# include/uapi/linux/rtnetlink.h
RTEXT_FILTER_VF = 1
RTEXT_FILTER_SKIP_STATS = 8
EXT_MASK = RTEXT_FILTER_VF | RTEXT_FILTER_SKIP_STATS
# include/uapi/linux/if_link.h: IFLA_VF_LINK_STATE_AUTO / _ENABLE / _DISABLE
LINK_STATES = {0: 'auto', 1: 'enable', 2: 'disable'}
LINK_STATE_VALUES = dict((name, value) for value, name in LINK_STATES.items())
# the kernel presets spoofchk/trust/rss_query_en to -1 (u32 0xffffffff): "the driver did not say"
NOT_REPORTED = 0xffffffff
IFF_UP = 0x1
RT_SCOPE_LINK = 253
# a VF bound to one of these is given to a program (DPDK), a VM or a container
BUSY_DRIVERS = tuple(USERSPACE_DRIVERS) + ('pci-stub',)
KERNEL = 'kernel'

STATES = ('present', 'absent', 'restored')
NETLINK_KEYS = ('mac', 'vlan', 'qos', 'spoofchk', 'trust', 'link_state')
# order in which the settings are sent (one request each, so a refusal names the setting)
SEND_ORDER = ('mac', 'vlan', 'spoofchk', 'trust', 'link_state')

_PCI_NAME_RE = re.compile(r'^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$')
_VIRTFN_RE = re.compile(r'^virtfn(\d+)$')


class SriovError(Exception):
    """A refusal or failure, with a message that names the bad input and the fix; ``result`` holds
    what the module returns with it (changed, actions) when something was changed already."""

    def __init__(self, msg, **result):
        super(SriovError, self).__init__(msg)
        self.result = result


# ============================================================================ pure functions
def _setting(nla, key):
    """A u32 flag of IFLA_VF_SPOOFCHK/IFLA_VF_TRUST -> True/False, None when absent or not reported."""
    if nla is None:
        return None
    value = nla.get(key) if hasattr(nla, 'get') else None
    if value is None or value < 0 or value >= NOT_REPORTED:
        return None
    return bool(value)


def parse_vfinfo(msg):
    """(num_vf, vfs) of a PF's RTM_NEWLINK asked for with RTEXT_FILTER_VF (a pyroute2 ifinfmsg).

    ``num_vf`` is IFLA_NUM_VF (None when absent). ``vfs`` is None when there is no
    IFLA_VFINFO_LIST (the PF driver has no ndo_get_vf_config: VF settings can be neither read
    nor set), else {index: {mac, vlan, qos, spoofchk, trust, link_state}}; a setting the driver
    does not report is None.
    """
    num_vf = msg.get_attr('IFLA_NUM_VF')
    vflist = msg.get_attr('IFLA_VFINFO_LIST')
    if vflist is None:
        return num_vf, None
    vfs = {}
    for info in vflist.get_attrs('IFLA_VF_INFO'):
        mac = info.get_attr('IFLA_VF_MAC')
        if mac is None:
            continue
        vlan = info.get_attr('IFLA_VF_VLAN')
        link_state = info.get_attr('IFLA_VF_LINK_STATE')
        vfs[mac['vf']] = {
            'mac': str(mac['mac']).lower(),
            'vlan': vlan['vlan'] if vlan is not None else None,
            'qos': vlan['qos'] if vlan is not None else None,
            'spoofchk': _setting(info.get_attr('IFLA_VF_SPOOFCHK'), 'spoofchk'),
            'trust': _setting(info.get_attr('IFLA_VF_TRUST'), 'trust'),
            'link_state': (LINK_STATES.get(link_state['link_state'], link_state['link_state'])
                           if link_state is not None else None),
        }
    return num_vf, vfs


def vf_address(pf_address, offset, stride, index):
    """PCI address of VF ``index`` from the PF's address and its SR-IOV First VF Offset and
    VF Stride (routing IDs: PF RID + offset + index * stride), or None when one is unknown."""
    if offset is None or stride is None:
        return None
    domain, bus, rest = pf_address.split(':')
    slot, function = rest.split('.')
    rid = (int(bus, 16) << 8) + (int(slot, 16) << 3) + int(function) + offset + index * stride
    if rid > 0xffff:
        return None
    return '%s:%02x:%02x.%d' % (domain, rid >> 8, (rid & 0xff) >> 3, rid & 0x7)


def check_vfs(vfs):
    """Validate and normalize the ``vfs`` option: a list of dicts -> {index: {key: value}} with only
    the keys given (mac lower case, spoofchk/trust bool). SriovError names the entry and the fix."""
    out = {}
    for position, entry in enumerate(vfs or []):
        where = 'vfs[%d]' % position
        if not isinstance(entry, dict):
            raise SriovError('%s must be a dict with index and the settings of one VF, e.g. '
                             '{index: 0, mac: "02:00:00:00:00:01"}' % where)
        index = entry.get('index')
        if not isinstance(index, int) or isinstance(index, bool) or index < 0:
            raise SriovError('%s.index=%r must be the number of the VF, 0 or more (VF 0 is the PF\'s '
                             'virtfn0)' % (where, index))
        if index in out:
            raise SriovError('%s.index=%d is given twice (vfs[%d] and %s); merge the two entries'
                             % (where, index, out[index]['_position'], where))
        wanted = {'_position': position}
        if entry.get('mac') is not None:
            try:
                wanted['mac'] = normalize_mac(entry['mac'], '%s.mac' % where)
            except LinkError as exc:
                raise SriovError(str(exc))
        vlan, qos = entry.get('vlan'), entry.get('qos')
        if vlan is not None:
            if not isinstance(vlan, int) or isinstance(vlan, bool) or not 0 <= vlan <= 4094:
                raise SriovError('%s.vlan=%r is not a VLAN id; use 1..4094, or 0 for no VLAN' % (where, vlan))
            wanted['vlan'] = vlan
            wanted['qos'] = 0
        if qos is not None:
            if vlan is None:
                raise SriovError('%s.qos=%r needs vlan in the same entry (the kernel sets VLAN and priority '
                                 'together); add vlan (0 for priority tags without a VLAN)' % (where, qos))
            if not isinstance(qos, int) or isinstance(qos, bool) or not 0 <= qos <= 7:
                raise SriovError('%s.qos=%r is not an 802.1p priority; use 0..7' % (where, qos))
            wanted['qos'] = qos
        for key in ('spoofchk', 'trust'):
            if entry.get(key) is not None:
                if not isinstance(entry[key], bool):
                    raise SriovError('%s.%s=%r must be true or false' % (where, key, entry[key]))
                wanted[key] = entry[key]
        if entry.get('link_state') is not None:
            if entry['link_state'] not in LINK_STATE_VALUES:
                raise SriovError('%s.link_state=%r is not a VF link state; use auto, enable or disable'
                                 % (where, entry['link_state']))
            wanted['link_state'] = entry['link_state']
        if entry.get('driver') is not None:
            if not isinstance(entry['driver'], str) or not entry['driver']:
                raise SriovError('%s.driver must be a driver name such as vfio-pci, or kernel' % where)
            wanted['driver'] = entry['driver']
        out[index] = wanted
    return out


def netlink_changes(current, wanted):
    """The netlink settings of ``wanted`` that differ from ``current`` (None: the VF is new and its
    settings unknown), as an ordered list of (key, value); vlan carries (vlan, qos)."""
    changes = []
    for key in SEND_ORDER:
        if key == 'vlan':
            if 'vlan' not in wanted:
                continue
            value = (wanted['vlan'], wanted.get('qos', 0))
            now = (current.get('vlan'), current.get('qos')) if current else None
        else:
            if key not in wanted:
                continue
            value = wanted[key]
            now = current.get(key) if current else None
        if now != value:
            changes.append((key, value))
    return changes


def vf_request(index, key, value):
    """The ``vf`` argument of IPRoute.link('set') for one setting (pyroute2's LinkIPRouteFilter.get_vf)."""
    if key == 'vlan':
        return {'vf': index, 'vlan': {'vlan': value[0], 'qos': value[1]}}
    if key == 'link_state':
        return {'vf': index, 'link_state': LINK_STATE_VALUES[value]}
    if key in ('spoofchk', 'trust'):
        return {'vf': index, key: 1 if value else 0}
    return {'vf': index, key: value}


def describe(key, value):
    if key == 'vlan':
        return 'vlan %d qos %d' % value
    if isinstance(value, bool):
        return '%s %s' % (key, 'on' if value else 'off')
    return '%s %s' % (key, value)


# ============================================================================ manager
class VfManager(RootedFiles):
    """Read, compare and converge the VFs of one PF.

    ``ipr`` is an IPRoute-like object (link_lookup, get_links, get_addr, link); ``run_command`` a
    callable taking an argv list and returning (rc, stdout, stderr), used by devbind (``ip``,
    ``modprobe``) and for ``udevadm settle``. Nothing is written when ``check_mode`` is true.
    """

    error = SriovError

    def __init__(self, ipr, pf=None, pf_pci=None, num_vfs=None, vfs=None, state='present', force=False,
                 root=None, run_command=None, check_mode=False, writer=None, state_file=STATE_FILE):
        super(VfManager, self).__init__(DEFAULT_ROOT if root is None else root, run_command, writer)
        self.ipr = ipr
        self.pf = pf
        self.pf_pci = pf_pci
        self.num_vfs = num_vfs
        self.vfs = vfs
        self.state = state
        self.force = force
        self.check_mode = check_mode
        self.state_file = state_file
        self.ledger, self.owner = Ledger.for_file(state_file, self.root, check_mode)
        self.address = None
        self.pf_name = None
        self.pf_index = None
        self.actions = []
        self.warnings = []
        self._recorded = False
        self._autoprobe = None

    # ----------------------------------------------------------------- helpers
    def dev(self, address=None):
        return '%s/%s' % (PCI_DEVICES, address or self.address)

    def binder(self, address, driver, check_mode=None):
        """A devbind DeviceBinder on the same root, writer and runner."""
        return DeviceBinder(address, driver, force=self.force, root=self.root, run_command=self.run_command,
                            check_mode=self.check_mode if check_mode is None else check_mode, writer=self.writer,
                            state_dir=self.ledger.directory)

    @property
    def what(self):
        return 'pf %s (%s)' % (self.pf_name, self.address) if self.pf_name else 'pf %s' % self.address

    def fail(self, msg):
        """SriovError carrying what was changed already (for the module's failure result)."""
        return SriovError(msg, changed=bool(self.actions), actions=list(self.actions))

    # ----------------------------------------------------------------- reading sysfs
    def _driver(self, address):
        return self.binder(address, KERNEL, check_mode=True).current_driver(address)

    def _netdevs(self, address):
        return self.binder(address, KERNEL, check_mode=True).netdevs(address)

    def sriov_devices(self):
        """'addr (driver, netdevs, N VFs max, M enabled)' of every device that offers SR-IOV."""
        out = []
        for address in self._list(PCI_DEVICES):
            total = self._read_int('%s/%s/sriov_totalvfs' % (PCI_DEVICES, address))
            if total is None:
                continue
            numvfs = self._read_int('%s/%s/sriov_numvfs' % (PCI_DEVICES, address), 0)
            out.append(self.binder(address, KERNEL, check_mode=True).describe(
                address, '%d VFs max' % total, '%d enabled' % numvfs))
        return out

    def _unknown(self, msg):
        devices = self.sriov_devices()
        return SriovError('%s; SR-IOV capable devices on this host: %s' % (
            msg, '; '.join(devices) if devices else
            'none (no PCI device has sriov_totalvfs: the NIC has no SR-IOV, SR-IOV is off in the firmware, '
            'or, in a QEMU guest, the NIC is not an igb on a PCIe bus)'))

    def _pci_of_netdev(self, name):
        """PCI address behind interface ``name`` (walking up from its device link: virtio_net sits on
        a virtioN device under the PCI function), or None for a virtual link."""
        link = self.path('%s/%s/device' % (CLASS_NET, name))
        if not os.path.exists(link):
            return None
        path = os.path.realpath(link)
        top = os.path.realpath(self.path('/sys/devices'))
        while path.startswith(top + os.sep):
            if _PCI_NAME_RE.match(os.path.basename(path)):
                return os.path.basename(path)
            path = os.path.dirname(path)
        return None

    def resolve(self):
        """Find the PF: self.address, self.pf_name (its interface or None), self.pf_index."""
        if self.pf is not None:
            try:
                validate_ifname(self.pf, 'pf')
            except LinkError as exc:
                raise SriovError(str(exc))
            if not os.path.exists(self.path('%s/%s' % (CLASS_NET, self.pf))):
                raise self._unknown('pf=%s: no such network interface (no %s/%s)' % (self.pf, CLASS_NET, self.pf))
            self.address = self._pci_of_netdev(self.pf)
            if self.address is None:
                raise self._unknown('pf=%s is not a PCI device (a virtual link such as a bridge or veth); name '
                                    'the interface of the NIC, or give pf_pci' % self.pf)
            self.pf_name = self.pf
        else:
            try:
                self.address = normalize_address(self.pf_pci)
            except DevbindError:
                raise SriovError('pf_pci=%r is not a PCI address; write it as domain:bus:slot.function, e.g. '
                                 '0000:01:00.0 (or 01:00.0), as lspci -D shows it' % (self.pf_pci,))
            if not os.path.isdir(self.path(self.dev())):
                raise self._unknown('pf_pci=%s: unknown PCI address (no %s)' % (self.address, self.dev()))
            names = self._netdevs(self.address)
            self.pf_name = names[0] if names else None
        physfn = self.path(self.dev() + '/physfn')
        if os.path.islink(physfn):
            parent = os.path.basename(os.readlink(physfn))
            names = self._netdevs(parent)
            raise SriovError('%s is itself a VF of PF %s%s; name the PF instead'
                             % (self.what, parent, ' (%s)' % ', '.join(names) if names else ''))
        if self._read_int(self.dev() + '/sriov_totalvfs') is None:
            raise self._unknown('%s, bound to %s, has no SR-IOV: %s/sriov_totalvfs does not exist'
                                % (self.what, self._driver(self.address) or 'no driver', self.dev()))
        if self.pf_name:
            found = self.ipr.link_lookup(ifname=self.pf_name)
            self.pf_index = found[0] if found else None

    def read_vfinfo(self):
        """parse_vfinfo of the PF's link, or (None, None) when the PF has no interface here."""
        if self.pf_index is None:
            return None, None
        try:
            msgs = self.ipr.get_links(self.pf_index, ext_mask=EXT_MASK)
        except Exception as exc:  # pyroute2 NetlinkError and friends
            raise SriovError('cannot read the VF settings of %s over netlink: %s' % (self.what, exc))
        return parse_vfinfo(msgs[0]) if msgs else (None, None)

    def virtfns(self):
        """{index: VF PCI address} from the PF's virtfn<N> links."""
        out = {}
        try:
            names = os.listdir(self.path(self.dev()))
        except OSError:
            return out
        for name in names:
            match = _VIRTFN_RE.match(name)
            if match:
                out[int(match.group(1))] = os.path.basename(os.readlink(self.path(self.dev() + '/' + name)))
        return out

    def read_vfs(self, count, vfinfo):
        """The VFs as reported: dicts of index, pci, netdev, driver and the NETLINK_KEYS."""
        addresses = self.virtfns()
        out = []
        for index in range(count):
            address = addresses.get(index)
            names = self._netdevs(address) if address else []
            vf = {'index': index, 'pci': address, 'netdev': names[0] if names else None,
                  'driver': self._driver(address) if address else None}
            settings = (vfinfo or {}).get(index) or {}
            for key in NETLINK_KEYS:
                vf[key] = settings.get(key)
            out.append(vf)
        return out

    # ----------------------------------------------------------------- ledger
    def _ledger(self, operation, *args, **kwargs):
        """A ledger operation (on the sriov owner unless ``owner`` is given); a LedgerError becomes
        a SriovError carrying what was changed already."""
        owner = kwargs.pop('owner', self.owner)
        try:
            return getattr(self.ledger, operation)(owner, *args)
        except LedgerError as exc:
            raise self.fail('%s (nothing was changed on %s yet unless actions say so)' % (exc, self.what))

    def load_records(self):
        return self._ledger('load')

    def _record_before_change(self, records, before):
        """Record what the PF has before the first change of this run, unless already recorded."""
        if self._recorded or self.check_mode:
            return
        self._recorded = True
        if self.address in records:
            return
        records[self.address] = {
            'pf': self.pf_name, 'num_vfs': len(before),
            'vfs': [dict((k, vf[k]) for k in ('index', 'driver') + NETLINK_KEYS) for vf in before]}
        self._ledger('record', self.address, records[self.address])

    def _forget_removed_vfs(self, before):
        """A count change removes every VF ``before`` (a non-zero count changes only through 0): their
        devbind records go with them, there is no device left to give a driver back to."""
        for vf in before:
            if vf['pci']:
                self._ledger('forget', vf['pci'], owner=devbind.OWNER)

    # ----------------------------------------------------------------- what is wanted
    def wanted(self, current, record):
        """(count, {index: settings}) wanted by the options (or by the record, for state=restored)."""
        if self.state not in STATES:
            raise SriovError('state=%r is not one of %s' % (self.state, ', '.join(STATES)))
        if self.state == 'absent':
            if self.num_vfs not in (None, 0) or self.vfs:
                raise SriovError('state=absent removes every VF of the PF; drop num_vfs and vfs (or use '
                                 'state=present with the VFs you want)')
            return 0, {}
        if self.state == 'restored':
            if self.num_vfs is not None or self.vfs:
                raise SriovError('state=restored gives the PF back the VFs recorded in %s; drop num_vfs and '
                                 'vfs' % self.state_file)
            if record is None:
                return current, {}
            vfs = []
            for vf in record.get('vfs') or []:
                entry = dict((k, v) for k, v in vf.items() if v is not None and k in ('index', 'driver') + NETLINK_KEYS)
                if entry.get('vlan') is None:
                    entry.pop('qos', None)
                vfs.append(entry)
            return int(record.get('num_vfs') or 0), check_vfs(vfs)
        if self.num_vfs is not None and (not isinstance(self.num_vfs, int) or self.num_vfs < 0):
            raise SriovError('num_vfs=%r must be a number of VFs, 0 or more' % (self.num_vfs,))
        return (current if self.num_vfs is None else self.num_vfs), check_vfs(self.vfs)

    # ----------------------------------------------------------------- checks (before any change)
    def check_count(self, wanted, total):
        if wanted > total:
            raise SriovError('num_vfs=%d is more than %s offers: its sriov_totalvfs is %d; ask for %d VFs or fewer'
                             % (wanted, self.what, total, total))

    def check_settings(self, settings, count, vfinfo):
        for index in sorted(settings):
            if index >= count:
                raise SriovError('vfs[%d].index=%d, but %s will have %d VF%s (VF numbers 0..%d); raise num_vfs '
                                 'or drop that entry' % (settings[index]['_position'], index, self.what, count,
                                                         '' if count == 1 else 's', count - 1)
                                 if count else
                                 'vfs[%d].index=%d, but %s will have no VFs; set num_vfs'
                                 % (settings[index]['_position'], index, self.what))
        asked = sorted(set(k for s in settings.values() for k in s if k in NETLINK_KEYS))
        if not asked:
            return
        if self.pf_index is None:
            raise SriovError('%s has no network interface in this namespace (driver %s), and VF settings (%s) '
                             'are set through it: bind the PF to its kernel driver (dpdk_devbind driver=kernel) '
                             'or drop those settings' % (self.what, self._driver(self.address) or 'none',
                                                         ', '.join(asked)))
        if vfinfo is None:
            raise SriovError('the PF driver %s of %s does not offer VF settings over netlink (no IFLA_VFINFO_LIST '
                             'in its link information, as ip -d link show has no "vf" lines): %s cannot be set; '
                             'drop them from vfs' % (self._driver(self.address) or 'none', self.what,
                                                     ', '.join(asked)))

    def check_pf_driver(self):
        """The kernel creates and removes VFs through the PF's driver (sriov_configure)."""
        driver = self._driver(self.address)
        if driver is None:
            raise SriovError('%s has no driver bound, and the kernel changes sriov_numvfs through the PF\'s driver '
                             '(ENOENT otherwise): bind it to its kernel driver first (dpdk_devbind driver=kernel)'
                             % self.what)
        if driver == 'vfio-pci' and (self._read(VFIO_PCI_SRIOV_PARAM) or '').strip().upper() not in ('Y', '1'):
            raise SriovError('%s is bound to vfio-pci, which only creates VFs when loaded with enable_sriov=1 (%s '
                             'is off): bind the PF to its kernel driver, or modprobe vfio-pci enable_sriov=1'
                             % (self.what, VFIO_PCI_SRIOV_PARAM))

    def _up(self, index):
        msgs = self.ipr.get_links(index)
        return bool(msgs and msgs[0]['flags'] & IFF_UP)

    def _addresses(self, name):
        """(up, [addresses other than link-local/host scope]) of interface ``name`` in this namespace."""
        found = self.ipr.link_lookup(ifname=name)
        if not found:
            return False, []
        up = self._up(found[0])
        out = []
        for msg in self.ipr.get_addr(index=found[0]):
            if msg['scope'] < RT_SCOPE_LINK:
                out.append('%s/%d' % (msg.get_attr('IFA_ADDRESS'), msg['prefixlen']))
        return up, out

    def in_use(self, vf):
        """Why VF ``vf`` (a read_vfs entry) is in use, or None."""
        driver = vf['driver']
        if driver in BUSY_DRIVERS:
            return 'is bound to %s (a DPDK program, a VM or a container may hold it)' % driver
        if vf['netdev'] is None:
            klass = (self._read(self.dev(vf['pci']) + '/class') or '').strip() if vf['pci'] else ''
            if driver is not None and klass.startswith('0x02'):
                return ('is bound to %s but has no interface in this network namespace: it was moved into a '
                        'container or another namespace' % driver)
            return None
        up, addresses = self._addresses(vf['netdev'])
        if up and addresses:
            return 'is interface %s, up with address %s' % (vf['netdev'], ', '.join(addresses))
        return None

    def check_not_in_use(self, before, wanted):
        """Every VF goes away when the count changes (through 0): refuse when one is in use."""
        if self.force:
            return
        busy = []
        for vf in before:
            why = self.in_use(vf)
            if why:
                busy.append('VF %d (%s) %s' % (vf['index'], vf['pci'], why))
        if busy:
            how = ('removes them' if wanted == 0 else
                   'removes every VF first (the kernel only changes a non-zero VF count through 0)')
            raise SriovError('changing the VF count of %s from %d to %d %s, and %s; stop what uses %s, or use '
                             'force: true to remove them anyway'
                             % (self.what, len(before), wanted, how, '; '.join(busy),
                                'it' if len(busy) == 1 else 'them'))

    def check_drivers(self, settings, count_change, before):
        """Run devbind's checks for every VF whose driver is managed; returns {index: check-mode result}
        for VFs that stay (count unchanged), None for those that will be created."""
        probes = {}
        for index in sorted(settings):
            driver = settings[index].get('driver')
            if driver is None:
                continue
            where = 'vfs[%d].driver=%s' % (settings[index]['_position'], driver)
            try:
                if not count_change and before[index]['pci']:
                    probes[index] = self.binder(before[index]['pci'], driver, check_mode=True).ensure()
                    continue
                probe = self.binder(self.address, driver, check_mode=True)
                probe.validate()
                if driver != KERNEL:
                    probe.ensure_driver_loaded(driver)
                if driver == 'vfio-pci':
                    probe.check_iommu()
                probes[index] = None
            except DevbindError as exc:
                raise SriovError('%s: %s' % (where, exc))
        return probes

    # ----------------------------------------------------------------- changing
    def autoprobe(self, off):
        """Stop the kernel from probing new VFs (keeping the old sriov_drivers_autoprobe; a kernel before
        4.12 has none and always probes them), or put the old value back (once)."""
        path = self.dev() + '/sriov_drivers_autoprobe'
        if off:
            self._autoprobe = self._read_int(path) or None
            value = 0 if self._autoprobe else None
        else:
            value, self._autoprobe = self._autoprobe, None
        if value is not None:
            try:
                self._write_raw(path, '%d' % value)
            except (IOError, OSError) as exc:
                raise self.fail('writing %d to %s failed: %s; run as root' % (value, path, exc))

    def _write_numvfs(self, count):
        """Write the VF count; return the OSError instead of raising it."""
        path = self.dev() + '/sriov_numvfs'
        try:
            self._write_raw(path, '%d' % count)
        except (IOError, OSError) as exc:
            return exc
        self.actions.append('write %d to %s' % (count, path))
        return None

    def _explain_numvfs(self, count, exc):
        code = getattr(exc, 'errno', None)
        driver = self._driver(self.address) or 'no driver'
        if code in (errno.EPERM, errno.EINVAL) and count:
            hint = ('the PF driver %s refused that many VFs: some drivers allow fewer than sriov_totalvfs '
                    '(igb: at most 7, while an 82576 or QEMU\'s igb offers 8); ask for fewer' % driver)
        elif code in (errno.ENOMEM, errno.ENOSPC, errno.ERANGE, errno.EIO) and count:
            hint = ('the kernel could not find PCI bus numbers or memory (BARs) for the VFs: boot with pci=realloc, '
                    'or enable SR-IOV in the firmware')
        elif code in (errno.EBUSY, errno.EPERM):
            hint = ('a VF is still assigned (to a VM through vfio-pci) or the driver is busy: release the VFs '
                    'and run again')
        elif code == errno.ENOENT:
            hint = 'the PF driver %s does not create VFs through sysfs' % driver
        elif code == errno.EACCES:
            hint = 'run as root'
        else:
            hint = 'check the kernel log (dmesg)'
        return '%s; %s (dmesg has the driver\'s reason)' % (exc, hint)

    def set_count(self, current, wanted):
        """Write sriov_numvfs, through 0 when both counts are non-zero; on failure give back ``current``."""
        if current and wanted:
            exc = self._write_numvfs(0)
            if exc is not None:
                raise self.fail('writing 0 to %s/sriov_numvfs (to remove the %d VFs before creating %d) failed: %s'
                                % (self.dev(), current, wanted, self._explain_numvfs(0, exc)))
        exc = self._write_numvfs(wanted)
        if exc is not None:
            back = ''
            if current and wanted:
                try:
                    self.autoprobe(False)  # the VFs given back are probed as before
                except SriovError:
                    pass
                again = self._write_numvfs(current)
                now = self._read_int(self.dev() + '/sriov_numvfs')
                back = ('; the PF was given its %d VFs back (with the driver\'s default settings)' % current
                        if again is None and now == current else
                        '; the PF is left with %s VFs (putting %d back failed too)' % (now, current))
            raise self.fail('writing %d to %s/sriov_numvfs failed: %s%s'
                            % (wanted, self.dev(), self._explain_numvfs(wanted, exc), back))
        now = self._read_int(self.dev() + '/sriov_numvfs')
        if now != wanted:
            raise self.fail('%s/sriov_numvfs reads %s after writing %d; check dmesg for the driver\'s reason'
                            % (self.dev(), now, wanted))
        self._settle_udev()  # VF interfaces are renamed by udev right after they appear

    def _explain_netlink(self, index, key, value, exc):
        code = getattr(exc, 'code', None)
        driver = self._driver(self.address) or 'its driver'
        if code == errno.EOPNOTSUPP:
            hint = ('the PF driver %s does not support setting %s of a VF (igb, for one, has no VF link state '
                    'control); drop vfs[].%s' % (driver, 'vlan/qos' if key == 'vlan' else key, key))
        elif code == errno.EPERM:
            hint = 'this needs root (CAP_NET_ADMIN)'
        elif code == errno.EINVAL:
            hint = 'the PF driver %s refused the value; check dmesg' % driver
        else:
            hint = 'check dmesg'
        return ('VF %d of %s: setting %s over netlink failed: %s; %s'
                % (index, self.what, describe(key, value), exc, hint))

    def apply_settings(self, settings, vfinfo):
        """Send the netlink settings that differ; return {index: [keys set]}."""
        done = {}
        for index in sorted(settings):
            for key, value in netlink_changes((vfinfo or {}).get(index), settings[index]):
                if not self.check_mode:
                    try:
                        self.ipr.link('set', index=self.pf_index, vf=vf_request(index, key, value))
                    except Exception as exc:  # pyroute2 NetlinkError and friends
                        raise self.fail(self._explain_netlink(index, key, value, exc))
                done.setdefault(index, []).append(key)
                self.actions.append('VF %d: %s' % (index, describe(key, value)))
        return done

    def verify_settings(self, settings, done, vfinfo):
        """Read-back check of what was set: the PF driver must report it."""
        for index in sorted(done):
            got = (vfinfo or {}).get(index) or {}
            for key in done[index]:
                wanted = settings[index][key]
                if key == 'vlan':
                    have, wanted = (got.get('vlan'), got.get('qos')), (wanted, settings[index].get('qos', 0))
                else:
                    have = got.get(key)
                if have is not None and have != wanted:
                    raise self.fail('VF %d of %s: %s was set, but the PF driver reports %s afterwards; check dmesg'
                                    % (index, self.what, describe(key, wanted), have))

    def stale_mac_warnings(self, settings, after, skipped):
        for vf in after:
            mac = settings.get(vf['index'], {}).get('mac')
            if not mac or not vf['netdev'] or vf['index'] in skipped:
                continue
            have = (self._read('%s/%s/address' % (CLASS_NET, vf['netdev'])) or '').strip().lower()
            if have and have != mac:
                self.warnings.append(
                    'VF %d (%s) has MAC %s for the PF, but its interface %s still uses %s: its driver takes the MAC '
                    'from the PF when it probes, and only while the PF is up (igbvf); bring %s up and bind the VF '
                    'again (unbind it, then write %s to %s)' % (vf['index'], vf['pci'], mac, vf['netdev'], have,
                                                                self.pf_name, vf['pci'], DRIVERS_PROBE))

    def _probe(self, index, address, unbind=False):
        """Bind a VF (unbound first) to the kernel's default driver; returns that driver."""
        try:
            if unbind:
                self._write_raw(self.dev(address) + '/driver/unbind', address)
            self._write_raw(DRIVERS_PROBE, address)
        except (IOError, OSError) as exc:
            raise self.fail('VF %d (%s) of %s: binding it to its default driver through %s failed: %s; check dmesg'
                            % (index, address, self.what, DRIVERS_PROBE, exc))
        driver = self._driver(address)
        if driver is None:
            self.warnings.append('VF %d (%s) has no driver after %s: load its VF driver (igbvf, iavf, ixgbevf...) '
                                 'or give vfs[].driver' % (index, address, DRIVERS_PROBE))
        return driver

    def bind_drivers(self, settings, vfs, default):
        """Bind ``vfs`` (read_vfs entries) to their vfs[].driver and, when ``default``, those without a
        driver to the kernel's default one; returns the indexes bound."""
        bound = set()
        for vf in vfs:
            index, address = vf['index'], vf['pci']
            driver = settings.get(index, {}).get('driver')
            if driver is None and not (default and vf['driver'] is None):
                continue
            if address is None:
                raise self.fail('VF %d of %s has no virtfn%d link in %s after it was created; check dmesg'
                                % (index, self.what, index, self.dev()))
            if driver is None:
                result = {'changed': True, 'before': vf, 'driver': self._probe(index, address)}
            else:
                try:
                    result = self.binder(address, driver).ensure()
                except DevbindError as exc:
                    raise self.fail('vfs[%d].driver=%s: %s' % (settings[index]['_position'], driver, exc))
                self.warnings.extend(result.get('warnings') or [])
            if result['changed'] and result['driver']:
                bound.add(index)
                self.actions.append('VF %d: driver %s -> %s'
                                    % (index, result['before']['driver'] or 'none', result['driver']))
        return bound

    def rebind_for_mac(self, settings, done, vfs, bound):
        """A VF driver reads its MAC from the PF when it probes: bind the kernel-bound VFs whose MAC was just
        set (and not ``bound`` since) again, unless in use (then warn); returns the indexes left as they are."""
        skipped = set()
        for vf in vfs:
            index, driver = vf['index'], vf['driver']
            if 'mac' not in done.get(index, ()) or driver is None or index in bound:
                continue
            mac, why = settings[index]['mac'], self.in_use(vf)
            if why and (driver in BUSY_DRIVERS or not self.force):
                skipped.add(index)
                self.warnings.append('VF %d (%s) %s: it was not bound again, so its driver takes MAC %s only when '
                                     'it probes again%s' % (index, vf['pci'], why, mac, '' if driver in BUSY_DRIVERS
                                                            else ' (force: true binds it again now)'))
                continue
            if not self.check_mode:
                self._probe(index, vf['pci'], unbind=True)
            self.actions.append('VF %d: bind %s again to take mac %s' % (index, driver, mac))
        return skipped

    # ----------------------------------------------------------------- prediction (check mode)
    def predict(self, before, count, settings, probes, count_change, default):
        offset = self._read_int(self.dev() + '/sriov_offset')
        stride = self._read_int(self.dev() + '/sriov_stride')
        after = []
        for index in range(count):
            if count_change:
                vf = {'index': index, 'pci': vf_address(self.address, offset, stride, index), 'netdev': None,
                      'driver': None, 'mac': None, 'vlan': 0, 'qos': 0, 'spoofchk': None, 'trust': None,
                      'link_state': None}
            else:
                vf = dict(before[index])
            wanted = settings.get(index, {})
            for key in NETLINK_KEYS:
                if key in wanted:
                    vf[key] = wanted[key]
            driver = wanted.get('driver')
            probe = probes.get(index)
            if probe is not None:
                vf['driver'] = probe['after']['driver']
                vf['netdev'] = probe['after']['netdevs'][0] if probe['after']['netdevs'] else None
                if probe['changed']:
                    self.actions.append('VF %d: driver %s -> %s'
                                        % (index, probe['before']['driver'] or 'none', probe['driver'] or '(default)'))
            elif count_change and (driver not in (None, KERNEL) or default):
                vf['driver'] = driver if driver not in (None, KERNEL) else None
                self.actions.append('VF %d: driver none -> %s' % (index, vf['driver'] or '(default)'))
            after.append(vf)
        return after

    # ----------------------------------------------------------------- converge
    def ensure(self):
        """Converge; return the result dict (changed, pf, pf_pci, total_vfs, num_vfs, vfs, actions,
        recorded, warnings, diff)."""
        if (self.pf is None) == (self.pf_pci is None):
            raise SriovError('give the PF either as pf (its interface name) or as pf_pci (its PCI address), '
                             'exactly one of them')
        if self.state != 'restored':
            self.wanted(0, None)  # option errors first, before anything is read
        self.resolve()
        total = self._read_int(self.dev() + '/sriov_totalvfs')
        current = self._read_int(self.dev() + '/sriov_numvfs', 0)
        records = self.load_records()
        count, settings = self.wanted(current, records.get(self.address))
        self.check_count(count, total)
        _num_vf, vfinfo = self.read_vfinfo()
        before = self.read_vfs(current, vfinfo)
        count_change = count != current
        self.check_settings(settings, count, vfinfo)
        if count_change:
            self.check_pf_driver()
            if current:
                self.check_not_in_use(before, count)
        probes = self.check_drivers(settings, count_change, before)
        changing = set(i for i, probe in probes.items() if probe and probe['changed'])
        default = False
        if count_change and count:
            default = self._read_int(self.dev() + '/sriov_drivers_autoprobe') != 0
            if self.pf_index is not None and not self._up(self.pf_index):
                self.warnings.append('VFs created while %s is down: igbvf and other VF drivers need the PF up; bring '
                                     'it up and rebind them' % self.pf_name)

        if self.check_mode:
            if count_change:
                self.actions.extend('write %d to %s/sriov_numvfs' % (n, self.dev())
                                    for n in ([0, count] if current and count else [count]))
            done = self.apply_settings(settings, None if count_change else vfinfo)
            after = self.predict(before, count, settings, probes, count_change, default)
            self.rebind_for_mac(settings, done, [] if count_change else before, changing)
            if self.state == 'restored' and self.address in records:
                self.actions.append('drop the record of %s from %s' % (self.address, self.state_file))
        else:
            done = {}
            try:
                if count_change:
                    self._record_before_change(records, before)
                    if count:
                        self.autoprobe(True)
                    self.set_count(current, count)
                    self._forget_removed_vfs(before)
                    _num_vf, vfinfo = self.read_vfinfo()
                if any(netlink_changes((vfinfo or {}).get(i), settings[i]) for i in settings):
                    self._record_before_change(records, before)
                    done = self.apply_settings(settings, vfinfo)
                    _num_vf, vfinfo = self.read_vfinfo()
                    self.verify_settings(settings, done, vfinfo)
            except Exception as exc:
                try:
                    self.autoprobe(False)
                    if count and count_change and self._read_int(self.dev() + '/sriov_numvfs') == count:
                        # the new VFs get their default drivers anyway
                        self.bind_drivers({}, self.read_vfs(count, None), default)
                except SriovError:
                    pass
                if getattr(exc, 'result', None):
                    exc.result['actions'] = list(self.actions)
                raise
            self.autoprobe(False)
            mark, bound = len(self.actions), set()
            if count_change or changing:
                self._record_before_change(records, before)
                bound = self.bind_drivers(settings, self.read_vfs(count, vfinfo), default)
            skipped = self.rebind_for_mac(settings, done, self.read_vfs(count, vfinfo) if done else [], bound)
            if len(self.actions) > mark:
                self._settle_udev()  # the new interfaces' final names
            if self.actions:
                _num_vf, vfinfo = self.read_vfinfo()
            after = self.read_vfs(self._read_int(self.dev() + '/sriov_numvfs', 0), vfinfo)
            self.stale_mac_warnings(settings, after, skipped)
            if self.state == 'restored' and self.address in records:
                records.pop(self.address)
                self._ledger('forget', self.address)
                self.actions.append('drop the record of %s from %s' % (self.address, self.state_file))

        recorded = records.get(self.address)
        header = 'SR-IOV VFs of %s' % self.what
        return {
            'changed': bool(self.actions),
            'pf': self.pf_name,
            'pf_pci': self.address,
            'total_vfs': total,
            'num_vfs': len(after),
            'vfs': after,
            'actions': self.actions,
            'recorded': recorded,
            'warnings': self.warnings,
            'diff': {'before_header': header, 'before': {'num_vfs': len(before), 'vfs': before},
                     'after_header': header, 'after': {'num_vfs': len(after), 'vfs': after}},
        }
