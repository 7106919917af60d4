# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The benchmark's parameters have one table (roles/benchmark/meta/argument_specs.yml, entry point
main): every other place takes them from it, and nothing else gives one a default."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml

from ansible_collections.kbypass.testbed.plugins.modules import bench_plan

from .params import parameter_table

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
ROLE = os.path.join(ROOT, 'roles', 'benchmark')


def _text(*parts):
    with open(os.path.join(ROOT, *parts)) as handle:
        return handle.read()


def test_every_entry_point_documents_the_same_table():
    specs = yaml.safe_load(_text('roles', 'benchmark', 'meta', 'argument_specs.yml'))['argument_specs']
    for entry, spec in specs.items():
        assert spec['options'] == specs['main']['options'], entry
    for name, spec in specs['main']['options'].items():
        assert spec.get('description') and spec.get('type'), name
        assert 'default' in spec, name


def test_no_other_file_gives_a_parameter_a_default():
    names = set(parameter_table())
    assert yaml.safe_load(_text('roles', 'benchmark', 'defaults', 'main.yml')) == {}
    role_vars = yaml.safe_load(_text('roles', 'benchmark', 'vars', 'main.yml'))
    assert not names & set(role_vars)
    # the plan module takes them as one mapping, with no defaults of its own
    assert '    default:' not in bench_plan.DOCUMENTATION.split('parameters:')[1].split('container_config:')[0]
    assert not re.search(r"params\.get\('(%s)'" % '|'.join(n[len('benchmark_'):] for n in names),
                         _text('plugins', 'module_utils', 'plan.py'))


def test_every_parameter_the_tasks_read_is_in_the_table():
    names = set(parameter_table())
    used = set()
    for folder, _dirs, files in os.walk(os.path.join(ROLE, 'tasks')):
        for name in files:
            with open(os.path.join(folder, name)) as handle:
                used |= set(re.findall(r'benchmark_params\.(benchmark_\w+)', handle.read()))
    assert used and used <= names, used - names


def _lookup(tmp_path, extra):
    (tmp_path / 'vars.json').write_text(json.dumps(dict(extra, ansible_python_interpreter=sys.executable)))
    env = dict(os.environ, ANSIBLE_NOCOLOR='1', ANSIBLE_LOCALHOST_WARNING='false',
               ANSIBLE_INVENTORY_UNPARSED_WARNING='false')
    proc = subprocess.run(['ansible', 'localhost', '-i', 'localhost,', '-c', 'local', '-m', 'ansible.builtin.debug',
                           '-a', "msg={{ lookup('kbypass.testbed.bench_parameters') }}",
                           '-e', '@' + str(tmp_path / 'vars.json')], env=env, capture_output=True, text=True, timeout=120,
                          check=False)
    return proc


@pytest.mark.skipif(not shutil.which('ansible'), reason='needs ansible (make deps puts it in .venv)')
def test_the_lookup_gives_each_parameter_as_set_or_by_its_default(tmp_path):
    proc = _lookup(tmp_path, {'benchmark_sizes': ['128'], 'benchmark_duration': '7'})
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    got = yaml.safe_load(proc.stdout[proc.stdout.index('SUCCESS =>') + 10:])['msg']   # 'localhost | SUCCESS => ...'
    table = parameter_table()
    assert set(got) == set(table)
    assert got['benchmark_sizes'] == [128] and got['benchmark_duration'] == 7     # converted to the table's types
    assert got['benchmark_paths'] == table['benchmark_paths']['default']
    assert got['benchmark_results_dir'].endswith('/results') and '{{' not in got['benchmark_results_dir']
    bad = _lookup(tmp_path, {'benchmark_duration': 'soon'})
    assert bad.returncode != 0 and 'benchmark_duration' in bad.stdout + bad.stderr
