# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every data path of plan.DATA_PATHS has a role with the entry points of docs/data-paths.md, each
in its argument_specs, and the benchmark role passes it its containers and MTU."""

from __future__ import annotations

import os

import pytest
import yaml

from .params import plan_params
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
def test_every_variable_the_benchmark_hands_a_role_is_in_its_argument_specs(path):
    """tasks/path.yml hands a role what the plan's path_vars say (containers, mtu and the registry's
    role_vars); each of them must be an option the role documents for every entry point."""
    plan = P.make_plan(plan_params(paths=[path], parents={'sriov': 'pf0'}), [0, 1, 2, 3])
    entry = plan['path_vars'][path]
    assert entry['role'] == 'kbypass.testbed.' + path
    assert {'%s_containers' % path, '%s_mtu' % path} <= set(entry['vars'])
    specs = _yaml('roles', path, 'meta', 'argument_specs.yml')['argument_specs']
    for var in entry['vars']:
        for point in ENTRY_POINTS:
            assert var in specs[point]['options'], (path, point, var)


def test_the_benchmark_hands_roles_the_plan_without_knowing_them():
    """path.yml names no path and no role variable: all of it comes from bench_plan's path_vars."""
    with open(os.path.join(ROOT, 'roles', 'benchmark', 'tasks', 'path.yml')) as handle:
        text = handle.read()
    for path in P.DATA_PATHS:
        assert path + '_' not in text, path
