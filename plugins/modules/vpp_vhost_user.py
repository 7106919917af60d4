#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
---
module: vpp_vhost_user
short_description: A vhost-user interface of VPP, known by its socket
version_added: 0.2.0
description:
  - Creates (C(create_vhost_user_if), the newest version VPP offers) or deletes the vhost-user interface
    whose socket is O(socket). In server mode (the default, the study's setup) VPP creates the socket and the
    container's virtio_user connects to it.
  - An interface on that socket in the other mode is deleted and created again.
author: kbypass.testbed maintainers (@kbypass)
extends_documentation_fragment:
  - kbypass.testbed.attributes
  - kbypass.testbed.vpp
options:
  socket:
    description: Path of the vhost-user socket.
    type: path
    required: true
  server:
    description: VPP is the socket's server (V(true)) or connects to it (V(false)).
    type: bool
    default: true
  mac:
    description: MAC address of VPP's side; random when omitted.
    type: str
  tag:
    description: Tag of the interface (C(show interface) shows it).
    type: str
    default: ''
  state:
    description: Whether the interface exists.
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    support: full
    details: Runs only the dumps.
  diff_mode:
    support: full
    details: The interface (name, socket, mode) before and after.
'''

EXAMPLES = r'''
- name: A vhost-user server port for container kbp-vp-a
  kbypass.testbed.vpp_vhost_user:
    socket: /run/kbypass/vpp/kbp-vp-a.sock
    api_dir: /opt/vpp/share/vpp/api
  register: port
'''

RETURN = r'''
interface:
  description: The interface after the run (name, sw_if_index, socket, server), null when absent.
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
    CONNECTION_SPEC, VhostUserManager, run_with_client,
)


def main(transport=None):
    module = AnsibleModule(
        argument_spec=dict(CONNECTION_SPEC,
                           socket=dict(type='path', required=True),
                           server=dict(type='bool', default=True),
                           mac=dict(type='str'),
                           tag=dict(type='str', default=''),
                           state=dict(type='str', choices=['present', 'absent'], default='present')),
        supports_check_mode=True,
    )
    p = module.params
    run_with_client(module, lambda client: VhostUserManager(client, p['socket'], p['server'], p['mac'], p['tag'],
                                                            p['state'], module.check_mode), transport)


if __name__ == '__main__':
    main()
