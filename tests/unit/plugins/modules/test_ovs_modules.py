# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kbypass.testbed.ovs_bridge / ovs_port / ovs_flows / ovs_service driven through main() with recorded runs."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible_collections.kbypass.testbed.plugins.modules import ovs_bridge, ovs_flows, ovs_port, ovs_service

from ...harness import Commands
from ..module_utils.test_ovs import load


def _recorded(name):
    """The commands recorded for a step of topology.json (through the module's command_runner)."""
    return Commands([s for s in load('topology.json') if s['name'] == name][0]['calls'], name)


def test_bridge_check_mode_and_diff(run_module):
    out = run_module(ovs_bridge.main, {'name': 'kbp-ovst', 'datapath_type': 'system',
                                       '_ansible_check_mode': True, '_ansible_diff': True},
                     _recorded('bridge_system_check'))
    assert out['changed'] is True
    assert out['diff']['before']['datapath_type'] == 'netdev' and out['diff']['after']['datapath_type'] == 'system'


def test_bridge_system_datapath_fails_clearly(run_module):
    out = run_module(ovs_bridge.main, {'name': 'kbp-ovss', 'datapath_type': 'system'}, _recorded('bridge_system_fails'))
    assert out['failed'] is True and 'openvswitch.ko' in out['msg'] and 'netdev' in out['msg']


def test_port_recreated_on_new_path(run_module):
    out = run_module(ovs_port.main, {'bridge': 'kbp-ovst', 'name': 'kbp-ovst-p', 'type': 'dpdkvhostuserclient',
                                     'options': {'vhost-server-path': '/run/kbp-t/b.sock'}, 'ofport_request': 1},
                     _recorded('port_new_path'))
    assert out['changed'] is True and 'diff' not in out
    assert out['port']['options'] == {'vhost-server-path': '/run/kbp-t/b.sock'}


def test_port_requires_bridge(run_module):
    out = run_module(ovs_port.main, {'name': 'x'}, Commands([]))
    assert out['failed'] is True and 'bridge' in out['msg']


def test_flows_idempotent(run_module):
    out = run_module(ovs_flows.main, {'bridge': 'kbp-ovst', 'flows': ['in_port=kbp-ovst-p,actions=in_port']},
                     _recorded('flows_loop_again'))
    assert out['changed'] is False


def test_service_check_mode(run_module, tmp_path):
    step = load('service.json')[0]
    assert step['name'] == 'plain_check'
    out = run_module(ovs_service.main, {'user': 'ovs', 'systemd': False, 'state_file': str(tmp_path / 's.json'),
                                        '_ansible_check_mode': True}, Commands(step['calls'], step['name']))
    assert out['changed'] is True and out['after'] is None
    assert out['actions'] == [a.replace('/tmp/kbp/record-state.json', str(tmp_path / 's.json'))
                              for a in step['result']['actions']]
    assert not (tmp_path / 's.json').exists()
