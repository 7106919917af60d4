#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
---
module: sriov_vf
short_description: Create SR-IOV virtual functions of a NIC, set their MAC, VLAN and flags, bind their drivers
version_added: 0.1.0
description:
  - Manages the SR-IOV virtual functions (VFs) of one physical function (PF), idempotently.
  - The VF count is written to C(/sys/bus/pci/devices/<PF>/sriov_numvfs) and read back. The kernel
    refuses to change a non-zero count to another non-zero count, so such a change writes 0 first;
    every VF is then removed and created again with the driver's default settings.
  - Removing VFs (a count change or O(state=absent)) is refused, unless O(force=true), while a VF is in
    use, that is bound to vfio-pci, uio_pci_generic, igb_uio or pci-stub, bound to a network driver
    but without an interface in this network namespace (moved into a container), or an interface
    that is up with an address (IPv6 link-local addresses do not count).
  - Per-VF settings (MAC, VLAN and priority, spoof checking, trust, link state) are kept by the PF
    driver and set over netlink on the PF's interface (C(ip link set <PF> vf N ...)), one request per
    setting, and read back.
  - A VF driver (igbvf, iavf, ixgbevf) reads its MAC address from the PF when it probes, and igb before
    Linux 6.3 let new VFs be probed before it was ready for them (they took random addresses). So new
    VFs are created with the PF's C(sriov_drivers_autoprobe) at 0, given their settings, and then
    bound, after autoprobe is put back, to O(vfs[].driver) or through C(/sys/bus/pci/drivers_probe)
    to their default driver. Kernels without C(sriov_drivers_autoprobe) probe them when created.
  - The driver of a VF is changed with the code of M(kbypass.testbed.dpdk_devbind), with its checks,
    its IOMMU requirement for vfio-pci and its record of the previous driver.
  - Every check (PF, counts, settings, VFs in use, drivers, IOMMU) runs before anything is changed.
  - Before the first change to a PF, its VF count and VF settings are recorded in O(state_file);
    O(state=restored) gives them back and drops the record.
author: kbypass.testbed maintainers (@kbypass)
extends_documentation_fragment:
  - kbypass.testbed.attributes
requirements:
  - pyroute2 (0.7 or later; tested with 0.9)
options:
  pf:
    description:
      - Network interface of the PF, for example V(ens1f0).
      - An unknown interface, a virtual link or a PCI device without SR-IOV makes the module fail,
        listing the SR-IOV capable devices of the host.
      - Exactly one of O(pf) and O(pf_pci) is required.
    type: str
  pf_pci:
    description:
      - PCI address of the PF, V(0000:01:00.0) (as C(lspci -D) shows it); the short form V(01:00.0)
        means domain 0000. Use it when the PF has no interface (bound to vfio-pci), or to be
        independent of interface names.
    type: str
  num_vfs:
    description:
      - Number of VFs wanted, 0 up to the PF's C(sriov_totalvfs); more fails naming both numbers.
      - Left as it is when omitted.
    type: int
  vfs:
    description:
      - Settings of some VFs. VFs not listed, and settings not given, are left as they are.
      - A VF created by this run starts with the PF driver's defaults before these are applied.
    type: list
    elements: dict
    suboptions:
      index:
        description:
          - Number of the VF, 0 up to O(num_vfs) - 1 (C(virtfn<index>) of the PF).
        type: int
        required: true
      mac:
        description:
          - Unicast MAC address the PF gives the VF, for example V(02:00:00:00:01:00).
          - A VF already bound to a kernel driver is bound again (unbound, then probed) to take a new
            address, unless it is in use (bound to vfio-pci or another userspace driver, moved into
            another network namespace, or up with an address) and O(force) is false; the module
            then warns, naming the VF.
        type: str
      vlan:
        description:
          - Port VLAN of the VF, 1 to 4094 (traffic of the VF is tagged and filtered by the NIC), or
            0 for none.
        type: int
      qos:
        description:
          - 802.1p priority 0 to 7 of the port VLAN. Needs O(vfs[].vlan) in the same entry;
            0 when omitted.
        type: int
      spoofchk:
        description:
          - Whether the NIC drops frames the VF sends with a source MAC address other than its own.
        type: bool
      trust:
        description:
          - Whether the VF is trusted (may change its MAC address, enter promiscuous mode).
        type: bool
      link_state:
        description:
          - Link state the VF sees. V(auto) follows the PF's link.
          - Not every PF driver can set it (igb cannot); those fail naming the setting.
        type: str
        choices: [auto, enable, disable]
      driver:
        description:
          - Driver the VF is bound to, for example V(vfio-pci) for DPDK, or V(kernel) for the
            driver it had (see M(kbypass.testbed.dpdk_devbind)).
          - Left as it is when omitted; VFs created by this run are bound to their default driver (for
            example igbvf, iavf, ixgbevf), after their settings, unless C(sriov_drivers_autoprobe) of
            the PF is 0.
        type: str
  state:
    description:
      - V(present) converges to O(num_vfs) and O(vfs).
      - V(absent) removes every VF (C(sriov_numvfs) 0); O(num_vfs) and O(vfs) must not be given.
      - V(restored) gives the PF back the VF count and settings recorded in O(state_file) before
        the first change, then drops the record; nothing is changed when none is recorded.
    type: str
    choices: [present, absent, restored]
    default: present
  force:
    description:
      - Remove VFs even when one is in use, and bind VF drivers even when the VF's interface has an
        address or the default route (like the O(force) option of M(kbypass.testbed.dpdk_devbind)).
    type: bool
    default: false
  state_file:
    description:
      - JSON file that records, per PF, what it had before this module first changed it.
    type: path
    default: /var/lib/kbypass-state/sriov.json
attributes:
  check_mode:
    support: full
    details: Runs every check and computes C(changed), the actions and the predicted VFs; writes nothing.
  diff_mode:
    support: full
    details: Before and after VF count and VFs (PCI address, interface, driver, MAC, VLAN, flags).
notes:
  - Needs root. VFs are not kept across reboots; run the module again at boot (or use the PF driver's
    own parameter, for example C(max_vfs) of igb).
  - The PF must be bound to its kernel driver to create VFs (vfio-pci only with C(enable_sriov=1)),
    and must have an interface in this namespace for VF settings.
  - The PF should be up before VFs are created. The module does not bring it up, but warns when
    it is down, as igbvf and other VF drivers then fail to get their MAC address from it.
  - With igb (also QEMU's emulated igb, an 82576 that offers 8 VFs), the driver allows at most 7 VFs,
    changing the count resets the PF (its link goes down and up), and VF link state cannot be set.
seealso:
  - module: kbypass.testbed.dpdk_devbind
  - name: Linux PCI SR-IOV sysfs ABI
    description: sriov_totalvfs, sriov_numvfs, sriov_offset, sriov_stride, sriov_drivers_autoprobe.
    link: https://www.kernel.org/doc/Documentation/ABI/testing/sysfs-bus-pci
'''

EXAMPLES = r'''
- name: Four VFs on the second port, two of them for DPDK with fixed MAC addresses
  kbypass.testbed.sriov_vf:
    pf: ens1f1
    num_vfs: 4
    vfs:
      - index: 0
        mac: "02:6b:62:00:01:00"
        spoofchk: true
        driver: vfio-pci
      - index: 1
        mac: "02:6b:62:00:01:01"
        vlan: 100
        qos: 3
        driver: vfio-pci
  register: sriov

- name: Show the PCI addresses to give to the DPDK containers
  ansible.builtin.debug:
    msg: "{{ sriov.vfs | map(attribute='pci') | list }}"

- name: The same PF by PCI address, VF 2 trusted (its interface may change its own MAC)
  kbypass.testbed.sriov_vf:
    pf_pci: "0000:3b:00.1"
    vfs:
      - index: 2
        trust: true

- name: Give the PF back what it had before the testbed changed it
  kbypass.testbed.sriov_vf:
    pf: ens1f1
    state: restored

- name: Remove every VF, even those still bound to vfio-pci
  kbypass.testbed.sriov_vf:
    pf: ens1f1
    state: absent
    force: true
'''

RETURN = r'''
pf:
  description: Interface of the PF, or null when it has none here.
  returned: always
  type: str
  sample: ens1f1
pf_pci:
  description: PCI address of the PF, normalized.
  returned: always
  type: str
  sample: "0000:01:00.0"
total_vfs:
  description: VFs the PF offers (C(sriov_totalvfs)).
  returned: always
  type: int
  sample: 8
num_vfs:
  description: VFs after the module ran (in check mode, the count it would set).
  returned: always
  type: int
  sample: 4
vfs:
  description:
    - The VFs after the module ran, in index order. In check mode, the prediction; values that
      cannot be known before a VF exists are null.
    - Settings the PF driver does not report are null.
  returned: always
  type: list
  elements: dict
  contains:
    index:
      description: VF number.
      type: int
      sample: 0
    pci:
      description: PCI address of the VF.
      type: str
      sample: "0000:01:10.0"
    netdev:
      description: Interface of the VF in this namespace, or null (bound to vfio-pci, or moved into a container).
      type: str
      sample: ens1f1v0
    driver:
      description: Driver the VF is bound to, or null.
      type: str
      sample: vfio-pci
    mac:
      description: MAC address the PF reports for the VF (V(00:00:00:00:00:00) when none was set).
      type: str
      sample: "02:6b:62:00:01:00"
    vlan:
      description: Port VLAN of the VF, 0 for none.
      type: int
      sample: 100
    qos:
      description: 802.1p priority of the port VLAN.
      type: int
      sample: 3
    spoofchk:
      description: Whether spoof checking is on.
      type: bool
      sample: true
    trust:
      description: Whether the VF is trusted.
      type: bool
      sample: false
    link_state:
      description: V(auto), V(enable) or V(disable).
      type: str
      sample: auto
actions:
  description: What was done (or, in check mode, would be done), in order.
  returned: always
  type: list
  elements: str
  sample:
    - write 0 to /sys/bus/pci/devices/0000:01:00.0/sriov_numvfs
    - write 4 to /sys/bus/pci/devices/0000:01:00.0/sriov_numvfs
    - "VF 0: mac 02:6b:62:00:01:00"
    - "VF 0: driver none -> vfio-pci"
recorded:
  description: What the PF had before this module first changed it (from O(state_file)), or null.
  returned: always
  type: dict
  sample: {"pf": "ens1f1", "num_vfs": 0, "vfs": []}
'''

import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.kbypass.testbed.plugins.module_utils.sriov import (
    LINK_STATE_VALUES, STATE_FILE, STATES, SriovError, VfManager)
from ansible_collections.kbypass.testbed.plugins.module_utils.commands import command_runner
from ansible_collections.kbypass.testbed.plugins.module_utils.module_exit import run_and_exit

PYROUTE2_IMP_ERR = None
try:
    from pyroute2 import IPRoute
    HAS_PYROUTE2 = True
except ImportError:
    IPRoute = None
    HAS_PYROUTE2 = False
    PYROUTE2_IMP_ERR = traceback.format_exc()


def main():
    module = AnsibleModule(
        argument_spec=dict(
            pf=dict(type='str'),
            pf_pci=dict(type='str'),
            num_vfs=dict(type='int'),
            vfs=dict(type='list', elements='dict', options=dict(
                index=dict(type='int', required=True),
                mac=dict(type='str'),
                vlan=dict(type='int'),
                qos=dict(type='int'),
                spoofchk=dict(type='bool'),
                trust=dict(type='bool'),
                link_state=dict(type='str', choices=sorted(LINK_STATE_VALUES)),
                driver=dict(type='str'),
            )),
            state=dict(type='str', choices=list(STATES), default='present'),
            force=dict(type='bool', default=False),
            state_file=dict(type='path', default=STATE_FILE),
        ),
        mutually_exclusive=[('pf', 'pf_pci')],
        required_one_of=[('pf', 'pf_pci')],
        supports_check_mode=True,
    )
    if not HAS_PYROUTE2:
        module.fail_json(msg=missing_required_lib('pyroute2'), exception=PYROUTE2_IMP_ERR)

    params = module.params
    ipr = IPRoute()
    try:
        manager = VfManager(ipr, pf=params['pf'], pf_pci=params['pf_pci'], num_vfs=params['num_vfs'],
                            vfs=params['vfs'], state=params['state'], force=params['force'],
                            run_command=command_runner(module), check_mode=module.check_mode,
                            state_file=params['state_file'])
        run_and_exit(module, manager.ensure, SriovError,
                     lambda: dict(pf=params['pf'], pf_pci=manager.address or params['pf_pci']))
    finally:
        ipr.close()


if __name__ == '__main__':
    main()
