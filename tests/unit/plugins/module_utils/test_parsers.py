# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import os

import pytest

from ansible_collections.kbypass.testbed.plugins.module_utils import parsers

FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures', 'sockperf')


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return handle.read()


def test_sockperf_throughput_real_output():
    out = parsers.parse_sockperf_throughput(fixture('throughput-3.7.txt'))
    assert out == {'tx_pps': 174867.0, 'sent': 349816, 'runtime_s': 2.0}


def test_sockperf_server_real_output():
    assert parsers.parse_sockperf_server(fixture('server-3.7.txt')) == {'received': 348067}


def test_sockperf_pingpong_is_doubled_to_round_trip():
    out = parsers.parse_sockperf_pingpong(fixture('pingpong-3.7.txt'))
    rtt = out['rtt_us']
    assert rtt['mean'] == pytest.approx(2 * 68.601)
    assert rtt['p50'] == pytest.approx(2 * 40.175)
    assert rtt['p999'] == pytest.approx(2 * 305.891)
    assert rtt['min'] == pytest.approx(2 * 24.255) and rtt['max'] == pytest.approx(2 * 403.383)
    assert (out['sent'], out['received'], out['lost']) == (1189, 1188, 0)


@pytest.mark.parametrize('func, text, message', [
    (parsers.parse_sockperf_throughput, 'sockperf: error', 'Message Rate'),
    (parsers.parse_sockperf_server, '', 'SIGINT'),
    (parsers.parse_sockperf_pingpong, 'nothing', 'avg-latency'),
])
def test_sockperf_garbage(func, text, message):
    with pytest.raises(parsers.ParseError, match=message):
        func(text)


ICPERF_RECV = '\n'.join([
    '{"type":"sample","t":1,"elapsed_s":1.0,"sent":0,"received":100,"tx_dropped":0,"tx_pps":0,"rx_pps":100}',
    '{"type":"sample","t":2,"elapsed_s":2.0,"sent":0,"received":120,"tx_dropped":0,"tx_pps":0,"rx_pps":120}',
    '{"type":"summary","tool":"icperf","mode":"recv","received":220,"lost":3,"reordered":1,"duplicated":0,'
    '"rx_pps_mean":120.0,"rx_pps_std":0.0,"tx_pps_mean":0}',
])
ICPERF_SEND = ('{"type":"summary","tool":"icperf","mode":"send","sent":250,"received":0,"tx_pps_mean":125.0,'
               '"rx_pps_mean":0}')


def test_icperf_jsonl():
    samples, summary = parsers.parse_icperf('noise\n' + ICPERF_RECV)
    assert [s['t'] for s in samples] == [1, 2] and summary['received'] == 220


def test_icperf_bad_json_names_the_line():
    with pytest.raises(parsers.ParseError, match='line 2'):
        parsers.parse_icperf('{"type":"sample"}\n{"type":')


def test_icperf_tput_metrics():
    _s, recv = parsers.parse_icperf(ICPERF_RECV)
    _s, send = parsers.parse_icperf(ICPERF_SEND)
    m = parsers.icperf_metrics('tput', 64, send, recv)
    assert m['rx_pps'] == 120.0 and m['tx_pps'] == 125.0
    assert m['rx_bps'] == 120.0 * 64 * 8
    assert m['loss_ratio'] == pytest.approx(30 / 250.0)
    assert (m['lost'], m['reordered'], m['duplicated']) == (3, 1, 0)


def test_icperf_tx_metrics_are_the_senders_only():
    _s, send = parsers.parse_icperf(ICPERF_SEND)
    assert parsers.icperf_metrics('tx', 64, send, None) == {'tx_pps': 125.0}


def test_icperf_lat_metrics():
    client = {'sent': 1000, 'received': 990, 'tx_pps_mean': 1000.0,
              'rtt_us': {'count': 990, 'min': 10.0, 'mean': 20.0, 'p50': 18.0, 'p90': 25.0, 'p99': 40.0,
                         'p999': 80.0, 'max': 100.0}}
    m = parsers.icperf_metrics('lat', 64, client, {})
    assert m['rtt_p50_us'] == 18.0 and m['rtt_p999_us'] == 80.0 and m['loss_ratio'] == pytest.approx(0.01)


def test_sockperf_tput_metrics_use_server_count():
    client = parsers.parse_sockperf_throughput(fixture('throughput-3.7.txt'))
    server = parsers.parse_sockperf_server(fixture('server-3.7.txt'))
    m = parsers.sockperf_metrics('tput', 64, client, server)
    assert m['rx_pps'] == pytest.approx(348067 / 2.0)
    assert m['loss_ratio'] == pytest.approx((349816 - 348067) / 349816.0)


@pytest.mark.parametrize('mode, metrics, text', [
    ('tput', {'rx_pps': 412300.0, 'tx_pps': 500000.0, 'loss_ratio': 0.1754}, 'rx 412.3 kpps (tx 500.0 kpps, loss 17.54%)'),
    ('tput', {}, 'rx n/a'),
    ('lat', {'rtt_p50_us': 38.04, 'rtt_p99_us': 90.0, 'rtt_max_us': 120.0}, 'rtt p50 38.0 us, p99 90.0 us, max 120.0 us'),
    ('lat', {}, 'no latency figure'),
    ('tx', {'tx_pps': 9123456.0}, 'tx 9123.5 kpps'),
    ('tx', {}, 'tx n/a'),
])
def test_headline(mode, metrics, text):
    assert parsers.headline(mode, metrics) == text


# --------------------------------------------------------------------------- the measurement window
WINDOW_FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures', 'icperf')


def recorded_icperf(name, peer):
    with open(os.path.join(WINDOW_FIXTURES, '%s.%s.jsonl' % (name, peer))) as handle:
        return parsers.parse_icperf(handle.read())


def test_tput_figures_come_from_the_window():
    _sa, a = recorded_icperf('tput-ok', 'a')
    samples_b, b = recorded_icperf('tput-ok', 'b')
    metrics = parsers.icperf_metrics('tput', 64, a, b)
    window = b['window']
    # the window: after the 1 s warm-up, up to the last full second; its counts are its samples'
    assert window['closed'] and round(window['start_s'], 3) == 1.0 and round(window['end_s'], 3) == 4.0
    assert window['received'] == sum(s['received'] for s in samples_b if s['t'] > 1)
    assert metrics['loss_ratio'] == pytest.approx(181341 / (510321 + 181341))
    # not the whole run's (915104 sent, 678442 received: warm-up and tail included)
    assert metrics['loss_ratio'] != pytest.approx((915104 - 678442) / 915104.0)
    assert (metrics['lost'], metrics['window_s'], metrics['rx_invalid']) == (181341, 3.000356, 0)
    assert (metrics['sched_slips'], metrics['tx_dropped']) == (0, 0)
    assert parsers.icperf_invalid('tput', recorded_icperf('tput-ok', 'a'), (samples_b, b)) is None


def test_a_warm_up_spike_stays_out_of_every_figure():
    samples_a, a = recorded_icperf('tput-spike', 'a')
    samples_b, b = recorded_icperf('tput-spike', 'b')
    metrics = parsers.icperf_metrics('tput', 64, a, b)
    # the warm-up second: 104 kpps and 48804 frames lost; the window after it: 29 kpps, 150 lost
    assert samples_b[0]['rx_pps'] > 3 * metrics['rx_pps'] and samples_b[0]['lost'] == 48804
    window = [s['rx_pps'] for s in samples_b if s['t'] > 1]
    assert metrics['rx_pps'] == pytest.approx(sum(window) / len(window), rel=1e-6)
    assert (metrics['lost'], metrics['loss_ratio']) == (150, pytest.approx(150 / (116317 + 150.0)))
    # the whole run's loss would be 18 %, a hundred times the window's
    assert (b['lost'] / float(b['received'] + b['lost'])) > 100 * metrics['loss_ratio']
    assert parsers.icperf_invalid('tput', (samples_a, a), (samples_b, b)) is None
    # second by second: the spike is outside the window; in it, 150 frames lost in second 3 and
    # one the sender's socket refused in second 5
    trace = parsers.loss_trace(samples_a, samples_b, b['window'])
    assert [(s['t'], s['lost'], s['window']) for s in trace] == [
        (1, 48804, False), (2, 0, True), (3, 150, True), (4, 0, True), (5, 1, True)]
    assert parsers.trace_figures(trace) == (2, pytest.approx(150 / (28825 + 150.0), abs=1e-6))


def test_rtt_histogram_leaves_the_warm_up_out():
    samples_a, a = recorded_icperf('lat-ok', 'a')
    metrics = parsers.icperf_metrics('lat', 64, a, None)
    assert a['received'] == 3992 and a['window']['received'] == 2992 == a['rtt_us']['count']
    assert metrics['loss_ratio'] == 0.0 and metrics['lost'] == 0 and metrics['sched_slips'] == 5
    assert metrics['rtt_p50_us'] == 78.079
    assert parsers.icperf_invalid('lat', (samples_a, a), (samples_a, a)) is None


@pytest.mark.parametrize('name, reason', [
    ('tput-stopped', 'traffic stopped: the receiver received no packet in second 4 of the run (window 1.0-5.0 s), '
                     'after traffic in second 3'),
    ('tput-nothing', 'moved nothing: the receiver received no packet (it waited 5.000825 s for one)'),
])
def test_a_trial_whose_traffic_stopped_or_never_came_is_invalid(name, reason):
    sender, receiver = recorded_icperf(name, 'a'), recorded_icperf(name, 'b')
    assert parsers.icperf_invalid('tput', sender, receiver) == reason


@pytest.mark.parametrize('summary, samples, reason', [
    # a window in which nothing moved
    ({'window': {'start_s': 1.0, 'end_s': 3.0, 'sent': 0, 'received': 0}}, [],
     'moved nothing: the sender sent no packet in the measurement window (1.0-3.0 s)'),
    # a sender that sent nothing (the OVS-DPDK case after ovs-vswitchd was killed)
    ({'window': None, 'sent': 0, 'elapsed_s': 8.000051}, [], 'moved nothing: the sender sent no packet (in 8.000051 s)'),
    # traffic, but no full second after the warm-up
    ({'window': None, 'sent': 9, 'warmup_s': 2, 'elapsed_s': 1.5}, [],
     "the sender's measurement window never opened (no full second after the 2 s warm-up; elapsed 1.5 s)"),
    # an icperf without a window: nothing to judge by
    ({'sent': 10}, [], None),
    # a second with no packet before any traffic (a slow start) is not a stop
    ({'window': {'start_s': 1.0, 'end_s': 3.0, 'sent': 5}}, [{'t': 2, 'sent': 0}, {'t': 3, 'sent': 5}], None),
])
def test_invalid_sender_cases(summary, samples, reason):
    assert parsers.icperf_invalid('tx', (samples, summary), None) == reason


@pytest.mark.parametrize('text, hz', [
    ('processor\t: 0\nvendor_id\t: GenuineIntel\ncpu MHz\t\t: 2099.998\ncache size\t: 16384 KB\n'
     'processor\t: 1\ncpu MHz\t\t: 2400.000\n', 2099.998e6),
    ('processor\t: 0\nBogoMIPS\t: 50.00\n', None),     # arm64: no cpu MHz
    ('', None),
])
def test_cpu_clock_from_cpuinfo(text, hz):
    assert parsers.parse_cpu_hz(text) == (pytest.approx(hz) if hz else None)


STAT = ('1234 (dpdk-testpmd) S 1 1234 1234 0 -1 4194560 2000 0 0 0 %d %d 0 0 20 0 3 0 1000 2000000000 5000 '
        '18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0')


@pytest.mark.parametrize('text, name, seconds', [
    (STAT % (550, 50), 'dpdk-testpmd', 6.0),
    (STAT % (550, 50), 'basicfwd', None),
    ('77 (a (weird) name) R 1 77 77 0 -1 0 0 0 0 0 10 20 0 0 20 0 1 0 5', 'a (weird) name', 0.3),
    ('garbage', 'dpdk-testpmd', None),
])
def test_cpu_seconds_of_a_named_process(text, name, seconds):
    assert parsers.parse_proc_stat_cpu(text, name, 100) == (pytest.approx(seconds) if seconds is not None else None)


@pytest.mark.parametrize('metrics, hz, expected', [
    # a unpaced sender at 100 % of a 2 GHz core sending 1 Mpps: 2000 cycles a packet
    ({'tx_pps': 1e6, 'rx_pps': 5e5, 'cpu_a_pct': 100.0, 'cpu_b_pct': 50.0, 'cpu_switch_pct': 100.0}, 2e9,
     {'cycles_a_per_pkt': 2000.0, 'cycles_b_per_pkt': 2000.0, 'cycles_switch_per_pkt': 4000.0, 'cpu_mhz': 2000.0}),
    # a loop: b idles, no figure for it; no switch measured
    ({'tx_pps': 1e6, 'rx_pps': 1e6, 'cpu_a_pct': 100.0, 'cpu_b_pct': 0.0}, 3e9,
     {'cycles_a_per_pkt': 3000.0, 'cpu_mhz': 3000.0}),
    ({'tx_pps': 1e6, 'cpu_a_pct': 100.0}, None, {}),
    ({'rtt_p50_us': 10.0, 'cpu_a_pct': 3.0}, 2e9, {}),
])
def test_cycles_per_packet(metrics, hz, expected):
    assert parsers.cycles_per_packet(metrics, hz) == pytest.approx(expected)


def test_cpu_share_comes_from_each_peers_window():
    window = {'start_s': 1.0, 'end_s': 5.0, 'sent': 4000, 'received': 4000, 'lost': 0, 'tx_dropped': 0,
              'rx_invalid': 0, 'sched_slips': 0, 'reordered': 0, 'duplicated': 0}
    a = {'tx_pps_mean': 1000.0, 'sent': 5000, 'window': dict(window, cpu_s=3.9)}
    b = {'rx_pps_mean': 1000.0, 'received': 5000, 'window': dict(window, cpu_s=1.0)}
    metrics = parsers.icperf_metrics('tput', 64, a, b)
    assert (metrics['cpu_a_s'], metrics['cpu_a_pct'], metrics['cpu_b_s'], metrics['cpu_b_pct']) == (3.9, 97.5, 1.0, 25.0)
    # a loop: a both sends and counts; there is no b
    loop = parsers.icperf_metrics('tput', 64, a, a)
    assert loop['cpu_a_pct'] == 97.5 and 'cpu_b_pct' not in loop
    # an icperf before cpu_s: no window figure (the runner takes the container's cgroup then)
    old = parsers.icperf_metrics('tput', 64, dict(a, window=window), dict(b, window=window))
    assert 'cpu_a_pct' not in old and 'cpu_b_pct' not in old


@pytest.mark.parametrize('metrics, attempted, loss', [
    ({'tx_pps': 1e6, 'loss_ratio': 0.0, 'tx_dropped': 0, 'window_s': 5.0}, 1e6, 0.0),
    # the testpmd switch's ring refused 5760 frames of 1014016 + 5760 in 5 s: 0.56 % lost of what was offered
    ({'tx_pps': 202803.0, 'loss_ratio': 0.0, 'tx_dropped': 5760, 'window_s': 5.0}, 202803.0 + 1152.0,
     5760 / (202803.0 * 5 + 5760)),
    # refused and lost on the way both count: 1 - (1 - 0.5)(1 - 0.1)
    ({'tx_pps': 100.0, 'loss_ratio': 0.1, 'tx_dropped': 500, 'window_s': 5.0}, 200.0, 0.55),
    ({'tx_pps': 100.0, 'tx_dropped': 500, 'window_s': 5.0}, 200.0, None),
    ({'rtt_p50_us': 9.0}, None, None),
])
def test_offered_figures_count_refused_frames_as_lost(metrics, attempted, loss):
    got = parsers.offered_figures(metrics)
    assert got[0] == (pytest.approx(attempted) if attempted is not None else None)
    assert got[1] == (pytest.approx(loss) if loss is not None else None)


def _tx(t, sent, dropped=0, partial=False):
    return {'t': t, 'sent': sent, 'tx_dropped': dropped, 'tx_pps': float(sent), 'partial': partial}


def _rx(t, received, lost=None, partial=False):
    sample = {'t': t, 'received': received, 'rx_pps': float(received), 'partial': partial}
    if lost is not None:
        sample['lost'] = lost
    return sample


@pytest.mark.parametrize('sent, received, window, expected', [
    # the receiver's own gaps per second, plus what the path refused the sender; second 1 is warm-up
    ([_tx(1, 100), _tx(2, 100, dropped=5), _tx(3, 100)], [_rx(1, 100, 0), _rx(2, 90, 5), _rx(3, 100, 0)],
     {'start_s': 1.0, 'end_s': 3.0},
     [(1, 0, 0.0, False), (2, 10, 0.1, True), (3, 0, 0.0, True)]),
    # a late frame closing an older gap (negative) is no loss; a partial sample and a second the
    # receiver has not are left out
    ([_tx(1, 100), _tx(2, 100), _tx(3, 40, partial=True)], [_rx(2, 101, -1), _rx(3, 40, 0, partial=True)],
     {'start_s': 0.0, 'end_s': 2.0}, [(2, 0, 0.0, True)]),
    # an icperf without per-second gaps: the counts' shortfall; no window: nothing inside
    ([_tx(1, 100, dropped=10)], [_rx(1, 99)], None, [(1, 11, 0.1, False)]),
    ([_tx(1, 0)], [_rx(1, 0, 0)], None, [(1, 0, None, False)]),
])
def test_loss_trace_second_by_second(sent, received, window, expected):
    trace = parsers.loss_trace(sent, received, window)
    assert [(s['t'], s['lost'], s['loss_ratio'], s['window']) for s in trace] == expected


def test_trace_figures_count_the_window_seconds_with_loss():
    trace = [{'loss_ratio': 0.5, 'window': False}, {'loss_ratio': 0.0, 'window': True},
             {'loss_ratio': 0.002, 'window': True}, {'loss_ratio': 0.001, 'window': True},
             {'loss_ratio': None, 'window': True}]
    assert parsers.trace_figures(trace) == (2, 0.002)
    assert parsers.trace_figures([]) == (0, None)
