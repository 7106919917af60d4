# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every data path of plan.DATA_PATHS has a role with the entry points of docs/data-paths.md, each
in its argument_specs, and the benchmark role passes it its containers and MTU."""

from __future__ import annotations

import os

import pytest
import yaml

from ansible_collections.kbypass.testbed.plugins.module_utils import plan as P

ROOT = os.path.join(os.path.dirname(__file__), '..', '..')
ENTRY_POINTS = ('main', 'install', 'configure', 'attach', 'start', 'stop', 'teardown')


def _yaml(*parts):
    with open(os.path.join(ROOT, *parts)) as handle:
        return yaml.safe_load(handle)


@pytest.mark.parametrize('path', list(P.DATA_PATHS))
def test_every_path_has_a_role_with_every_entry_point(path):
    specs = _yaml('roles', path, 'meta', 'argument_specs.yml')['argument_specs']
    for entry in ENTRY_POINTS:
        assert os.path.isfile(os.path.join(ROOT, 'roles', path, 'tasks', entry + '.yml')), (path, entry)
        assert entry in specs, (path, entry)
        assert '%s_containers' % path in specs[entry]['options'], (path, entry)


@pytest.mark.parametrize('path', list(P.DATA_PATHS))
def test_the_benchmark_passes_every_path_its_containers_and_mtu(path):
    role_vars = _yaml('roles', 'benchmark', 'tasks', 'path.yml')[0]['vars']
    assert role_vars['%s_containers' % path] == '{{ benchmark_pc }}'
    assert role_vars['%s_mtu' % path] == '{{ benchmark_mtu }}'


def test_the_benchmark_passes_every_uplink_to_the_plan():
    task = [t for t in _yaml('roles', 'benchmark', 'tasks', 'plan.yml') if 'kbypass.testbed.bench_plan' in t][0]
    parents = task['kbypass.testbed.bench_plan']['parents']
    assert parents == dict((path, "{{ %s | default('') }}" % var) for path, var in P.UPLINK_VARS.items())
