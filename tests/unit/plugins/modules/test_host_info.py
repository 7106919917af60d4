# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json

from ansible_collections.kbypass.testbed.plugins.modules import host_info


def test_writes_host_json_once(run_module, tmp_path):
    dest = tmp_path / 'host.json'
    first = run_module(host_info.main, {'host': 'lab1', 'dest': str(dest), 'versions': {'sh': ['sh', '-c', 'echo 1.2.3']}})
    assert first['changed'] is True and first['info']['host'] == 'lab1'
    assert first['info']['versions']['sh'] == '1.2.3' and first['info']['cpu_count'] >= 1
    assert json.loads(dest.read_text())['host'] == 'lab1'
    second = run_module(host_info.main, {'host': 'lab1', 'dest': str(dest), 'versions': {'sh': ['sh', '-c', 'echo 1.2.3']}})
    assert second['changed'] is False


def test_check_mode_writes_nothing(run_module, tmp_path):
    dest = tmp_path / 'host.json'
    out = run_module(host_info.main, {'host': 'lab1', 'dest': str(dest), '_ansible_check_mode': True})
    assert out['changed'] is False and not dest.exists()
