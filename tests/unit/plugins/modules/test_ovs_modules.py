# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kbypass.testbed.ovs_bridge / ovs_port / ovs_flows / ovs_service driven through main() with recorded runs."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import pytest

from ansible_collections.kbypass.testbed.plugins.modules import ovs_bridge, ovs_flows, ovs_port, ovs_service

from ..module_utils.test_ovs import Replay, load


def _steps():
    return dict((s['name'], s) for s in load('topology.json'))


@pytest.fixture
def replay_step(monkeypatch):
    def use(module, calls):
        replay = Replay(calls)
        monkeypatch.setattr(module, 'command_runner', lambda _module: replay)
        return replay
    return use


def test_bridge_check_mode_and_diff(run_module, replay_step):
    replay = replay_step(ovs_bridge, _steps()['bridge_system_check']['calls'])
    out = run_module(ovs_bridge.main, {'name': 'kbp-ovst', 'datapath_type': 'system',
                                       '_ansible_check_mode': True, '_ansible_diff': True})
    assert out['changed'] is True and replay.calls == []
    assert out['diff']['before']['datapath_type'] == 'netdev' and out['diff']['after']['datapath_type'] == 'system'


def test_bridge_system_datapath_fails_clearly(run_module, replay_step):
    replay_step(ovs_bridge, _steps()['bridge_system_fails']['calls'])
    out = run_module(ovs_bridge.main, {'name': 'kbp-ovss', 'datapath_type': 'system'})
    assert out['failed'] is True and 'openvswitch.ko' in out['msg'] and 'netdev' in out['msg']


def test_port_recreated_on_new_path(run_module, replay_step):
    replay_step(ovs_port, _steps()['port_new_path']['calls'])
    out = run_module(ovs_port.main, {'bridge': 'kbp-ovst', 'name': 'kbp-ovst-p', 'type': 'dpdkvhostuserclient',
                                     'options': {'vhost-server-path': '/run/kbp-t/b.sock'}, 'ofport_request': 1})
    assert out['changed'] is True and 'diff' not in out
    assert out['port']['options'] == {'vhost-server-path': '/run/kbp-t/b.sock'}


def test_port_requires_bridge(run_module):
    out = run_module(ovs_port.main, {'name': 'x'})
    assert out['failed'] is True and 'bridge' in out['msg']


def test_flows_idempotent(run_module, replay_step):
    replay_step(ovs_flows, _steps()['flows_loop_again']['calls'])
    out = run_module(ovs_flows.main, {'bridge': 'kbp-ovst', 'flows': ['in_port=kbp-ovst-p,actions=in_port']})
    assert out['changed'] is False


def test_service_check_mode(run_module, replay_step, tmp_path):
    step = load('service.json')[0]
    assert step['name'] == 'plain_check'
    replay_step(ovs_service, step['calls'])
    out = run_module(ovs_service.main, {'user': 'ovs', 'systemd': False, 'state_file': str(tmp_path / 's.json'),
                                        '_ansible_check_mode': True})
    assert out['changed'] is True and out['after'] is None
    assert out['actions'] == [a.replace('/tmp/kbp/record-state.json', str(tmp_path / 's.json'))
                              for a in step['result']['actions']]
    assert not (tmp_path / 's.json').exists()
