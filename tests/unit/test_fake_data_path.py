# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A data path is one registry entry plus one role: a fake path declared here, with a minimal role
written here, is planned, handed to its role by the benchmark's own tasks/path.yml (a real
ansible-playbook run), run and reported, with no other file of the collection changed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from .params import plan_params
from ansible_collections.kbypass.testbed.plugins.module_utils import bench, plan as P, report

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
ENTRIES = ('main', 'attach', 'start', 'stop', 'teardown')
PARAMS = plan_params(paths=['fake'], modes=['tput', 'lat'], sizes=[64], backends=['udp', 'raw'])


@pytest.fixture
def fake(declare_path):
    return declare_path('fake', 99, 'fk', 'kernel', role='fake_role', label='fake switch')


def test_the_plan_takes_a_new_path_from_the_registry(fake):
    plan = P.make_plan(PARAMS, [0, 1, 2])
    assert plan['paths'] == ['fake'] and 'fake' in plan['known_paths']
    assert sorted(c['case_id'] for c in plan['cases']) == [
        'fake.icperf.raw.lat.s64.r1000.b4', 'fake.icperf.raw.tput.s64.rmax.b32',
        'fake.icperf.udp.lat.s64.r1000.b4', 'fake.icperf.udp.tput.s64.rmax.b32']
    a, b = plan['containers']['fake']
    assert (a['name'], a['ip'], a['mac']) == ('kbp-fk-a', '198.18.99.1', '02:6b:62:63:00:01')
    assert plan['path_vars']['fake'] == {'role': 'fake_role', 'vars': {'fake_containers': [a, b], 'fake_mtu': 1500}}
    # the teardown's plan covers it too, and a wrong name is still refused with the registry's list
    assert 'fake' in plan['all_path_vars']
    with pytest.raises(P.PlanError, match='allowed values: .*fake'):
        P.make_plan(dict(PARAMS, paths=['nope']), [0, 1, 2])


def test_the_runner_drives_icperf_on_a_new_path(fake, tmp_path):
    case = [c for c in P.make_plan(PARAMS, [0, 1, 2])['cases'] if c['case_id'].endswith('raw.tput.s64.rmax.b32')][0]
    runner = bench.CaseRunner(case, str(tmp_path), 'run1', 'host1')
    a, b = runner._icperf_argv('a'), runner._icperf_argv('b')
    assert a[:2] == ['/opt/kbypass/bin/icperf', 'send'] and b[:2] == ['/opt/kbypass/bin/icperf', 'recv']
    assert a[a.index('--dst-ip') + 1] == '198.18.99.2' and a[a.index('--dst-mac') + 1] == '02:6b:62:63:00:02'


def _write_case(run_dir, plan_case, metrics):
    folder = os.path.join(run_dir, 'raw', 'host1', plan_case['case_id'])
    os.makedirs(folder)
    cond = dict((k, plan_case[k]) for k in ('path', 'tool', 'backend', 'mode', 'size', 'rate_pps', 'burst', 'touch',
                                            'duration_s', 'warmup_s', 'topology', 'cores_shared', 'oversubscribed'))
    with open(os.path.join(folder, 'case.json'), 'w') as handle:
        json.dump({'schema': 1, 'run_id': 'run1', 'host': 'host1', 'case_id': plan_case['case_id'],
                   'conditions': cond, 'status': 'ok', 'error': None, 'metrics': metrics, 'files': []}, handle)


def test_the_report_takes_a_new_path(fake, tmp_path):
    plan = P.make_plan(PARAMS, [0, 1, 2])
    run_dir = str(tmp_path / 'run1')
    os.makedirs(os.path.join(run_dir, 'raw', 'host1'))
    with open(os.path.join(run_dir, 'run.json'), 'w') as handle:
        json.dump({'schema': 1, 'run_id': 'run1', 'hosts': ['host1'], 'parameters': {}}, handle)
    with open(os.path.join(run_dir, 'raw', 'host1', 'plan.json'), 'w') as handle:
        json.dump({'schema': 1, 'host': 'host1', 'cases': plan['cases'], 'cross_cases': []}, handle)
    for case in plan['cases']:
        if case['mode'] == 'tput':
            _write_case(run_dir, case, {'tx_pps': 3.0e5, 'rx_pps': 2.5e5, 'loss_ratio': 1 / 6.0})
        else:
            _write_case(run_dir, case, {'rtt_p50_us': 30.0, 'rtt_mean_us': 31.0, 'tx_pps': 1000.0})
    df = report.tidy(report.load_run(run_dir))
    assert set(df['path']) == {'fake'}
    assert set(df[df['metric'] == 'rx_pps']['value']) == {2.5e5}
    result = report.write_report(run_dir)
    assert result['cases'] == 4 and result['failed'] == 0, result['warnings']
    with open(os.path.join(run_dir, 'summary.md')) as handle:
        summary = handle.read()
    assert 'fake' in summary and '0.250' in summary, summary


FAKE_TASK = '''\
---
- name: Write what the role was handed
  ansible.builtin.copy:
    dest: "{{{{ fake_out }}}}/{entry}.json"
    content: "{{{{ {{'entry': '{entry}', 'containers': fake_containers | map(attribute='name') | list,
                    'mtu': fake_mtu}} | to_json }}}}"
    mode: "0644"
'''


@pytest.mark.skipif(not shutil.which('ansible-playbook'), reason='needs ansible-playbook (make deps puts it in .venv)')
def test_the_benchmark_hands_a_new_path_to_its_role(fake, tmp_path):
    """roles/benchmark/tasks/path.yml, unchanged, runs every entry point of the fake path's role."""
    plan = P.make_plan(PARAMS, [0, 1, 2])
    role = tmp_path / 'roles' / 'fake_role' / 'tasks'
    role.mkdir(parents=True)
    for entry in ENTRIES:
        (role / (entry + '.yml')).write_text(FAKE_TASK.format(entry=entry))
    out = tmp_path / 'out'
    out.mkdir()
    playbook = tmp_path / 'play.yml'
    playbook.write_text(textwrap.dedent('''\
        - hosts: localhost
          gather_facts: false
          tasks:
            - name: Every entry point
              ansible.builtin.include_tasks: %s/roles/benchmark/tasks/path.yml
              loop: %s
              loop_control:
                loop_var: benchmark_entry
              vars:
                benchmark_path: fake
        ''' % (ROOT, list(ENTRIES))))
    (tmp_path / 'vars.json').write_text(json.dumps({'benchmark_path_vars': plan['path_vars'], 'fake_out': str(out),
                                                    'ansible_python_interpreter': sys.executable}))
    env = dict(os.environ, ANSIBLE_ROLES_PATH=str(tmp_path / 'roles'), ANSIBLE_LOCALHOST_WARNING='false',
               ANSIBLE_INVENTORY_UNPARSED_WARNING='false', ANSIBLE_NOCOLOR='1')
    proc = subprocess.run(['ansible-playbook', '-i', 'localhost,', '-c', 'local', str(playbook),
                           '-e', '@' + str(tmp_path / 'vars.json')], env=env, capture_output=True, text=True,
                          timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    for entry in ENTRIES:
        with open(str(out / (entry + '.json'))) as handle:
            assert json.load(handle) == {'entry': entry, 'containers': ['kbp-fk-a', 'kbp-fk-b'], 'mtu': 1500}
