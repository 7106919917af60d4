# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r'''
name: bench_parameters
author: kbypass.testbed maintainers (@kbypass)
short_description: The benchmark's parameters, each as set or by its default
description:
  - The benchmark role's parameters have one table, the C(main) entry point of
    C(roles/benchmark/meta/argument_specs.yml) (name, type, default, description). This lookup returns one
    mapping, every parameter of that table -> the value the host's variables give it, or the table's default.
  - Values are checked and converted against the table's types; a wrong one fails naming the variable.
  - With the term C(defaults), every parameter by its default, whatever the variables say (teardown).
options:
  _terms:
    description: Nothing, or C(defaults).
    type: list
    elements: str
    required: false
'''

EXAMPLES = r'''
- name: Every parameter of the run
  ansible.builtin.debug:
    msg: "{{ lookup('kbypass.testbed.bench_parameters') }}"
'''

RETURN = r'''
_raw:
  description: One mapping, parameter name -> value.
  type: list
  elements: dict
'''

import os

import yaml

from ansible.errors import AnsibleError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.lookup import LookupBase

try:  # ansible-core 2.19: only trusted strings are templates
    from ansible.template import trust_as_template
except ImportError:  # older ansible-core templates every string
    def trust_as_template(value):
        return value

SPEC_FILE = os.path.join(os.path.dirname(__file__), '..', '..', 'roles', 'benchmark', 'meta', 'argument_specs.yml')
SPEC_KEYS = ('type', 'elements', 'choices', 'default')


def parameter_table(path=SPEC_FILE):
    """name -> {type, elements, choices, default, description} of the benchmark role's parameters."""
    with open(path) as handle:
        return yaml.safe_load(handle)['argument_specs']['main']['options']


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        variables = variables or {}
        table = parameter_table()
        values = {}
        if [t for t in terms if t != 'defaults']:
            raise AnsibleError("kbypass.testbed.bench_parameters: unknown term(s) %s; give none or 'defaults'" % terms)
        own = 'defaults' not in terms
        for name, spec in table.items():
            if own and name in variables:
                value = variables[name]
            else:
                # the table's own defaults may be templates (benchmark_results_dir)
                value = spec.get('default')
                value = trust_as_template(value) if isinstance(value, str) else value
            values[name] = self._templar.template(value)
        spec = dict((name, dict((k, v) for k, v in entry.items() if k in SPEC_KEYS and k != 'default'))
                    for name, entry in table.items())
        result = ArgumentSpecValidator(spec).validate(values)
        if result.error_messages:
            raise AnsibleError('benchmark parameters (roles/benchmark/meta/argument_specs.yml): %s'
                               % '; '.join(result.error_messages))
        return [result.validated_parameters]
