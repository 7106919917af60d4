#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
---
module: host_state
short_description: Record the host state found before the collection changes it, read it back, forget it once given back
version_added: 0.1.0
description:
  - Reads and writes the collection's ledger, C(/var/lib/kbypass-state) by default (O(state_dir)), which
    holds one JSON object per owner in C(<owner>.json), key -> the value the host had before the
    collection first changed it. The modules record their own state there (M(kbypass.testbed.dpdk_devbind) as owner
    C(devbind), M(kbypass.testbed.sriov_vf) as C(sriov), M(kbypass.testbed.ovs_service) as
    C(openvswitch)); this module is for what roles change with other modules (the dpdk role's
    C(hugepages) and C(bpffs)) and for teardown, which reads what is left to give back.
  - O(state=recorded) keeps the first value recorded for a key; a later run, which finds the host
    changed already, does not replace it.
  - O(state=forgotten) drops a key once what it recorded is given back; the owner's file goes with its
    last key, the directory stays.
  - O(state=query) returns the records. A record left by an earlier version in
    C(/var/lib/kbypass/devbind.json) is moved into the ledger (owner C(devbind)) then.
  - Every write replaces the file atomically.
author: kbypass.testbed maintainers (@kbypass)
options:
  state:
    description:
      - V(recorded) records O(value) for O(key) of O(owner) unless a value is recorded already.
      - V(forgotten) drops O(key) of O(owner).
      - V(query) changes nothing but moving an earlier version's record into the ledger.
    type: str
    choices: [recorded, forgotten, query]
    default: query
  owner:
    description:
      - Who changed the host, the name of its file in the ledger (letters, digits, C(_) and C(-)),
        for example V(hugepages).
      - Required with O(state=recorded) and O(state=forgotten); with O(state=query), only that owner's
        records are returned (all owners' when omitted).
    type: str
  key:
    description:
      - What was changed, for example the page size V(2M) or a mount point. Required with
        O(state=recorded) and O(state=forgotten).
    type: str
  value:
    description:
      - What the host had before the change (any JSON value). Required with O(state=recorded).
    type: raw
  state_dir:
    description:
      - Directory of the ledger.
    type: path
    default: /var/lib/kbypass-state
extends_documentation_fragment:
  - kbypass.testbed.attributes
attributes:
  check_mode:
    support: full
    details: Reports what would be recorded or forgotten and writes nothing.
  diff_mode:
    support: full
    details: The records of the owners concerned, before and after.
notes:
  - The benchmark's teardown gives back every device left in the C(devbind) records and then reports
    any file left in O(state_dir) as host state not given back.
'''

EXAMPLES = r'''
- name: Read the huge page reservation
  kbypass.testbed.hugepages:
    size: 2M
    count: 1024
  check_mode: true
  register: hp

- name: Record the reservation found before the first change (later runs keep it)
  kbypass.testbed.host_state:
    state: recorded
    owner: hugepages
    key: 2M
    value: {count: "{{ hp.before.count }}"}

- name: Read what is left to give back
  kbypass.testbed.host_state:
  register: ledger

- name: Forget the reservation once it is given back
  kbypass.testbed.host_state:
    state: forgotten
    owner: hugepages
    key: 2M
'''

RETURN = r'''
directory:
  description: The ledger's directory.
  returned: always
  type: str
  sample: /var/lib/kbypass-state
files:
  description: Every name in the ledger's directory (after the run), owners' files and anything else.
  returned: always
  type: list
  elements: str
  sample: ["devbind.json", "hugepages.json"]
records:
  description: Owner -> key -> value, of O(owner) or of every owner, after the run (owners without records left out).
  returned: always
  type: dict
  sample: {"hugepages": {"2M": {"count": 0}}, "devbind": {"0000:01:00.0": {"driver": "e1000e", "netdevs": ["spare0"]}}}
recorded:
  description:
    - With O(state=recorded), the value kept for O(key) (the first one recorded).
    - With O(state=forgotten), the value dropped (null when there was none).
  returned: when state is recorded or forgotten
  type: raw
  sample: {"count": 0}
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kbypass.testbed.plugins.module_utils.ledger import STATE_DIR, LedgerError, LedgerTask
from ansible_collections.kbypass.testbed.plugins.module_utils.module_exit import run_and_exit

DEFAULT_ROOT = ''


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type='str', choices=['recorded', 'forgotten', 'query'], default='query'),
            owner=dict(type='str'),
            key=dict(type='str', no_log=False),
            value=dict(type='raw'),
            state_dir=dict(type='path', default=STATE_DIR),
        ),
        required_if=[('state', 'recorded', ('owner', 'key', 'value')), ('state', 'forgotten', ('owner', 'key'))],
        supports_check_mode=True,
    )
    task = LedgerTask(module.params, module.check_mode, root=DEFAULT_ROOT)
    run_and_exit(module, task.ensure, (LedgerError, ValueError))


if __name__ == '__main__':
    main()
