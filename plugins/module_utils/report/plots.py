# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Case records (table.cases_of) -> the report's plots as PNG bytes (matplotlib, Agg, no file
written here; without matplotlib there is no plot)."""

from __future__ import annotations

import io
import math
import traceback

from ansible_collections.kbypass.testbed.plugins.module_utils.paths import DATA_PATHS
from ansible_collections.kbypass.testbed.plugins.module_utils.report.study import STUDY, STUDY_SIZES, STUDY_SOCKETS
from ansible_collections.kbypass.testbed.plugins.module_utils.report.table import none_last
from ansible_collections.kbypass.testbed.plugins.module_utils.report.text import FLAG_MARK, FLAG_NOTE
from ansible_collections.kbypass.testbed.plugins.module_utils.report.views import (
    PRIMARY_TOOL, at_max_rate, rate_text, study_table_row,
)

try:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.ticker
    from matplotlib.figure import Figure
    HAS_MATPLOTLIB = True
    MATPLOTLIB_IMPORT_ERROR = None
except ImportError:
    matplotlib = None
    Figure = None
    HAS_MATPLOTLIB = False
    MATPLOTLIB_IMPORT_ERROR = traceback.format_exc()

# name -> file in the run folder; also the order of the plots in report.html
PLOT_FILES = {
    'throughput_vs_rate': 'plots/throughput_vs_rate.png',
    'rx_vs_size': 'plots/rx_vs_size.png',
    'latency_percentiles': 'plots/latency_percentiles.png',
    'kernel_sockets': 'plots/kernel_sockets.png',
    'soak_loss': 'plots/soak_loss.png',
}
_COLORS = ('#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22',
           '#17becf')
_STUDY_COLORS = ('#555555', '#8c6d31', '#843c39', '#7b4173', '#3182bd', '#31a354', '#756bb1')


def _label(key_names, key, varying):
    parts = []
    for name, value in zip(key_names, key):
        if name not in varying or value is None:
            continue
        if name == 'burst':
            parts.append('b%s' % value)
        elif name == 'size':
            parts.append('%s B' % value)
        elif name == 'touch':
            parts.append('touch' if value else '')
        elif name == 'rate_pps':
            parts.append('r%s' % rate_text(value))
        elif name == 'flagged':
            continue
        else:
            parts.append(str(value))
    label = ' '.join(p for p in parts if p) or 'all'
    if 'flagged' in key_names and key[key_names.index('flagged')]:
        label += ' ' + FLAG_MARK
    return label


def _varying(key_names, keys, always=('path',)):
    out = set(always)
    for index, name in enumerate(key_names):
        if len(set(k[index] for k in keys)) > 1:
            out.add(name)
    return out


def _plain_log_axis(axis):
    axis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda value, _pos: '%g' % value))


def _new_figure(width=8.0, height=5.0):
    fig = Figure(figsize=(width, height), dpi=100)
    return fig, fig.add_subplot(1, 1, 1)


def _finish(fig, ax, flagged, legend=True):
    if legend and ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, loc='upper left', bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    if flagged:
        fig.text(0.01, 0.01, FLAG_NOTE, fontsize=6, wrap=True)
    fig.tight_layout(rect=(0, 0.05 if flagged else 0, 1, 1))
    buf = io.BytesIO()
    fig.savefig(buf, format='png', metadata={'Software': None})
    return buf.getvalue()


def _line_style(flagged, color):
    if flagged:
        return {'color': color, 'linestyle': ':', 'marker': 'o', 'markerfacecolor': 'none', 'alpha': 0.6}
    return {'color': color, 'linestyle': '-', 'marker': 'o'}


def plot_throughput_vs_rate(cases):
    """rx Mpps against the offered rate, one line per path, backend, size (and what else varies);
    unpaced cases at the 'max' position right of the highest paced rate. PNG bytes or None."""
    points = [c for c in cases if c['status'] == 'ok' and c['mode'] == 'tput' and 'rx_pps' in c['metrics']]
    if not points:
        return None
    names = ('host', 'path', 'tool', 'backend', 'size', 'burst', 'touch', 'flagged')
    series = {}
    for case in points:
        series.setdefault(tuple(case.get(n) for n in names), []).append(case)
    keys = sorted(series, key=lambda k: tuple(none_last(v) for v in k))
    varying = _varying(names, keys, ('path', 'backend', 'size'))
    paced = sorted(set(c['rate_pps'] / 1e6 for c in points if c['rate_pps']))
    max_x = (paced[-1] * 1.2) if paced else 1.0
    fig, ax = _new_figure(9.0, 5.0)
    for index, key in enumerate(keys):
        data = sorted(series[key], key=lambda c: math.inf if not c['rate_pps'] else c['rate_pps'])
        xs = [c['rate_pps'] / 1e6 if c['rate_pps'] else max_x for c in data]
        ys = [c['metrics']['rx_pps'] / 1e6 for c in data]
        ax.plot(xs, ys, label=_label(names, key, varying), **_line_style(key[-1], _COLORS[index % len(_COLORS)]))
    if paced:
        ax.plot([0, paced[-1]], [0, paced[-1]], color='#999999', linewidth=0.8, linestyle='--', label='rx = offered')
    ticks = paced + [max_x]
    ax.set_xticks(ticks)
    ax.set_xticklabels(['%g' % t for t in paced] + ['max'])
    ax.set_xlabel('offered rate (Mpps; max = unpaced)')
    ax.set_ylabel('received rate (Mpps)')
    ax.set_ylim(bottom=0)
    ax.set_title('Throughput against offered rate')
    ax.grid(True, alpha=0.3)
    return _finish(fig, ax, any(k[-1] for k in keys))


def plot_rx_vs_size(cases):
    """rx Mpps by frame size at the highest offered rate, ours solid, the study's dashed. PNG or None."""
    points = at_max_rate(cases)
    if not points:
        return None
    names = ('host', 'path', 'tool', 'backend', 'burst', 'touch', 'flagged')
    series = {}
    for case in points:
        series.setdefault(tuple(case.get(n) for n in names), []).append(case)
    keys = sorted(series, key=lambda k: tuple(none_last(v) for v in k))
    varying = _varying(names, keys, ('path', 'backend'))
    fig, ax = _new_figure(9.0, 5.5)
    colors = {}
    for index, key in enumerate(keys):
        data = sorted(series[key], key=lambda c: c['size'] or 0)
        color = _COLORS[index % len(_COLORS)]
        colors.setdefault((key[1], bool(key[5])), color)
        ax.plot([c['size'] for c in data], [c['metrics']['rx_pps'] / 1e6 for c in data],
                label='ours: ' + _label(names, key, varying), **_line_style(key[-1], color))
    touches = sorted(set(bool(k[5]) for k in keys))
    study_index = 0
    for touch in touches:
        table = STUDY['max_rx_touch' if touch else 'max_rx']
        ours = dict((study_table_row(table, path), color) for (path, t), color in colors.items() if t == touch)
        for name, values in table['rows'].items():
            color = ours.get(name)
            if color is None:
                color = _STUDY_COLORS[study_index % len(_STUDY_COLORS)]
                study_index += 1
            label = 'study: %s' % name + (' (touch)' if touch else '')
            ax.plot(table['sizes'], values, color=color, linestyle='--', linewidth=1.0, marker='x', markersize=4,
                    alpha=0.9 if name in ours else 0.55, label=label)
    ax.set_yscale('log')
    _plain_log_axis(ax.yaxis)
    ax.set_xscale('log', base=2)
    sizes = sorted(set(STUDY_SIZES) | set(c['size'] for c in points if c['size']))
    ax.set_xticks(sizes)
    ax.set_xticklabels([str(s) for s in sizes])
    ax.minorticks_off()
    ax.set_xlabel('frame size (bytes)')
    ax.set_ylabel('received rate at max offered rate (Mpps, log)')
    ax.set_title('Received rate by frame size; study: %s' % ' / '.join(
        STUDY['max_rx_touch' if t else 'max_rx']['label'] for t in touches))
    ax.grid(True, which='both', alpha=0.3)
    return _finish(fig, ax, any(k[-1] for k in keys))


def plot_latency(cases):
    """Round trip percentiles (p50, p90, p99, p99.9) per path, size and what else varies. PNG or None."""
    metrics = (('rtt_p50_us', 'p50'), ('rtt_p90_us', 'p90'), ('rtt_p99_us', 'p99'), ('rtt_p999_us', 'p99.9'))
    points = [c for c in cases if c['status'] == 'ok' and c['mode'] == 'lat'
              and any(m in c['metrics'] for m, _l in metrics)]
    if not points:
        return None
    names = ('host', 'path', 'tool', 'backend', 'size', 'rate_pps', 'burst', 'touch', 'flagged')
    points.sort(key=lambda c: tuple(none_last(c.get(n)) for n in names))
    keys = [tuple(c.get(n) for n in names) for c in points]
    varying = _varying(names, keys, ('path', 'size'))
    width = min(30.0, max(7.0, 0.9 * len(points) + 3))
    fig, ax = _new_figure(width, 5.0)
    width = 0.8 / len(metrics)
    for mindex, (metric, label) in enumerate(metrics):
        for pindex, case in enumerate(points):
            value = case['metrics'].get(metric)
            if value is None:
                continue
            style = {'color': _COLORS[mindex], 'edgecolor': 'black', 'linewidth': 0.3}
            if case['flagged']:
                style.update(hatch='//', alpha=0.5)
            ax.bar(pindex + (mindex - 1.5) * width, value, width, label=label if pindex == 0 or (
                label not in ax.get_legend_handles_labels()[1]) else None, **style)
    ax.set_xticks(range(len(points)))
    ax.set_xticklabels([_label(names, k, varying) for k in keys], rotation=30, ha='right', fontsize=7)
    ax.set_yscale('log')
    _plain_log_axis(ax.yaxis)
    ax.set_ylabel('round trip (us, log)')
    ax.set_title('Round-trip latency percentiles')
    ax.grid(True, axis='y', which='both', alpha=0.3)
    return _finish(fig, ax, any(c['flagged'] for c in points))


def plot_kernel_sockets(cases):
    """Kernel socket techniques at 64 B: the study's two columns beside our kernel paths. PNG or None."""
    table = STUDY['sockets']
    points = [c for c in at_max_rate(cases) if c['path'] in DATA_PATHS and DATA_PATHS[c['path']]['kind'] == 'kernel' and c['tool'] == PRIMARY_TOOL
              and c['size'] == table['size'] and c['backend'] in STUDY_SOCKETS]
    if not points:
        return None
    techniques = [t for b, t in STUDY_SOCKETS.items()]
    names = ('host', 'path', 'burst', 'touch', 'flagged')
    series = {}
    for case in points:
        series.setdefault(tuple(case.get(n) for n in names), {})[STUDY_SOCKETS[case['backend']]] = case
    keys = sorted(series, key=lambda k: tuple(none_last(v) for v in k))
    varying = _varying(names, keys, ('path',))
    groups = len(table['columns']) + len(keys)
    width = 0.8 / groups
    fig, ax = _new_figure(9.0, 5.0)
    for cindex, column in enumerate(table['columns']):
        ax.bar([i + (cindex - (groups - 1) / 2.0) * width for i in range(len(techniques))],
               [table['rows'][t][cindex] for t in techniques], width, color=_STUDY_COLORS[cindex], alpha=0.6,
               edgecolor='black', linewidth=0.3, label='study: ' + column)
    for sindex, key in enumerate(keys):
        index = len(table['columns']) + sindex
        xs, ys = [], []
        for tindex, technique in enumerate(techniques):
            case = series[key].get(technique)
            if case is not None:
                xs.append(tindex + (index - (groups - 1) / 2.0) * width)
                ys.append(case['metrics']['rx_pps'] / 1e3)
        style = {'color': _COLORS[sindex % len(_COLORS)], 'edgecolor': 'black', 'linewidth': 0.3}
        if key[-1]:
            style.update(hatch='//', alpha=0.5)
        ax.bar(xs, ys, width, label='ours: ' + _label(names, key, varying), **style)
    ax.set_xticks(range(len(techniques)))
    ax.set_xticklabels(techniques, fontsize=8)
    ax.set_ylabel('received rate (kpps), 64 B frames')
    ax.set_title('Kernel sockets at 64 B: ours (highest offered rate) and the study')
    ax.grid(True, axis='y', alpha=0.3)
    return _finish(fig, ax, any(k[-1] for k in keys))


def plot_soak(records):
    """The loss of each soak second by second, inside its measurement window (the soak trials of
    load.load_run's records). PNG bytes or None."""
    soaks = [r for r in records if r.get('soak') and r['soak'].get('seconds')]
    if not soaks:
        return None
    fig, ax = _new_figure(9.0, 4.5)
    flagged = False
    for index, record in enumerate(soaks):
        cond = record['conditions']
        flag = bool(cond.get('cores_shared') or cond.get('oversubscribed'))
        flagged = flagged or flag
        seconds = [s for s in record['soak']['seconds'] if s.get('window') and s.get('loss_ratio') is not None]
        # a colour per line; past the tenth the markers tell them apart
        style = dict(_line_style(flag, _COLORS[index % len(_COLORS)]),
                     marker=('.', 'x', '^', 's')[index // len(_COLORS) % 4])
        label = '%s %s %s %s B, %g kpps' % (record['host'], cond.get('path'), cond.get('backend'), cond.get('size'),
                                            (record['soak']['rate_pps'] or 0) / 1e3)
        ax.plot([s['t'] for s in seconds], [100.0 * s['loss_ratio'] for s in seconds], label=label, **style)
    ax.set_xlabel('second of the soak trial')
    ax.set_ylabel('loss in that second (%)')
    ax.set_ylim(bottom=0)
    ax.set_title('Soak at 90 % of the PDR: loss second by second')
    ax.grid(True, alpha=0.3)
    return _finish(fig, ax, flagged)


def make_plots(cases, records=()):
    """{plot name: PNG bytes} of every plot that has data, from the case records (table.cases_of)
    and, for the soak's trace, the loaded records (load.all_cases)."""
    if not HAS_MATPLOTLIB:
        return {}
    out = {}
    with matplotlib.rc_context():
        matplotlib.rcdefaults()
        for name, func, data in (('throughput_vs_rate', plot_throughput_vs_rate, cases),
                                 ('rx_vs_size', plot_rx_vs_size, cases), ('latency_percentiles', plot_latency, cases),
                                 ('kernel_sockets', plot_kernel_sockets, cases), ('soak_loss', plot_soak, records)):
            png = func(data)
            if png is not None:
                out[name] = png
    return out
