#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
---
module: ovs_port
short_description: A port (with one interface) of an Open vSwitch bridge
version_added: 0.1.0
description:
  - Adds the port with its interface type, options and requested OpenFlow port number, or deletes it.
  - A port on another bridge, or with another type or other options, is deleted and added again
    (ovs-vswitchd ignores some option changes of a live interface, e.g. C(vhost-server-path)).
author: kbypass.testbed maintainers (@kbypass)
extends_documentation_fragment:
  - kbypass.testbed.attributes
  - kbypass.testbed.ovs
options:
  bridge:
    description: Bridge of the port (required for V(present)).
    type: str
  name:
    description: Port and interface name.
    type: str
    required: true
  type:
    description: Interface type (empty for a system device, V(dpdkvhostuserclient), V(internal), ...).
    type: str
    default: ""
  options:
    description: Interface C(options) (all of them; values are strings).
    type: dict
    default: {}
  ofport_request:
    description: OpenFlow port number to ask for (keeps flows valid when the port is added again).
    type: int
  mtu_request:
    description: MTU to ask for (C(mtu_request) of the interface).
    type: int
  state:
    description: Whether the port exists.
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    support: full
    details: Runs only reading ovs-vsctl commands.
  diff_mode:
    support: full
    details: Bridge, type, options and ofport_request before and after.
'''

EXAMPLES = r'''
- name: A vhost-user client port
  kbypass.testbed.ovs_port:
    bridge: kbp-ovsd0
    name: kbp-od-a
    type: dpdkvhostuserclient
    options:
      vhost-server-path: /run/kbypass/ovs_dpdk/kbp-od-a.sock
    ofport_request: 1
'''

RETURN = r'''
port:
  description: The port after the run (name, bridge, type, options, ofport_request, ofport, error), null when absent.
  returned: always
  type: dict
commands:
  description: ovs-vsctl argument lists run (or that would run).
  returned: always
  type: list
  elements: list
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kbypass.testbed.plugins.module_utils.ovs import OvsCli, OvsError, PortManager
from ansible_collections.kbypass.testbed.plugins.module_utils.commands import command_runner
from ansible_collections.kbypass.testbed.plugins.module_utils.module_exit import run_and_exit


def main():
    module = AnsibleModule(
        argument_spec=dict(
            bridge=dict(type='str'),
            name=dict(type='str', required=True),
            type=dict(type='str', default=''),
            options=dict(type='dict', default={}),
            ofport_request=dict(type='int'),
            mtu_request=dict(type='int'),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            wait=dict(type='bool', default=True),
        ),
        required_if=[('state', 'present', ['bridge'])],
        supports_check_mode=True,
    )
    p = module.params
    manager = PortManager(OvsCli(command_runner(module), wait=p['wait']), p['bridge'], p['name'], type=p['type'],
                          options=p['options'], ofport_request=p['ofport_request'], state=p['state'],
                          check_mode=module.check_mode, mtu_request=p['mtu_request'])
    run_and_exit(module, manager.ensure, OvsError)


if __name__ == '__main__':
    main()
