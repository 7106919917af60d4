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
import socket
import stat
import subprocess
import time
from datetime import datetime, timezone

from ansible_collections.kbypass.testbed.plugins.module_utils import parsers, testpmd
from ansible_collections.kbypass.testbed.plugins.module_utils.search import Search, SearchError, SearchTimeout, offered
from ansible_collections.kbypass.testbed.plugins.module_utils.commands import run_program
from ansible_collections.kbypass.testbed.plugins.module_utils.ledger import write_atomic
from ansible_collections.kbypass.testbed.plugins.module_utils.plan import FRAME_BACKENDS, parse_cpu_list
from ansible_collections.kbypass.testbed.plugins.module_utils.results_schema import (
    CASE_FILE, SEARCH_FILE, SCHEMA_VERSION, CONDITION_COLUMNS, LATENCY_LOADS, LOAD_METRICS, METRICS, SOAK_LOAD, SOAK_METRICS,
    bits_per_second,
    load_metric,
)

# what a search case takes from its PDR's confirming trial: the CPU cost at that rate
CPU_METRICS = ('cpu_a_pct', 'cpu_b_pct', 'cpu_a_s', 'cpu_b_s', 'cpu_switch_pct', 'cpu_mhz', 'cycles_a_per_pkt',
               'cycles_b_per_pkt', 'cycles_switch_per_pkt')


class InvalidTrial(Exception):
    """A trial that ran but is not a measurement (parsers.icperf_invalid says why); its figures
    stay in case.json for diagnosis, the report leaves them out."""

    def __init__(self, reason, peers, metrics):
        super().__init__(reason)
        self.reason, self.peers, self.metrics = reason, peers, metrics


class Spawner:
    """Starts processes and inspects /proc. Unit tests replace it with a recorded one."""

    def start(self, argv, stdout_path, stderr_path, detach=False):
        """detach: in a session of its own, so that it outlives the module (two-host cases)."""
        with open(stdout_path, 'wb') as out, open(stderr_path, 'wb') as err:
            return subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                    start_new_session=detach)

    def alive(self, pid):
        """Whether a process (not a zombie) with this pid exists."""
        try:
            with open('/proc/%d/stat' % pid) as handle:
                return handle.read().rsplit(')', 1)[1].split()[0] != 'Z'
        except (OSError, IndexError):
            return False

    def wait(self, proc, timeout):
        """Wait for a process; returns its exit code or None on timeout."""
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def run(self, argv, timeout=30):
        """(rc, stdout, stderr) of a command whose output is parsed: in the C locale, its program
        looked up first (a missing one raises commands.ProgramNotFound, an OSError: the case fails)."""
        return run_program(argv, timeout)

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
        itself does not reach them), then lxc-attach. proc: a Popen or a pid."""
        pid = proc if isinstance(proc, int) else proc.pid
        for child in self.descendants(pid) + [pid]:
            try:
                os.kill(child, sig)
            except OSError:
                pass

    def read(self, path):
        try:
            with open(path) as handle:
                return handle.read()
        except OSError:
            return ''

    def clear_stale_socket(self, path):
        """Remove ``path`` when it is a Unix socket no one listens on: left by a server that was
        killed before it could remove it (DPDK's memif and virtio-user servers then fail with
        'Address already in use'). A socket someone listens on is left alone. True when removed."""
        try:
            if not stat.S_ISSOCK(os.lstat(path).st_mode):
                return False
        except OSError:
            return False
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        probe.settimeout(1.0)
        try:
            probe.connect(path)
        except ConnectionRefusedError:
            os.unlink(path)
            return True
        except OSError:
            return False   # a listener of another socket type (EPROTOTYPE), or busy: alive
        finally:
            probe.close()
        return False

    def cpu_hz(self):
        """The CPU clock in Hz (/proc/cpuinfo's first 'cpu MHz': the TSC rate on x86 hosts and VMs),
        or None where it has none."""
        return parsers.parse_cpu_hz(self.read('/proc/cpuinfo'))

    def process_cpu_s(self, name):
        """CPU seconds (user + system, all threads) used so far by the process called ``name``
        (its comm) in this host's PID namespace, the containers' processes left out; None when
        none runs. Several of that name: their sum."""
        mine = os.readlink('/proc/self/ns/pid')
        total, found = 0.0, False
        for entry in os.listdir('/proc'):
            if not entry.isdigit():
                continue
            try:
                if os.readlink('/proc/%s/ns/pid' % entry) != mine:
                    continue
                with open('/proc/%s/stat' % entry) as handle:
                    text = handle.read()
            except OSError:
                continue
            cpu = parsers.parse_proc_stat_cpu(text, name, os.sysconf('SC_CLK_TCK'))
            if cpu is not None:
                total, found = total + cpu, True
        return total if found else None

    def sleep(self, seconds):
        time.sleep(seconds)

    def now(self):
        return time.monotonic()


# seconds a DPDK sender waits for its link (OVS-DPDK connects to the container's vhost socket
# on its own schedule)
DPDK_LINK_WAIT = 10
# seconds a two-host receiver may wait for its sender (started by the next Ansible task, on
# another host); measured up to ~40 s between the two tasks on the TCG lab guests
CROSS_START_S = 120
# seconds testpmd takes to start forwarding
TESTPMD_START_S = 3


def _port_hex(port):
    return ':%04X ' % int(port)


def offered_metrics(case, metrics):
    """offered_ratio (what the sender achieved over the offered rate) of a paced case, and
    offered_short (1) when it fell more than the case's offered_tolerance short."""
    rate, tx = case.get('rate_pps'), metrics.get('tx_pps')
    if not rate or tx is None:
        return {}
    out = {'offered_ratio': tx / float(rate)}
    if case.get('offered_tolerance') is not None:
        out['offered_short'] = 0 if offered(rate, tx, case['offered_tolerance']) else 1
    return out


class CaseRunner:
    """Runs one case (as planned by plan.make_plan) and writes its raw files."""

    def __init__(self, case, run_dir, run_id, host, icperf='/opt/kbypass/bin/icperf',
                 sockperf='/usr/local/bin/sockperf', lxcpath='/var/lib/lxc', port=9000,
                 testpmd_bin='/usr/local/bin/dpdk-testpmd',
                 ready_timeout=10.0, spawner=None):
        self.case = case
        self.run_dir = run_dir
        self.run_id = run_id
        self.host = host
        self.icperf = icperf
        self.sockperf = sockperf
        self.testpmd = testpmd_bin
        self.lxcpath = lxcpath
        self.port = int(port)
        self.ready_timeout = ready_timeout
        self.sp = spawner or Spawner()
        self.case_dir = os.path.join(run_dir, case['case_id'])
        self.files = []
        # a search's trials write their raw files with this prefix (tNN.), kept on the host
        self._prefix = ''
        # the last icperf trial's per-second samples: (a's, (the receiver's, its summary) or None)
        self._samples = None
        net = case['network']
        self.a, self.b = net['a'], net['b']

    # -- helpers ---------------------------------------------------------------------------
    def _attach(self, container, argv):
        return ['lxc-attach', '-n', container, '-P', self.lxcpath, '--'] + list(argv)

    def _start(self, role, stdout_path, stderr_path, detach=False):
        """Start peer ``role``'s program in its container; first remove a stale socket where the
        peer is to listen (the registry's ``listens``: left by a killed server of an earlier case)."""
        me = self.a if role == 'a' else self.b
        if me.get('listens'):
            self.sp.clear_stale_socket(me['listens'])
        return self.sp.start(self._attach(me['name'], self._argv(role)), stdout_path, stderr_path, detach=detach)

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

    def _wait_ready(self, init_pid, proc, stdout_path, stderr_path):
        """Wait until the receiving side can take traffic: its socket is open (seen in the
        container's /proc/net), or, for DPDK peers, it printed its readiness line on stderr."""
        c = self.case
        if c['backend'] == 'dpdk':
            mark = self._ready_mark()

            def test():
                return mark in self.sp.read(stderr_path) or mark in self.sp.read(stdout_path)
        elif c['backend'] in ('raw', 'raw-mmsg'):
            # (ring opens its packet socket before its rings: its UDP port, opened last, says it is ready)
            path = '/proc/%d/net/packet' % init_pid
            before = self.sp.read(path).count('\n')

            def test():
                return self.sp.read(path).count('\n') > before
        else:
            path = '/proc/%d/net/udp' % init_pid

            def test():
                return _port_hex(self.port) in self.sp.read(path)
        deadline = self.sp.now() + self.ready_timeout * (2 if c['backend'] == 'dpdk' else 1)
        while self.sp.now() < deadline:
            if proc.poll() is not None:
                return False
            if test():
                return True
            self.sp.sleep(0.05)
        return False

    def _ready_mark(self):
        if self.case['tool'] == 'testpmd':
            return testpmd.READY_MARK
        return self.b.get('ready') or 'link up'

    def _loop(self):
        """Loop topology: the switch returns a's traffic to a; b does not run."""
        return self.case.get('topology') == 'loop'

    def _solo(self):
        """Only a runs: in a loop, and in tx mode (a sends alone, nothing counts arrivals)."""
        return self._loop() or self.case['mode'] == 'tx'

    def _eal(self, me):
        return '%s --vdev=%s' % (self.case['network'].get('eal') or '', me['vdev'])

    def _icperf_argv(self, role):
        c = self.case
        mode = {('tput', 'a'): 'send', ('tput', 'b'): 'recv', ('lat', 'a'): 'client', ('lat', 'b'): 'server',
                ('tx', 'a'): 'send'}
        me, peer = (self.a, self.b) if role == 'a' else (self.b, self.a)
        # in a loop a both sends and receives what comes back: icperf's client, unpaced for tput
        name = 'client' if self._loop() and c['mode'] == 'tput' and role == 'a' else mode[(c['mode'], role)]
        argv = [self.icperf, name, '--backend', c['backend'], '--size', str(c['size']),
                '--burst', str(c['burst']), '--duration', str(c['duration_s']), '--warmup', str(c['warmup_s']),
                '--port', str(self.port), '--src-ip', me['ip']]
        if role == 'a':
            argv += ['--dst-ip', peer['ip'], '--rate', str(c['rate_pps']) if c['rate_pps'] else 'max']
        else:
            # a two-host receiver starts one Ansible task before its sender (seconds on real hosts,
            # up to a minute on emulated ones): it waits for the first packet that long at most
            argv += ['--timeout', str(c['duration_s'] + 10 + (CROSS_START_S if c.get('peer_host') else 0))]
        if c['backend'] in FRAME_BACKENDS:
            argv += ['--iface', 'eth0']
            if role == 'a':
                argv += ['--dst-mac', peer['mac']]
        if c['backend'] == 'dpdk':
            argv += ['--bopt', 'eal=' + self._eal(me)]
            if role == 'a':
                # the far side may connect late (OVS reconnects to a vhost server every second)
                argv += ['--dst-mac', peer['mac'], '--bopt', 'link_wait=%d' % DPDK_LINK_WAIT]
        if c.get('warmup_stable'):
            # the warm-up ends once the rate is steady, after half of the seconds left at the latest
            limit = c['warmup_s'] + (c['duration_s'] - c['warmup_s']) / 2.0
            argv += ['--warmup-stable', '%g' % (100.0 * c['warmup_stable']), '--warmup-max', '%g' % limit]
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

    def _testpmd_argv(self, role):
        """testpmd as the reference generator: txonly in a, rxonly in b; flowgen in a loop; txonly
        alone in tx mode. It runs until SIGINT: a is stopped by timeout inside the container, b by
        the runner."""
        c = self.case
        me, peer = (self.a, self.b) if role == 'a' else (self.b, self.a)
        if c['mode'] == 'tx':
            mode = 'txonly'
        else:
            mode = 'flowgen' if self._loop() else ('txonly' if role == 'a' else 'rxonly')
        cpu = str(parse_cpu_list(c['cpus'][role])[0])
        argv = testpmd.generator_argv(mode, me['vdev'], me['mac'], None if mode == 'rxonly' else peer['mac'],
                                      size=c['size'], cpus=cpu, burst=c['burst'], binary=self.testpmd,
                                      eal_args=(c['network'].get('eal') or '').split())
        # testpmd forwards from its first statistics block on, after its EAL start (1-2 s): give it
        # that on top of the duration; its idle first and last seconds are not averaged
        limit = c['duration_s'] + TESTPMD_START_S + (0 if role == 'a' else 15)
        return ['timeout', '-s', 'INT', str(limit)] + argv

    def _testpmd_results(self, text_a, text_b, rc_a, err_a):
        c = self.case
        if rc_a not in (0, 124):   # 124: stopped by its timeout, the normal end
            raise RuntimeError('testpmd in %s exited %s: %s'
                               % (self.a['name'], rc_a, self.sp.read(err_a).strip()[-500:]))
        a = testpmd.parse_testpmd(text_a)
        if c['mode'] == 'tx':
            b = None
        else:
            b = a if self._loop() else testpmd.parse_testpmd(text_b)
        metrics = testpmd.testpmd_metrics(c['mode'], c['size'], a, b, c['warmup_s'])
        if ('tx_pps' if c['mode'] == 'tx' else 'rx_pps') not in metrics:
            raise RuntimeError('testpmd printed no statistics: %s' % (text_a or self.sp.read(err_a)).strip()[-500:])
        peers = {'a': testpmd.summary(a, 0, c['warmup_s']),
                 'b': None if self._solo() else testpmd.summary(b, 0, c['warmup_s'])}
        return peers, metrics

    def _path(self, name):
        """A raw file of the case; the files of a search's trials stay on the host (search.json
        has their figures and summaries), only the case's own are fetched."""
        path = os.path.join(self.case_dir, self._prefix + name)
        if not self._prefix:
            self.files.append(path)
        return path

    # -- the case --------------------------------------------------------------------------
    def run(self):
        return self._record(self._run_search if self.case['mode'] == 'search' else self._run_peers)

    def _record(self, measure):
        """Write case.json from measure() -> (peers, metrics); a failure is a recorded result."""
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
            record['peers'], record['metrics'] = measure()
            record['status'] = 'ok'
        except InvalidTrial as exc:
            record['status'], record['error'] = 'invalid', exc.reason
            record['peers'], record['metrics'] = exc.peers, exc.metrics
        except (RuntimeError, OSError, parsers.ParseError, subprocess.SubprocessError) as exc:
            record['error'] = str(exc)
        record['elapsed_s'] = round(self.sp.now() - t0, 3)
        record['metrics'] = dict((k, v) for k, v in record['metrics'].items() if k in METRICS)
        write_atomic(self._path(CASE_FILE), json.dumps(record, indent=1, sort_keys=True) + '\n')
        record['headline'] = (parsers.headline(c['mode'], record['metrics']) if record['status'] == 'ok'
                              else '%s: %s' % (record['status'].upper(), record['error']))
        record['files'] = sorted(set(self.files))
        return record

    def _argv(self, role):
        tool = self.case['tool']
        if tool == 'icperf':
            return self._icperf_argv(role)
        if tool == 'testpmd':
            return self._testpmd_argv(role)
        return self._sockperf_argv(role)

    def _run_peers(self):
        c = self.case
        tool = c['tool']
        ext = 'jsonl' if tool == 'icperf' else 'txt'
        solo = self._solo()
        init_b = self._init_pid(self.b['name'])
        self._init_pid(self.a['name'])
        cpu0 = {'a': self._cpu_ns(self.a['name']), 'b': self._cpu_ns(self.b['name'])}
        switch = c.get('switch_process')
        switch0 = self.sp.process_cpu_s(switch) if switch else None
        t0 = self.sp.now()
        out_b = err_b = proc_b = None
        rc_b = None
        try:
            if not solo:
                out_b, err_b = self._path('b.%s' % ext), self._path('b.stderr')
                proc_b = self._start('b', out_b, err_b)
                if not self._wait_ready(init_b, proc_b, out_b, err_b):
                    raise RuntimeError('%s on %s was not ready within %.0f s: %s'
                                       % (tool, self.b['name'], self.ready_timeout,
                                          self.sp.read(err_b).strip()[-500:]))
            out_a, err_a = self._path('a.%s' % ext), self._path('a.stderr')
            proc_a = self._start('a', out_a, err_a)
            rc_a = self.sp.wait(proc_a, c['duration_s'] + 30)
            if rc_a is None:
                self.sp.signal_tree(proc_a, signal.SIGINT)
                self.sp.wait(proc_a, 5)
            if proc_b is not None:
                if tool != 'icperf':
                    self.sp.signal_tree(proc_b, signal.SIGINT)
                rc_b = self.sp.wait(proc_b, c['duration_s'] + 15)
        finally:
            if proc_b is not None and proc_b.poll() is None:
                self.sp.signal_tree(proc_b, signal.SIGKILL)
                self.sp.wait(proc_b, 5)
        elapsed = max(self.sp.now() - t0, 1e-9)
        cpu = {}
        switch1 = self.sp.process_cpu_s(switch) if switch0 is not None else None
        if switch1 is not None:
            # the switch is not asked when its trial's window opens: its share over the whole trial
            # (a busy poller's is the same in and out of the window)
            cpu['cpu_switch_pct'] = round(100.0 * (switch1 - switch0) / elapsed, 1)
        for peer in ('a', 'b'):
            after = self._cpu_ns(self.a['name'] if peer == 'a' else self.b['name'])
            # in a loop or a tx case b takes no part: its idle container's share is no figure of it
            if cpu0[peer] is not None and after is not None and not (solo and peer == 'b'):
                cpu['cpu_%s_pct' % peer] = round(100.0 * (after - cpu0[peer]) / 1e9 / elapsed, 1)
        text_a = self.sp.read(out_a)
        text_b = self.sp.read(out_b) if out_b else ''
        if tool == 'icperf':
            peers, metrics = self._icperf_results(
                {'out': text_a, 'rc': rc_a, 'err': self.sp.read(err_a)},
                None if solo else {'out': text_b, 'rc': rc_b, 'err': self.sp.read(err_b)})
        elif tool == 'testpmd':
            peers, metrics = self._testpmd_results(text_a, text_b, rc_a, err_a)
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
        # the cgroup's share over the whole trial only where the tool gave none from its window
        for key, value in cpu.items():
            metrics.setdefault(key, value)
        metrics.update(parsers.cycles_per_packet(metrics, self.sp.cpu_hz()))
        metrics.update(offered_metrics(c, metrics))
        return peers, metrics

    # -- a search: trials inside this one call (docs/method.md) --------------------------------
    def _trial(self, trials, t0, rate, duration, phase, mode='tput'):
        """Run one trial of a search: the case as a ``mode`` case at ``rate`` (0: unpaced) for
        ``duration`` s, its raw files prefixed tNN.; appended to ``trials`` and returned. An
        invalid trial is a result (its reason kept); any other failure fails the search."""
        index = len(trials) + 1
        case, self.case = self.case, dict(self.case, mode=mode, rate_pps=rate, duration_s=duration)
        self._prefix = 't%02d.' % index
        started = datetime.now(timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
        start = self.sp.now()
        invalid = None
        try:
            peers, metrics = self._run_peers()
        except InvalidTrial as exc:
            peers, metrics, invalid = exc.peers, exc.metrics, exc.reason
        finally:
            self.case, self._prefix = case, ''
        metrics = dict((k, v) for k, v in metrics.items() if k in METRICS)
        # what the sender attempted and the loss of it: frames the path refused count as lost
        attempted, loss = parsers.offered_figures(metrics)
        trial = {'index': index, 'phase': phase, 'mode': mode, 'rate_pps': rate, 'duration_s': duration,
                 'started_utc': started, 'start_s': round(start - t0, 3), 'end_s': round(self.sp.now() - t0, 3),
                 'invalid': invalid, 'tx_pps': metrics.get('tx_pps'), 'attempted_pps': attempted,
                 'rx_pps': metrics.get('rx_pps'), 'loss_ratio': loss,
                 'offered': offered(rate, attempted, case.get('offered_tolerance', 0.0)),
                 'metrics': metrics, 'peers': peers}
        trials.append(trial)
        return trial

    def _run_search(self):
        """Find the case's NDR and PDR (search.Search over tput trials), then, when asked, the
        round trip at LATENCY_LOADS % of the PDR; every trial goes to search.json, the case's
        metrics are the goals' rates and the confirming trials' figures. A search out of time
        is invalid with the bounds it had."""
        c = self.case
        opts = c['search']
        t0 = self.sp.now()
        trials = []
        out = {'options': opts, 'complete': False, 'error': None, 'goals': {}, 'trials': trials}
        srch = Search(lambda rate, duration, phase: self._trial(trials, t0, rate, duration, phase),
                      opts['goals'], opts['precision'], opts['precision_pps'], opts['short_s'], opts['full_s'],
                      opts['max_s'], clock=self.sp.now)
        metrics, peers = {}, {}
        try:
            found = srch.run()
            out.update(complete=True, ceiling_pps=found['ceiling_pps'], mrr_pps=found['mrr_pps'])
            metrics.update(max_tx_pps=float(found['ceiling_pps']), mrr_pps=float(found['mrr_pps'] or 0.0))
            for name, goal in found['goals'].items():
                trial = goal['trial']
                out['goals'][name] = {'rate_pps': goal['rate_pps'], 'upper_pps': goal['upper_pps'],
                                      'bound': goal['bound'], 'trial': trial['index'] if trial else None}
                metrics['%s_pps' % name] = float(goal['rate_pps'])
                metrics['%s_bps' % name] = bits_per_second(goal['rate_pps'], c['size'])
                if trial:
                    metrics['%s_tx_pps' % name] = trial['tx_pps']
                    metrics['%s_loss_ratio' % name] = trial['loss_ratio']
            pdr = found['goals']['pdr']
            if pdr['trial']:
                peers = pdr['trial']['peers']
                metrics.update((k, v) for k, v in pdr['trial']['metrics'].items() if k in CPU_METRICS)
            if opts['latency'] and pdr['rate_pps']:
                for load in LATENCY_LOADS:
                    trial = self._trial(trials, t0, int(round(pdr['rate_pps'] * load / 100.0)), opts['full_s'],
                                        'latency', mode='lat')
                    trial['load_pct'] = load
                    metrics.update((load_metric(name, load), trial['metrics'][name]) for name in LOAD_METRICS
                                   if name in trial['metrics'] and not trial['invalid'])
            if opts.get('soak_s') and pdr['rate_pps']:
                metrics.update(self._soak(trials, t0, pdr['rate_pps'], opts['soak_s']))
        except SearchTimeout as exc:
            out['error'] = 'search incomplete: %s' % exc
            out['goals'] = dict((name, {'lower_pps': srch.lower_rate(loss), 'upper_pps': srch.upper(loss)})
                                for name, loss in opts['goals'].items())
        except SearchError as exc:
            out['error'] = str(exc)
        finally:
            out['elapsed_s'] = round(self.sp.now() - t0, 3)
            # the seconds inside the trials' measurement windows, of the whole search's
            out['measured_s'] = round(sum(t['metrics'].get('window_s') or 0.0 for t in trials), 3)
            write_atomic(self._path(SEARCH_FILE), json.dumps(out, indent=1, sort_keys=True) + '\n')
        metrics.update(search_trials=sum(1 for t in trials if t['phase'] in Search.PHASES), search_s=out['elapsed_s'],
                       measured_s=out['measured_s'])
        if out['error']:
            raise InvalidTrial(out['error'], peers, metrics)
        return peers, metrics

    def _soak(self, trials, t0, pdr_pps, seconds):
        """The soak: one tput trial of ``seconds`` at SOAK_LOAD % of the PDR, second by second in
        its trial's ``seconds`` (parsers.loss_trace); its figures as soak_* metrics (only soak_pps
        and soak_s when it was invalid: its reason is the trial's)."""
        self._samples = None
        trial = self._trial(trials, t0, int(round(pdr_pps * SOAK_LOAD / 100.0)), seconds, 'soak')
        trial['load_pct'] = SOAK_LOAD
        sent, received = self._samples or ((), None)
        trial['seconds'] = parsers.loss_trace(sent, received and received[0], received and received[1].get('window'))
        metrics = {'soak_pps': float(trial['rate_pps']), 'soak_s': float(seconds)}
        if trial['invalid']:
            return metrics
        figures = dict(trial['metrics'], loss_ratio=trial['loss_ratio'])
        metrics.update(('soak_' + name, figures[name]) for name in SOAK_METRICS if figures.get(name) is not None)
        loss_seconds, worst = parsers.trace_figures(trial['seconds'])
        metrics['soak_loss_seconds'] = loss_seconds
        if worst is not None:
            metrics['soak_worst_loss_ratio'] = worst
        return metrics

    def _icperf_results(self, side_a, side_b):
        """Peers' summaries and the case's metrics from icperf's outputs: side_* = {out, rc, err}
        (texts); side_b None in a loop (a both sends and counts what came back) and in tx mode."""
        c = self.case
        samples_a, sum_a = parsers.parse_icperf(side_a['out'])
        sides = [('a', sum_a, side_a)]
        sum_b = samples_b = None
        if side_b is not None:
            samples_b, sum_b = parsers.parse_icperf(side_b['out'])
            sides.append(('b', sum_b, side_b))
        for name, summ, side in sides:
            if summ is None or side['rc'] not in (0, None) and summ.get('error'):
                raise RuntimeError('icperf peer %s exited %s without a usable summary: %s'
                                   % (name, side['rc'], (summ or {}).get('error') or side['err'].strip()[-500:]))
        if side_b is None and c['mode'] == 'tput':
            metrics = parsers.icperf_metrics('tput', c['size'], sum_a, sum_a)
        else:
            metrics = parsers.icperf_metrics(c['mode'], c['size'], sum_a, sum_b)
        peers = {'a': sum_a, 'b': sum_b}
        receiver = None if c['mode'] == 'tx' else (samples_b, sum_b) if sum_b is not None else (samples_a, sum_a)
        self._samples = (samples_a, receiver)    # the per-second samples, for a soak's trace
        reason = parsers.icperf_invalid(c['mode'], (samples_a, sum_a), receiver)
        if reason:
            raise InvalidTrial(reason, peers, metrics)
        return peers, metrics

    # -- two-host cases: b on its host, a on another; three calls, in this order -------------
    # start_receiver (b's host) -> run_sender (a's host) -> finish_receiver (b's host, with what
    # run_sender returned): case.json is written there, with a's figures and CPU time.
    def _state_file(self):
        return os.path.join(self.case_dir, 'b.state.json')

    def start_receiver(self):
        """Start b's icperf detached (it outlives this call) and wait until it takes traffic.
        Never raises for the case's own failure: the error is kept for finish_receiver."""
        os.makedirs(self.case_dir, exist_ok=True)
        state = {'pid': None, 'cpu_ns': None, 't0': self.sp.now(), 'error': None}
        try:
            init_b = self._init_pid(self.b['name'])
            state['cpu_ns'] = self._cpu_ns(self.b['name'])
            out_b, err_b = self._path('b.jsonl'), self._path('b.stderr')
            proc = self._start('b', out_b, err_b, detach=True)
            state['pid'] = proc.pid
            if not self._wait_ready(init_b, proc, out_b, err_b):
                self.sp.signal_tree(proc, signal.SIGKILL)
                raise RuntimeError('icperf on %s was not ready within %.0f s: %s'
                                   % (self.b['name'], self.ready_timeout, self.sp.read(err_b).strip()[-500:]))
        except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
            state['error'] = str(exc)
        with open(self._state_file(), 'w') as handle:
            json.dump(state, handle)
        return state

    def run_sender(self):
        """Run a's icperf to its end; returns its outputs and CPU share for finish_receiver."""
        c = self.case
        os.makedirs(self.case_dir, exist_ok=True)
        side = {'out': '', 'err': '', 'rc': None, 'cpu_pct': None, 'error': None}
        try:
            self._init_pid(self.a['name'])
            cpu0 = self._cpu_ns(self.a['name'])
            t0 = self.sp.now()
            out_a, err_a = self._path('a.jsonl'), self._path('a.stderr')
            proc = self._start('a', out_a, err_a)
            side['rc'] = self.sp.wait(proc, c['duration_s'] + 30)
            if side['rc'] is None:
                self.sp.signal_tree(proc, signal.SIGINT)
                self.sp.wait(proc, 5)
            after = self._cpu_ns(self.a['name'])
            if cpu0 is not None and after is not None:
                side['cpu_pct'] = round(100.0 * (after - cpu0) / 1e9 / max(self.sp.now() - t0, 1e-9), 1)
            side['out'], side['err'] = self.sp.read(out_a), self.sp.read(err_a)[-2000:]
        except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
            side['error'] = str(exc)
        return side

    def finish_receiver(self, sender):
        """Wait for b's end, then write case.json from both sides' outputs."""
        return self._record(lambda: self._finish_cross(sender or {}))

    def _finish_cross(self, sender):
        c = self.case
        with open(self._state_file()) as handle:
            state = json.load(handle)
        pid = state.get('pid')
        if pid:
            deadline = self.sp.now() + c['duration_s'] + 15
            while self.sp.alive(pid) and self.sp.now() < deadline:
                self.sp.sleep(0.2)
            if self.sp.alive(pid):
                self.sp.signal_tree(pid, signal.SIGKILL)
        self._path('b.jsonl')
        self._path('b.stderr')
        for error in (state.get('error'), sender.get('error')):
            if error:
                raise RuntimeError(error)
        cpu_b = self._cpu_ns(self.b['name'])
        peers, metrics = self._icperf_results(
            {'out': sender.get('out') or '', 'rc': sender.get('rc'), 'err': sender.get('err') or ''},
            {'out': self.sp.read(os.path.join(self.case_dir, 'b.jsonl')), 'rc': None,
             'err': self.sp.read(os.path.join(self.case_dir, 'b.stderr'))})
        # the cgroups' shares over the whole run only where icperf's windows gave none
        if sender.get('cpu_pct') is not None:
            metrics.setdefault('cpu_a_pct', sender['cpu_pct'])
        if state.get('cpu_ns') is not None and cpu_b is not None:
            metrics.setdefault('cpu_b_pct', round(100.0 * (cpu_b - state['cpu_ns']) / 1e9
                                                  / max(self.sp.now() - state['t0'], 1e-9), 1))
        return peers, metrics
