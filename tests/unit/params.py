# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The benchmark's parameters for plan tests: their defaults come from the one table
(roles/benchmark/meta/argument_specs.yml), as the role passes them, never from a copy here."""

from __future__ import annotations

import os

import yaml

# the lookup plugin reads the same file; importing it here would load Ansible's controller side into
# the test process, which changes how modules under test report warnings
SPEC_FILE = os.path.join(os.path.dirname(__file__), '..', '..', 'roles', 'benchmark', 'meta', 'argument_specs.yml')

PREFIX = 'benchmark_'
# plan tests add their reference tools themselves
NO_REFERENCE = {'reference_tools': [], 'reference_paths': []}


def parameter_table():
    with open(SPEC_FILE) as handle:
        return yaml.safe_load(handle)['argument_specs']['main']['options']


def plan_params(**given):
    """make_plan's parameters (names without the benchmark_ prefix): the table's defaults, no
    reference tools, and what the test gives."""
    out = dict((name[len(PREFIX):], spec.get('default')) for name, spec in parameter_table().items())
    out.update(NO_REFERENCE)
    out.update(given)
    return out


def module_parameters(**given):
    """bench_plan's parameters option: the same, by variable name."""
    return dict((PREFIX + name, value) for name, value in plan_params(**given).items())
