#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
---
module: link
short_description: Manage one Linux network link (bridge, veth pair, macvlan) over netlink
version_added: 0.1.0
description:
  - Creates, fixes or deletes one network link in the namespace the module runs in, with pyroute2.
  - With O(state=present) a missing link is created; an existing one has its MTU, up/down state,
    master and MAC address fixed when they differ. Only the options given are managed.
  - A link of the same name but another kind is never replaced; the module fails and says so.
  - O(state=absent) deletes the link and does nothing when it is missing. Deleting either end of a
    veth pair deletes both ends.
author: kbypass.testbed maintainers (@kbypass)
extends_documentation_fragment:
  - kbypass.testbed.attributes
requirements:
  - pyroute2 (0.7 or later; tested with 0.9)
options:
  name:
    description:
      - Name of the link. At most 15 characters, no V(/), V(:) or whitespace.
    type: str
    required: true
  kind:
    description:
      - Link type. Required with O(state=present).
      - With O(state=absent) it is optional; when given, a link of that name but another kind is
        not deleted (the module fails instead).
      - V(device) is an existing NIC of any kind (a bridge's uplink, a macvlans' parent). It is never
        created nor deleted; its O(up), O(mtu), O(master) and O(address) are managed.
    type: str
    choices: [bridge, veth, macvlan, device]
  state:
    description:
      - Whether the link should exist.
    type: str
    choices: [present, absent]
    default: present
  peer:
    description:
      - Name of the other end of a veth pair, created in the same namespace.
      - Required for O(kind=veth), refused for other kinds.
      - O(up) and O(mtu) apply to both ends; O(master) and O(address) only to O(name); O(peer_address)
        only to the peer.
      - When the peer has been moved to another namespace (for example into a container) it is
        no longer checked or changed.
    type: str
  parent:
    description:
      - Lower link of a macvlan. Required for O(kind=macvlan) and must already exist.
      - The lower link must not be a bridge port; with a veth pair, use the end that is not enslaved.
      - The parent of an existing macvlan cannot be changed; delete and recreate it.
    type: str
  macvlan_mode:
    description:
      - Mode of a macvlan. Changed in place on an existing macvlan when it differs.
      - Ignored for other kinds.
    type: str
    choices: [bridge, private, vepa, passthru]
    default: bridge
  mtu:
    description:
      - MTU of the link (and of the veth peer). Left as it is when omitted.
    type: int
  up:
    description:
      - Whether the link is administratively up. For a veth pair, both ends.
    type: bool
    default: true
  master:
    description:
      - Bridge to enslave the link to. It must already exist.
      - Left as it is when omitted; an empty string releases the link from its master.
    type: str
  address:
    description:
      - Unicast MAC address of the link, for example V(02:00:00:00:00:01). Left as it is when omitted.
    type: str
  peer_address:
    description:
      - Unicast MAC address of the other end of a veth pair (O(kind=veth) only). Left as it is when omitted.
      - Like O(mtu) and O(up) for the peer, it is only checked and changed while the peer is in the
        same namespace.
      - When given, the diff shows the peer's MAC address as C(peer_address).
    type: str
attributes:
  check_mode:
    support: full
    details: Computes C(changed) and the diff from the current state without changing anything.
  diff_mode:
    support: full
    details: Before and after dicts of kind, mtu, up, master, address, peer, parent and macvlan_mode (and peer_address when given).
notes:
  - Needs root (CAP_NET_ADMIN) to change anything.
  - The kernel on the testbed has no C(dummy) link type; a macvlan parent can be one end of a veth pair.
  - A bridge takes the smallest MTU of its ports unless its own MTU was set.
'''

EXAMPLES = r'''
- name: A bridge for the containers
  kbypass.testbed.link:
    name: kbp-br0
    kind: bridge
    mtu: 1500

- name: A veth pair with one end on the bridge
  kbypass.testbed.link:
    name: kbp-v0
    kind: veth
    peer: kbp-v0p
    master: kbp-br0

- name: A macvlan on the free end of the pair
  kbypass.testbed.link:
    name: kbp-mv0
    kind: macvlan
    parent: kbp-v0p
    macvlan_mode: bridge
    address: "02:00:00:00:00:10"

- name: A veth pair with a chosen MAC address on each end
  kbypass.testbed.link:
    name: kbp-xd-a
    kind: veth
    peer: kbp-xd-b
    address: "02:6b:62:05:00:01"
    peer_address: "02:6b:62:05:00:02"

- name: Remove the pair (deleting one end deletes both)
  kbypass.testbed.link:
    name: kbp-v0
    state: absent
'''

RETURN = r'''
link:
  description:
    - State of the link after the module ran; empty when it does not exist.
    - In check mode, values that cannot be known before creation are null.
  returned: always
  type: dict
  contains:
    kind:
      description: Link type (V(bridge), V(veth), V(macvlan), or null for a physical device).
      type: str
      sample: veth
    mtu:
      description: MTU.
      type: int
      sample: 1500
    up:
      description: Whether the link is administratively up.
      type: bool
      sample: true
    master:
      description: Name of the bridge the link is enslaved to, or null.
      type: str
      sample: kbp-br0
    address:
      description: MAC address, lower case.
      type: str
      sample: "02:00:00:00:00:10"
    peer:
      description: Name of the other end of a veth pair when it is in the same namespace, else null.
      type: str
      sample: kbp-v0p
    parent:
      description: Name of the lower link of a macvlan, else null.
      type: str
      sample: kbp-v0p
    macvlan_mode:
      description: Mode of a macvlan, else null.
      type: str
      sample: bridge
actions:
  description: Netlink requests sent (or, in check mode, that would have been sent), in order.
  returned: always
  type: list
  elements: dict
  sample: [{"command": "add", "ifname": "kbp-br0", "kind": "bridge"}, {"command": "set", "index": 7, "state": "up"}]
'''

import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.kbypass.testbed.plugins.module_utils.module_exit import run_and_exit
from ansible_collections.kbypass.testbed.plugins.module_utils.netlink import (
    KINDS, MACVLAN_MODES, LinkError, LinkManager)

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
            name=dict(type='str', required=True),
            kind=dict(type='str', choices=list(KINDS)),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            peer=dict(type='str'),
            parent=dict(type='str'),
            macvlan_mode=dict(type='str', choices=list(MACVLAN_MODES), default='bridge'),
            mtu=dict(type='int'),
            up=dict(type='bool', default=True),
            master=dict(type='str'),
            address=dict(type='str'),
            peer_address=dict(type='str'),
        ),
        required_if=[('state', 'present', ('kind',))],
        supports_check_mode=True,
    )
    if not HAS_PYROUTE2:
        module.fail_json(msg=missing_required_lib('pyroute2'), exception=PYROUTE2_IMP_ERR)

    ipr = IPRoute()
    try:
        manager = LinkManager(ipr, check_mode=module.check_mode)
        run_and_exit(module, lambda: manager.ensure(module.params), LinkError)
    finally:
        ipr.close()


if __name__ == '__main__':
    main()
