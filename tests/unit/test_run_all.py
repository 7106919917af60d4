# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""tests/run-all.sh counts its stages right: its functions (the script, sourced, runs nothing)
driven with fake stages that pass, fail, skip with and without a reason, and fake pytest runs."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os
import subprocess

import pytest

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
SCRIPT = os.path.join(TOP, 'tests', 'run-all.sh')

# fake stages, and a fake pytest printing $FAKE_OUT and exiting $FAKE_RC
PRELUDE = '''
source "%s"
fake_pytest() { printf '%%s\\n' "$FAKE_OUT"; return "$FAKE_RC"; }
PYTEST=(fake_pytest)
no_dpdk() { echo "run_dpdk_tests.sh: SKIPPED: libdpdk is not installed"; echo "0 passed, 0 failed, 13 skipped"; return 77; }
mute() { echo "nothing to say"; return 77; }
some_skipped() { echo "ok - one"; echo "skip - two: no af_xdp"; echo "SKIPPED: not the whole stage"; return 0; }
FAKE_RC=0 FAKE_OUT=''
''' % SCRIPT

MIXED = PRELUDE + '''
run_stage ok true
run_stage bad false
run_stage dpdk no_dpdk
run_stage mute mute
run_stage partly some_skipped
KBYPASS_LAB=0 run_stage lab lab
FAKE_RC=5 FAKE_OUT='no tests ran in 0.01s' run_stage none pytest_stage tests/none
FAKE_RC=0 FAKE_OUT=$'SKIPPED [2] tests/a.py:27: needs root\\nSKIPPED [1] tests/b.py:3: needs lxc\\n3 skipped in 0.02s' \\
  run_stage all-skipped pytest_stage tests/a
FAKE_RC=0 FAKE_OUT=$'SKIPPED [1] tests/a.py:27: needs root\\n3 passed, 1 skipped in 0.20s' run_stage unit pytest_stage tests/u
FAKE_RC=1 FAKE_OUT='1 failed, 2 passed in 0.10s' run_stage pytest-failed pytest_stage tests/f
run_stage nope stage_command nope
echo
summary
echo "rc=$?"
'''


def bash(script, **env):
    proc = subprocess.run(['bash', '-c', script], cwd=TOP, capture_output=True, text=True, check=False,
                          env=dict(os.environ, **env))
    assert proc.stderr == '', proc.stderr
    return proc.stdout


def test_every_stage_gets_its_verdict_and_the_count_is_right():
    out = bash(MIXED)
    verdicts = [line.split(': ', 1)[1].rsplit(' in ', 1)[0] for line in out.splitlines()
                if line.startswith('=== stage ') and ': ' in line and ' in ' in line]
    assert verdicts == ['PASSED', 'FAILED', 'SKIPPED', 'FAILED', 'PASSED', 'SKIPPED', 'SKIPPED', 'SKIPPED', 'PASSED',
                        'FAILED', 'FAILED'], out
    assert out.split('\n\n')[-1].splitlines() == [
        'skipped: dpdk: libdpdk is not installed',
        'skipped: lab: KBYPASS_LAB=0',
        'skipped: none: pytest collected no test',
        'skipped: all-skipped: every test skipped: needs lxc; needs root',
        'failed: bad (exit 1)',
        "failed: mute (exit 77 without a line 'SKIPPED: reason')",
        'failed: pytest-failed (exit 1)',
        'failed: nope (exit 2)',
        '3 passed, 4 failed, 4 skipped',
        'rc=1',
    ], out
    # a stage's own output is shown as it runs
    assert 'run_dpdk_tests.sh: SKIPPED: libdpdk is not installed' in out and 'no stage nope (stages: unit' in out


def test_no_failure_exits_zero():
    out = bash(PRELUDE + 'run_stage ok true\nrun_stage dpdk no_dpdk\nrun_stage ok2 true\nsummary\necho "rc=$?"\n')
    assert out.splitlines()[-3:] == ['skipped: dpdk: libdpdk is not installed', '2 passed, 0 failed, 1 skipped', 'rc=0']


@pytest.mark.parametrize('stages, last', [
    ('nope', ['failed: nope (exit 2)', '0 passed, 1 failed, 0 skipped']),
    ('', ['0 passed, 0 failed, 0 skipped']),
])
def test_the_script_runs_the_stages_named(stages, last):
    """KBYPASS_STAGES picks the stages by name (here none that runs anything); its exit code."""
    proc = subprocess.run(['bash', SCRIPT], cwd=TOP, capture_output=True, text=True, check=False,
                          env=dict(os.environ, KBYPASS_STAGES=stages or ' '))
    assert proc.stdout.splitlines()[-len(last):] == last, proc.stdout
    assert proc.returncode == (1 if 'failed: ' in '\n'.join(last) else 0)
