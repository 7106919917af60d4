#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
---
module: vpp_bridge_domain
short_description: A VPP L2 bridge domain and exactly its members
version_added: 0.2.0
description:
  - Creates the bridge domain O(bd_id) (C(bridge_domain_add_del), newest version) with its flags and makes
    O(members) exactly its members (C(sw_interface_set_l2_bridge)); members not listed leave it.
  - A domain whose flags differ is deleted and created again. O(state=absent) takes every member out and deletes it.
author: kbypass.testbed maintainers (@kbypass)
extends_documentation_fragment:
  - kbypass.testbed.attributes
  - kbypass.testbed.vpp
options:
  bd_id:
    description: Bridge domain id (not 0, VPP's default domain).
    type: int
    required: true
  members:
    description: Interface names (as VPP names them, e.g. C(VirtualEthernet0/0/0), C(memif1/0)).
    type: list
    elements: str
    default: []
  learn:
    description: MAC learning.
    type: bool
    default: true
  flood:
    description: Broadcast and multicast flooding.
    type: bool
    default: true
  uu_flood:
    description: Unknown unicast flooding.
    type: bool
    default: true
  forward:
    description: Forwarding.
    type: bool
    default: true
  state:
    description: Whether the domain exists.
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    support: full
    details: Runs only the dumps.
  diff_mode:
    support: full
    details: Domain flags and members before and after.
'''

EXAMPLES = r'''
- name: Both containers' ports in one domain
  kbypass.testbed.vpp_bridge_domain:
    bd_id: 10
    members: [VirtualEthernet0/0/0, VirtualEthernet0/0/1]
    api_dir: /opt/vpp/share/vpp/api
'''

RETURN = r'''
bridge_domain:
  description: The domain after the run (bd_id, members, learn, flood, uu_flood, forward), null when absent.
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
    CONNECTION_SPEC, BridgeDomainManager, run_with_client,
)


def main(transport=None):
    module = AnsibleModule(
        argument_spec=dict(CONNECTION_SPEC,
                           bd_id=dict(type='int', required=True),
                           members=dict(type='list', elements='str', default=[]),
                           learn=dict(type='bool', default=True),
                           flood=dict(type='bool', default=True),
                           uu_flood=dict(type='bool', default=True),
                           forward=dict(type='bool', default=True),
                           state=dict(type='str', choices=['present', 'absent'], default='present')),
        supports_check_mode=True,
    )
    p = module.params
    if p['bd_id'] == 0:
        module.fail_json(msg='bd_id 0 is VPP\'s default bridge domain; use an id from 1')
    run_with_client(module, lambda client: BridgeDomainManager(
        client, p['bd_id'], p['members'], learn=p['learn'], flood=p['flood'], uu_flood=p['uu_flood'],
        forward=p['forward'], state=p['state'], check_mode=module.check_mode), transport)


if __name__ == '__main__':
    main()
