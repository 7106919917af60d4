#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
---
module: vpp_memif
short_description: A memif socket of VPP and the memif interface on it
version_added: 0.2.0
description:
  - Gives VPP the socket file O(socket) under the id O(socket_id) (C(memif_socket_filename_add_del), newest version)
    and creates the memif interface O(id) on it (C(memif_create), newest version). As master VPP listens on the socket;
    the container's DPDK net_memif connects as client.
  - A socket id naming another file, or an interface of another role, ring or buffer size or MAC, is deleted and
    created again. O(state=absent) deletes the interface and the socket id (VPP does not remove the file).
author: kbypass.testbed maintainers (@kbypass)
extends_documentation_fragment:
  - kbypass.testbed.attributes
  - kbypass.testbed.vpp
options:
  socket:
    description: Path of the memif socket file.
    type: path
    required: true
  socket_id:
    description: VPP's id of the socket (not 0, which is VPP's default socket).
    type: int
    required: true
  id:
    description: Id of the memif interface on the socket (the peer's C(id=)).
    type: int
    default: 0
  role:
    description: VPP's role; the master listens on the socket.
    type: str
    choices: [master, slave]
    default: master
  mac:
    description: MAC address of VPP's side; random when omitted.
    type: str
  ring_size:
    description: Ring entries (a power of 2).
    type: int
    default: 1024
  buffer_size:
    description: Buffer size in bytes.
    type: int
    default: 2048
  state:
    description: Whether the interface and the socket id exist.
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    support: full
    details: Runs only the dumps.
  diff_mode:
    support: full
    details: Socket and interface before and after.
'''

EXAMPLES = r'''
- name: A memif master for container kbp-vm-a
  kbypass.testbed.vpp_memif:
    socket: /run/kbypass/vpp_memif/kbp-vm-a.sock
    socket_id: 1
    api_dir: /opt/vpp/share/vpp/api
'''

RETURN = r'''
memif:
  description: The socket file and the interface (name, sw_if_index, id, role, mac, ring_size, buffer_size) after the run.
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

from ansible_collections.kbypass.testbed.plugins.module_utils.vpp import CONNECTION_SPEC, MemifManager, run_with_client


def main(transport=None):
    module = AnsibleModule(
        argument_spec=dict(CONNECTION_SPEC,
                           socket=dict(type='path', required=True),
                           socket_id=dict(type='int', required=True),
                           id=dict(type='int', default=0),
                           role=dict(type='str', choices=['master', 'slave'], default='master'),
                           mac=dict(type='str'),
                           ring_size=dict(type='int', default=1024),
                           buffer_size=dict(type='int', default=2048),
                           state=dict(type='str', choices=['present', 'absent'], default='present')),
        supports_check_mode=True,
    )
    p = module.params
    if p['socket_id'] == 0:
        module.fail_json(msg='socket_id 0 is VPP\'s default socket (/run/vpp/memif.sock); give each socket an id from 1')
    run_with_client(module, lambda client: MemifManager(client, p['socket'], p['socket_id'], p['id'], p['role'], p['mac'],
                                                        p['ring_size'], p['buffer_size'], p['state'],
                                                        module.check_mode), transport)


if __name__ == '__main__':
    main()
