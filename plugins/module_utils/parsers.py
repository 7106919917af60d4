# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parsers of the traffic tools' output into the results schema (pure functions)."""

from __future__ import annotations

import json
import re

from ansible_collections.kbypass.testbed.plugins.module_utils.results_schema import (
    HEADER_BYTES, RTT_KEYS, bits_per_second,
)

# CSI escape sequences: colours (sockperf) and the cursor/clear-screen ones (testpmd's stats)
_ANSI = re.compile(r'\x1b\[[0-9;?]*[A-Za-z]')


class ParseError(ValueError):
    pass


def strip_ansi(text):
    return _ANSI.sub('', text or '')


def parse_icperf(text):
    """icperf's stdout (JSON lines) -> (samples, summary). summary is None when missing."""
    samples = []
    summary = None
    for number, line in enumerate((text or '').splitlines(), 1):
        line = line.strip()
        if not line.startswith('{'):
            continue
        try:
            obj = json.loads(line)
        except ValueError as exc:
            raise ParseError('icperf output line %d is not JSON: %s' % (number, exc))
        kind = obj.get('type')
        if kind == 'sample':
            samples.append(obj)
        elif kind == 'summary':
            summary = obj
    return samples, summary


def _match_float(pattern, text):
    match = re.search(pattern, text, re.MULTILINE)
    return float(match.group(1)) if match else None


def parse_sockperf_throughput(text):
    """sockperf 3.x `throughput` client output -> {'sent', 'runtime_s', 'tx_pps'}."""
    text = strip_ansi(text)
    rate = _match_float(r'Summary: Message Rate is ([0-9.]+) \[msg/sec\]', text)
    if rate is None:
        raise ParseError('sockperf throughput output has no "Summary: Message Rate" line')
    match = re.search(r'Total of (\d+) messages sent in ([0-9.]+) sec', text)
    out = {'tx_pps': rate}
    if match:
        out['sent'] = int(match.group(1))
        out['runtime_s'] = float(match.group(2))
    return out


def parse_sockperf_server(text):
    """sockperf server output at exit -> {'received'}."""
    match = re.search(r'Total (\d+) messages received', strip_ansi(text))
    if not match:
        raise ParseError('sockperf server output has no "Total N messages received" line '
                         '(was it stopped with SIGINT?)')
    return {'received': int(match.group(1))}


_PERCENTILES = {'p50': '50.000', 'p90': '90.000', 'p99': '99.000', 'p999': '99.900'}


def parse_sockperf_pingpong(text):
    """sockperf `ping-pong` output -> round-trip figures in us.

    sockperf reports latency as half the round trip: every figure is doubled here, so the
    result is a round trip like icperf's.
    """
    text = strip_ansi(text)
    avg = _match_float(r'avg-latency=([0-9.]+)', text)
    if avg is None:
        raise ParseError('sockperf ping-pong output has no "avg-latency=" line')
    rtt = {'mean': 2 * avg,
           'min': 2 * (_match_float(r'<MIN> observation =\s+([0-9.]+)', text) or 0.0),
           'max': 2 * (_match_float(r'<MAX> observation =\s+([0-9.]+)', text) or 0.0)}
    for key, pct in _PERCENTILES.items():
        value = _match_float(r'percentile %s =\s+([0-9.]+)' % re.escape(pct), text)
        if value is not None:
            rtt[key] = 2 * value
    out = {'rtt_us': rtt}
    match = re.search(r'\[Total Run\] RunTime=([0-9.]+) sec; Warm up time=\d+ msec; '
                      r'SentMessages=(\d+); ReceivedMessages=(\d+)', text)
    if match:
        out['runtime_s'] = float(match.group(1))
        out['sent'] = int(match.group(2))
        out['received'] = int(match.group(3))
    match = re.search(r'# dropped messages = (\d+); # duplicated messages = (\d+); # out-of-order messages = (\d+)',
                      text)
    if match:
        out['lost'], out['duplicated'], out['reordered'] = (int(g) for g in match.groups())
    return out


def _rtt_metrics(rtt):
    return dict(('rtt_%s_us' % key, float(rtt[key])) for key in RTT_KEYS if rtt.get(key) is not None)


def _window_loss(summary):
    """Loss ratio of one receiving icperf's measurement window: the sequence numbers that the
    window passed and that never arrived, over those it passed. None without a window that moved."""
    window = (summary or {}).get('window')
    if not window:
        return None
    seen = window['received'] + window['lost']
    return window['lost'] / float(seen) if seen else None


def icperf_metrics(mode, size, a, b):
    """Metrics of one icperf case from the summaries of peer a (sender/client) and b (receiver;
    tx mode: a's send rate only). Every figure comes from the measurement window (icperf's
    summary 'window': after the warm-up, up to the last full second): the rates are the means of
    its per-second samples, loss, reordering and the RTT histogram are counted in it. A summary
    without a window (an icperf before it) falls back to the whole run's counts."""
    metrics = {}
    receiver = b if mode == 'tput' else a
    if a:
        metrics['tx_pps'] = float(a.get('tx_pps_mean') or 0.0)
        if a.get('window'):
            metrics['sched_slips'] = int(a['window']['sched_slips'])
            metrics['tx_dropped'] = int(a['window']['tx_dropped'])
    if receiver and receiver.get('window'):
        window = receiver['window']
        metrics['window_s'] = round(float(window['end_s']) - float(window['start_s']), 6)
        metrics['window_start_s'] = float(window['start_s'])
        metrics['rx_invalid'] = int(window['rx_invalid'])
    if mode == 'tput':
        if b:
            metrics['rx_pps'] = float(b.get('rx_pps_mean') or 0.0)
            metrics['rx_pps_std'] = float(b.get('rx_pps_std') or 0.0)
            metrics['rx_bps'] = bits_per_second(metrics['rx_pps'], size)
            counts = b.get('window') or b
            for key in ('lost', 'reordered', 'duplicated'):
                if counts.get(key) is not None:
                    metrics[key] = int(counts[key])
    elif mode == 'lat' and a:
        if a.get('rtt_us'):
            metrics.update(_rtt_metrics(a['rtt_us']))
        if a.get('window'):
            for key in ('lost', 'reordered', 'duplicated'):
                metrics[key] = int(a['window'][key])
    _window_cpu(metrics, 'a', a)
    if b is not None and b is not a:
        _window_cpu(metrics, 'b', b)
    if mode in ('tput', 'lat') and receiver:
        loss = _window_loss(receiver)
        if loss is not None:
            metrics['loss_ratio'] = loss
        elif not receiver.get('window') and a and a.get('sent'):
            metrics['loss_ratio'] = max(0.0, (a['sent'] - receiver.get('received', 0)) / float(a['sent']))
    return metrics


def _window_cpu(metrics, name, summary):
    """cpu_<name>_s and cpu_<name>_pct of one icperf peer from its window's cpu_s (an icperf
    before it: nothing)."""
    window = (summary or {}).get('window') or {}
    length = float(window.get('end_s', 0)) - float(window.get('start_s', 0))
    if window.get('cpu_s') is not None and length > 0:
        metrics['cpu_%s_s' % name] = float(window['cpu_s'])
        metrics['cpu_%s_pct' % name] = round(100.0 * float(window['cpu_s']) / length, 1)


def cycles_per_packet(metrics, hz):
    """CPU cycles per packet of each side that has a CPU share, at ``hz`` (None: unknown, no
    figure): share x hz / the packets per second it handled (a and the switch: the rate that came
    through, rx where there is one, else tx; b: rx). cpu_mhz records the clock used."""
    out = {}
    if not hz:
        return out
    rate = metrics.get('rx_pps') or metrics.get('tx_pps')
    for side, pps in (('a', metrics.get('tx_pps')), ('b', metrics.get('rx_pps')), ('switch', rate)):
        share = metrics.get('cpu_%s_pct' % side)
        if share and pps:   # a side that idled (b in a loop) has no cost per packet
            out['cycles_%s_per_pkt' % side] = round(share / 100.0 * hz / pps, 1)
    if out:
        out['cpu_mhz'] = round(hz / 1e6, 3)
    return out


def parse_cpu_hz(text):
    """The first 'cpu MHz' of /proc/cpuinfo, in Hz; None without one."""
    value = _match_float(r'^cpu MHz\s*:\s*([0-9.]+)', text or '')
    return value * 1e6 if value else None


def parse_proc_stat_cpu(text, name, ticks):
    """CPU seconds (utime + stime) of a /proc/<pid>/stat line whose comm is ``name``, else None."""
    head, _sep, rest = (text or '').rpartition(')')
    if not _sep or head.partition('(')[2] != name:
        return None
    fields = rest.split()
    try:
        return (int(fields[11]) + int(fields[12])) / float(ticks)
    except (IndexError, ValueError):
        return None


def offered_figures(metrics):
    """(attempted pps, loss ratio of what was attempted) of a trial, RFC 2544's way of counting: a
    frame the path refused at the sender (``tx_dropped``: a full virtio ring or socket buffer, the
    path's ingress queue) was offered and lost. Without refusals: (tx_pps, loss_ratio)."""
    tx, loss = metrics.get('tx_pps'), metrics.get('loss_ratio')
    refused, window = metrics.get('tx_dropped') or 0, metrics.get('window_s')
    if not refused or not window or tx is None:
        return tx, loss
    share = refused / (tx * window + refused)
    return tx + refused / window, None if loss is None else 1.0 - (1.0 - share) * (1.0 - loss)


def loss_trace(sent, received, window=None):
    """A trial second by second: [{'t', 'tx_pps', 'rx_pps', 'lost', 'loss_ratio', 'window'}] from
    the full samples of the sender (``sent``) and of the receiver (``received``; a client's own
    for a loop), joined on the second ``t``. A second's loss: the sequence gaps that opened in it
    at the receiver (``lost`` of icperf's sample) plus the frames the path refused the sender
    (``tx_dropped``, counted lost as offered_figures counts them), of those and what arrived. An
    icperf without per-second gaps gives the counts' shortfall instead (the sender counts from
    its start, the receiver from its first frame: frames in flight at the edges make it
    approximate). ``window``: the receiver's summary window; ``'window'`` says whether the second
    lies inside it (its ``elapsed_s`` end after the window's start, at its end at the latest)."""
    rx = dict((s['t'], s) for s in received or () if not s.get('partial'))
    trace = []
    for tx in sent or ():
        got = rx.get(tx['t'])
        if tx.get('partial') or got is None:
            continue
        refused = tx.get('tx_dropped', 0)
        if 'lost' in got:
            lost = max(0, int(got['lost'])) + refused
            total = got['received'] + lost
        else:
            total = tx['sent'] + refused
            lost = max(0, total - got['received'])
        # inside the window: the receiver's second ends after the window opened, at its end at the latest
        end = got.get('elapsed_s', tx['t'])
        inside = bool(window) and window['start_s'] + 1e-6 < end <= window['end_s'] + 1e-6
        trace.append({'t': tx['t'], 'tx_pps': tx['tx_pps'], 'rx_pps': got['rx_pps'], 'lost': lost,
                      'loss_ratio': round(float(lost) / total, 6) if total else None, 'window': inside})
    return trace


def trace_figures(trace):
    """(seconds of the window with a loss, the worst second's loss ratio) of a loss_trace."""
    inside = [s['loss_ratio'] for s in trace if s['window'] and s['loss_ratio'] is not None]
    return sum(1 for loss in inside if loss > 0), max(inside) if inside else None


def icperf_invalid(mode, sender, receiver):
    """Why an icperf trial is not a measurement, or None. ``sender``/``receiver``: (samples,
    summary) of the peer that sends and of the one that counts (the same peer for lat and loops;
    receiver None in tx mode). A trial is invalid when its window never opened, when it moved no
    packet, or when a full second inside it moved none after traffic had flowed (traffic stopped)."""
    sides = [('sent', 'sender', sender)] + ([('received', 'receiver', receiver)] if receiver else [])
    for key, who, (samples, summary) in sides:
        window = (summary or {}).get('window')
        if summary is None or 'window' not in summary:
            continue  # an icperf without a window: nothing to judge by
        if not window and not summary.get(key):
            waited = ('it waited %s s for one' % summary.get('wait_s') if who == 'receiver'
                      else 'in %s s' % summary.get('elapsed_s'))
            return 'moved nothing: the %s %s no packet (%s)' % (who, key, waited)
        if not window:
            return ('the %s\'s measurement window never opened (no full second after the %s s warm-up; '
                    'elapsed %s s)' % (who, summary.get('warmup_s'), summary.get('elapsed_s')))
        if not window[key]:
            return ('moved nothing: the %s %s no packet in the measurement window (%.1f-%.1f s)'
                    % (who, key, window['start_s'], window['end_s']))
        flowed = None
        for sample in samples:
            if sample.get('partial') or not window['start_s'] < sample['t'] <= window['end_s'] + 1e-6:
                continue
            if sample[key]:
                flowed = sample['t']
            elif flowed is not None:
                return ('traffic stopped: the %s %s no packet in second %d of the run (window %.1f-%.1f s), '
                        'after traffic in second %d' % (who, key, sample['t'], window['start_s'],
                                                        window['end_s'], flowed))
    return None


def sockperf_metrics(mode, size, client, server):
    """Metrics of one sockperf case (client text parsed, server text parsed or None)."""
    metrics = {}
    if mode == 'tput':
        metrics['tx_pps'] = client['tx_pps']
        if server and client.get('runtime_s'):
            metrics['rx_pps'] = server['received'] / client['runtime_s']
            metrics['rx_bps'] = bits_per_second(metrics['rx_pps'], size)
            if client.get('sent'):
                metrics['loss_ratio'] = max(0.0, (client['sent'] - server['received']) / float(client['sent']))
    else:
        metrics.update(_rtt_metrics(client['rtt_us']))
        for key in ('lost', 'reordered', 'duplicated'):
            if key in client:
                metrics[key] = client[key]
        if client.get('sent'):
            metrics['loss_ratio'] = max(0.0, (client['sent'] - client['received']) / float(client['sent']))
    return metrics


def udp_payload(size):
    return int(size) - HEADER_BYTES


def headline(mode, metrics):
    """One short line with the case's figure, for progress output."""
    if mode == 'search':
        if 'pdr_pps' not in metrics:
            return 'search: no result (%s tput trials)' % metrics.get('search_trials', 0)
        text = 'NDR %.1f kpps, PDR %.1f kpps (MRR %.1f kpps; %d tput trials, %.0f s)' % (
            metrics.get('ndr_pps', float('nan')) / 1e3, metrics['pdr_pps'] / 1e3,
            metrics.get('mrr_pps', float('nan')) / 1e3, metrics.get('search_trials', 0), metrics.get('search_s', 0))
        if 'soak_s' in metrics:
            text += '; soak %.0f s: %s' % (metrics['soak_s'], 'invalid' if 'soak_loss_ratio' not in metrics else
                                           'loss %.4f %%' % (100.0 * metrics['soak_loss_ratio']))
        return text
    if mode == 'tx':
        return 'tx %.1f kpps' % (metrics['tx_pps'] / 1e3) if 'tx_pps' in metrics else 'tx n/a'
    if mode == 'tput':
        if 'rx_pps' in metrics:
            text = 'rx %.1f kpps' % (metrics['rx_pps'] / 1e3)
        else:
            text = 'rx n/a'
        if 'tx_pps' in metrics:
            text += ' (tx %.1f kpps' % (metrics['tx_pps'] / 1e3)
            if 'loss_ratio' in metrics:
                text += ', loss %.2f%%' % (100 * metrics['loss_ratio'])
            text += ')'
        return text
    if 'rtt_p50_us' in metrics:
        return 'rtt p50 %.1f us, p99 %.1f us, max %.1f us' % (
            metrics['rtt_p50_us'], metrics.get('rtt_p99_us', float('nan')), metrics.get('rtt_max_us', float('nan')))
    if 'rtt_mean_us' in metrics:
        return 'rtt mean %.1f us' % metrics['rtt_mean_us']
    return 'no latency figure'
