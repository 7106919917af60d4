#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
---
module: ovs_bridge
short_description: An Open vSwitch bridge with a datapath type
version_added: 0.1.0
description:
  - Creates (C(ovs-vsctl add-br)), changes the C(datapath_type) of, or deletes (C(del-br)) a bridge.
  - When ovs-vswitchd cannot set the bridge up (C(datapath_type=system) without openvswitch.ko), the
    record is deleted again and the module fails saying so.
author: kbypass.testbed maintainers (@kbypass)
extends_documentation_fragment:
  - kbypass.testbed.attributes
  - kbypass.testbed.ovs
options:
  name:
    description: Bridge name (at most 15 characters).
    type: str
    required: true
  datapath_type:
    description: V(system) (kernel datapath, openvswitch.ko) or V(netdev) (userspace, also DPDK).
    type: str
    choices: [system, netdev]
    default: system
  state:
    description: Whether the bridge exists.
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    support: full
    details: Runs only C(ovs-vsctl list).
  diff_mode:
    support: full
    details: Name and datapath type before and after.
'''

EXAMPLES = r'''
- name: A userspace bridge
  kbypass.testbed.ovs_bridge:
    name: kbp-ovs0
    datapath_type: netdev
'''

RETURN = r'''
bridge:
  description: The bridge after the run (name, datapath_type), null when absent.
  returned: always
  type: dict
  sample: {"name": "kbp-ovs0", "datapath_type": "netdev"}
commands:
  description: ovs-vsctl argument lists run (or that would run).
  returned: always
  type: list
  elements: list
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kbypass.testbed.plugins.module_utils.ovs import BridgeManager, OvsCli, OvsError
from ansible_collections.kbypass.testbed.plugins.module_utils.commands import command_runner
from ansible_collections.kbypass.testbed.plugins.module_utils.module_exit import run_and_exit


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type='str', required=True),
            datapath_type=dict(type='str', choices=['system', 'netdev'], default='system'),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            wait=dict(type='bool', default=True),
        ),
        supports_check_mode=True,
    )
    p = module.params
    manager = BridgeManager(OvsCli(command_runner(module), wait=p['wait']), p['name'], p['datapath_type'], p['state'],
                            check_mode=module.check_mode)
    run_and_exit(module, manager.ensure, OvsError)


if __name__ == '__main__':
    main()
