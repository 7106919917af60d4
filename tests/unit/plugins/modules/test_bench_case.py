# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import glob
import json
import os

from ansible_collections.kbypass.testbed.plugins.module_utils.bench import CaseRunner
from ansible_collections.kbypass.testbed.plugins.modules import bench_case

from ...harness import ReplaySpawner

FIXTURE = sorted(glob.glob(os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures', 'bench',
                                        '*icperf.udp.tput*.json')))[0]


def test_runs_a_recorded_case(run_module, tmp_path, monkeypatch):
    rec = json.load(open(FIXTURE))

    def runner(*args, **kwargs):
        return CaseRunner(*args, spawner=ReplaySpawner(rec['events']), **kwargs)

    monkeypatch.setattr(bench_case, 'CaseRunner', runner)
    out = run_module(bench_case.main, {'case': rec['case'], 'run_dir': str(tmp_path), 'run_id': 'r1', 'host': 'h1'})
    assert out['changed'] is True and out['status'] == 'ok' and out['headline'].startswith('rx ')
    assert out['metrics']['rx_pps'] > 0 and len(out['files']) == 5


def test_check_mode_runs_nothing(run_module, tmp_path):
    rec = json.load(open(FIXTURE))
    out = run_module(bench_case.main, {'case': rec['case'], 'run_dir': str(tmp_path), 'run_id': 'r1', 'host': 'h1',
                                       '_ansible_check_mode': True})
    assert out['changed'] is False and out['status'] == 'skipped' and os.listdir(str(tmp_path)) == []


def test_a_case_that_is_not_from_the_plan_is_refused(run_module, tmp_path):
    out = run_module(bench_case.main, {'case': {'case_id': 'x'}, 'run_dir': str(tmp_path), 'run_id': 'r1', 'host': 'h1'})
    assert out['failed'] is True and 'case: missing keys tool, mode, backend, size, network' in out['msg']
