# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""basicfwd (DPDK 22.11 examples/skeleton/basicfwd.c, built unmodified on the development VM,
Debian 12): argv builders and parser, and the basicfwd_switch module replayed from what it did on
the real system (tests/unit/plugins/module_utils/record_switch.py recorded every file access,
start, poll and signal; harness.ReplayOps answers them, every one must be used)."""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.kbypass.testbed.plugins.module_utils import basicfwd
from ansible_collections.kbypass.testbed.plugins.module_utils.daemon import DaemonError
from ansible_collections.kbypass.testbed.plugins.module_utils.vhost_switch import SwitchError
from ansible_collections.kbypass.testbed.plugins.modules import basicfwd_switch

from ...harness import ReplayOps

FIXTURES = os.path.join(os.path.dirname(__file__), 'fixtures', 'basicfwd')
SOCK = '/run/kbypass/basicfwd'


def fixture(name):
    with open(os.path.join(FIXTURES, name), encoding='utf-8') as handle:
        return handle.read() if not name.endswith('.json') else json.load(handle)


# ------------------------------------------------------------------------------------------ argv
@pytest.mark.parametrize('ports, topology, vdevs', [
    (['kbp-bf-a', 'kbp-bf-b'], 'pair', ['net_vhost0,iface=%s/kbp-bf-a.sock,queues=1' % SOCK,
                                        'net_vhost1,iface=%s/kbp-bf-b.sock,queues=1' % SOCK]),
    # each container's port paired with a ring port that sends everything back
    (['kbp-bf-a'], 'loop', ['net_vhost0,iface=%s/kbp-bf-a.sock,queues=1' % SOCK, 'net_ring0']),
    (['x', 'y'], 'loop', ['net_vhost0,iface=%s/x.sock,queues=1' % SOCK, 'net_ring0',
                          'net_vhost1,iface=%s/y.sock,queues=1' % SOCK, 'net_ring1']),
])
def test_switch_argv(ports, topology, vdevs):
    argv = basicfwd.switch_argv(ports, SOCK + '/', topology, cpus='0', binary='/b', eal_args=['--log-level=8'])
    assert argv[:4] == ['/b', '--lcores=0@0', '--in-memory', '--no-pci'] and argv[-1] == '--log-level=8'
    assert argv[5:-1:2] == vdevs and set(argv[4:-1:2]) == {'--vdev'}


@pytest.mark.parametrize('kwargs, message', [
    (dict(ports=['a']), 'even number'),
    (dict(ports=[]), 'no port'),
    (dict(ports=['a', 'a']), 'twice'),
    (dict(ports=['a', 'b'], topology='star'), 'topology'),
    (dict(ports=['a', 'b'], cpus='0-1'), 'exactly one lcore'),
    (dict(ports=['a', 'b'], cpus=''), 'exactly one lcore'),
    (dict(ports=['a', 'b'], cpus='x'), 'bad CPU list'),
    (dict(ports=['a', 'b'], socket_dir='rel'), 'absolute'),
])
def test_switch_argv_errors(kwargs, message):
    kwargs.setdefault('socket_dir', SOCK)
    with pytest.raises(SwitchError, match=message):
        basicfwd.switch_argv(**kwargs)


@pytest.mark.parametrize('cpus, main_cpus, cpu_list', [
    ('0', '1', '0-1'), ('1', '0', '0-1'), ('3', '0,5', '0,3,5'), ('2', '2', '2')])
def test_launcher(cpus, main_cpus, cpu_list):
    assert basicfwd.launcher(cpus, main_cpus) == ['taskset', '-c', cpu_list, 'stdbuf', '-oL']


@pytest.mark.parametrize('cpus, main_cpus, message', [('0-1', '0', 'exactly one'), ('1', '', 'main_cpus is empty')])
def test_launcher_errors(cpus, main_cpus, message):
    with pytest.raises(SwitchError, match=message):
        basicfwd.launcher(cpus, main_cpus)


# ----------------------------------------------------------------------- recorded on the real host
SCENARIOS = ('pair-start-again-stop', 'loop-start-restart-pair-stop', 'odd-ports-exit')
LOG = '/var/log/kbypass/basicfwd/switch.log'


def recorded_logs(scenario):
    """The texts of basicfwd's log as the module read them, in order."""
    return [e['out'] for e in fixture(scenario + '.json')['events'] if e['kind'] == 'read' and e['argv'] == [LOG]]


@pytest.mark.parametrize('scenario, ports, forwarding, error', [
    ('pair-start-again-stop', {0: '56:48:4f:53:54:00', 1: '56:48:4f:53:54:01'}, True, None),
    ('loop-start-restart-pair-stop', {0: '56:48:4f:53:54:00', 1: '00:00:00:00:00:00'}, True, None),
    ('odd-ports-exit', {}, False, 'Error: number of ports must be even'),
])
def test_parse_recorded(scenario, ports, forwarding, error):
    # the first log that says it forwards (or the last: it exited)
    logs = recorded_logs(scenario)
    parsed = basicfwd.parse_basicfwd(([t for t in logs if basicfwd.READY_TEXT in t] or logs[-1:])[0])
    assert parsed['ports'] == ports and parsed['forwarding'] is forwarding
    assert parsed['lcore'] == (0 if forwarding else None)
    assert parsed['error'] == error


def test_parse_empty():
    assert basicfwd.parse_basicfwd('') == {'ports': {}, 'lcore': None, 'forwarding': False, 'error': None}


def _plain(value):
    return json.loads(json.dumps(value))


@pytest.mark.parametrize('scenario', SCENARIOS)
def test_module_replays_what_it_did_on_the_host(scenario):
    """Every run of the scenario gives the recorded result (or error) from the recorded answers of
    the system, and makes exactly the recorded calls (the harness checks that all are used)."""
    recorded = fixture(scenario + '.json')
    ops = ReplayOps(recorded['events'], scenario)
    for run in recorded['runs']:
        if 'error' in run:
            with pytest.raises(DaemonError) as err:
                basicfwd_switch.run(dict(run['params']), ops=ops)
            assert str(err.value) == run['error']
        else:
            assert _plain(basicfwd_switch.run(dict(run['params']), ops=ops)) == run['result']


def test_recorded_runs_say_what_happened():
    pair = fixture('pair-start-again-stop.json')['runs']
    macs = {'0': '56:48:4f:53:54:00', '1': '56:48:4f:53:54:01'}
    assert pair[0]['result']['changed'] and pair[0]['result']['macs'] == macs
    assert pair[1]['result']['changed'] is False                 # same argv: left alone
    assert pair[2]['result']['changed'] and pair[2]['result']['killed'] is False   # SIGTERM was enough
    kinds = [(e['kind'], e['argv']) for e in fixture('pair-start-again-stop.json')['events']]
    pid = pair[0]['result']['pid']
    assert ('kill', [pid, 15]) in kinds
    # the sockets basicfwd leaves are removed after the stop
    assert ('remove', ['%s/kbp-bf-a.sock' % SOCK]) in kinds[kinds.index(('kill', [pid, 15])):]
    loop = fixture('loop-start-restart-pair-stop.json')['runs']
    assert loop[1]['result']['restarted'] and loop[1]['result']['changed']
    assert 'net_ring0' in loop[0]['result']['argv'] and 'net_ring0' not in loop[1]['result']['argv']
    assert 'number of ports must be even' in fixture('odd-ports-exit.json')['runs'][0]['error']


def test_check_mode_starts_nothing():
    """No pid file, no socket: check mode says it would start and touches nothing."""
    ops = ReplayOps([dict(kind='read', argv=['/run/kbypass/basicfwd-switch.pid'], rc=1, out=None, err='')])
    params = fixture('pair-start-again-stop.json')['runs'][0]['params']
    result = basicfwd_switch.run(dict(params), check_mode=True, ops=ops)
    assert result['changed'] and result['after']['argv'][0] == '/opt/kbypass/bin/basicfwd'
