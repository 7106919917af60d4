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

from ansible_collections.kbypass.testbed.plugins.module_utils.bench import CaseRunner, Spawner
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
    # CPU percentages depend on wall-clock time, which the replay fakes
    for key in ('cpu_a_pct', 'cpu_b_pct'):
        assert key in got
        recorded.pop(key, None)
        got.pop(key)
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
