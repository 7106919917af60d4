# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A module's main() runs its commands through commands.command_runner: C locale, program looked up
first, a clear failure without it (ovs_bridge as the example)."""

from __future__ import annotations

from ansible.module_utils import basic

from ansible_collections.kbypass.testbed.plugins.modules import ovs_bridge

from ..module_utils.test_commands import C


def test_module_main_runs_its_commands_in_the_c_locale(run_module, monkeypatch):
    calls = []

    def run_command(self, argv, **kwargs):
        calls.append((list(argv), kwargs.get('environ_update')))
        return 0, '{"data": [], "headings": ["name", "datapath_type"]}', ''

    monkeypatch.setattr(basic.AnsibleModule, 'get_bin_path', lambda self, name, *a, **kw: '/usr/bin/' + name)
    monkeypatch.setattr(basic.AnsibleModule, 'run_command', run_command)
    out = run_module(ovs_bridge.main, {'name': 'kbpt-br', '_ansible_check_mode': True})
    assert out['changed'] is True
    assert calls and all(argv[0] == '/usr/bin/ovs-vsctl' and env == C for argv, env in calls)


def test_module_main_fails_clearly_without_its_program(run_module, monkeypatch):
    monkeypatch.setattr(basic.AnsibleModule, 'get_bin_path', lambda self, name, *a, **kw: None)
    out = run_module(ovs_bridge.main, {'name': 'kbpt-br'})
    assert out['failed'] is True
    assert out['msg'].startswith('ovs-vsctl not found') and 'openvswitch-switch' in out['msg']
