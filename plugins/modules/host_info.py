#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
---
module: host_info
short_description: Record a benchmark host's facts and component versions
version_added: 0.1.0
description:
  - Collects kernel, CPU model and count, online CPUs, NUMA nodes, memory, OS and the versions of
    every data path component, and optionally writes them as C(host.json) of the results schema.
author: kbypass.testbed maintainers (@kbypass)
extends_documentation_fragment:
  - kbypass.testbed.attributes
  - kbypass.testbed.attributes.no_diff
options:
  host:
    description: Inventory name of the host.
    type: str
    required: true
  dest:
    description: Where to write host.json; nothing is written when omitted.
    type: path
  versions:
    description: Extra components, name -> argv printing its version (added to the built-in list).
    type: dict
    default: {}
attributes:
  check_mode:
    support: partial
    details: The facts are collected (the version commands run) and O(dest) is not written; C(changed) is false
      even when O(dest) would change.
'''

EXAMPLES = r'''
- name: Record host facts
  kbypass.testbed.host_info:
    host: "{{ inventory_hostname }}"
    dest: /var/lib/kbypass/runs/RUN/host.json
    versions:
      icperf: [/opt/kbypass/bin/icperf, --version]
'''

RETURN = r'''
info:
  description: The host facts, as written to host.json.
  returned: success
  type: dict
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kbypass.testbed.plugins.module_utils.commands import command_runner
from ansible_collections.kbypass.testbed.plugins.module_utils.hostinfo import HostInfo, write_json_if_changed


def main():
    module = AnsibleModule(
        argument_spec=dict(
            host=dict(type='str', required=True),
            dest=dict(type='path'),
            versions=dict(type='dict', default={}),
        ),
        supports_check_mode=True,
    )
    info = HostInfo(command_runner(module)).collect(module.params['host'], module.params['versions'])
    changed = False
    if module.params['dest'] and not module.check_mode:
        changed = write_json_if_changed(module.params['dest'], info)
    module.exit_json(changed=changed, info=info)


if __name__ == '__main__':
    main()
