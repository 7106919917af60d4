# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r'''
name: data_paths
author: kbypass.testbed maintainers (@kbypass)
short_description: Read the collection's registry of data paths
description:
  - Returns what the data-path registry (C(plugins/module_utils/paths.py)) declares, so that playbooks
    and roles need not list the paths themselves.
options:
  _terms:
    description:
      - C(nics) -- one mapping, path name -> the value of the variable naming that path's host NIC
        (its registry C(uplink), e.g. C(macvlan_parent)) for the current host, C('') where it is not set.
      - C(registry) -- one mapping, path name -> its registry entry.
    required: true
    type: list
    elements: str
'''

EXAMPLES = r'''
- name: The NIC of every path that has one
  ansible.builtin.debug:
    msg: "{{ lookup('kbypass.testbed.data_paths', 'nics') }}"
'''

RETURN = r'''
_raw:
  description: One mapping per term.
  type: list
  elements: dict
'''

from ansible.errors import AnsibleError
from ansible.plugins.lookup import LookupBase

from ansible_collections.kbypass.testbed.plugins.module_utils import paths


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        variables = variables or {}
        out = []
        for term in terms:
            if term == 'nics':
                nics = {}
                for path, var in paths.uplink_vars().items():
                    value = variables.get(var, '')
                    nics[path] = self._templar.template(value) if value else ''
                out.append(nics)
            elif term == 'registry':
                out.append(dict((name, dict(entry)) for name, entry in paths.DATA_PATHS.items()))
            else:
                raise AnsibleError("kbypass.testbed.data_paths: unknown term %r; use 'nics' or 'registry'" % term)
        return out
