# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run stage: one benchmark case between two LXC containers.

A case never raises for a failure of the case itself: it is recorded (status failed, error text,
whatever output exists) and the run goes on. Processes are started with argv lists.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from datetime import datetime, timezone

from ansible_collections.kbypass.testbed.plugins.module_utils import parsers
from ansible_collections.kbypass.testbed.plugins.module_utils.results_schema import (
    CASE_FILE, SCHEMA_VERSION, CONDITION_COLUMNS, METRICS,
)


class Spawner:
    """Starts processes and inspects /proc. Unit tests replace it with a recorded one."""

    def start(self, argv, stdout_path, stderr_path):
        with open(stdout_path, 'wb') as out, open(stderr_path, 'wb') as err:
            return subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL)

    def wait(self, proc, timeout):
        """Wait for a process; returns its exit code or None on timeout."""
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def run(self, argv, timeout=30):
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
        return proc.returncode, proc.stdout, proc.stderr

    def descendants(self, pid):
        """PIDs of every descendant of pid, read from /proc (lxc-attach's child runs in the container)."""
        children = {}
        for entry in os.listdir('/proc'):
            if not entry.isdigit():
                continue
            try:
                with open('/proc/%s/stat' % entry) as handle:
                    stat = handle.read()
            except OSError:
                continue
            ppid = int(stat.rsplit(')', 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry))
        out, todo = [], [pid]
        while todo:
            for child in children.get(todo.pop(), []):
                out.append(child)
                todo.append(child)
        return out

    def signal_tree(self, proc, sig):
        """Signal the processes lxc-attach started inside the container (a signal to lxc-attach
        itself does not reach them), then lxc-attach."""
        for pid in self.descendants(proc.pid):
            try:
                os.kill(pid, sig)
            except OSError:
                pass
        try:
            proc.send_signal(sig)
        except OSError:
            pass

    def read(self, path):
        try:
            with open(path) as handle:
                return handle.read()
        except OSError:
            return ''

    def sleep(self, seconds):
        time.sleep(seconds)

    def now(self):
        return time.monotonic()


def _port_hex(port):
    return ':%04X ' % int(port)


class CaseRunner:
    """Runs one case (as planned by plan.make_plan) and writes its raw files."""

    def __init__(self, case, run_dir, run_id, host, icperf='/opt/kbypass/bin/icperf',
                 sockperf='/usr/local/bin/sockperf', lxcpath='/var/lib/lxc', port=9000,
                 ready_timeout=10.0, spawner=None):
        self.case = case
        self.run_dir = run_dir
        self.run_id = run_id
        self.host = host
        self.icperf = icperf
        self.sockperf = sockperf
        self.lxcpath = lxcpath
        self.port = int(port)
        self.ready_timeout = ready_timeout
        self.sp = spawner or Spawner()
        self.case_dir = os.path.join(run_dir, case['case_id'])
        self.files = []
        net = case['network']
        self.a, self.b = net['a'], net['b']

    # -- helpers ---------------------------------------------------------------------------
    def _attach(self, container, argv):
        return ['lxc-attach', '-n', container, '-P', self.lxcpath, '--'] + list(argv)

    def _init_pid(self, container):
        rc, out, err = self.sp.run(['lxc-info', '-n', container, '-P', self.lxcpath, '-p', '-H'])
        if rc != 0 or not out.strip().isdigit():
            raise RuntimeError('container %s is not running (lxc-info: %s); provision it first '
                               '(benchmark.yml runs the provision play before the run)'
                               % (container, (err or out).strip()))
        return int(out.strip())

    def _cpu_ns(self, container):
        rc, out, _err = self.sp.run(['lxc-cgroup', '-n', container, '-P', self.lxcpath, 'cpuacct.usage'])
        return int(out.strip()) if rc == 0 and out.strip().isdigit() else None

    def _wait_ready(self, init_pid, proc):
        """Wait until the server side has its socket open, seen in the container's /proc/net."""
        backend = self.case['backend']
        table = 'packet' if backend.startswith('raw') else 'udp'
        path = '/proc/%d/net/%s' % (init_pid, table)
        before = self.sp.read(path).count('\n') if table == 'packet' else 0
        deadline = self.sp.now() + self.ready_timeout
        while self.sp.now() < deadline:
            if proc.poll() is not None:
                return False
            text = self.sp.read(path)
            if table == 'udp' and _port_hex(self.port) in text:
                return True
            if table == 'packet' and text.count('\n') > before:
                return True
            self.sp.sleep(0.05)
        return False

    def _icperf_argv(self, role):
        c = self.case
        mode = {('tput', 'a'): 'send', ('tput', 'b'): 'recv', ('lat', 'a'): 'client', ('lat', 'b'): 'server'}
        me, peer = (self.a, self.b) if role == 'a' else (self.b, self.a)
        argv = [self.icperf, mode[(c['mode'], role)], '--backend', c['backend'], '--size', str(c['size']),
                '--burst', str(c['burst']), '--duration', str(c['duration_s']), '--warmup', str(c['warmup_s']),
                '--port', str(self.port), '--src-ip', me['ip']]
        if role == 'a':
            argv += ['--dst-ip', peer['ip'], '--rate', str(c['rate_pps']) if c['rate_pps'] else 'max']
        else:
            argv += ['--timeout', str(c['duration_s'] + 10)]
        if c['backend'].startswith('raw'):
            argv += ['--iface', 'eth0']
            if role == 'a':
                argv += ['--dst-mac', peer['mac']]
        if c.get('touch'):
            argv.append('--touch')
        return argv

    def _sockperf_argv(self, role):
        c = self.case
        payload = str(parsers.udp_payload(c['size']))
        if role == 'b':
            # a safety net: the server is stopped with SIGINT as soon as the client is done
            return ['timeout', '-s', 'INT', str(c['duration_s'] + 15), self.sockperf, 'server',
                    '-i', self.b['ip'], '-p', str(self.port)]
        if c['mode'] == 'tput':
            return [self.sockperf, 'throughput', '-i', self.b['ip'], '-p', str(self.port), '-m', payload,
                    '-t', str(c['duration_s'])]
        return [self.sockperf, 'ping-pong', '-i', self.b['ip'], '-p', str(self.port), '-m', payload,
                '-t', str(c['duration_s']), '--mps', str(c['rate_pps'] or 1000)]

    def _path(self, name):
        path = os.path.join(self.case_dir, name)
        self.files.append(path)
        return path

    # -- the case --------------------------------------------------------------------------
    def run(self):
        c = self.case
        os.makedirs(self.case_dir, exist_ok=True)
        started = datetime.now(timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
        t0 = self.sp.now()
        record = {
            'schema': SCHEMA_VERSION, 'run_id': self.run_id, 'host': self.host, 'case_id': c['case_id'],
            'conditions': dict((k, c.get(k)) for k in CONDITION_COLUMNS),
            'status': 'failed', 'error': None, 'started_utc': started, 'elapsed_s': None,
            'peers': {}, 'metrics': {},
        }
        record['conditions']['cpus'] = c.get('cpus')
        try:
            record['peers'], record['metrics'] = self._run_peers()
            record['status'] = 'ok'
        except (RuntimeError, OSError, parsers.ParseError, subprocess.SubprocessError) as exc:
            record['error'] = str(exc)
        record['elapsed_s'] = round(self.sp.now() - t0, 3)
        record['metrics'] = dict((k, v) for k, v in record['metrics'].items() if k in METRICS)
        case_file = self._path(CASE_FILE)
        tmp = case_file + '.tmp'
        with open(tmp, 'w') as handle:
            json.dump(record, handle, indent=1, sort_keys=True)
            handle.write('\n')
        os.rename(tmp, case_file)
        record['headline'] = (parsers.headline(c['mode'], record['metrics']) if record['status'] == 'ok'
                              else 'FAILED: %s' % record['error'])
        record['files'] = sorted(set(self.files))
        return record

    def _run_peers(self):
        c = self.case
        tool = c['tool']
        ext = 'jsonl' if tool == 'icperf' else 'txt'
        argv = self._icperf_argv if tool == 'icperf' else self._sockperf_argv
        init_b = self._init_pid(self.b['name'])
        self._init_pid(self.a['name'])
        cpu0 = {'a': self._cpu_ns(self.a['name']), 'b': self._cpu_ns(self.b['name'])}
        t0 = self.sp.now()
        out_b, err_b = self._path('b.%s' % ext), self._path('b.stderr')
        proc_b = self.sp.start(self._attach(self.b['name'], argv('b')), out_b, err_b)
        try:
            if not self._wait_ready(init_b, proc_b):
                raise RuntimeError('%s on %s did not open its socket within %.0f s: %s'
                                   % (tool, self.b['name'], self.ready_timeout, self.sp.read(err_b).strip()[-500:]))
            out_a, err_a = self._path('a.%s' % ext), self._path('a.stderr')
            proc_a = self.sp.start(self._attach(self.a['name'], argv('a')), out_a, err_a)
            rc_a = self.sp.wait(proc_a, c['duration_s'] + 30)
            if rc_a is None:
                self.sp.signal_tree(proc_a, signal.SIGINT)
                self.sp.wait(proc_a, 5)
            if tool != 'icperf':
                self.sp.signal_tree(proc_b, signal.SIGINT)
            rc_b = self.sp.wait(proc_b, c['duration_s'] + 15)
        finally:
            if proc_b.poll() is None:
                self.sp.signal_tree(proc_b, signal.SIGKILL)
                self.sp.wait(proc_b, 5)
        elapsed = max(self.sp.now() - t0, 1e-9)
        cpu = {}
        for peer in ('a', 'b'):
            after = self._cpu_ns(self.a['name'] if peer == 'a' else self.b['name'])
            if cpu0[peer] is not None and after is not None:
                cpu['cpu_%s_pct' % peer] = round(100.0 * (after - cpu0[peer]) / 1e9 / elapsed, 1)
        text_a, text_b = self.sp.read(out_a), self.sp.read(out_b)
        if tool == 'icperf':
            _samples_a, sum_a = parsers.parse_icperf(text_a)
            _samples_b, sum_b = parsers.parse_icperf(text_b)
            for name, summ, rc, err in (('a', sum_a, rc_a, err_a), ('b', sum_b, rc_b, err_b)):
                if summ is None or rc not in (0, None) and summ.get('error'):
                    raise RuntimeError('icperf peer %s exited %s without a usable summary: %s'
                                       % (name, rc, (summ or {}).get('error') or self.sp.read(err).strip()[-500:]))
            metrics = parsers.icperf_metrics(c['mode'], c['size'], sum_a, sum_b)
            peers = {'a': sum_a, 'b': sum_b}
        else:
            if rc_a != 0:
                raise RuntimeError('sockperf client exited %s: %s' % (rc_a, self.sp.read(err_a).strip()[-500:]))
            if c['mode'] == 'tput':
                client = parsers.parse_sockperf_throughput(text_a)
                server = parsers.parse_sockperf_server(text_b + self.sp.read(err_b))
            else:
                client = parsers.parse_sockperf_pingpong(text_a)
                server = None
            metrics = parsers.sockperf_metrics(c['mode'], c['size'], client, server)
            peers = {'a': client, 'b': server}
        metrics.update(cpu)
        return peers, metrics
