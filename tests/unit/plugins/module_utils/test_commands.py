# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""commands: every command runs in the C locale, with its program looked up first; a missing
program is an error naming it and what installs it. Through a fake module and bench.Spawner.run
(a module's main(): tests/unit/plugins/modules/test_command_runner.py)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ansible_collections.kbypass.testbed.plugins.module_utils import commands
from ansible_collections.kbypass.testbed.plugins.module_utils.bench import Spawner

C = {'LC_ALL': 'C', 'LANG': 'C', 'LANGUAGE': 'C'}


class Failed(Exception):
    pass


class FakeModule:
    """get_bin_path finds the programs of ``bins``; run_command records what it is given."""

    def __init__(self, bins):
        self.bins = bins
        self.calls = []

    def get_bin_path(self, name):
        return self.bins.get(name)

    def run_command(self, argv, **kwargs):
        self.calls.append((list(argv), kwargs))
        return 0, 'out', ''

    def fail_json(self, **kwargs):
        raise Failed(kwargs)


def test_runner_runs_the_program_found_in_the_c_locale():
    module = FakeModule({'ovs-vsctl': '/usr/bin/ovs-vsctl'})
    run = commands.command_runner(module)
    assert run(['ovs-vsctl', 'list', 'Bridge'], expand_user_and_vars=False) == (0, 'out', '')
    argv, kwargs = module.calls[0]
    assert argv == ['/usr/bin/ovs-vsctl', 'list', 'Bridge']
    assert kwargs == {'environ_update': C, 'expand_user_and_vars': False}


def test_runner_keeps_the_callers_environ_and_runs_a_path_it_found_as_it_is():
    module = FakeModule({'lxc-ls': '/nonexistent/lxc-ls'})
    run = commands.command_runner(module)
    assert run.find('lxc-ls') == '/nonexistent/lxc-ls'
    run(['/nonexistent/lxc-ls', '-1'], environ_update={'TZ': 'UTC'})
    assert module.calls == [(['/nonexistent/lxc-ls', '-1'], {'environ_update': dict(C, TZ='UTC')})]


def test_runner_fails_before_running_a_missing_program_naming_it_and_its_package():
    module = FakeModule({})
    with pytest.raises(Failed) as failed:
        commands.command_runner(module)(['ovs-vsctl', 'list', 'Bridge'])
    assert module.calls == []
    assert failed.value.args[0]['cmd'] == ['ovs-vsctl', 'list', 'Bridge']
    msg = failed.value.args[0]['msg']
    assert msg.startswith('ovs-vsctl not found in PATH') and 'install the package openvswitch-switch' in msg


def test_runner_fails_for_a_missing_path_and_an_unknown_program_without_a_package():
    module = FakeModule({})
    with pytest.raises(Failed) as failed:
        commands.command_runner(module)(['/usr/share/nowhere/ovs-ctl', 'status'])
    assert failed.value.args[0]['msg'] == ('ovs-ctl not found at /usr/share/nowhere/ovs-ctl on the target; '
                                           'install the package openvswitch-switch (the ovs and ovs_dpdk roles install it)')
    with pytest.raises(Failed) as failed:
        commands.command_runner(module)(['kbpt-nothing'])
    assert failed.value.args[0]['msg'] == ('kbpt-nothing not found in PATH, /sbin, /usr/sbin or /usr/local/sbin '
                                           'on the target')


def test_runner_answers_127_for_a_missing_optional_program():
    module = FakeModule({})
    rc, out, err = commands.command_runner(module)(['udevadm', 'settle', '--timeout=10'])
    assert (rc, out, module.calls) == (127, '', [])
    assert 'udevadm not found' in err


def test_spawner_run_looks_the_program_up_and_runs_it_in_the_c_locale(monkeypatch):
    seen = {}

    def fake_run(argv, **kwargs):
        seen.update(argv=argv, env=kwargs['env'], timeout=kwargs['timeout'])
        return subprocess.CompletedProcess(argv, 0, '4242\n', '')

    monkeypatch.setattr(commands, 'get_bin_path', lambda name: '/usr/bin/' + name)
    monkeypatch.setattr(commands.subprocess, 'run', fake_run)
    monkeypatch.setenv('LANG', 'de_DE.UTF-8')
    monkeypatch.setenv('LANGUAGE', 'de')
    assert Spawner().run(['lxc-info', '-n', 'kbp-a', '-p', '-H'], timeout=5) == (0, '4242\n', '')
    assert seen['argv'] == ['/usr/bin/lxc-info', '-n', 'kbp-a', '-p', '-H'] and seen['timeout'] == 5
    assert dict((k, seen['env'][k]) for k in C) == C and 'PATH' in seen['env']


def test_spawner_run_raises_for_a_missing_program(monkeypatch):
    def missing(name):
        raise ValueError('not found')

    monkeypatch.setattr(commands, 'get_bin_path', missing)
    with pytest.raises(OSError) as raised:
        Spawner().run(['lxc-info', '-n', 'kbp-a'])
    assert str(raised.value).startswith('lxc-info not found') and 'install the package lxc' in str(raised.value)


def test_spawner_run_really_runs_in_the_c_locale():
    rc, out, _err = Spawner().run([sys.executable, '-c', 'import os; print(os.environ["LC_ALL"])'])
    assert (rc, out) == (0, 'C\n')
