#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
---
module: vpp_info
short_description: What the running VPP is (version, plugins, interfaces, API messages)
version_added: 0.2.0
description:
  - Reads, over VPP's binary API, its version, the plugins loaded, the API modules and their versions,
    the message chosen for each operation the collection uses (the newest one it offers in a version the
    collection knows) and the interfaces. Changes nothing.
author: kbypass.testbed maintainers (@kbypass)
extends_documentation_fragment:
  - kbypass.testbed.attributes
  - kbypass.testbed.vpp
options: {}
attributes:
  check_mode:
    support: full
    details: Reads only.
  diff_mode:
    support: none
    details: Changes nothing.
'''

EXAMPLES = r'''
- name: Read VPP
  kbypass.testbed.vpp_info:
    api_dir: /opt/vpp/share/vpp/api
  register: vpp
'''

RETURN = r'''
version:
  description: VPP's version (C(show version)).
  returned: always
  type: str
  sample: 26.06-release
plugins:
  description: Plugins loaded (name, version, description).
  returned: always
  type: list
  elements: dict
api_modules:
  description: API module -> its version.
  returned: always
  type: dict
messages:
  description: Operation -> the message (name_crc) used for it, null when VPP offers none the collection knows.
  returned: always
  type: dict
interfaces:
  description: Interface name -> sw_if_index, admin_up, link_up, mac, dev_type, mtu, tag.
  returned: always
  type: dict
threads:
  description: VPP's threads (id, name, cpu_id).
  returned: always
  type: list
  elements: dict
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kbypass.testbed.plugins.module_utils.vpp import CONNECTION_SPEC, InfoReader, run_with_client


def main(transport=None):
    module = AnsibleModule(argument_spec=dict(CONNECTION_SPEC), supports_check_mode=True)
    run_with_client(module, InfoReader, transport)


if __name__ == '__main__':
    main()
