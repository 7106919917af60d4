# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""bench.CaseRunner against commands and outputs recorded on a real host (record.py records them),
replayed in order by harness.ReplaySpawner: every recorded event must be used, none added."""

from __future__ import annotations

import glob
import json
import os
import socket

import pytest

from ansible_collections.kbypass.testbed.plugins.module_utils.bench import CaseRunner, InvalidTrial, Spawner
from ansible_collections.kbypass.testbed.plugins.module_utils.plan import path_network

from ...harness import ReplaySpawner

HERE = os.path.dirname(__file__)
FIXTURES = sorted(glob.glob(os.path.join(HERE, '..', '..', 'fixtures', 'bench', '*.json')))


def load(path):
    with open(path) as handle:
        return json.load(handle)


@pytest.mark.parametrize('path', FIXTURES, ids=[os.path.basename(p)[:-5] for p in FIXTURES])
def test_replayed_case_gives_the_recorded_metrics(path, tmp_path):
    rec = load(path)
    spawner = ReplaySpawner(rec['events'])
    record = CaseRunner(rec['case'], str(tmp_path), 'run1', 'lab1', spawner=spawner).run()
    assert record['status'] == 'ok', record['error']
    recorded = dict(rec['record']['metrics'])
    got = dict(record['metrics'])
    # CPU percentages depend on wall-clock time, which the replay fakes; so do the cycles per
    # packet, at the replay's fixed clock
    # in a loop or a tx case b takes no part: no CPU figure of it
    solo = rec['case']['mode'] == 'tx' or rec['case'].get('topology') == 'loop'
    for key in ('cpu_a_pct', 'cpu_b_pct'):
        assert (key in got) is not (solo and key == 'cpu_b_pct')
        recorded.pop(key, None)
        got.pop(key, None)
    cycles = [k for k in got if k.startswith('cycles_')]
    assert got.pop('cpu_mhz', None) == (ReplaySpawner.CPU_HZ / 1e6 if cycles else None)
    for key in cycles:
        assert got.pop(key) > 0
    # a paced case says how much of the offered rate its sender achieved (recorded before that)
    if rec['case']['rate_pps'] and 'tx_pps' in got:
        assert got.pop('offered_ratio') == pytest.approx(got['tx_pps'] / rec['case']['rate_pps'])
        # the recorded cases were planned before offered_tolerance: no verdict without it
        assert 'offered_tolerance' not in rec['case'] and 'offered_short' not in got
    assert got == pytest.approx(recorded)
    case = load(os.path.join(str(tmp_path), rec['case']['case_id'], 'case.json'))
    assert case['conditions']['path'] == rec['case']['path'] and case['schema'] == 1 and case['host'] == 'lab1'
    assert case['conditions']['topology'] == rec['case']['topology']
    assert sorted(os.path.basename(f) for f in record['files']) == sorted(
        os.listdir(os.path.join(str(tmp_path), rec['case']['case_id'])))
    spawner.commands.verify()   # every recorded command was issued, in the recorded order


def test_container_not_running_is_a_recorded_failure(tmp_path):
    rec = load(FIXTURES[0])
    events = [dict(rec['events'][0], rc=1, out='', err='kbp-br-b doesn\'t exist\n')]
    record = CaseRunner(rec['case'], str(tmp_path), 'run1', 'lab1', spawner=ReplaySpawner(events)).run()
    assert record['status'] == 'failed'
    assert 'container kbp-br-b is not running' in record['error'] and record['headline'].startswith('FAILED')
    case = load(os.path.join(str(tmp_path), rec['case']['case_id'], 'case.json'))
    assert case['status'] == 'failed' and case['metrics'] == {}


def test_receiver_that_never_opens_its_socket_fails_the_case(tmp_path):
    rec = load([p for p in FIXTURES if 'icperf.udp.tput' in p][0])
    events = [dict(e) for e in rec['events']]
    first_read = [e['kind'] for e in events].index('read')
    closed = dict(events[first_read], out='  sl  local_address rem_address   st\n')
    # the recorded commands up to b's start, then b's socket table read until ready_timeout=2 s
    # of the replay's clock (now() +0.5 s a call, sleep(0.05)): 3 reads; nothing runs after
    spawner = ReplaySpawner(events[:first_read] + [closed] * 3)
    runner = CaseRunner(rec['case'], str(tmp_path), 'run1', 'lab1', spawner=spawner, ready_timeout=2)
    record = runner.run()
    assert record['status'] == 'failed' and 'was not ready within 2 s' in record['error']


@pytest.mark.parametrize('name', ['linux_bridge.icperf.udp.tput.s64.rmax.b32', 'linux_bridge.icperf.udp.lat.s64.r1000.b4'])
def test_two_host_case_in_three_steps_gives_the_one_host_metrics(name, tmp_path):
    """The same recorded commands, split as a two-host case runs them: b starts detached on its
    host, a runs on its host, b finishes with a's output and writes case.json."""
    rec = load([p for p in FIXTURES if os.path.basename(p) == name + '.json'][0])
    case = dict(rec['case'], peer_host='lab2', hosts={'a': 'lab1', 'b': 'lab2'})
    receiving, sending, finishing = (ReplaySpawner(events, step) for step, events in
                                     zip(('receiver start', 'sender', 'receiver finish'), cross_steps(rec, case)))
    host_a, host_b = str(tmp_path / 'lab1'), str(tmp_path / 'lab2')
    state = CaseRunner(case, host_b, 'run1', 'lab1', spawner=receiving).start_receiver()
    assert state['error'] is None and state['pid'] == 4242
    sender = CaseRunner(case, host_a, 'run1', 'lab1', spawner=sending).run_sender()
    assert sender['error'] is None and sender['rc'] == 0 and sender['out']
    assert sorted(os.listdir(os.path.join(host_a, case['case_id']))) == ['a.jsonl', 'a.stderr']
    json.loads(json.dumps(sender))   # it travels through Ansible
    record = CaseRunner(case, host_b, 'run1', 'lab1', spawner=finishing).finish_receiver(sender)
    assert record['status'] == 'ok', record['error']
    recorded = dict((k, v) for k, v in rec['record']['metrics'].items() if not k.startswith('cpu_'))
    assert dict((k, v) for k, v in record['metrics'].items() if not k.startswith('cpu_')) == pytest.approx(recorded)
    assert 'cpu_a_pct' in record['metrics'] and 'cpu_b_pct' in record['metrics']
    written = load(os.path.join(host_b, case['case_id'], 'case.json'))
    assert written['host'] == 'lab1' and written['conditions']['peer_host'] == 'lab2'
    assert sorted(os.path.basename(f) for f in record['files']) == ['b.jsonl', 'b.stderr', 'case.json']


def cross_steps(rec, case):
    """The recorded one-host commands, as the three steps of a two-host case make them, each on
    its own host: the receiver's start (container b's commands and its socket table reads, with
    the longer wait of a two-host receiver), the sender (container a's commands), the receiver's
    finish (b's last CPU time read)."""
    events = json.loads(json.dumps(rec['events']))
    for event in events:
        argv = event['argv']
        if event['kind'] == 'start' and '--timeout' in argv:
            at = argv.index('--timeout') + 1
            assert argv[at] == str(case['duration_s'] + 10)
            argv[at] = str(case['duration_s'] + 10 + 120)

    def container(event):   # the reads are b's readiness check
        return 'kbp-br-b' if event['kind'] == 'read' else event['argv'][event['argv'].index('-n') + 1]
    b_side = [e for e in events if container(e) == 'kbp-br-b']
    a_side = [e for e in events if container(e) == 'kbp-br-a']
    assert len(a_side) + len(b_side) == len(events)
    return b_side[:-1], a_side, b_side[-1:]


def test_two_host_case_whose_sender_did_not_run_is_a_recorded_failure(tmp_path):
    rec = load([p for p in FIXTURES if 'icperf.udp.tput' in p][0])
    case = dict(rec['case'], peer_host='lab2', hosts={'a': 'lab1', 'b': 'lab2'})
    receiving = cross_steps(rec, case)[0]
    CaseRunner(case, str(tmp_path), 'run1', 'lab1', spawner=ReplaySpawner(receiving)).start_receiver()
    # without the sender's output the receiver reads no CPU time: it runs nothing more
    record = CaseRunner(case, str(tmp_path), 'run1', 'lab1', spawner=ReplaySpawner([])).finish_receiver(
        {'error': 'the sending host lab1 did not run its side'})
    assert record['status'] == 'failed' and 'lab1 did not run its side' in record['error']
    assert load(os.path.join(str(tmp_path), case['case_id'], 'case.json'))['status'] == 'failed'


def test_spawner_removes_only_a_socket_no_one_listens_on(tmp_path):
    """A server killed before it removed its socket leaves the file: it goes; a live one stays."""
    stale, live, plain = (str(tmp_path / n) for n in ('stale.sock', 'live.sock', 'plain.sock'))
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    dead.bind(stale)
    dead.close()                      # the file stays, as after a SIGKILL
    server = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)   # memif's socket type
    server.bind(live)
    server.listen(1)
    with open(plain, 'w') as handle:
        handle.write('not a socket')
    try:
        spawner = Spawner()
        assert spawner.clear_stale_socket(stale) is True and not os.path.exists(stale)
        assert spawner.clear_stale_socket(live) is False and os.path.exists(live)
        assert spawner.clear_stale_socket(plain) is False and os.path.exists(plain)
        assert spawner.clear_stale_socket(str(tmp_path / 'none.sock')) is False
    finally:
        server.close()


@pytest.mark.parametrize('name, cleared', [
    ('memif.icperf.dpdk.lat.s64.r1000.b4', ['/run/kbypass/memif/memif.sock']),
    ('linux_bridge.icperf.udp.lat.s64.r1000.b4', []),
])
def test_a_server_peer_starts_after_its_stale_socket_is_cleared(name, cleared, tmp_path):
    """The plan's listens (the registry's) reaches the run: memif's b (the server) is asked to clear
    its socket before it starts; a kernel path has none."""
    rec = load(os.path.join(HERE, '..', '..', 'fixtures', 'bench', name + '.json'))
    case, net = dict(rec['case']), path_network(rec['case']['path'])
    case['network'] = dict(case['network'], **dict(
        (peer, dict(case['network'][peer], **dict(('listens', net[peer][k]) for k in net[peer] if k == 'listens')))
        for peer in ('a', 'b')))
    spawner = ReplaySpawner(rec['events'])
    assert CaseRunner(case, str(tmp_path), 'run1', 'lab1', spawner=spawner).run()['status'] == 'ok'
    assert spawner.cleared == cleared
    spawner.commands.verify()


def test_a_case_whose_traffic_stopped_is_invalid_with_its_reason(tmp_path):
    """The recorded linux_bridge case, its icperf outputs those of a recorded run whose sender
    stopped after 2.5 s of b's 5 (fixtures/icperf/tput-stopped.*)."""
    rec = load([p for p in FIXTURES if 'icperf.udp.tput' in p][0])
    outputs = {}
    for peer in ('a', 'b'):
        with open(os.path.join(HERE, '..', '..', 'fixtures', 'icperf', 'tput-stopped.%s.jsonl' % peer)) as handle:
            outputs[peer] = handle.read()
    events = []
    for event in rec['events']:
        event = dict(event)
        if event['kind'] == 'start':
            event['out'] = outputs['b' if 'recv' in event['argv'] else 'a']
        events.append(event)
    spawner = ReplaySpawner(events)
    record = CaseRunner(rec['case'], str(tmp_path), 'run1', 'lab1', spawner=spawner).run()
    assert record['status'] == 'invalid'
    assert record['error'].startswith('traffic stopped: the receiver received no packet in second 4 of the run')
    assert record['headline'].startswith('INVALID: traffic stopped')
    case = load(os.path.join(str(tmp_path), rec['case']['case_id'], 'case.json'))
    # the figures stay in case.json for diagnosis; the report leaves an invalid case out of its figures
    assert case['status'] == 'invalid' and case['error'] == record['error'] and case['metrics']['rx_pps'] > 0
    spawner.commands.verify()


class ModelRunner(CaseRunner):
    """A CaseRunner whose trials come from a model path (test_search.ModelPath) instead of
    containers: what _run_search makes of the trials is under test, not how a trial runs (the
    replayed cases above cover that)."""

    def __init__(self, model, *args, **kwargs):
        CaseRunner.__init__(self, *args, **kwargs)
        self.model = model

    def _run_peers(self):
        c = self.case
        with open(self._path('a.jsonl'), 'w') as handle:
            handle.write('{}\n')
        window = c['duration_s'] - c['warmup_s']
        if c['mode'] == 'lat':
            return {}, {'tx_pps': float(c['rate_pps']), 'loss_ratio': 0.0, 'window_s': window,
                        'rtt_p50_us': 10.0 + c['rate_pps'] / 1e4, 'rtt_p99_us': 20.0 + c['rate_pps'] / 1e4}
        assert c['mode'] == 'tput'
        trial = self.model(c['rate_pps'], c['duration_s'], None)
        if c['rate_pps'] and c['rate_pps'] >= 500000:
            raise InvalidTrial('traffic stopped: a model path that stops above 500 kpps', {}, {'tx_pps': 1.0})
        # its seconds: the model's loss in every one of them
        tx, lost = int(trial['tx_pps']), int(round(trial['tx_pps'] * trial['loss_ratio']))
        seconds = range(1, c['duration_s'] + 1)
        self._samples = ([{'t': t, 'sent': tx, 'tx_dropped': 0, 'tx_pps': float(tx)} for t in seconds],
                         ([{'t': t, 'received': tx - lost, 'lost': lost, 'rx_pps': float(tx - lost)} for t in seconds],
                          {'window': {'start_s': float(c['warmup_s']), 'end_s': float(c['duration_s'])}}))
        return {'a': {'sent': 1}}, {'tx_pps': trial['tx_pps'], 'rx_pps': trial['rx_pps'],
                                    'loss_ratio': trial['loss_ratio'], 'window_s': window, 'cpu_a_pct': 50.0}


def search_case(**options):
    rec = load([p for p in FIXTURES if 'icperf.udp.tput' in p][0])
    case = dict(rec['case'], mode='search', rate_pps=0, duration_s=10, warmup_s=2, offered_tolerance=0.05,
                case_id='linux_bridge.icperf.udp.search.s64.rmax.b32')
    case['search'] = dict({'goals': {'ndr': 0.0, 'pdr': 0.005}, 'precision': 0.005, 'precision_pps': 1000,
                           'short_s': 3, 'full_s': 10, 'max_s': 600, 'latency': True}, **options)
    return case


def test_a_search_case_records_every_trial_and_the_goals_it_found(tmp_path):
    from .test_search import ModelPath
    model = ModelPath(55000, 225000, 230000, 1200000)
    case = search_case()
    record = ModelRunner(model, case, str(tmp_path), 'run1', 'lab1').run()
    assert record['status'] == 'ok', record['error']
    m = record['metrics']
    assert 0 < m['ndr_pps'] <= 55000 < m['ndr_pps'] + 1000 and m['ndr_loss_ratio'] == 0.0
    assert m['ndr_pps'] < m['pdr_pps'] <= 225000 and m['pdr_loss_ratio'] <= 0.005
    assert m['pdr_bps'] == m['pdr_pps'] * 64 * 8 and m['max_tx_pps'] == 1200000 and m['mrr_pps'] > 0
    assert m['search_trials'] == len(model.calls) and m['cpu_a_pct'] == 50.0
    # latency at 10, 50 and 90 % of the PDR, each a full-length lat trial
    for pct in (10, 50, 90):
        assert m['tx_pps_pdr%d' % pct] == round(m['pdr_pps'] * pct / 100.0)
        assert m['rtt_p99_us_pdr%d' % pct] > m['rtt_p50_us_pdr%d' % pct]
    case_dir = os.path.join(str(tmp_path), case['case_id'])
    # only case.json and search.json are fetched; every trial's raw files stay on the host
    assert sorted(os.path.basename(f) for f in record['files']) == ['case.json', 'search.json']
    found = load(os.path.join(case_dir, 'search.json'))
    trials = found['trials']
    assert found['complete'] and found['error'] is None and len(trials) == len(model.calls) + 3
    assert sorted(os.listdir(case_dir)) == sorted(['case.json', 'search.json'] +
                                                  ['t%02d.a.jsonl' % t['index'] for t in trials])
    assert [t['phase'] for t in trials[-3:]] == ['latency'] * 3 and [t['load_pct'] for t in trials[-3:]] == [10, 50, 90]
    for goal in ('ndr', 'pdr'):
        confirm = trials[found['goals'][goal]['trial'] - 1]
        assert confirm['duration_s'] == 10 and confirm['rate_pps'] == m['%s_pps' % goal]
        assert m['%s_tx_pps' % goal] == confirm['tx_pps']
    for earlier, later in zip(trials, trials[1:]):
        assert earlier['start_s'] <= earlier['end_s'] <= later['start_s']
    assert found['measured_s'] == m['measured_s'] == sum(t['duration_s'] - 2 for t in trials)
    assert 'NDR' in record['headline'] and 'PDR' in record['headline']


def test_a_soak_runs_at_90_percent_of_the_pdr_and_keeps_its_seconds(tmp_path):
    from .test_search import ModelPath
    model = ModelPath(55000, 225000, 230000, 1200000)
    case = search_case(latency=False, soak_s=60)
    record = ModelRunner(model, case, str(tmp_path), 'run1', 'lab1').run()
    assert record['status'] == 'ok', record['error']
    m = record['metrics']
    assert m['soak_pps'] == round(0.9 * m['pdr_pps']) and m['soak_s'] == 60
    # between the model's NDR and PDR: a little loss in every second of the window (2 s warm-up)
    assert 0 < m['soak_loss_ratio'] < 0.005 and m['soak_loss_seconds'] == 58
    assert m['soak_worst_loss_ratio'] == pytest.approx(m['soak_loss_ratio'], rel=1e-3)
    assert m['soak_tx_pps'] == model.calls[-1][0] and model.calls[-1][1] == 60
    # the soak is no search trial
    assert m['search_trials'] == len(model.calls) - 1
    found = load(os.path.join(str(tmp_path), case['case_id'], 'search.json'))
    soak = found['trials'][-1]
    assert (soak['phase'], soak['load_pct'], soak['duration_s'], len(soak['seconds'])) == ('soak', 90, 60, 60)
    assert [s['window'] for s in soak['seconds'][:3]] == [False, False, True]
    assert 'soak 60 s: loss' in record['headline']


def test_an_invalid_trial_bounds_the_search_and_is_recorded_with_its_reason(tmp_path):
    from .test_search import ModelPath
    model = ModelPath(400000, 600000, 700000, 2000000)
    record = ModelRunner(model, search_case(latency=False), str(tmp_path), 'run1', 'lab1').run()
    assert record['status'] == 'ok' and record['metrics']['pdr_pps'] < 500000
    found = load(os.path.join(str(tmp_path), search_case()['case_id'], 'search.json'))
    stopped = [t for t in found['trials'] if t['invalid']]
    assert stopped and all(t['rate_pps'] >= 500000 and t['invalid'].startswith('traffic stopped') for t in stopped)


def test_a_search_out_of_time_is_invalid_with_the_bounds_it_had(tmp_path):
    from .test_search import ModelPath
    model = ModelPath(55000, 225000, 230000, 1200000)
    clock = iter(range(0, 100000, 7))
    runner = ModelRunner(model, search_case(max_s=30), str(tmp_path), 'run1', 'lab1')
    runner.sp.now = lambda: next(clock)
    record = runner.run()
    assert record['status'] == 'invalid' and record['error'].startswith('search incomplete: search time budget of 30 s')
    found = load(os.path.join(str(tmp_path), search_case()['case_id'], 'search.json'))
    assert not found['complete'] and found['trials'] and found['goals']['pdr']['upper_pps']
    assert record['metrics']['search_trials'] == len(found['trials'])


@pytest.mark.parametrize('case, metrics, expected', [
    ({'rate_pps': 1000000, 'offered_tolerance': 0.05}, {'tx_pps': 960000.0}, {'offered_ratio': 0.96, 'offered_short': 0}),
    ({'rate_pps': 5590000, 'offered_tolerance': 0.01}, {'tx_pps': 5350000.0},
     {'offered_ratio': 5350000 / 5590000.0, 'offered_short': 1}),
    ({'rate_pps': 1000}, {'tx_pps': 997.3}, {'offered_ratio': 0.9973}),
    ({'rate_pps': 0, 'offered_tolerance': 0.05}, {'tx_pps': 1e6}, {}),
    ({'rate_pps': 1000, 'offered_tolerance': 0.05}, {}, {}),
])
def test_a_paced_case_says_what_its_sender_achieved_of_the_offered_rate(case, metrics, expected):
    from ansible_collections.kbypass.testbed.plugins.module_utils.bench import offered_metrics
    assert offered_metrics(case, metrics) == pytest.approx(expected)


def test_spawner_reads_a_named_process_cpu_and_the_cpu_clock():
    """On this host, for real: the test process's own CPU time by its name, none for a name no
    process has, the clock from /proc/cpuinfo where it gives one."""
    with open('/proc/self/comm') as handle:
        me = handle.read().strip()
    spawner = Spawner()
    assert spawner.process_cpu_s(me) > 0
    assert spawner.process_cpu_s('kbp-no-such-process') is None
    with open('/proc/cpuinfo') as handle:
        has_mhz = 'cpu MHz' in handle.read()
    assert (spawner.cpu_hz() or 0) > 1e8 if has_mhz else spawner.cpu_hz() is None


@pytest.mark.parametrize('backend, frames', [('ring', True), ('raw-mmsg', True), ('udp', False)])
def test_icperf_argv_of_a_frame_backend_and_a_warm_up_on_a_condition(backend, frames, tmp_path):
    rec = load([p for p in FIXTURES if 'icperf.udp.tput' in p][0])
    case = dict(rec['case'], backend=backend, duration_s=10, warmup_s=2, warmup_stable=0.05)
    runner = CaseRunner(case, str(tmp_path), 'run1', 'lab1', spawner=ReplaySpawner([]))
    sender, receiver = runner._icperf_argv('a'), runner._icperf_argv('b')
    for argv in (sender, receiver):
        assert ('--iface' in argv) is frames
        # the warm-up lasts until the rate is steady within 5 %, 6 s at the latest (half the 8 s after it)
        assert argv[argv.index('--warmup-stable') + 1] == '5' and argv[argv.index('--warmup-max') + 1] == '6'
    assert ('--dst-mac' in sender) is frames and '--dst-mac' not in receiver
