#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
---
module: ovs_flows
short_description: The whole OpenFlow table of an Open vSwitch bridge
version_added: 0.1.0
description:
  - Reads the table with C(ovs-ofctl --no-stats --names dump-flows) and, when it differs from O(flows)
    (match fields compared as a set, the default priority ignored, action keywords in any case),
    deletes all flows and adds O(flows).
author: kbypass.testbed maintainers (@kbypass)
extends_documentation_fragment:
  - kbypass.testbed.attributes
options:
  bridge:
    description: Bridge name.
    type: str
    required: true
  flows:
    description: Flows in C(ovs-ofctl add-flow) syntax; port names may be used. An empty list empties the table.
    type: list
    elements: str
    required: true
attributes:
  check_mode:
    support: full
    details: Runs only dump-flows.
  diff_mode:
    support: full
    details: The flow table before and after.
'''

EXAMPLES = r'''
- name: Every port sends back what it receives
  kbypass.testbed.ovs_flows:
    bridge: kbp-ovsd0
    flows:
      - in_port=kbp-od-a,actions=in_port
'''

RETURN = r'''
flows:
  description: The flow table after the run, as dumped.
  returned: always
  type: list
  elements: str
  sample: ['in_port="kbp-od-a" actions=IN_PORT']
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kbypass.testbed.plugins.module_utils.ovs import FlowsManager, OvsCli, OvsError
from ansible_collections.kbypass.testbed.plugins.module_utils.commands import command_runner
from ansible_collections.kbypass.testbed.plugins.module_utils.module_exit import run_and_exit


def main():
    module = AnsibleModule(
        argument_spec=dict(
            bridge=dict(type='str', required=True),
            flows=dict(type='list', elements='str', required=True),
        ),
        supports_check_mode=True,
    )
    manager = FlowsManager(OvsCli(command_runner(module)), module.params['bridge'], module.params['flows'],
                           check_mode=module.check_mode)
    run_and_exit(module, manager.ensure, OvsError)


if __name__ == '__main__':
    main()
