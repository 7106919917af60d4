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
