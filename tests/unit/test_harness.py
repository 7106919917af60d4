# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The strict harness fails where it must: a pytest of its own (a subprocess, with harness.py as
its plugin) runs tests that leave a recorded call unconsumed, make a wrong argv (also where the
code under test swallows the error), an extra call, a wrong environment, and tests that do
everything right; each must end as recorded here."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET

import pytest

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

INNER = '''
from ansible.module_utils.basic import AnsibleModule

from unit.harness import Commands, ReplaySpawner, call, expected, run_module


def test_all_used():
    commands = Commands([call(['ip', 'link'], 0, 'x'), call(['ip', 'addr'], 1, '', 'e')])
    assert commands(['ip', 'link']) == (0, 'x', '')
    assert commands(['ip', 'addr']) == (1, '', 'e')


def test_unconsumed():
    commands = Commands([call(['ip', 'link']), call(['ip', 'addr', 'show'])], 'two calls')
    commands(['ip', 'link'])


def test_wrong_argv():
    commands = Commands([call(['ip', 'link', 'show', 'dev', 'eth0'])])
    commands(['ip', 'addr', 'show', 'dev', 'eth0'])


def test_wrong_argv_swallowed():
    commands = Commands([call(['ip', 'link'])], 'swallowed')
    try:
        commands(['ip', 'addr'])
    except Exception:   # as code under test may do; the harness still fails the test
        pass
    commands(['ip', 'link'])


def test_extra_call_swallowed():
    commands = Commands([])
    try:
        commands(['modprobe', 'vfio-pci'])
    except Exception:
        pass


def test_environ_mismatch():
    commands = Commands([call(['ip', 'link'], environ={'LC_ALL': 'C'})])
    commands(['ip', 'link'])


def test_environ_matches():
    commands = Commands([call(['ip', 'link'], environ={'LC_ALL': 'C'})])
    commands(['ip', 'link'], environ_update={'LC_ALL': 'C'})


def test_environ_not_recorded_is_not_checked():
    commands = Commands([call(['ip', 'link'])])
    commands(['ip', 'link'], environ_update={'LC_ALL': 'C'})


def test_simulated_calls_are_strict_too():
    commands = Commands([expected(['udevadm', 'settle'])], answer=lambda argv: (0, 'simulated', ''))
    assert commands(['udevadm', 'settle']) == (0, 'simulated', '')
    commands.expect(expected(['udevadm', 'settle']))


def test_spawner_left_over():
    spawner = ReplaySpawner([call(['lxc-info', '-n', 'a']), call(['/proc/1/net/udp'], kind='read')])
    spawner.run(['lxc-info', '-n', 'a'])


def main():
    module = AnsibleModule({'name': {}})
    rc, out, _err = module.run_command(['ip', 'link', 'show', module.params['name']], environ_update={'LC_ALL': 'C'})
    module.exit_json(rc=rc, out=out)


def test_module_right():
    commands = Commands([call(['ip', 'link', 'show', 'eth0'], 0, 'up', environ={'LC_ALL': 'C'})])
    assert run_module(main, {'name': 'eth0'}, commands)['out'] == 'up'


def test_module_wrong_argv():
    run_module(main, {'name': 'eth1'}, Commands([call(['ip', 'link', 'show', 'eth0'])]))


def test_module_wrong_environ():
    run_module(main, {'name': 'eth0'}, Commands([call(['ip', 'link', 'show', 'eth0'], environ={'LC_ALL': 'en_US'})]))
'''

# test -> (outcome, words its message must hold)
EXPECTED = {
    'test_all_used': ('passed', []),
    'test_unconsumed': ('error', ["Commands 'two calls': 1 of 2 recorded calls were not made",
                                  "call 2: run ['ip', 'addr', 'show']"]),
    'test_wrong_argv': ('failure', ['call 1 of 1 is not the recorded one',
                                    "recorded: run ['ip', 'link', 'show', 'dev', 'eth0']",
                                    "made:     run ['ip', 'addr', 'show', 'dev', 'eth0']",
                                    "- 'link'", "+ 'addr'"]),
    'test_wrong_argv_swallowed': ('error', ["Commands 'swallowed': call 1 of 1 is not the recorded one"]),
    'test_extra_call_swallowed': ('error', ["unexpected call 1: run ['modprobe', 'vfio-pci']"]),
    'test_environ_mismatch': ('failure', ["environ {'LC_ALL': 'C'} recorded, {} passed"]),
    'test_environ_matches': ('passed', []),
    'test_environ_not_recorded_is_not_checked': ('passed', []),
    'test_simulated_calls_are_strict_too': ('error', ["1 of 2 recorded calls were not made"]),
    'test_spawner_left_over': ('error', ["Commands 'spawner': 1 of 2 recorded calls were not made",
                                         "call 2: read ['/proc/1/net/udp']"]),
    'test_module_right': ('passed', []),
    'test_module_wrong_argv': ('failure', ["+ 'eth1'"]),
    'test_module_wrong_environ': ('failure', ["environ {'LC_ALL': 'en_US'} recorded, {'LC_ALL': 'C'} passed"]),
}


@pytest.fixture(scope='module')
def outcomes(tmp_path_factory):
    where = tmp_path_factory.mktemp('harness')
    (where / 'test_inner.py').write_text(textwrap.dedent(INNER))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([TESTS] + [p for p in os.environ.get('PYTHONPATH', '').split(
        os.pathsep) if p]))
    proc = subprocess.run([sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider', '-p', 'unit.harness',
                           '--junitxml', str(where / 'out.xml'), 'test_inner.py'],
                          cwd=str(where), env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr      # 1: tests failed (not a crash)
    found = {}
    for case in ET.parse(str(where / 'out.xml')).getroot().iter('testcase'):
        bad = [child for child in case if child.tag in ('failure', 'error', 'skipped')]
        text = '\n'.join((child.get('message') or '') + '\n' + (child.text or '') for child in bad)
        found[case.get('name')] = (bad[0].tag if bad else 'passed', text)
    return found, proc.stdout


def test_every_inner_test_ran(outcomes):
    assert sorted(outcomes[0]) == sorted(EXPECTED), outcomes[1]


@pytest.mark.parametrize('name', sorted(EXPECTED))
def test_outcome(outcomes, name):
    outcome, text = outcomes[0][name]
    assert outcome == EXPECTED[name][0], text
    for words in EXPECTED[name][1]:
        assert words in text, text
