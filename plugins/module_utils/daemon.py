# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A background process detached from Ansible, known by a pid file: start it idempotently (same
argv = no change, other argv = restart), wait until the files it creates exist (and, where it says
so, until its log says it is ready), stop it with a signal and a SIGKILL fallback, and remove the
files it leaves behind when a signal kills it.

Hosts without systemd (containers, firecracker VMs) have no service manager: the process is
started in its own session with stdin from /dev/null and stdout+stderr into a log file, so the
module's pipes are not held and the process outlives the module.

Every system access goes through an ``ops`` object (:class:`SystemOps`); the unit tests replace
it with one that replays what was recorded from a real testpmd.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time

from ansible_collections.kbypass.testbed.plugins.module_utils.ledger import write_atomic


class DaemonError(Exception):
    def __init__(self, msg, **result):
        super().__init__(msg)
        self.result = result


class SystemOps:
    """The real system."""

    def read(self, path):
        try:
            with open(path, 'rb') as handle:
                return handle.read()
        except OSError:
            return None

    def write(self, path, text):
        write_atomic(path, text)

    def remove(self, path):
        try:
            os.unlink(path)
            return True
        except FileNotFoundError:
            return False

    def exists(self, path):
        return os.path.exists(path)

    def makedirs(self, path):
        os.makedirs(path, exist_ok=True)

    def spawn(self, argv, log):
        with open(os.devnull, 'rb') as stdin, open(log, 'wb') as out:
            proc = subprocess.Popen(argv, stdin=stdin, stdout=out, stderr=subprocess.STDOUT,
                                    close_fds=True, start_new_session=True, cwd='/')
        return proc

    def kill(self, pid, sig):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass

    def sleep(self, seconds):
        time.sleep(seconds)

    def now(self):
        return time.monotonic()


def proc_alive(ops, pid):
    """True when /proc/<pid> is a live process (a zombie counts as dead)."""
    stat = ops.read('/proc/%d/stat' % pid)
    if not stat:
        return False
    # "pid (comm) S ...": the state follows the last ')'
    state = stat.rsplit(b')', 1)[-1].split()[0:1]
    return state not in ([b'Z'], [b'X'])


def proc_cmdline(ops, pid):
    raw = ops.read('/proc/%d/cmdline' % pid)
    if not raw:
        return None
    return [part.decode('utf-8', 'replace') for part in raw.split(b'\0')[:-1]]


def tail(text, lines=30):
    return '\n'.join((text or '').rstrip('\n').split('\n')[-lines:])


class Daemon:
    """One process: ``argv``, its ``pidfile`` and ``log``; ``wait_for`` paths it creates when ready.

    ``launcher``: programs that exec ``argv`` in the same process (``taskset``, ``stdbuf``): the
    process is started as ``launcher + argv`` and its command line is ``argv`` once it runs.
    ``ready_text``: what the log must hold, besides the ``wait_for`` paths, once the process is
    ready. ``leaves``: files the process leaves when a signal kills it (a vhost-user server's
    sockets); removed before it starts (stale ones would look ready) and after it stopped.
    """

    def __init__(self, argv, pidfile, log, wait_for=(), timeout=30.0, stop_signal=signal.SIGINT,
                 stop_timeout=10.0, check_mode=False, ops=None, poll=0.2, program=None, launcher=(),
                 ready_text=None, leaves=()):
        self.argv = list(argv) if argv else []
        self.program = program
        self.launcher = list(launcher or [])
        self.ready_text = ready_text
        self.leaves = list(leaves or [])
        self.pidfile = pidfile
        self.log = log
        self.wait_for = list(wait_for or [])
        self.timeout = timeout
        self.stop_signal = stop_signal
        self.stop_timeout = stop_timeout
        self.check_mode = check_mode
        self.ops = ops or SystemOps()
        self.poll = poll

    # ------------------------------------------------------------------ reading
    def running(self):
        """(pid, cmdline) of the process of the pid file, or (None, None)."""
        raw = self.ops.read(self.pidfile)
        try:
            pid = int(raw.strip())
        except (AttributeError, ValueError):
            return None, None
        if not proc_alive(self.ops, pid):
            return None, None
        return pid, proc_cmdline(self.ops, pid)

    def log_text(self):
        raw = self.ops.read(self.log)
        return raw.decode('utf-8', 'replace') if raw else ''

    def state(self, pid, cmdline):
        return {'running': pid is not None, 'pid': pid, 'argv': cmdline}

    # ------------------------------------------------------------------ changing
    def _stop(self, pid):
        self.ops.kill(pid, self.stop_signal)
        deadline = self.ops.now() + self.stop_timeout
        while self.ops.now() < deadline:
            if not proc_alive(self.ops, pid):
                return False
            self.ops.sleep(self.poll)
        self.ops.kill(pid, signal.SIGKILL)
        deadline = self.ops.now() + 5
        while proc_alive(self.ops, pid):
            if self.ops.now() > deadline:
                raise DaemonError('process %d (%s) survived SIGKILL; see %s' % (pid, self.pidfile, self.log))
            self.ops.sleep(self.poll)
        return True

    def _remove_leftovers(self):
        return [path for path in self.leaves if self.ops.remove(path)]

    def _not_ready(self):
        """What is still missing before the process is ready: paths, and the log's text."""
        missing = [p for p in self.wait_for if not self.ops.exists(p)]
        if self.ready_text and self.ready_text not in self.log_text():
            missing.append('%r in %s' % (self.ready_text, self.log))
        return missing

    def _start(self):
        for path in (self.pidfile, self.log):
            self.ops.makedirs(os.path.dirname(path))
        self._remove_leftovers()
        argv = self.launcher + self.argv
        try:
            proc = self.ops.spawn(argv, self.log)
        except OSError as exc:
            raise DaemonError('cannot run %s: %s; install it or fix the path' % (argv[0], exc))
        self.ops.write(self.pidfile, '%d\n' % proc.pid)
        deadline = self.ops.now() + self.timeout
        while True:
            if proc.poll() is not None:
                self.ops.remove(self.pidfile)
                self._remove_leftovers()
                raise DaemonError('%s exited with code %s while starting; end of %s:\n%s'
                                  % (self.argv[0], proc.returncode, self.log, tail(self.log_text())),
                                  rc=proc.returncode, log_tail=tail(self.log_text()))
            missing = self._not_ready()
            if not missing:
                return proc.pid
            if self.ops.now() > deadline:
                self._stop(proc.pid)
                proc.poll()
                self.ops.remove(self.pidfile)
                self._remove_leftovers()
                raise DaemonError('%s started but %s did not appear within %ss; it was stopped. End of %s:\n%s'
                                  % (self.argv[0], ', '.join(missing), self.timeout, self.log,
                                     tail(self.log_text())), log_tail=tail(self.log_text()))
            self.ops.sleep(self.poll)

    def _result(self, changed, before, after, **extra):
        result = {'changed': changed, 'before': before, 'after': after, 'pid': after['pid'],
                  'pidfile': self.pidfile, 'log': self.log,
                  'diff': {'before': before, 'after': after}}
        result.update(extra)
        return result

    def started(self):
        if not self.argv:
            raise DaemonError('state=started needs an argv')
        pid, cmdline = self.running()
        before = self.state(pid, cmdline)
        if pid is not None and cmdline == self.argv:
            missing = [p for p in self.wait_for if not self.ops.exists(p)]
            if missing:
                raise DaemonError('process %d runs but %s is missing; stop it and start again' % (pid, ', '.join(missing)))
            return self._result(False, before, before, restarted=False)
        restart = pid is not None
        if self.check_mode:
            return self._result(True, before, self.state(None, self.argv), restarted=restart)
        if restart:
            self._stop(pid)
        new_pid = self._start()
        return self._result(True, before, self.state(new_pid, self.argv), restarted=restart)

    def stopped(self):
        pid, cmdline = self.running()
        before = self.state(pid, cmdline)
        after = self.state(None, None)
        if pid is None:
            stale = [p for p in [self.pidfile] + self.leaves if self.ops.exists(p)]
            if stale and not self.check_mode:
                self.ops.remove(self.pidfile)
                self._remove_leftovers()
            return self._result(bool(stale), before, after, killed=False)
        if self.argv and cmdline != self.argv or self.program and (cmdline or [''])[0] != self.program:
            raise DaemonError('pid file %s names process %d, which runs %r, not %r: not stopping it; '
                              'remove the pid file if it is stale'
                              % (self.pidfile, pid, cmdline, self.argv or self.program))
        if self.check_mode:
            return self._result(True, before, after, killed=False)
        killed = self._stop(pid)
        self.ops.remove(self.pidfile)
        self._remove_leftovers()
        return self._result(True, before, after, killed=killed)
