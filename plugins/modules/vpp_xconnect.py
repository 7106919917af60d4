#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
---
module: vpp_xconnect
short_description: VPP L2 cross-connects (an interface to itself for a loop)
version_added: 0.2.0
description:
  - Cross-connects each O(pairs) rx interface to its tx interface (C(sw_interface_set_l2_xconnect)); what comes in
    on rx goes out on tx. An interface connected to itself sends its traffic back (the loop topology).
  - O(state=absent) puts each rx interface back in L3 mode.
author: kbypass.testbed maintainers (@kbypass)
extends_documentation_fragment:
  - kbypass.testbed.attributes
  - kbypass.testbed.vpp
options:
  pairs:
    description: Cross-connects, each C({rx, tx}) interface names.
    type: list
    elements: dict
    required: true
    suboptions:
      rx:
        description: Receiving interface.
        type: str
        required: true
      tx:
        description: Interface its traffic leaves on (for O(state=absent), ignored).
        type: str
        required: true
  state:
    description: Whether the cross-connects exist.
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    support: full
    details: Runs only the dumps.
  diff_mode:
    support: full
    details: rx -> tx of each pair before and after.
'''

EXAMPLES = r'''
- name: Loop the port of container a back to itself
  kbypass.testbed.vpp_xconnect:
    pairs:
      - {rx: VirtualEthernet0/0/0, tx: VirtualEthernet0/0/0}
    api_dir: /opt/vpp/share/vpp/api
'''

RETURN = r'''
xconnects:
  description: rx interface -> its tx interface after the run (null when not cross-connected).
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

from ansible_collections.kbypass.testbed.plugins.module_utils.vpp import CONNECTION_SPEC, XconnectManager, run_with_client


def main(transport=None):
    module = AnsibleModule(
        argument_spec=dict(CONNECTION_SPEC,
                           pairs=dict(type='list', elements='dict', required=True,
                                      options=dict(rx=dict(type='str', required=True),
                                                   tx=dict(type='str', required=True))),
                           state=dict(type='str', choices=['present', 'absent'], default='present')),
        supports_check_mode=True,
    )
    p = module.params
    run_with_client(module, lambda client: XconnectManager(client, p['pairs'], p['state'], module.check_mode), transport)


if __name__ == '__main__':
    main()
