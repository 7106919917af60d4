# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Case records (table.cases_of) -> the report's tables, each as (headers, rows) of strings:
the summary, kernel sockets vs kernel bypass, icperf vs the reference tools, our figures beside
the study's, and the study's own tables. Rendered by render.py as text, Markdown or HTML."""

from __future__ import annotations

import math

from ansible_collections.kbypass.testbed.plugins.module_utils.paths import DATA_PATHS, study_row
from ansible_collections.kbypass.testbed.plugins.module_utils.results_schema import LATENCY_LOADS, load_metric
from ansible_collections.kbypass.testbed.plugins.module_utils.report.study import (
    BYPASS_SIZE, SOCKET_STUDY_PATH, STUDY, STUDY_SOCKETS,
)
from ansible_collections.kbypass.testbed.plugins.module_utils.report.table import none_last
from ansible_collections.kbypass.testbed.plugins.module_utils.report.text import FLAG_MARK

# what each reference tool reports that stands against icperf's figure
REFERENCE_METRICS = {
    # sockperf's client reports what it sent; the received rate comes from its server's count
    'sockperf': {'tput': (('rx_pps', 'rx_pps'), ('tx_pps', 'tx_pps')), 'lat': (('rtt_p50_us', 'rtt_p50_us'), ('rtt_p99_us', 'rtt_p99_us'))},
    'testpmd': {'tput': (('rx_pps', 'rx_pps'),), 'tx': (('tx_pps', 'tx_pps'),),
                'lat': (('rtt_p50_us', 'rtt_p50_us'), ('rtt_p99_us', 'rtt_p99_us'))},
}
PRIMARY_TOOL = 'icperf'


def _fmt(value, digits=3, scale=1.0):
    if value is None:
        return '-'
    return '%.*f' % (digits, value / scale)


def rate_text(rate):
    """An offered rate as the tables write it (max = unpaced)."""
    if rate is None:
        return '?'
    return 'max' if rate == 0 else str(rate)


def flags(case):
    """The note of a case: cores shared, oversubscribed, a topology other than pair, the rounds it is the median of."""
    names = [name for name in ('cores_shared', 'oversubscribed') if case.get(name)]
    if case.get('topology') and case.get('topology') != 'pair':
        names.append('topology ' + case['topology'])
    if case.get('repeats'):
        text = 'median of %d' % case['repeats']
        if case.get('rx_range'):
            text += ' (rx %.3f..%.3f Mpps)' % (case['rx_range'][0] / 1e6, case['rx_range'][1] / 1e6)
        names.append(text)
    return ','.join(names)


def _mark(text, case):
    return text + FLAG_MARK if case.get('flagged') and text != '-' else text


def _series_key(case, extra=()):
    return tuple(case.get(k) for k in ('host', 'path', 'tool', 'backend', 'burst', 'touch') + tuple(extra))


def at_max_rate(cases):
    """Of the ok throughput cases with an rx rate, the one at the highest offered rate (unpaced counts
    as highest) for each host, path, tool, backend, size, burst, touch and flag."""
    best = {}
    for case in cases:
        if case['status'] != 'ok' or case['mode'] != 'tput' or 'rx_pps' not in case['metrics']:
            continue
        key = _series_key(case, ('size', 'flagged'))
        rate = case.get('rate_pps')
        rank = math.inf if rate == 0 else (rate or -1)
        if key not in best or rank > best[key][0]:
            best[key] = (rank, case)
    return [best[key][1] for key in sorted(best, key=lambda k: tuple(none_last(v) for v in k))]


def summary_rows(cases):
    """(headers, rows) of the summary: throughput at the highest offered rate, every sender-alone
    (tx) and latency case, every failed case."""
    headers = ('host', 'path', 'tool', 'backend', 'mode', 'size', 'rate', 'burst', 'rx Mpps', 'tx Mpps',
               'loss %', 'p50 us', 'p99 us', 'note')
    tput = set(id(c) for c in at_max_rate(cases))
    rows = []
    for case in cases:
        m = case['metrics']
        note = flags(case)
        if case['mode'] == 'search' and case['status'] == 'ok':
            continue   # its figures have their own table (search_results)
        if case['status'] != 'ok':
            figures = ['-'] * 5
            note = case['status'].upper() + (' ' + note if note else '')
        elif case['mode'] in ('tput', 'tx'):
            if id(case) not in tput and 'rx_pps' in m:
                continue
            figures = [_mark(_fmt(m.get('rx_pps'), 3, 1e6), case), _mark(_fmt(m.get('tx_pps'), 3, 1e6), case),
                       _fmt(None if 'loss_ratio' not in m else 100 * m['loss_ratio'], 2), '-', '-']
        else:
            figures = ['-', '-', _fmt(None if 'loss_ratio' not in m else 100 * m['loss_ratio'], 2),
                       _mark(_fmt(m.get('rtt_p50_us'), 1), case), _mark(_fmt(m.get('rtt_p99_us'), 1), case)]
        rows.append([case['host'], case['path'] or '?', case['tool'] or '?', case['backend'] or '?',
                     case['mode'] or '?', '?' if case['size'] is None else str(case['size']),
                     rate_text(case['rate_pps']), '?' if case['burst'] is None else str(case['burst'])]
                    + figures + [note])
    return headers, rows


def cross_checks(cases):
    """(headers, rows): icperf against a reference tool (sockperf, testpmd) at the same host, path,
    mode, size and offered rate; ratio = icperf figure / reference figure."""
    headers = ('host', 'path', 'mode', 'size', 'rate', 'icperf backend', 'icperf burst', 'icperf metric', 'icperf',
               'reference', 'ref backend', 'ref burst', 'ref metric', 'reference value', 'ratio', 'note')
    cases = [c for c in cases if c['status'] == 'ok']
    refs = {}
    for case in cases:
        if case['tool'] in REFERENCE_METRICS:
            refs.setdefault((case['host'], case['path'], case['mode'], case['size'], case['rate_pps']), []).append(case)
    rows = []
    for case in cases:
        if case['tool'] != PRIMARY_TOOL:
            continue
        for ref in refs.get((case['host'], case['path'], case['mode'], case['size'], case['rate_pps']), []):
            for ours, theirs in REFERENCE_METRICS[ref['tool']].get(case['mode'], ()):
                a, b = case['metrics'].get(ours), ref['metrics'].get(theirs)
                if a is None or b is None:
                    continue
                scale, digits = (1e6, 3) if ours.endswith('_pps') else (1.0, 1)
                flagged = case['flagged'] or ref['flagged']
                note = []
                if ref['tool'] == 'sockperf' and theirs == 'tx_pps':
                    note.append('as sockperf reports its send rate')
                if flagged:
                    note.append('cores shared/oversubscribed')
                if case.get('topology') and case['topology'] != 'pair':
                    note.append('topology %s' % case['topology'])
                for one in (case, ref):
                    if one.get('repeats'):
                        note.append('%s median of %d rounds, alternating' % (one['tool'], one['repeats']))
                mark = FLAG_MARK if flagged else ''
                rows.append([case['host'], case['path'], case['mode'], str(case['size']), rate_text(case['rate_pps']),
                             case['backend'], str(case['burst']), ours.replace('_pps', ' Mpps'),
                             _fmt(a, digits, scale) + mark, ref['tool'], ref['backend'], str(ref['burst']),
                             theirs.replace('_pps', ' Mpps'), _fmt(b, digits, scale) + mark,
                             ('%.2f' % (a / b)) + mark if b else '-', '; '.join(note)])
    return headers, rows


def kernel_vs_bypass(cases):
    """(headers, rows): per host, the best kernel-socket rate at 64 B (any kernel path, backend,
    burst) against each bypass path's best rate at 64 B; ratio = bypass / kernel."""
    headers = ('host', 'kernel best (path, backend)', 'kernel Mpps', 'bypass path', 'topology', 'bypass Mpps',
               'bypass / kernel', 'note')
    best = {}
    for case in at_max_rate(cases):
        if case['tool'] != PRIMARY_TOOL or case['size'] != BYPASS_SIZE or case['path'] not in DATA_PATHS:
            continue
        kind = DATA_PATHS[case['path']]['kind']
        key = (case['host'], kind, None if kind == 'kernel' else case['path'])
        rate = case['metrics']['rx_pps']
        # unmarked figures first: a clean figure is preferred to a higher flagged one
        rank = (not case['flagged'], rate)
        if key not in best or rank > best[key][0]:
            best[key] = (rank, case)
    rows = []
    for host in sorted(set(k[0] for k in best)):
        kernel = best.get((host, 'kernel', None))
        for key in sorted(k for k in best if k[0] == host and k[1] == 'dpdk'):
            case = best[key][1]
            rate = case['metrics']['rx_pps']
            flagged = case['flagged'] or (kernel is not None and kernel[1]['flagged'])
            mark = FLAG_MARK if flagged else ''
            krate = kernel[1]['metrics']['rx_pps'] if kernel else None
            rows.append([host, '%s, %s' % (kernel[1]['path'], kernel[1]['backend']) if kernel else '-',
                         _mark(_fmt(krate, 3, 1e6), kernel[1]) if kernel else '-', case['path'],
                         case.get('topology') or '?', _fmt(rate, 3, 1e6) + mark,
                         ('%.1f' % (rate / krate)) + mark if krate else '-', flags(case)])
    return headers, rows


def study_table_row(table, path):
    """The row of a study table our path stands against (the registry's 'study' name, or a row named after it), or None."""
    name = study_row(path)
    if name is None:
        return None
    if name in table['rows']:
        return name
    for row in sorted(table['rows']):
        if row.startswith(name + ' '):
            return row
    return None


def study_comparison(cases):
    """(headers, rows): our figures beside the study's where a path (and backend) matches a study row."""
    headers = ('host', 'path', 'tool', 'backend', 'size', 'rate', 'burst', 'touch', 'ours', 'study', 'unit',
               'study row', 'study table', 'ours / study')
    rows = []

    def add(case, ours, study, unit, row, table):
        mark = FLAG_MARK if case['flagged'] else ''
        digits = 1 if unit in ('kpps', 'us') else 3 if unit == 'Mpps' else 2
        rows.append([case['host'], case['path'], case['tool'], case['backend'], str(case['size']),
                     rate_text(case['rate_pps']), str(case['burst']), 'yes' if case['touch'] else 'no',
                     _fmt(ours, digits) + mark, _fmt(study, digits), unit, row, table,
                     '%.2f%s' % (ours / study, mark)])

    for case in at_max_rate(cases):
        rx = case['metrics']['rx_pps']
        table_key = 'max_rx_touch' if case['touch'] else 'max_rx'
        table = STUDY[table_key]
        row = study_table_row(table, case['path'])
        if row and case['size'] in table['sizes']:
            add(case, rx / 1e6, table['rows'][row][table['sizes'].index(case['size'])], 'Mpps', row, table['label'])
        socket = STUDY_SOCKETS.get(case['backend'])
        if (case['path'] == SOCKET_STUDY_PATH and case['tool'] == PRIMARY_TOOL and socket
                and case['size'] == STUDY['sockets']['size']):
            for index, column in enumerate(STUDY['sockets']['columns']):
                add(case, rx / 1e3, STUDY['sockets']['rows'][socket][index], 'kpps', socket, column)
    rtt = STUDY['rtt_mean']
    for case in cases:
        mean = case['metrics'].get('rtt_mean_us')
        if (case['status'] != 'ok' or case['mode'] != 'lat' or mean is None or case['size'] not in rtt['sizes']
                or case['rate_pps'] != rtt['rate_pps']):
            continue
        for entry in rtt['rows']:
            name = study_row(case['path'])
            if entry['hosts'] == 1 and entry['burst'] == case['burst'] and name in entry['values']:
                add(case, mean, entry['values'][name][rtt['sizes'].index(case['size'])], 'us', name,
                    'mean RTT, ' + entry['case'])
    return headers, rows


def study_tables():
    """The study's tables as [(title, source, headers, rows)]."""
    out = []
    for key in ('max_rx', 'max_rx_touch'):
        table = STUDY[key]
        out.append(('%s (%s)' % (table['title'], table['unit']), table['source'], ('switch',) + tuple(
            '%d B' % s for s in table['sizes']), [[name] + ['%g' % v for v in values]
                                                  for name, values in table['rows'].items()]))
    table = STUDY['sockets']
    out.append(('%s (%s)' % (table['title'], table['unit']), table['source'], ('socket technique',) + table['columns'],
                [[name] + ['%g' % v for v in values] for name, values in table['rows'].items()]))
    table = STUDY['scalability']
    out.append((table['title'], table['source'], ('switch', '64 B', '1500 B'),
                [[name] + [' / '.join('%g' % v for v in per) for per in values] for name, values in table['rows'].items()]))
    table = STUDY['rtt_mean']
    names = []
    for entry in table['rows']:
        names += [n for n in entry['values'] if n not in names]
    out.append(('%s (%s, 64 B -> 1500 B); %s' % (table['title'], table['unit'], table['note']), table['source'],
                ('case',) + tuple(names),
                [[entry['case']] + ['%g -> %g' % entry['values'][n] if n in entry['values'] else '-' for n in names]
                 for entry in table['rows']]))
    return out


def _searches(cases):
    return [c for c in cases if c['status'] == 'ok' and c['mode'] == 'search' and 'pdr_pps' in c['metrics']]


def search_results(cases):
    """(headers, rows): each search's NDR and PDR (RFC 2544, docs/method.md) beside the maximum
    received rate of its unpaced trial (the study's figure) and the generator's maximum."""
    headers = ('host', 'path', 'backend', 'size', 'burst', 'NDR Mpps', 'PDR Mpps', 'NDR / PDR sent Mpps', 'MRR Mpps',
               'generator max Mpps', 'PDR Gbit/s', 'tput trials', 'search s', 'in windows %', 'note')
    rows = []
    for case in _searches(cases):
        m = case['metrics']
        note = [flags(case)] if flags(case) else []
        for goal in ('ndr', 'pdr'):
            if m.get('%s_pps' % goal) == m.get('max_tx_pps'):
                note.append("%s at the generator's maximum (the path may carry more)" % goal.upper())
            elif not m.get('%s_pps' % goal):
                note.append('%s below the search floor' % goal.upper())
        sent = '%s / %s' % (_fmt(m.get('ndr_tx_pps'), 3, 1e6), _fmt(m.get('pdr_tx_pps'), 3, 1e6))
        share = 100.0 * m['measured_s'] / m['search_s'] if m.get('search_s') and 'measured_s' in m else None
        rows.append([case['host'], case['path'], case['backend'], str(case['size']), str(case['burst']),
                     _mark(_fmt(m.get('ndr_pps'), 3, 1e6), case), _mark(_fmt(m['pdr_pps'], 3, 1e6), case), sent,
                     _mark(_fmt(m.get('mrr_pps'), 3, 1e6), case), _fmt(m.get('max_tx_pps'), 3, 1e6),
                     _fmt(m.get('pdr_bps'), 3, 1e9), '%d' % m.get('search_trials', 0), _fmt(m.get('search_s'), 0),
                     _fmt(share, 0), '; '.join(note)])
    return headers, rows


def latency_under_load(cases):
    """(headers, rows): round-trip percentiles of each search's lat trials at LATENCY_LOADS % of
    its PDR (the client sends the load and times every reply), after the same path's latency
    case at no load (benchmark_lat_rates, as the study measured it) where one ran."""
    headers = ('host', 'path', 'backend', 'size', 'load', 'offered kpps', 'burst', 'min us', 'p50 us', 'p90 us',
               'p99 us', 'p99.9 us', 'max us', 'loss %', 'note')
    idle = {}
    for case in cases:
        if case['status'] == 'ok' and case['mode'] == 'lat' and case['tool'] == PRIMARY_TOOL:
            idle.setdefault((case['host'], case['path'], case['backend'], case['size']), case)
    rows = []

    def row(case, load, offered, burst, m, suffix):
        def get(name):
            return m.get(name + suffix)
        loss = get('loss_ratio')
        rows.append([case['host'], case['path'], case['backend'], str(case['size']), load, _fmt(offered, 1, 1e3),
                     str(burst)] + [_mark(_fmt(get('rtt_%s_us' % k), 1), case)
                                    for k in ('min', 'p50', 'p90', 'p99', 'p999', 'max')]
                    + [_fmt(None if loss is None else 100 * loss, 2), flags(case)])

    for case in _searches(cases):
        m = case['metrics']
        if not any(load_metric('rtt_p50_us', load) in m for load in LATENCY_LOADS):
            continue
        still = idle.get((case['host'], case['path'], case['backend'], case['size']))
        if still:
            row(still, 'no load', still['rate_pps'], still['burst'], still['metrics'], '')
        for load in LATENCY_LOADS:
            if load_metric('rtt_p50_us', load) in m:
                row(case, '%d %% of PDR' % load, m.get(load_metric('tx_pps', load)), case['burst'], m,
                    '_pdr%d' % load)
    return headers, rows


def soak(cases):
    """(headers, rows): each search's soak (benchmark_search_soak_s): one long trial at SOAK_LOAD %
    of its PDR, what it sent and received, its loss, and in how many of its seconds it lost."""
    headers = ('host', 'path', 'backend', 'size', 'offered kpps', 'seconds', 'sent Mpps', 'received Mpps', 'loss %',
               'lost', 'seconds with loss', 'worst second loss %', 'note')
    rows = []
    for case in _searches(cases):
        m = case['metrics']
        if 'soak_s' not in m:
            continue
        note = [flags(case)] if flags(case) else []
        if 'soak_rx_pps' not in m:
            note.append('invalid: the reason is in search.json')

        def pct(name):
            return _fmt(None if m.get(name) is None else 100.0 * m[name], 3)
        rows.append([case['host'], case['path'], case['backend'], str(case['size']), _fmt(m['soak_pps'], 1, 1e3),
                     _fmt(m['soak_s'], 0), _fmt(m.get('soak_tx_pps'), 3, 1e6),
                     _mark(_fmt(m.get('soak_rx_pps'), 3, 1e6), case), pct('soak_loss_ratio'),
                     _fmt(m.get('soak_lost'), 0), _fmt(m.get('soak_loss_seconds'), 0), pct('soak_worst_loss_ratio'),
                     '; '.join(note)])
    return headers, rows


def cpu_cost(cases):
    """(headers, rows): what each path costs in CPU: the share of a core each peer (inside its
    measurement window) and the switch (over its trial) used, and the cycles per packet at the
    host's CPU clock; for a search at its PDR, else at the highest offered rate."""
    headers = ('host', 'path', 'backend', 'size', 'at', 'Mpps', 'a CPU %', 'b CPU %', 'switch CPU %',
               'a cycles/pkt', 'b cycles/pkt', 'switch cycles/pkt', 'CPU MHz', 'note')
    rows = []
    picked = [(c, 'PDR', c['metrics'].get('pdr_pps')) for c in _searches(cases)]
    picked += [(c, rate_text(c['rate_pps']), c['metrics'].get('rx_pps')) for c in at_max_rate(cases)
               if c['tool'] == PRIMARY_TOOL]
    for case, at, rate in picked:
        m = case['metrics']
        if not any(k.startswith('cycles_') for k in m):
            continue
        rows.append([case['host'], case['path'], case['backend'], str(case['size']), at, _fmt(rate, 3, 1e6)]
                    + [_mark(_fmt(m.get(k), 1), case) for k in ('cpu_a_pct', 'cpu_b_pct', 'cpu_switch_pct')]
                    + [_mark(_fmt(m.get(k), 0), case)
                       for k in ('cycles_a_per_pkt', 'cycles_b_per_pkt', 'cycles_switch_per_pkt')]
                    + [_fmt(m.get('cpu_mhz'), 0), flags(case)])
    return headers, rows


def report_tables(cases):
    """Every table of summary.md and report.html, by the name text.SECTIONS gives it."""
    return {'summary': summary_rows(cases), 'cross': cross_checks(cases), 'study': study_comparison(cases),
            'bypass': kernel_vs_bypass(cases), 'search': search_results(cases),
            'latency_load': latency_under_load(cases), 'soak': soak(cases), 'cpu': cpu_cost(cases)}
