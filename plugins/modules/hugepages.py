#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
---
module: hugepages
short_description: Reserve huge pages of one size, mount hugetlbfs and keep the reservation across reboots
version_added: 0.1.0
description:
  - Sets the number of reserved huge pages of one size, for the whole host or for one NUMA node,
    through sysfs (C(/sys/kernel/mm/hugepages/hugepages-<kB>kB/nr_hugepages) or
    C(/sys/devices/system/node/node<N>/hugepages/hugepages-<kB>kB/nr_hugepages)).
  - The count is read back after it is written. When the kernel gives fewer pages than asked
    (memory too small or too fragmented) the previous count is written back and the module fails
    with the size, node, pages asked, pages given, the previous count and the fix.
  - The count managed is the persistent pool (C(nr_hugepages) minus C(surplus_hugepages)); pages still
    in use when the pool shrinks stay allocated as surplus pages until they are freed.
  - Optionally mounts (or unmounts) a hugetlbfs of that page size, and writes the reservation to a
    boot-time file.
  - Never reboots and never runs update-grub.
author: kbypass.testbed maintainers (@kbypass)
extends_documentation_fragment:
  - kbypass.testbed.attributes
options:
  size:
    description:
      - Huge page size. The kernel must offer it (a C(hugepages-<kB>kB) directory in
        C(/sys/kernel/mm/hugepages)); otherwise the module fails listing the sizes it offers.
    type: str
    choices: [2M, 1G]
    default: 2M
  count:
    description:
      - Number of pages of O(size) wanted, 0 or more.
    type: int
    required: true
  node:
    description:
      - NUMA node whose pages are set. When omitted, the count is for the whole host.
    type: int
  mount:
    description:
      - Mount point of a hugetlbfs with C(pagesize=<size>), created when missing.
      - A hugetlbfs of another page size mounted there is unmounted and mounted again; any other
        file system mounted there makes the module fail.
      - Nothing is mounted or unmounted when omitted.
    type: path
  mount_state:
    description:
      - V(present) mounts hugetlbfs on O(mount); V(absent) unmounts a hugetlbfs mounted there.
      - Ignored when O(mount) is omitted.
    type: str
    choices: [present, absent]
    default: present
  persistent:
    description:
      - Also reserve the pages at boot.
      - For 2M pages without O(node), writes C(vm.nr_hugepages) to C(/etc/sysctl.d/80-kbypass-hugepages.conf).
      - For 1G pages or with O(node), writes C(hugepagesz=<size> hugepages=<count>) (node format
        C(<node>:<count>) with O(node)) to the kernel command line snippet
        C(/etc/default/grub.d/80-kbypass-hugepages.cfg), keeping the entries of other sizes, and
        returns RV(reboot_required=true) when that file changed. update-grub and a reboot are
        needed for it to take effect (RV(hint) says so).
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    details: Reports what would change (count, free pages, mount, files) and touches nothing.
  diff_mode:
    support: full
    details: Before and after state (size, node, count, free, mount) and the text of each boot-time file changed.
notes:
  - Needs root. A failed reservation is always undone (the previous count is written back).
  - 1G pages can rarely be found at run time once memory is fragmented; reserve them at boot
    with O(persistent=true).
'''

EXAMPLES = r'''
- name: 1024 pages of 2M for DPDK, hugetlbfs on /dev/hugepages, kept across reboots
  kbypass.testbed.hugepages:
    size: 2M
    count: 1024
    mount: /dev/hugepages
    persistent: true

- name: Four 1G pages on NUMA node 0, reserved at boot
  kbypass.testbed.hugepages:
    size: 1G
    count: 4
    node: 0
    persistent: true
  register: hp

- name: Tell the operator
  ansible.builtin.debug:
    msg: "{{ hp.hint }}"
  when: hp.reboot_required | bool

- name: Give the pages back and unmount
  kbypass.testbed.hugepages:
    count: 0
    mount: /dev/hugepages
    mount_state: absent
'''

RETURN = r'''
before:
  description: State before the module ran.
  returned: always
  type: dict
  contains:
    size:
      description: Page size.
      type: str
      sample: 2M
    node:
      description: NUMA node, or null for the whole host.
      type: int
      sample: null
    count:
      description: Pages reserved (persistent pool).
      type: int
      sample: 512
    free:
      description: Pages reserved and not in use.
      type: int
      sample: 512
    mount:
      description: What is mounted on O(mount) (path, fstype, pagesize), or null when O(mount) is omitted.
      type: dict
      sample: {"path": "/dev/hugepages", "fstype": "hugetlbfs", "pagesize": "2M"}
after:
  description: State after the module ran (in check mode, the predicted state). Same keys as RV(before).
  returned: always
  type: dict
  sample: {"size": "2M", "node": null, "count": 1024, "free": 1024, "mount": null}
reboot_required:
  description: Whether the kernel command line snippet changed; update-grub and a reboot are needed.
  returned: always
  type: bool
  sample: false
hint:
  description: What still has to be done by hand for the boot-time reservation, or an empty string.
  returned: always
  type: str
  sample: "/etc/default/grub.d/80-kbypass-hugepages.cfg sets the kernel command line: run update-grub and reboot for it to take effect"
files:
  description: Boot-time files written (or that would be written in check mode).
  returned: always
  type: list
  elements: str
  sample: ["/etc/sysctl.d/80-kbypass-hugepages.conf"]
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kbypass.testbed.plugins.module_utils.hugepages import (
    SIZES, HugepageManager, HugepagesError)
from ansible_collections.kbypass.testbed.plugins.module_utils.commands import command_runner
from ansible_collections.kbypass.testbed.plugins.module_utils.module_exit import run_and_exit


def main():
    module = AnsibleModule(
        argument_spec=dict(
            size=dict(type='str', choices=sorted(SIZES), default='2M'),
            count=dict(type='int', required=True),
            node=dict(type='int'),
            mount=dict(type='path'),
            mount_state=dict(type='str', choices=['present', 'absent'], default='present'),
            persistent=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
    )
    params = module.params
    manager = HugepageManager(
        size=params['size'], count=params['count'], node=params['node'], mount=params['mount'],
        mount_state=params['mount_state'], persistent=params['persistent'],
        run_command=command_runner(module), check_mode=module.check_mode)
    run_and_exit(module, manager.ensure, HugepagesError)


if __name__ == '__main__':
    main()
