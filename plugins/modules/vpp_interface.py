#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
---
module: vpp_interface
short_description: Admin state and rx-mode of a VPP interface
version_added: 0.2.0
description:
  - Sets the admin state (C(sw_interface_set_flags)) and the rx-mode of every rx queue (C(sw_interface_set_rx_mode))
    of an interface, where they differ from O(admin_up) and O(rx_mode). An option left out is not changed.
  - VPP refuses rx-mode V(interrupt) on a vhost-user interface whose peer has not connected yet; the error says so
    in VPP's words.
author: kbypass.testbed maintainers (@kbypass)
extends_documentation_fragment:
  - kbypass.testbed.attributes
  - kbypass.testbed.vpp
options:
  name:
    description: Interface name as VPP names it.
    type: str
    required: true
  admin_up:
    description: Admin state up (V(true)) or down.
    type: bool
  rx_mode:
    description: rx-mode of every rx queue.
    type: str
    choices: [adaptive, interrupt, polling]
attributes:
  check_mode:
    support: full
    details: Runs only the dumps.
  diff_mode:
    support: full
    details: Admin state and rx-mode before and after.
'''

EXAMPLES = r'''
- name: Up, polling
  kbypass.testbed.vpp_interface:
    name: VirtualEthernet0/0/0
    admin_up: true
    rx_mode: polling
    api_dir: /opt/vpp/share/vpp/api
'''

RETURN = r'''
interface:
  description: The interface after the run (name, sw_if_index, admin_up, rx_mode, link_up).
  returned: always
  type: dict
actions:
  description: What was (or would be) done.
  returned: always
  type: list
  elements: str
vpp_messages:
  description: Operation -> the API message used.
  returned: always
  type: dict
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kbypass.testbed.plugins.module_utils.vpp import (
    CONNECTION_SPEC, RX_MODES, InterfaceManager, run_with_client,
)


def main(transport=None):
    module = AnsibleModule(
        argument_spec=dict(CONNECTION_SPEC,
                           name=dict(type='str', required=True),
                           admin_up=dict(type='bool'),
                           rx_mode=dict(type='str', choices=sorted(RX_MODES))),
        supports_check_mode=True,
    )
    p = module.params
    run_with_client(module, lambda client: InterfaceManager(client, p['name'], p['admin_up'], p['rx_mode'],
                                                            module.check_mode), transport)


if __name__ == '__main__':
    main()
