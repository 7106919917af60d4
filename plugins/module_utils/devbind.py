# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bind one PCI device to a driver through sysfs ``driver_override``, as dpdk-devbind.py does.

The module ``kbypass.testbed.dpdk_devbind`` is a thin wrapper around :class:`DeviceBinder`.

Every file is reached through ``root`` (default :data:`DEFAULT_ROOT`, the real ``/``), so the unit
tests run against a fake sysfs tree; sysfs attributes are written by :func:`sysfs.write_file` unless a
``writer`` is given (a test writer plays the kernel: it moves the ``driver`` symlink).

Binding: unbind from the current driver, write the driver name to ``driver_override``, write the
address to ``/sys/bus/pci/drivers_probe``, read the driver back, then clear ``driver_override``
again (as dpdk-devbind.py does, so that another tool can later bind the device elsewhere).
The kernel driver a device had before it was first moved away from it is recorded in the ledger
(owner ``devbind``, :mod:`ledger`) before the move, so ``driver: kernel`` can give it back; the
record is dropped once it is given back (or once the device is gone).
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os
import re

from ansible_collections.kbypass.testbed.plugins.module_utils.ledger import STATE_DIR, Ledger, LedgerError
from ansible_collections.kbypass.testbed.plugins.module_utils.sysfs import RootedFiles

DEFAULT_ROOT = ''

PCI_DEVICES = '/sys/bus/pci/devices'
PCI_DRIVERS = '/sys/bus/pci/drivers'
DRIVERS_PROBE = '/sys/bus/pci/drivers_probe'
IOMMU_GROUPS = '/sys/kernel/iommu_groups'
NOIOMMU_PARAM = '/sys/module/vfio/parameters/enable_unsafe_noiommu_mode'
ROUTE_FILE = '/proc/net/route'
OWNER = 'devbind'
STATE_FILE = Ledger().file(OWNER)

USERSPACE_DRIVERS = ('vfio-pci', 'uio_pci_generic', 'igb_uio')
KERNEL = 'kernel'

_PCI_RE = re.compile(r'^(?:([0-9a-f]{1,4}):)?([0-9a-f]{1,2}):([0-9a-f]{1,2})\.([0-7])$')
_DRIVER_RE = re.compile(r'^[A-Za-z0-9_.-]+$')


class DevbindError(Exception):
    """A refusal or failure, with a message that names the bad input and the fix."""


def normalize_address(value):
    """'03:00.0' / '0000:03:00.0' (any case) -> '0000:03:00.0'; DevbindError otherwise."""
    match = _PCI_RE.match(str(value).strip().lower())
    if not match:
        raise DevbindError('device=%r is not a PCI address; write it as domain:bus:slot.function, '
                           'e.g. 0000:03:00.0 (or 03:00.0), as lspci -D shows it' % (value,))
    domain, bus, slot, function = match.groups()
    return '%04x:%02x:%02x.%s' % (int(domain or '0', 16), int(bus, 16), int(slot, 16), function)


def parse_default_routes(text):
    """Interfaces of /proc/net/route that carry a default route (destination 00000000)."""
    out = []
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 8 and fields[1] == '00000000' and fields[7] == '00000000' and fields[0] not in out:
            out.append(fields[0])
    return out


def parse_ipv4(text):
    """Addresses (CIDR) in the output of `ip -o -4 addr show dev X`."""
    out = []
    for line in text.splitlines():
        fields = line.split()
        if 'inet' in fields:
            index = fields.index('inet')
            if index + 1 < len(fields):
                out.append(fields[index + 1])
    return out


class DeviceBinder(RootedFiles):
    """Read, compare and converge the driver of one PCI device.

    ``run_command`` is a callable taking an argv list and returning (rc, stdout, stderr)
    (AnsibleModule.run_command); nothing is written when ``check_mode`` is true.
    """

    error = DevbindError

    def __init__(self, device, driver, force=False, root=None, run_command=None, check_mode=False,
                 writer=None, state_dir=STATE_DIR):
        super(DeviceBinder, self).__init__(DEFAULT_ROOT if root is None else root, run_command, writer)
        self.device = device
        self.driver = driver
        self.force = force
        self.check_mode = check_mode
        self.ledger = Ledger(self.root, state_dir, check_mode)
        self.address = None

    # ----------------------------------------------------------------- helpers
    def _write(self, path, text):
        try:
            self._write_raw(path, text)
        except (IOError, OSError) as exc:
            raise DevbindError('writing %r to %s failed: %s; run as root, and check the kernel log '
                               '(dmesg) for the driver\'s reason' % (text, path, exc))

    def dev(self, address=None):
        return '%s/%s' % (PCI_DEVICES, address or self.address)

    # ----------------------------------------------------------------- reading
    def current_driver(self, address=None):
        link = self.path(self.dev(address) + '/driver')
        return os.path.basename(os.readlink(link)) if os.path.islink(link) else None

    def netdevs(self, address=None):
        """Network interfaces of the device: <dev>/net/* and, for virtio, <dev>/virtio*/net/*."""
        base = self.path(self.dev(address))
        names = []
        dirs = [os.path.join(base, 'net')]
        try:
            dirs += [os.path.join(base, d, 'net') for d in sorted(os.listdir(base)) if d.startswith('virtio')]
        except OSError:
            pass
        for directory in dirs:
            try:
                names += sorted(os.listdir(directory))
            except OSError:
                continue
        return names

    def iommu_group(self):
        link = self.path(self.dev() + '/iommu_group')
        return os.path.basename(os.readlink(link)) if os.path.islink(link) else None

    def group_peers(self):
        """Other devices of the device's IOMMU group bound to a host driver (the group is then not
        viable for vfio), as 'addr (driver)'."""
        group = self.iommu_group()
        if group is None:
            return []
        out = []
        for address in self._list('%s/%s/devices' % (IOMMU_GROUPS, group)):
            if address == self.address:
                continue
            driver = self.current_driver(address)
            if driver not in (None, 'vfio-pci', 'pcieport', 'pci-stub'):
                out.append('%s (%s)' % (address, driver))
        return out

    def network_devices(self):
        """'addr (driver, netdevs)' of every network-class (0x02xxxx) PCI device."""
        out = []
        for address in self._list(PCI_DEVICES):
            klass = (self._read('%s/%s/class' % (PCI_DEVICES, address)) or '').strip()
            try:
                if int(klass, 16) >> 16 != 0x02:
                    continue
            except ValueError:
                continue
            out.append(self.describe(address))
        return out

    def describe(self, address, *extra):
        """'addr (driver, netdevs..., extra...)' of a PCI device, for error messages."""
        return '%s (%s)' % (address, ', '.join([self.current_driver(address) or 'no driver']
                                               + self.netdevs(address) + list(extra)))

    def _ledger(self, operation, *args):
        """A ledger operation on the devbind owner; a LedgerError becomes a DevbindError."""
        try:
            return getattr(self.ledger, operation)(OWNER, *args)
        except LedgerError as exc:
            raise DevbindError('device %s: %s' % (self.address or self.device, exc))

    def state(self, driver, netdevs):
        return {'driver': driver, 'netdevs': netdevs}

    # ----------------------------------------------------------------- checks
    def validate(self):
        self.address = normalize_address(self.device)
        if not isinstance(self.driver, str) or not _DRIVER_RE.match(self.driver or ''):
            raise DevbindError('driver=%r is not a driver name; use vfio-pci, uio_pci_generic, igb_uio, '
                               'a kernel driver such as e1000e, or kernel' % (self.driver,))
        if not os.path.isdir(self.path(self.dev())):
            nics = self.network_devices()
            raise DevbindError('device=%s: unknown PCI address (no %s); network devices on this host: %s'
                               % (self.address, self.dev(), '; '.join(nics) if nics else 'none'))

    def check_in_use(self, netdevs):
        """Refuse (unless force) when an interface of the device has the default route or an IPv4 address."""
        if self.force or not netdevs:
            return
        routes = parse_default_routes(self._read(ROUTE_FILE, '') or '')
        for name in netdevs:
            if name in routes:
                raise DevbindError('device %s is interface %s, which carries the default route '
                                   '(0.0.0.0/0 in %s); binding it away would cut the host off. Use another '
                                   'device, or force: true if you really mean it'
                                   % (self.address, name, ROUTE_FILE))
        for name in netdevs:
            rc, out, err = self._run(['ip', '-o', '-4', 'addr', 'show', 'dev', name])
            if rc != 0:
                raise DevbindError('cannot read the addresses of %s (device %s): ip said %s; install '
                                   'iproute2, or force: true to bind without this check'
                                   % (name, self.address, (err or out).strip()))
            addresses = parse_ipv4(out)
            if addresses:
                raise DevbindError('device %s is interface %s, which has the IPv4 address %s in use; remove '
                                   'the address (ip addr flush dev %s) or use force: true'
                                   % (self.address, name, ', '.join(addresses), name))

    def ensure_driver_loaded(self, driver):
        if os.path.isdir(self.path('%s/%s' % (PCI_DRIVERS, driver))):
            return
        argv = ['modprobe', '--dry-run', driver] if self.check_mode else ['modprobe', driver]
        rc, out, err = self._run(argv)
        if self.check_mode:
            if rc != 0:
                raise DevbindError('driver %s is not loaded (no %s/%s) and modprobe cannot load it: %s; '
                                   'install the module (e.g. dpdk-kmods for igb_uio) or use a kernel '
                                   'that has it' % (driver, PCI_DRIVERS, driver, (err or out).strip()))
            return
        if not os.path.isdir(self.path('%s/%s' % (PCI_DRIVERS, driver))):
            raise DevbindError('driver %s is not available: no %s/%s after modprobe %s (rc=%d: %s); '
                               'install the module (e.g. dpdk-kmods for igb_uio) or use a kernel that has it'
                               % (driver, PCI_DRIVERS, driver, driver, rc, (err or out).strip() or 'no output'))

    def check_iommu(self):
        try:
            groups = os.listdir(self.path(IOMMU_GROUPS))
        except OSError:
            groups = []
        if groups:
            return
        if (self._read(NOIOMMU_PARAM) or '').strip().upper() in ('Y', '1'):
            return
        raise DevbindError('device %s: no IOMMU for vfio-pci (%s is empty and vfio\'s '
                           'enable_unsafe_noiommu_mode is off): boot with intel_iommu=on iommu=pt '
                           '(or amd_iommu=on), or use uio_pci_generic' % (self.address, IOMMU_GROUPS))

    # ----------------------------------------------------------------- changing
    def _probe(self, override):
        """Unbind, set driver_override (None clears it), probe."""
        if self.current_driver() is not None:
            self._write(self.dev() + '/driver/unbind', self.address)
        self._write(self.dev() + '/driver_override', (override or '') + '\n')
        self._write(DRIVERS_PROBE, self.address)

    def _rollback(self, original):
        """Best effort: give the device back to ``original``; returns its driver afterwards."""
        try:
            self._probe(original)
            self._write(self.dev() + '/driver_override', '\n')
        except DevbindError:
            pass
        return self.current_driver()

    def _record(self, original, netdevs):
        """Record the kernel driver the device has before it is moved away from it (the first one
        recorded wins); True when it was recorded now."""
        if original is None or original in USERSPACE_DRIVERS:
            return False
        return self._ledger('record', self.address, self.state(original, netdevs))

    def _gone(self, recorded):
        """driver: kernel for a device that is no longer there (a VF removed since): nothing to give
        back; its record is dropped."""
        self._ledger('forget', self.address)
        state = self.state(None, [])
        return {'changed': True, 'device': self.address, 'driver': None, 'before': state, 'after': state,
                'iommu_group': None,
                'warnings': ['device %s is gone (no %s): its kernel driver %s cannot be given back, its record '
                             'was dropped from %s' % (self.address, self.dev(), recorded.get('driver'),
                                                      self.ledger.file(OWNER))],
                'diff': {'before_header': 'driver of %s' % self.address, 'before': state,
                         'after_header': 'driver of %s' % self.address, 'after': state}}

    def ensure(self):
        """Converge; return the result dict (changed, device, before, after, diff)."""
        self.address = normalize_address(self.device)
        record = self._ledger('recorded', self.address) or {}
        if self.driver == KERNEL and record and not os.path.isdir(self.path(self.dev())):
            return self._gone(record)
        self.validate()
        current = self.current_driver()
        netdevs = self.netdevs()
        before = self.state(current, netdevs)
        recorded = record.get('driver')

        if self.driver == KERNEL:
            wanted = recorded  # None: let the kernel choose
            if wanted is None:
                done = current is not None and current not in USERSPACE_DRIVERS
            else:
                done = current == wanted
        else:
            wanted = self.driver
            done = current == wanted

        # given back already (a record an earlier version never dropped): only the record goes
        forget = self.driver == KERNEL and bool(record)
        result = {'changed': not done or forget, 'device': self.address, 'before': before, 'driver': wanted}
        if done:
            after = dict(before)
            result['driver'] = current
            if forget:
                self._ledger('forget', self.address)
        else:
            self.check_in_use(netdevs)
            if wanted is not None:
                self.ensure_driver_loaded(wanted)
            if wanted == 'vfio-pci':
                self.check_iommu()
            if self.check_mode:
                if wanted in USERSPACE_DRIVERS:
                    guess = []
                else:
                    guess = record.get('netdevs') or []
                after = self.state(wanted, guess)
            else:
                # written down before the change: a run that fails halfway still knows the driver
                recorded_now = self.driver != KERNEL and self._record(current, netdevs)
                self._probe(wanted)
                got = self.current_driver()
                ok = (got == wanted) if wanted is not None else (got is not None and got not in USERSPACE_DRIVERS)
                if not ok:
                    back = self._rollback(current)
                    if recorded_now and back == current:
                        self._ledger('forget', self.address)
                    raise DevbindError(
                        'device %s: asked for driver %s, but after the probe it is bound to %s; it was put '
                        'back to %s (now: %s). Check dmesg for the driver\'s reason%s'
                        % (self.address, wanted or 'any kernel driver', got or 'no driver', current or 'no driver',
                           back or 'no driver',
                           '' if wanted is not None else ', or name the kernel driver instead of kernel'))
                if wanted is not None:
                    # as dpdk-devbind.py does: clear the override so other tools can rebind the device
                    self._write(self.dev() + '/driver_override', '\n')
                if forget:
                    self._ledger('forget', self.address)
                if got not in USERSPACE_DRIVERS:
                    self._settle_udev()  # a kernel driver's interface is renamed by udev right after it appears
                after = self.state(got, self.netdevs())
                result['driver'] = got
        result['after'] = after
        result['iommu_group'] = self.iommu_group()
        result['warnings'] = []
        peers = self.group_peers() if after['driver'] == 'vfio-pci' else []
        if peers:
            result['warnings'].append(
                'IOMMU group %s of %s also holds %s, bound to host drivers: DPDK cannot open the group until '
                'they are bound to vfio-pci too (or unbound)'
                % (result['iommu_group'], self.address, ', '.join(peers)))
        result['diff'] = {'before_header': 'driver of %s' % self.address, 'before': before,
                          'after_header': 'driver of %s' % self.address, 'after': after}
        return result
