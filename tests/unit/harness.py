# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one harness of the unit tests for what they run instead of a real command or module.

In the spirit of community.general's YAML-driven module test helper
(tests/unit/plugins/modules/helper.py there):

* ``Commands(calls)`` stands for ``run_command``: the calls the code must make, consumed in order.
  A call is a dict (``call()`` builds one)::

      {'argv': [...], 'rc': 0, 'out': '', 'err': '',      # what the command answered
       'kind': 'run',                                     # or 'start' / 'read' (bench.Spawner)
       'environ': {'LC_ALL': 'C'}}                        # optional: the environment passed

  Another argv (or kind) than the next recorded one fails with a diff of the two; ``environ``,
  where a call records it, must equal what the code passed (``environ_update`` of
  ``AnsibleModule.run_command``); a call beyond the recording fails. A call without ``rc`` is
  answered by the ``answer`` callable (a simulated kernel: the test still names every command,
  in order, the simulator only plays its effect). ``on_call(call, argv, kwargs)`` runs for each
  call consumed (replaying the files a recorded command wrote, say).
* Every ``Commands`` made during a test is checked when the test ends (the autouse fixture
  ``strict_commands``, which tests/unit/conftest.py takes in): a recorded call left unconsumed
  fails the test, and so does a mismatch that the code under test caught and swallowed.
  ``verify()`` checks the same earlier, between the steps of a test.
* ``ReplaySpawner(events)``: a bench.Spawner whose run/start/read are answered by a ``Commands``.
* ``ReplayOps(events)``: a daemon.SystemOps (a switch started, watched and stopped by
  daemon.Daemon) whose every file access, start, poll and signal is answered by a ``Commands``;
  ``RecordingOps`` (tests/unit/plugins/module_utils/record_switch.py) records them from the real system.
* ``run_module(main, args, commands=None, bin_path=None)``: runs a module's main() as Ansible
  does (its real exit_json/fail_json) and returns its JSON result; with ``commands``,
  AnsibleModule.run_command is that ``Commands`` and get_bin_path finds every program under its
  own name (or where ``bin_path`` says).

Import it relatively (``from ...harness import Commands``), so that every test module and the
fixture share one registry.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import contextlib
import difflib
import io
import json
import signal
from unittest import mock

import pytest

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.kbypass.testbed.plugins.module_utils.bench import Spawner

# every Commands made in the running test, checked by strict_commands at its end
_LIVE = []


def call(argv, rc=0, out='', err='', environ=None, kind='run', **extra):
    """One recorded call."""
    recorded = dict(extra, kind=kind, argv=list(argv), rc=rc, out=out, err=err)
    if environ is not None:
        recorded['environ'] = dict(environ)
    return recorded


def expected(argv, environ=None):
    """One call a simulator answers (no recorded rc/out/err)."""
    wanted = {'kind': 'run', 'argv': list(argv)}
    if environ is not None:
        wanted['environ'] = dict(environ)
    return wanted


def _show(recorded):
    return '%s %r' % (recorded.get('kind', 'run'), recorded['argv'])


def _argv_diff(want, got):
    lines = difflib.ndiff([repr(a) for a in want], [repr(a) for a in got])
    return '\n'.join('    ' + line for line in lines if not line.startswith('?'))


class Commands(object):
    """The calls the code must make, in order; see the module's docstring."""

    def __init__(self, calls=(), name='commands', answer=None, on_call=None):
        self.name, self.answer, self.on_call = name, answer, on_call
        self.calls, self.used, self.errors = [], 0, []     # expected calls, how many made, mismatches
        self.expect(*calls)
        _LIVE.append(self)

    def expect(self, *calls):
        """Append calls to the ones still expected."""
        for one in calls:
            one = dict(one)
            one.setdefault('kind', 'run')
            assert isinstance(one.get('argv'), list), '%s: a call needs an argv list: %r' % (self.name, one)
            if 'rc' not in one and self.answer is None:
                raise AssertionError('%s: %s records no rc and nothing simulates it' % (self.name, _show(one)))
            self.calls.append(one)
        return self

    @property
    def remaining(self):
        return self.calls[self.used:]

    def _fail(self, text):
        text = '%s %r: %s' % (type(self).__name__, self.name, text)
        self.errors.append(text)
        raise AssertionError(text)

    def take(self, argv, kind='run', environ=None, **kwargs):
        """Consume the next recorded call, which must be this one; returns it."""
        argv = list(argv)
        number = self.used + 1
        if self.used >= len(self.calls):
            self._fail('unexpected call %d: %s %r (%d recorded, all made before it)'
                       % (number, kind, argv, len(self.calls)))
        want = self.calls[self.used]
        if (want['kind'], want['argv']) != (kind, argv):
            self._fail('call %d of %d is not the recorded one\n  recorded: %s\n  made:     %s %r\n'
                       '  argv (- recorded, + made):\n%s'
                       % (number, len(self.calls), _show(want), kind, argv, _argv_diff(want['argv'], argv)))
        if 'environ' in want and dict(environ or {}) != want['environ']:
            self._fail('call %d %s: environ %r recorded, %r passed'
                       % (number, _show(want), want['environ'], dict(environ or {})))
        self.used += 1
        if self.on_call is not None:
            self.on_call(want, argv, kwargs)
        return want

    def __call__(self, argv, **kwargs):
        """run_command(argv) of the managers, or AnsibleModule.run_command(argv, **kwargs)."""
        environ = kwargs.pop('environ_update', None)
        want = self.take(argv, 'run', environ, **kwargs)
        if 'rc' not in want:
            return self.answer(list(argv))
        return want['rc'], want['out'], want['err']

    def problems(self):
        out = list(self.errors)
        left = self.remaining
        if left:
            out.append('%s %r: %d of %d recorded calls were not made:\n%s' % (
                type(self).__name__, self.name, len(left), len(self.calls),
                '\n'.join('  call %d: %s' % (self.used + 1 + i, _show(c)) for i, c in enumerate(left[:10]))
                + ('\n  ...' if len(left) > 10 else '')))
        return out

    def verify(self):
        """Fail now if a recorded call is left or a call did not match (even if it was caught)."""
        problems = self.problems()
        if problems:
            raise AssertionError('\n'.join(problems))


@pytest.fixture(autouse=True)
def strict_commands(request):
    """Every Commands made during a test must be used up, without a mismatch, by its end."""
    start = len(_LIVE)
    yield
    made = _LIVE[start:]
    del _LIVE[start:]
    report = getattr(request.node, '_harness_call_report', None)
    if report is not None and report.failed:
        return      # the failure is reported already
    problems = [p for commands in made for p in commands.problems()]
    if problems:
        pytest.fail('\n'.join(problems), pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):   # pylint: disable=redefined-outer-name,unused-argument
    report = yield
    if report.when == 'call':
        item._harness_call_report = report
    return report


# ============================================================================ bench.Spawner
class FakeProc(object):
    """A started process: running until waited for, then it exits with ``rc``; made with
    running=False, it has exited already (poll() gives ``rc``)."""

    def __init__(self, rc, pid=4242, running=True):
        self.rc = rc
        self.returncode = None if running else rc
        self.pid = pid

    def poll(self):
        return self.returncode

    def wait(self, timeout=None):
        self.returncode = self.rc
        return self.rc

    def send_signal(self, sig):
        pass


class ReplaySpawner(Spawner):
    """A bench.Spawner answering run, start and reads of /proc from recorded events, in order
    (tests/unit/plugins/module_utils/record.py records them); time is faked."""

    def __init__(self, events, name='spawner'):
        self.commands = Commands(events, name)
        self.clock = 0.0
        self.cleared = []   # the sockets clear_stale_socket was asked about, in order

    def run(self, argv, timeout=30, **kwargs):
        event = self.commands.take(argv, 'run', kwargs.get('env'))
        return event['rc'], event['out'], event['err']

    def start(self, argv, stdout_path, stderr_path, detach=False):
        event = self.commands.take(argv, 'start')
        with open(stdout_path, 'w') as handle:
            handle.write(event['out'])
        with open(stderr_path, 'w') as handle:
            handle.write(event['err'])
        return FakeProc(event['rc'])

    def wait(self, proc, timeout):
        return proc.wait(timeout)

    def signal_tree(self, proc, sig):
        pass

    def alive(self, pid):
        return False

    def clear_stale_socket(self, path):
        self.cleared.append(path)
        return False

    def read(self, path):
        if path.startswith('/proc/'):
            return self.commands.take([path], 'read')['out']
        return super(ReplaySpawner, self).read(path)

    def sleep(self, seconds):
        self.clock += seconds

    def now(self):
        self.clock += 0.5
        return self.clock

    # the recordings have no /proc/cpuinfo nor switch process: a fixed clock, no switch
    CPU_HZ = 2e9

    def cpu_hz(self):
        return self.CPU_HZ

    def process_cpu_s(self, name):
        return None


# ============================================================================ daemon.SystemOps
def _bytes(text):
    return None if text is None else text.encode('latin-1')


class ReplayProc(object):
    """A started process whose poll() answers are the recorded ones, in order."""

    def __init__(self, ops, pid):
        self.ops, self.pid, self.returncode = ops, pid, None

    def poll(self):
        self.returncode = self.ops.commands.take([self.pid], 'poll')['returncode']
        return self.returncode


class FakeHost(object):
    """daemon.SystemOps on a host kept in memory (``files``: path -> bytes) where a recorded daemon
    runs: ``run_recorded`` gives a pid the recorded /proc stat and cmdline, a signal in ``dies_on``
    (or SIGKILL) leaves it a zombie until PID 1 reaps it, as the recorded one did. ``calls`` lists
    the spawns and kills; time is faked. Subclasses say what ``spawn`` starts."""

    def __init__(self, stat, files=None, dies_on=(signal.SIGTERM,)):
        self.stat = stat
        self.files = dict(files or {})
        self.dies_on = dies_on
        self.calls = []
        self.clock = 0.0

    def run_recorded(self, pid, cmdline):
        self.files['/proc/%d/stat' % pid] = self.stat.encode()
        self.files['/proc/%d/cmdline' % pid] = cmdline.encode()

    def read(self, path):
        return self.files.get(path)

    def write(self, path, text):
        self.files[path] = text.encode()

    def remove(self, path):
        return self.files.pop(path, None) is not None

    def exists(self, path):
        return path in self.files

    def makedirs(self, path):
        pass

    def kill(self, pid, sig):
        self.calls.append(('kill', pid, sig))
        if sig in self.dies_on or sig == signal.SIGKILL:
            stat = self.files['/proc/%d/stat' % pid].decode().split(') ', 1)
            self.files['/proc/%d/stat' % pid] = (stat[0] + ') Z' + stat[1][1:]).encode()

    def sleep(self, seconds):
        self.clock += seconds

    def now(self):
        return self.clock


class ReplayOps(object):
    """daemon.SystemOps answered from recorded events (kinds read, write, remove, exists, makedirs,
    start, poll, kill; bytes as latin-1 text); time is faked (sleep advances now)."""

    def __init__(self, events, name='ops'):
        self.commands = Commands(events, name)
        self.clock = 0.0

    def read(self, path):
        event = self.commands.take([path], 'read')
        return _bytes(event['out']) if event['rc'] == 0 else None

    def write(self, path, text):
        self.commands.take([path, text], 'write')

    def remove(self, path):
        return self.commands.take([path], 'remove')['rc'] == 0

    def exists(self, path):
        return self.commands.take([path], 'exists')['rc'] == 0

    def makedirs(self, path):
        self.commands.take([path], 'makedirs')

    def spawn(self, argv, log):
        event = self.commands.take(argv, 'start')
        if event['rc'] != 0:
            raise OSError(event['rc'], event['err'])
        return ReplayProc(self, event['pid'])

    def kill(self, pid, sig):
        self.commands.take([pid, int(sig)], 'kill')

    def sleep(self, seconds):
        self.clock += seconds

    def now(self):
        return self.clock


# ============================================================================ modules
def run_module(main, args, commands=None, bin_path=None):
    """Run a module's main() with ``args`` as Ansible does; its JSON result (exit or fail).

    ``commands``: AnsibleModule.run_command. ``bin_path(name)``: get_bin_path (a path or None);
    with ``commands`` and no ``bin_path``, every program is found under its own name."""
    out = io.StringIO()
    if commands is not None and bin_path is None:
        bin_path = str
    with contextlib.ExitStack() as stack:
        if commands is not None:
            stack.enter_context(mock.patch.object(basic.AnsibleModule, 'run_command',
                                                  lambda self, argv, **kwargs: commands(argv, **kwargs)))
        if bin_path is not None:
            stack.enter_context(mock.patch.object(basic.AnsibleModule, 'get_bin_path',
                                                  lambda self, name, *a, **kw: bin_path(name)))
        stack.enter_context(patch_module_args(args))
        stack.enter_context(contextlib.redirect_stdout(out))
        with pytest.raises(SystemExit):
            main()
    return json.loads(out.getvalue())


# ============================================================================ VPP's binary API
def api_call(message, args=None, reply=None):
    """One recorded call of VPP's API (module_utils/vpp.py transport): the message, its arguments and
    VPP's reply (plain dicts and lists, as the transport hands them back)."""
    return {'kind': 'api', 'argv': [message, json.dumps(args or {}, sort_keys=True)], 'rc': 0, 'out': '', 'err': '',
            'reply': reply}


class ReplayApi(object):
    """A transport of module_utils/vpp.py answered by a recording (``{'vpp_version', 'offered', 'calls'}``,
    tests/unit/plugins/module_utils/record_vpp.py): connect, disconnect and every call must be the
    next recorded one, with the same arguments; every recorded call must be made (``Commands``)."""

    def __init__(self, recording, name='vpp api'):
        self.offered_table = dict(recording['offered'])
        self.commands = Commands([dict(c, argv=list(c['argv'])) for c in recording['calls']], name)

    def connect(self):
        self.commands.take(['connect', '{}'], 'api')

    def disconnect(self):
        self.commands.take(['disconnect', '{}'], 'api')

    def offered(self):
        return dict(self.offered_table)

    def call(self, message, args):
        return self.commands.take([message, json.dumps(args, sort_keys=True)], 'api')['reply']
