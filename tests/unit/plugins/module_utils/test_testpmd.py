# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""testpmd parser, metrics and argv builders, over outputs recorded on the development VM
(DPDK 22.11, Debian 12; switch = host testpmd io forwarding on net_vhost ports, peers = testpmd
in busybox containers on net_virtio_user)."""

from __future__ import annotations

import json
import os
import signal

import pytest

from ansible_collections.kbypass.testbed.plugins.module_utils import testpmd
from ansible_collections.kbypass.testbed.plugins.module_utils.daemon import Daemon, DaemonError
from ansible_collections.kbypass.testbed.plugins.module_utils.vhost_switch import SwitchError
from ansible_collections.kbypass.testbed.plugins.modules import testpmd_switch

from ...harness import FakeHost, FakeProc

FIXTURES = os.path.join(os.path.dirname(__file__), 'fixtures', 'testpmd')


def fixture(name):
    with open(os.path.join(FIXTURES, name), encoding='utf-8', errors='replace') as handle:
        return handle.read()


# name -> (forward mode, stats blocks, {port: final totals}, first rx/tx per-second values of port 0)
RECORDED = {
    'switch-pair-null-22.11.txt': ('io', 2, {
        0: dict(rx_packets=110899136, rx_dropped=0, rx_total=110899136, tx_packets=110899136, tx_dropped=0,
                tx_total=110899136),
        1: dict(rx_packets=110899136, rx_dropped=0, rx_total=110899136, tx_packets=110899136, tx_dropped=0,
                tx_total=110899136)}, [35176957], [35176957]),
    'switch-loop-io-22.11.txt': ('io', 29, {
        0: dict(rx_packets=24538944, rx_dropped=0, rx_total=24538944, tx_packets=24460832, tx_dropped=78112,
                tx_total=24538944)}, [0, 564664, 1813892], [0, 563721, 1811109]),
    'pair-txonly-22.11.txt': ('txonly', 5, {
        0: dict(rx_packets=0, rx_dropped=0, rx_total=0, tx_packets=22001696, tx_dropped=58220800,
                tx_total=80222496)}, [0, 0, 0], [1853393, 1550599, 1978730]),
    'pair-rxonly-22.11.txt': ('rxonly', 7, {
        0: dict(rx_packets=183456, rx_dropped=0, rx_total=183456, tx_packets=0, tx_dropped=0, tx_total=0)},
        [0, 20371, 20143], [0, 0, 0]),
    'loop-flowgen-22.11.txt': ('flowgen', 6, {
        0: dict(rx_packets=7674560, rx_dropped=0, rx_total=7674560, tx_packets=7710656, tx_dropped=50480256,
                tx_total=58190912)}, [1402588, 1224416, 1229150], [1408091, 1231072, 1234812]),
}


@pytest.mark.parametrize('name', sorted(RECORDED))
def test_parse_recorded(name):
    mode, blocks, totals, rx, tx = RECORDED[name]
    text = fixture(name)
    assert '\x1b[' in text          # the raw output has the clear-screen escapes
    parsed = testpmd.parse_testpmd(text)
    assert parsed['forward_mode'] == mode
    assert parsed['complete'] is True
    assert len(parsed['samples']) == blocks
    assert parsed['totals'] == totals
    # the first block is the baseline: "since last show" with no previous show is 0
    assert all(v['rx_pps'] == 0 and v['tx_pps'] == 0 for v in parsed['samples'][0]['ports'].values())
    assert [v for _t, v in testpmd.port_series(parsed, 0, 'rx_pps')][:len(rx)] == rx
    assert [v for _t, v in testpmd.port_series(parsed, 0, 'tx_pps')][:len(tx)] == tx
    acc = parsed['accumulated']
    assert acc['rx_packets'] == sum(t['rx_packets'] for t in totals.values())
    assert acc['tx_packets'] == sum(t['tx_packets'] for t in totals.values())


@pytest.mark.parametrize('name', ['pair-rxonly-22.11.txt', 'loop-flowgen-22.11.txt'])
def test_frames_are_size_bytes_without_fcs(name):
    """--txpkts=64 (txonly) and --txpkts=68 (flowgen) both arrive as 64-byte frames."""
    parsed = testpmd.parse_testpmd(fixture(name))
    last = parsed['samples'][-1]['ports'][0]
    assert last['rx_bytes'] == 64 * last['rx_packets']


def test_parse_interrupted_output_has_samples_no_totals():
    text = fixture('pair-rxonly-22.11.txt').split('Telling cores to stop')[0]
    parsed = testpmd.parse_testpmd(text)
    assert parsed['complete'] is False and parsed['totals'] == {}
    assert len(parsed['samples']) == 7


def test_parse_empty():
    assert testpmd.parse_testpmd('') == {'samples': [], 'totals': {}, 'accumulated': None, 'macs': {},
                                         'forward_mode': None, 'complete': False}


def test_metrics_pair_txonly_rxonly():
    a = testpmd.parse_testpmd(fixture('pair-txonly-22.11.txt'))
    b = testpmd.parse_testpmd(fixture('pair-rxonly-22.11.txt'))
    m = testpmd.testpmd_metrics('tput', 64, a, b, warmup_s=1)
    # rx from the first non-zero second (20371), minus 1 s of warm-up: 20143, 24516, 32165, 32382
    assert m['rx_pps'] == pytest.approx((20143 + 24516 + 32165 + 32382) / 4.0)
    assert m['rx_bps'] == pytest.approx(m['rx_pps'] * 64 * 8)
    assert m['tx_pps'] == pytest.approx((1550599 + 1978730 + 4291489) / 3.0)
    assert m['rx_pps_std'] > 0
    assert m['loss_ratio'] == pytest.approx((22001696 - 183456) / 22001696.0)


def test_metrics_loop_flowgen_same_output_both_sides():
    p = testpmd.parse_testpmd(fixture('loop-flowgen-22.11.txt'))
    m = testpmd.testpmd_metrics('tput', 64, p, p, warmup_s=2)
    assert m['rx_pps'] == pytest.approx((1229150 + 655110 + 519316) / 3.0)
    assert m['tx_pps'] == pytest.approx((1234812 + 659010 + 521646) / 3.0)
    assert m['loss_ratio'] == pytest.approx((7710656 - 7674560) / 7710656.0)


def test_metrics_lat_and_incomplete():
    p = testpmd.parse_testpmd(fixture('loop-flowgen-22.11.txt'))
    assert testpmd.testpmd_metrics('lat', 64, p, p) == {}
    cut = testpmd.parse_testpmd(fixture('loop-flowgen-22.11.txt').split('Telling cores')[0])
    assert 'loss_ratio' not in testpmd.testpmd_metrics('tput', 64, cut, cut)


@pytest.mark.parametrize('series,warmup,expected', [
    ([(1, 0), (2, 5), (3, 6), (4, 7), (5, 0)], 1, [6, 7]),
    ([(1, 5)], 3, [5]),                       # nothing left after the warm-up: all values
    ([(1, 0), (2, 0)], 0, []),
])
def test_steady_rates(series, warmup, expected):
    assert testpmd.steady_rates(series, warmup) == expected


def test_summary():
    s = testpmd.summary(testpmd.parse_testpmd(fixture('pair-rxonly-22.11.txt')), warmup_s=1)
    assert s['received'] == 183456 and s['forward_mode'] == 'rxonly' and s['samples_used'] == 4


# ------------------------------------------------------------------------------------------ argv
def test_switch_argv_pair():
    assert testpmd.switch_argv(['kbp-tp-a', 'kbp-tp-b'], '/run/kbypass/testpmd') == [
        'dpdk-testpmd', '--lcores=0@0,1@1', '--in-memory', '--no-pci',
        '--vdev', 'net_vhost0,iface=/run/kbypass/testpmd/kbp-tp-a.sock,queues=1',
        '--vdev', 'net_vhost1,iface=/run/kbypass/testpmd/kbp-tp-b.sock,queues=1',
        '--', '--forward-mode=io', '--port-topology=paired', '--nb-cores=1', '--total-num-mbufs=16384',
        '--stats-period', '1']


def test_switch_argv_is_the_recorded_command_line():
    with open(os.path.join(FIXTURES, 'switch-proc.json')) as handle:
        proc = json.load(handle)
    argv = testpmd.switch_argv(['kbp-tp-a', 'kbp-tp-b'], '/run/kbypass/testpmd', 'pair', '1', '0')
    assert proc['cmdline'].split('\0')[:-1] == argv


def test_switch_argv_loop_several_cpus():
    argv = testpmd.switch_argv(['x'], '/s/', 'loop', cpus='2-3', main_cpus='0-1', total_num_mbufs=4096)
    assert argv[1] == '--lcores=0@(0,1),1@2,2@3'
    assert '--port-topology=loop' in argv and '--nb-cores=2' in argv and '--total-num-mbufs=4096' in argv
    assert 'net_vhost0,iface=/s/x.sock,queues=1' in argv


@pytest.mark.parametrize('kwargs,message', [
    (dict(ports=['a'], topology='pair'), 'even number'),
    (dict(ports=[]), 'no port'),
    (dict(ports=['a', 'a']), 'twice'),
    (dict(ports=['a', 'b'], topology='star'), 'topology'),
    (dict(ports=['a', 'b'], cpus=''), 'cpus is empty'),
    (dict(ports=['a', 'b'], cpus='1-x'), 'bad CPU list'),
    (dict(ports=['a', 'b'], total_num_mbufs=10), 'total_num_mbufs'),
    (dict(ports=['a', 'b'], socket_dir='rel'), 'absolute'),
])
def test_switch_argv_errors(kwargs, message):
    kwargs.setdefault('socket_dir', '/run/kbypass/testpmd')
    with pytest.raises(SwitchError, match=message):
        testpmd.switch_argv(**kwargs)


def test_generator_argv_recorded():
    sock = 'net_virtio_user0,path=/run/kbypass/testpmd/kbp-tp-a.sock,queues=1,mac=02:00:00:00:aa:01'
    common = ['/b', '--lcores=0@0,1@0', '--in-memory', '--single-file-segments', '--no-pci', '--vdev',
              sock]
    tail = ['--port-topology=loop', '--nb-cores=1', '--total-num-mbufs=16384', '--burst=32', '--stats-period', '1']
    assert testpmd.generator_argv('txonly', sock, '02:00:00:00:aa:01', '02:00:00:00:aa:02', cpus='0', binary='/b') == (
        common + ['--', '--forward-mode=txonly'] + tail + ['--eth-peer=0,02:00:00:00:aa:02', '--txpkts=64'])
    assert testpmd.generator_argv('flowgen', sock, '02:00:00:00:aa:01', '02:00:00:00:aa:02', cpus='0', binary='/b')[-1] == (
        '--txpkts=68')
    rx = testpmd.generator_argv('rxonly', sock, '02:00:00:00:aa:01', cpus='0', binary='/b')
    assert rx == common + ['--', '--forward-mode=rxonly'] + tail


@pytest.mark.parametrize('args,message', [
    (('io', '/s', '02:00:00:00:00:01'), 'mode'),
    (('txonly', '/s', 'nope', '02:00:00:00:00:02'), 'MAC'),
    (('txonly', '/s', '02:00:00:00:00:01'), 'peer_mac'),
])
def test_generator_argv_errors(args, message):
    with pytest.raises(testpmd.TestpmdError, match=message):
        testpmd.generator_argv(*args)


def test_generator_argv_size_and_cpus():
    with pytest.raises(testpmd.TestpmdError, match='size'):
        testpmd.generator_argv('rxonly', '/s', '02:00:00:00:00:01', size=20)
    with pytest.raises(testpmd.TestpmdError, match='exactly one'):
        testpmd.generator_argv('rxonly', '/s', '02:00:00:00:00:01', cpus='0-1')


# --------------------------------------------------------------------------- daemon / the module
class FakeOps(FakeHost):
    """A system where the recorded switch (/proc/<pid>/cmdline and stat) can run."""

    def __init__(self, files=None, spawn_rc=None, creates=True, dies_on=(signal.SIGINT,)):
        with open(os.path.join(FIXTURES, 'switch-proc.json')) as handle:
            self.proc = json.load(handle)
        super().__init__(self.proc['stat'], files, dies_on)
        self.spawn_rc = spawn_rc
        self.creates = creates
        self.spawned = []

    def run_recorded(self, pid, cmdline=None):
        super().run_recorded(pid, cmdline or self.proc['cmdline'])

    def spawn(self, argv, log):
        self.calls.append(('spawn', list(argv)))
        pid = 5000 + len(self.spawned)
        self.spawned.append(pid)
        self.files[log] = fixture('switch-loop-io-22.11.txt').split('Checking link')[0].encode()
        if self.spawn_rc is None:
            self.run_recorded(pid, '\0'.join(argv) + '\0')
            if self.creates:
                for name in ('kbp-tp-a', 'kbp-tp-b'):
                    self.files['/run/kbypass/testpmd/%s.sock' % name] = b''
        return FakeProc(self.spawn_rc, pid, running=self.spawn_rc is None)


PARAMS = dict(state='started', ports=['kbp-tp-a', 'kbp-tp-b'], socket_dir='/run/kbypass/testpmd', topology='pair',
              cpus='1', main_cpus='0', total_num_mbufs=16384, binary='dpdk-testpmd', eal_args=[], app_args=[],
              pidfile='/run/kbp.pid', log='/log/switch.log', timeout=5.0, stop_timeout=2.0)


def recorded_running(**kwargs):
    ops = FakeOps(**kwargs)
    pid = ops.proc['pid']
    ops.run_recorded(pid)
    ops.files['/run/kbp.pid'] = b'%d\n' % pid
    for name in ('kbp-tp-a', 'kbp-tp-b'):
        ops.files['/run/kbypass/testpmd/%s.sock' % name] = b''
    return ops, pid


def test_start_from_nothing_then_idempotent():
    ops = FakeOps()
    result = testpmd_switch.run(dict(PARAMS), ops=ops)
    assert result['changed'] and not result['restarted'] and result['pid'] == 5000
    assert ops.calls == [('spawn', testpmd.switch_argv(PARAMS['ports'], PARAMS['socket_dir']))]
    assert ops.files['/run/kbp.pid'] == b'5000\n'
    again = testpmd_switch.run(dict(PARAMS), ops=ops)
    assert not again['changed'] and again['pid'] == 5000 and len(ops.calls) == 1


def test_recorded_switch_is_left_alone():
    ops, pid = recorded_running()
    result = testpmd_switch.run(dict(PARAMS), ops=ops)
    assert result['changed'] is False and result['pid'] == pid and ops.calls == []


def test_other_argv_restarts():
    ops, pid = recorded_running()
    result = testpmd_switch.run(dict(PARAMS, topology='loop', ports=['kbp-tp-a']), ops=ops)
    assert result['changed'] and result['restarted']
    assert ops.calls[0] == ('kill', pid, signal.SIGINT)
    assert ops.calls[1][0] == 'spawn' and '--port-topology=loop' in ops.calls[1][1]


def test_check_mode_changes_nothing():
    ops = FakeOps()
    result = testpmd_switch.run(dict(PARAMS), check_mode=True, ops=ops)
    assert result['changed'] and ops.calls == [] and '/run/kbp.pid' not in ops.files


def test_start_fails_with_log_tail_when_testpmd_dies():
    ops = FakeOps(spawn_rc=1)
    with pytest.raises(DaemonError, match='exited with code 1') as err:
        testpmd_switch.run(dict(PARAMS), ops=ops)
    assert 'Port 0:' in err.value.result['log_tail'] and '/run/kbp.pid' not in ops.files


def test_start_times_out_without_sockets():
    ops = FakeOps(creates=False)
    with pytest.raises(DaemonError, match='did not appear'):
        testpmd_switch.run(dict(PARAMS), ops=ops)
    assert ('kill', 5000, signal.SIGINT) in ops.calls


def test_stop_returns_final_totals_and_is_idempotent():
    ops, pid = recorded_running()
    ops.files['/log/switch.log'] = fixture('switch-loop-io-22.11.txt').encode()
    params = dict(PARAMS, state='stopped', ports=[])
    result = testpmd_switch.run(params, ops=ops)
    assert result['changed'] and result['killed'] is False
    assert ops.calls == [('kill', pid, signal.SIGINT)]
    assert result['totals']['0']['rx_packets'] == 24538944
    assert '/log/switch.log' in ops.files          # the log is kept
    again = testpmd_switch.run(params, ops=ops)
    assert again['changed'] is False


def test_stop_falls_back_to_sigkill():
    ops, pid = recorded_running(dies_on=())
    result = testpmd_switch.run(dict(PARAMS, state='stopped', ports=[]), ops=ops)
    assert result['killed'] is True
    assert ops.calls == [('kill', pid, signal.SIGINT), ('kill', pid, signal.SIGKILL)]


def test_stop_refuses_a_foreign_process():
    ops, pid = recorded_running()
    ops.run_recorded(pid, 'sshd\0-D\0')
    with pytest.raises(DaemonError, match='not stopping it'):
        testpmd_switch.run(dict(PARAMS, state='stopped', ports=[]), ops=ops)


def test_stale_pidfile_is_removed():
    ops = FakeOps(files={'/run/kbp.pid': b'4242\n'})
    daemon = Daemon([], '/run/kbp.pid', '/log', ops=ops)
    assert daemon.stopped()['changed'] is True and '/run/kbp.pid' not in ops.files
