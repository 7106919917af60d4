#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
---
module: dpdk_devbind
short_description: Bind a PCI device to vfio-pci, uio_pci_generic, igb_uio or back to its kernel driver
version_added: 0.1.0
description:
  - Does what C(dpdk-devbind.py --bind) does, through sysfs C(driver_override), idempotently.
  - Unbinds the device from its current driver, writes the driver name to
    C(/sys/bus/pci/devices/<address>/driver_override), writes the address to
    C(/sys/bus/pci/drivers_probe), reads the driver back and fails when it is not the one asked
    (the device is then given back to its previous driver). C(driver_override) is cleared
    afterwards, as dpdk-devbind.py does, so other tools can rebind the device.
  - Refuses, unless O(force=true), to take a network device whose interface carries the host's
    default route or has an IPv4 address.
  - For V(vfio-pci) an IOMMU is required (entries in C(/sys/kernel/iommu_groups), or vfio's
    C(enable_unsafe_noiommu_mode)).
  - A driver that is not loaded is loaded with modprobe.
  - The kernel driver a device had before it was first bound elsewhere is recorded, before the change,
    in the ledger C(/var/lib/kbypass-state/devbind.json), so O(driver=kernel) can give it back; the
    record is dropped once given back. A record left in C(/var/lib/kbypass/devbind.json) by an earlier
    version is moved into the ledger. O(driver=kernel) for a recorded device that is gone (a VF
    removed since) drops its record, with a warning.
author: kbypass.testbed maintainers (@kbypass)
extends_documentation_fragment:
  - kbypass.testbed.attributes
options:
  device:
    description:
      - PCI address of the device, V(0000:03:00.0) (as C(lspci -D) shows it); the short form
        V(03:00.0) means domain 0000.
      - An unknown address makes the module fail, listing the network devices of the host.
    type: str
    required: true
  driver:
    description:
      - Driver to bind to, for example V(vfio-pci), V(uio_pci_generic), V(igb_uio), or a kernel driver
        such as V(e1000e), V(igb), V(ixgbe), V(i40e), V(virtio-pci).
      - V(kernel) gives the device back to the driver recorded when it was bound away; when none is
        recorded, the override is cleared and the kernel picks the driver.
    type: str
    required: true
  force:
    description:
      - Bind even when an interface of the device carries the default route or has an IPv4 address.
      - This can cut the host off the network.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    details: Computes C(changed), runs the checks (route, addresses, IOMMU, C(modprobe --dry-run)) and writes nothing.
  diff_mode:
    support: full
    details: Before and after driver and interfaces of the device.
notes:
  - Needs root. Binding is not kept across reboots.
  - vfio-pci needs the IOMMU on, for example C(intel_iommu=on iommu=pt) on the kernel command line.
    Every device of the same IOMMU group must be bound to vfio-pci (or to no driver) before DPDK
    can use the group.
seealso:
  - name: dpdk-devbind.py
    description: The DPDK tool this module replaces.
    link: https://doc.dpdk.org/guides/tools/devbind.html
'''

EXAMPLES = r'''
- name: Give the second NIC to DPDK
  kbypass.testbed.dpdk_devbind:
    device: "0000:00:04.0"
    driver: vfio-pci
  register: bound

- name: Show the IOMMU group to pass to a container
  ansible.builtin.debug:
    msg: "/dev/vfio/{{ bound.iommu_group }}"

- name: Give it back to the kernel driver it had
  kbypass.testbed.dpdk_devbind:
    device: "00:04.0"
    driver: kernel
'''

RETURN = r'''
device:
  description: PCI address, normalized.
  returned: always
  type: str
  sample: "0000:00:04.0"
driver:
  description: Driver the device is bound to after the module ran (in check mode, the one it would be
    bound to; null when the kernel is left to choose).
  returned: always
  type: str
  sample: vfio-pci
before:
  description: Driver (null when unbound) and network interfaces of the device before the module ran.
  returned: always
  type: dict
  sample: {"driver": "e1000e", "netdevs": ["ens4"]}
after:
  description: Driver and network interfaces after the module ran (in check mode, the prediction).
  returned: always
  type: dict
  sample: {"driver": "vfio-pci", "netdevs": []}
iommu_group:
  description: IOMMU group of the device (C(/dev/vfio/<group>) with vfio-pci), or null without IOMMU.
  returned: always
  type: str
  sample: "7"
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kbypass.testbed.plugins.module_utils.devbind import (
    DeviceBinder, DevbindError)
from ansible_collections.kbypass.testbed.plugins.module_utils.commands import command_runner
from ansible_collections.kbypass.testbed.plugins.module_utils.module_exit import run_and_exit


def main():
    module = AnsibleModule(
        argument_spec=dict(
            device=dict(type='str', required=True),
            driver=dict(type='str', required=True),
            force=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
    )
    binder = DeviceBinder(module.params['device'], module.params['driver'], force=module.params['force'],
                          run_command=command_runner(module), check_mode=module.check_mode)
    run_and_exit(module, binder.ensure, DevbindError, lambda: dict(device=binder.address or module.params['device']))


if __name__ == '__main__':
    main()
