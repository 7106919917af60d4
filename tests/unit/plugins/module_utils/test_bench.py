# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""bench.CaseRunner against commands and outputs recorded on a real host (replay.py records them)."""

from __future__ import annotations

import glob
import json
import os

import pytest

from ansible_collections.kbypass.testbed.plugins.module_utils.bench import CaseRunner

HERE = os.path.dirname(__file__)
FIXTURES = sorted(glob.glob(os.path.join(HERE, '..', '..', 'fixtures', 'bench', '*.json')))

from .replay import ReplaySpawner  # noqa: E402  pylint: disable=wrong-import-position


def load(path):
    with open(path) as handle:
        return json.load(handle)


@pytest.mark.parametrize('path', FIXTURES, ids=[os.path.basename(p)[:-5] for p in FIXTURES])
def test_replayed_case_gives_the_recorded_metrics(path, tmp_path):
    rec = load(path)
    spawner = ReplaySpawner(rec['events'])
    record = CaseRunner(rec['case'], str(tmp_path), 'run1', 'lab1', spawner=spawner).run()
    assert record['status'] == 'ok', record['error']
    recorded = dict(rec['record']['metrics'])
    got = dict(record['metrics'])
    # CPU percentages depend on wall-clock time, which the replay fakes
    for key in ('cpu_a_pct', 'cpu_b_pct'):
        assert key in got
        recorded.pop(key, None)
        got.pop(key)
    assert got == pytest.approx(recorded)
    case = load(os.path.join(str(tmp_path), rec['case']['case_id'], 'case.json'))
    assert case['conditions']['path'] == rec['case']['path'] and case['schema'] == 1 and case['host'] == 'lab1'
    assert case['conditions']['topology'] == rec['case']['topology']
    assert sorted(os.path.basename(f) for f in record['files']) == sorted(
        os.listdir(os.path.join(str(tmp_path), rec['case']['case_id'])))
    assert len(spawner.used) == len(rec['events'])   # every recorded command was issued


def test_container_not_running_is_a_recorded_failure(tmp_path):
    rec = load(FIXTURES[0])
    events = [dict(rec['events'][0], rc=1, out='', err='kbp-br-b doesn\'t exist\n')]
    record = CaseRunner(rec['case'], str(tmp_path), 'run1', 'lab1', spawner=ReplaySpawner(events)).run()
    assert record['status'] == 'failed'
    assert 'container kbp-br-b is not running' in record['error'] and record['headline'].startswith('FAILED')
    case = load(os.path.join(str(tmp_path), rec['case']['case_id'], 'case.json'))
    assert case['status'] == 'failed' and case['metrics'] == {}


def test_receiver_that_never_opens_its_socket_fails_the_case(tmp_path):
    rec = load([p for p in FIXTURES if 'icperf.udp.tput' in p][0])
    events = [dict(e) for e in rec['events']]
    for event in events:
        if event['kind'] == 'read':
            event['out'] = '  sl  local_address rem_address   st\n'
    spawner = ReplaySpawner(events + [dict(e) for e in events if e['kind'] == 'read'] * 200)
    runner = CaseRunner(rec['case'], str(tmp_path), 'run1', 'lab1', spawner=spawner, ready_timeout=2)
    record = runner.run()
    assert record['status'] == 'failed' and 'was not ready within 2 s' in record['error']
