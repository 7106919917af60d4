# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Report stage: raw files of one run -> tidy table -> results.csv, summary.md, plots, report.html.

Runs on the controller only and needs no Ansible: standard library, pandas and matplotlib.
Re-runnable from results/<run-id>/raw and run.json alone; the same raw files give the same
results.csv and summary.md byte for byte (no time of 'now' is written anywhere).

    python -m ansible_collections.kbypass.testbed.plugins.module_utils.report RESULTS_RUN_DIR
"""

from __future__ import annotations

import argparse
import base64
import html
import io
import json
import math
import os
import re
import sys
import traceback

from ansible_collections.kbypass.testbed.plugins.module_utils.results_schema import (
    CASE_FILE, CONDITION_COLUMNS, CSV_COLUMNS, HOST_FILE, METRICS, PLAN_FILE, RUN_FILE, SCHEMA_VERSION,
)
from ansible_collections.kbypass.testbed.plugins.module_utils.ledger import write_atomic
from ansible_collections.kbypass.testbed.plugins.module_utils.paths import DATA_PATHS, study_row

try:
    import pandas as pd
    HAS_PANDAS = True
    PANDAS_IMPORT_ERROR = None
except ImportError:
    pd = None
    HAS_PANDAS = False
    PANDAS_IMPORT_ERROR = traceback.format_exc()

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


# ---------------------------------------------------------------------------------------------
# The reference study's figures (the papers below; read from their text and plots, about +-2%).
# ---------------------------------------------------------------------------------------------
_VHPC19 = ("[VHPC'19] G. Ara, L. Abeni, T. Cucinotta, C. Vitucci, \"On the Use of Kernel Bypass Mechanisms "
           "for High-Performance Inter-container Communications\", ISC High Performance 2019 workshops, "
           "LNCS 11887, doi 10.1007/978-3-030-34356-9_1")
_CLOSER20 = ("[CLOSER'20] G. Ara, L. Abeni, T. Cucinotta, C. Vitucci, \"Comparative Evaluation of Kernel Bypass "
             "Mechanisms for High-performance Inter-container Communications\", CLOSER 2020")
_CCIS21 = ("[CCIS'21] G. Ara, L. Lai, T. Cucinotta, L. Abeni, C. Vitucci, \"A Framework for Comparative Evaluation "
           "of High-Performance Virtualized Networking Mechanisms\", CCIS 1399, doi 10.1007/978-3-030-72369-9_3")

STUDY_SIZES = (64, 128, 256, 512, 1024, 1500)

STUDY = {
    'max_rx': {
        'title': 'Maximum received rate, one host, one pair, by frame size',
        'source': _VHPC19,
        'label': "VHPC'19",
        'unit': 'Mpps',
        'sizes': STUDY_SIZES,
        'touch': False,
        'rows': {
            'SR-IOV': (16.2, 16.2, 14.3, 7.9, 4.1, 3.2),
            'testpmd': (10.1, 9.2, 8.1, 6.3, 4.6, 3.5),
            'Snabb (static)': (7.1, 7.0, 6.1, 5.1, 3.5, 2.7),
            'VPP': (6.3, 5.9, 5.2, 3.9, 2.8, 2.3),
            'OVS-DPDK': (5.3, 5.1, 4.7, 4.1, 3.3, 2.7),
        },
    },
    'max_rx_touch': {
        'title': 'Maximum received rate, every byte touched, burst 32, by frame size',
        'source': _CLOSER20 + '; ' + _CCIS21,
        'label': "CLOSER'20/CCIS'21, touch",
        'unit': 'Mpps',
        'sizes': STUDY_SIZES,
        'touch': True,
        'rows': {
            'SR-IOV': (16.14, 10.11, 6.26, 3.36, 1.76, 1.21),
            'basicfwd': (9.78, 7.46, 5.02, 2.99, 1.67, 1.16),
            'VPP': (9.02, 7.12, 4.95, 2.96, 1.67, 1.15),
            'VALE': (7.68, 7.29, 5.94, 3.31, 1.76, 1.23),
            'OVS-DPDK': (5.33, 4.91, 4.44, 2.99, 1.67, 1.15),
            'Snabb (learning)': (3.30, 3.15, 2.93, 2.60, 1.64, 1.16),
        },
    },
    'sockets': {
        'title': 'Kernel sockets over the Linux bridge, 64-byte frames',
        'source': _VHPC19 + '; ' + _CLOSER20,
        'unit': 'kpps',
        'size': 64,
        'columns': ("VHPC'19 (burst 64)", "CLOSER'20 (1 Mpps offered, burst 64)"),
        'rows': {
            'UDP send/recv': (227, 338),
            'UDP sendmmsg/recvmmsg': (276, 409),
            'raw send/recv': (471, 360),
            'raw mmsg': (594, 440),
        },
    },
    'scalability': {
        'title': 'Scalability, one host, total Gbit/s (10^9) for 1 / 2 / 4 pairs',
        'source': _CLOSER20 + '; ' + _CCIS21,
        'unit': 'Gbit/s',
        'pairs': (1, 2, 4),
        'sizes': (64, 1500),
        'rows': {
            'SR-IOV': ((8.26, 8.03, 8.04), (14.5, 28.5, 47.7)),
            'basicfwd': ((5.0, 5.0, 4.3), (13.9, 27.7, 21.9)),
            'VPP': ((4.6, 4.6, 3.8), (13.8, 22.1, 16.1)),
            'OVS-DPDK': ((2.7, 2.7, 2.4), (13.9, 27.7, 18.2)),
            'Snabb': ((1.7, 2.6, 1.6), (14.0, 25.6, 16.8)),
            'VALE': ((3.9, 7.8, 15.3), (14.7, 29.3, 58.5)),
        },
    },
    'rtt_mean': {
        'title': 'Mean round trip at 1000 pps offered, 64 B and 1500 B frames',
        'source': _CLOSER20 + '; ' + _CCIS21,
        'unit': 'us',
        'rate_pps': 1000,
        'sizes': (64, 1500),
        'note': 'two hosts, VALE: about 85 us at every size; Snabb: 60 us or more',
        'rows': (
            {'case': 'one host, burst 4', 'hosts': 1, 'burst': 4, 'values': {
                'basicfwd': (3.5, 12.4), 'OVS-DPDK': (5.5, 14.0), 'VPP': (5.3, 15.8), 'SR-IOV': (12.4, 33.7),
                'VALE': (5.3, 8.0)}},
            {'case': 'one host, burst 32', 'hosts': 1, 'burst': 32, 'values': {
                'basicfwd': (16.9, 84.5), 'OVS-DPDK': (24.9, 96.0), 'VPP': (19.5, 101.5), 'SR-IOV': (12.5, 50.5),
                'VALE': (14.7, 32.2)}},
            {'case': 'one host, burst 128', 'hosts': 1, 'burst': 128, 'values': {
                'basicfwd': (37.0, 197.0), 'OVS-DPDK': (44.0, 221.0), 'VPP': (57.0, 293.0), 'SR-IOV': (23.0, 148.0),
                'VALE': (45.0, 112.0)}},
            {'case': 'two hosts, burst 4', 'hosts': 2, 'burst': 4, 'values': {
                'OVS-DPDK': (40.0, 49.0), 'VPP': (28.0, 42.0), 'SR-IOV': (20.0, 38.0), 'VALE': (85.0, 85.0)}},
        ),
    },
}

# icperf backend over the Linux bridge -> the study's socket technique
STUDY_SOCKETS = {
    'udp': 'UDP send/recv',
    'udp-mmsg': 'UDP sendmmsg/recvmmsg',
    'raw': 'raw send/recv',
    'raw-mmsg': 'raw mmsg',
}
SOCKET_STUDY_PATH = 'linux_bridge'
# frame size of the kernel-vs-bypass comparison, and the study's finding at that size (VHPC'19)
BYPASS_SIZE = 64
BYPASS_STUDY = 'study (VHPC\'19, 64 B): kernel sockets under 1 Mpps, every bypass path over 5 Mpps'

# what each reference tool reports that stands against icperf's figure
REFERENCE_METRICS = {
    # sockperf's client reports what it sent; the received rate comes from its server's count
    'sockperf': {'tput': (('rx_pps', 'rx_pps'), ('tx_pps', 'tx_pps')), 'lat': (('rtt_p50_us', 'rtt_p50_us'), ('rtt_p99_us', 'rtt_p99_us'))},
    'testpmd': {'tput': (('rx_pps', 'rx_pps'),), 'tx': (('tx_pps', 'tx_pps'),),
                'lat': (('rtt_p50_us', 'rtt_p50_us'), ('rtt_p99_us', 'rtt_p99_us'))},
}
PRIMARY_TOOL = 'icperf'

PLOT_FILES = {
    'throughput_vs_rate': 'plots/throughput_vs_rate.png',
    'rx_vs_size': 'plots/rx_vs_size.png',
    'latency_percentiles': 'plots/latency_percentiles.png',
    'kernel_sockets': 'plots/kernel_sockets.png',
}
CSV_FILE = 'results.csv'
SUMMARY_FILE = 'summary.md'
HTML_FILE = 'report.html'
RAW_DIR = 'raw'

FLAG_MARK = '*'
FLAG_NOTE = ('* measured with cores shared between busy threads or with more CPUs planned than the host has: '
             'not comparable with unmarked figures')

INT_COLUMNS = ('size', 'rate_pps', 'burst', 'duration_s', 'warmup_s', 'repeat')
BOOL_COLUMNS = ('touch', 'cores_shared', 'oversubscribed')

_CASE_ID = re.compile(r'^(?P<path>[^.]+)\.(?P<tool>[^.]+)\.(?P<backend>[^.]+)\.(?P<mode>[^.]+)'
                      r'\.s(?P<size>\d+)\.r(?P<rate>max|\d+)\.b(?P<burst>\d+)(?P<touch>\.touch)?'
                      r'(?:\.to-(?P<peer>[A-Za-z0-9_.-]+?))?(?:\.rep(?P<repeat>\d+))?$')
_METRIC_ORDER = dict((name, index) for index, name in enumerate(METRICS))


class ReportError(Exception):
    """The run folder cannot be reported on (no raw/, no run.json)."""


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------
def _read_json(path, rel, warnings, required=False):
    """JSON object of path, or None (and a warning) when missing or unreadable."""
    data, problem = _parse_json_file(path)
    if problem is None and not isinstance(data, dict):
        problem = 'is not a JSON object'
    if problem is not None:
        if required or problem != 'is missing':
            warnings.append('%s %s' % (rel, problem))
        return None
    schema = data.get('schema')
    if schema is not None and schema != SCHEMA_VERSION:
        warnings.append('%s has schema %r, this report reads schema %d' % (rel, schema, SCHEMA_VERSION))
    return data


def _parse_json_file(path):
    """(data, None) or (None, what is wrong)."""
    if not os.path.isfile(path):
        return None, 'is missing'
    try:
        with open(path, encoding='utf-8') as handle:
            return json.load(handle), None
    except (OSError, ValueError) as exc:
        return None, 'cannot be parsed: %s' % exc


def parse_case_id(text):
    """Conditions a case id encodes ({} when it is not one)."""
    match = _CASE_ID.match(text or '')
    if not match:
        return {}
    rate = match.group('rate')
    return {'path': match.group('path'), 'tool': match.group('tool'), 'backend': match.group('backend'),
            'mode': match.group('mode'), 'size': int(match.group('size')),
            'rate_pps': 0 if rate == 'max' else int(rate), 'burst': int(match.group('burst')),
            'touch': bool(match.group('touch')),
            'repeat': int(match.group('repeat')) if match.group('repeat') else None,
            'peer_host': match.group('peer')}


def _as_int(value):
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value) if not (isinstance(value, float) and not math.isfinite(value)) else None
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    if isinstance(value, str) and value.strip() == 'max':
        return 0
    return None


def _as_bool(value):
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ('true', 'yes', '1', 'false', 'no', '0'):
        return value.strip().lower() in ('true', 'yes', '1')
    return None


def _normal_conditions(raw):
    out = {}
    for key in CONDITION_COLUMNS:
        value = raw.get(key)
        if key in INT_COLUMNS:
            value = _as_int(value)
        elif key in BOOL_COLUMNS:
            value = _as_bool(value)
        elif value is not None:
            value = str(value)
        out[key] = value
    return out


def _plan_cases(plan):
    cases = {}
    for case in (plan or {}).get('cases') or []:
        if isinstance(case, dict) and case.get('case_id'):
            cases[str(case['case_id'])] = case
    return cases


def _conditions(cid, planned, recorded):
    """Conditions of a case: from its id, then the plan, then case.json (later ones win)."""
    merged = dict(parse_case_id(cid))
    for source in (planned or {}, recorded or {}):
        for key in CONDITION_COLUMNS:
            if source.get(key) is not None:
                merged[key] = source[key]
    return _normal_conditions(merged)


def _metrics(raw, rel, warnings):
    out = {}
    if not isinstance(raw, dict):
        if raw is not None:
            warnings.append('%s: metrics is not an object' % rel)
        return out
    for name in sorted(raw):
        value = raw[name]
        if name not in METRICS:
            warnings.append('%s: metric %r is not in the results schema, left out' % (rel, name))
            continue
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            warnings.append('%s: metric %s has the value %r, left out' % (rel, name, value))
            continue
        out[name] = float(value)
    return out


def _load_case(case_dir, rel, host, cid, planned, run_id, warnings):
    rel_file = '%s/%s' % (rel, CASE_FILE)
    path = os.path.join(case_dir, CASE_FILE)
    case = {'host': host, 'case_id': cid, 'run_id': run_id, 'status': 'failed', 'error': None,
            'metrics': {}, 'started_utc': None, 'elapsed_s': None, 'dir': rel}
    if not os.path.isfile(path):
        present = sorted(os.listdir(case_dir)) if os.path.isdir(case_dir) else []
        case['error'] = '%s is missing (files present: %s)' % (CASE_FILE, ', '.join(present) or 'none')
        warnings.append('%s is missing: the case is reported as failed' % rel_file)
        case['conditions'] = _conditions(cid, planned, None)
        return case
    problems = []
    data = _read_json(path, rel_file, problems)
    warnings.extend(problems)
    if data is None:
        case['error'] = problems[-1] if problems else '%s cannot be read' % rel_file
        case['conditions'] = _conditions(cid, planned, None)
        return case
    recorded = data.get('conditions') if isinstance(data.get('conditions'), dict) else {}
    if data.get('case_id') not in (None, cid):
        warnings.append('%s: case_id %r differs from its folder name' % (rel_file, data.get('case_id')))
    if data.get('host') not in (None, host):
        warnings.append('%s: host %r differs from its folder name' % (rel_file, data.get('host')))
    case['conditions'] = _conditions(cid, planned, recorded)
    case['run_id'] = str(data.get('run_id') or run_id or '')
    case['status'] = 'ok' if data.get('status') == 'ok' else 'failed'
    error = data.get('error')
    case['error'] = None if error is None else str(error)
    if case['status'] == 'failed' and not case['error']:
        case['error'] = 'status %r without an error text' % (data.get('status'),)
    case['metrics'] = _metrics(data.get('metrics'), rel_file, warnings)
    case['started_utc'] = data.get('started_utc')
    case['elapsed_s'] = data.get('elapsed_s')
    if case['status'] == 'ok' and not case['metrics']:
        warnings.append('%s: status ok but no metric' % rel_file)
    return case


def load_run(run_dir):
    """Read run.json and raw/<host>/{host.json,plan.json,<case-id>/case.json} of one run.

    Never raises on a missing or corrupt file: it becomes a warning, and a case.json that cannot
    be read becomes a failed case carrying the error. Returns
    {'run_dir', 'run': {...}, 'hosts': {host: {'facts': {...}, 'plan': {...} or None, 'cases': [...]}},
     'warnings': [...]} with hosts and cases in a fixed order.
    """
    run_dir = os.path.abspath(run_dir)
    warnings = []
    run = _read_json(os.path.join(run_dir, RUN_FILE), RUN_FILE, warnings, required=True) or {}
    run_id = str(run.get('run_id') or os.path.basename(run_dir))
    raw = os.path.join(run_dir, RAW_DIR)
    names = []
    if os.path.isdir(raw):
        names = sorted(n for n in os.listdir(raw) if not n.startswith('.') and os.path.isdir(os.path.join(raw, n)))
    else:
        warnings.append('%s/ is missing' % RAW_DIR)
    for host in run.get('hosts') or []:
        if str(host) not in names:
            warnings.append('host %s is in %s but has no %s/%s/ folder' % (host, RUN_FILE, RAW_DIR, host))
    hosts = {}
    for host in names:
        host_dir = os.path.join(raw, host)
        rel = '%s/%s' % (RAW_DIR, host)
        facts = _read_json(os.path.join(host_dir, HOST_FILE), '%s/%s' % (rel, HOST_FILE), warnings, required=True)
        plan = _read_json(os.path.join(host_dir, PLAN_FILE), '%s/%s' % (rel, PLAN_FILE), warnings)
        planned = _plan_cases(plan)
        cases = []
        seen = set()
        for cid in sorted(os.listdir(host_dir)):
            case_dir = os.path.join(host_dir, cid)
            if cid.startswith('.') or not os.path.isdir(case_dir):
                continue
            seen.add(cid)
            cases.append(_load_case(case_dir, '%s/%s' % (rel, cid), host, cid, planned.get(cid), run_id, warnings))
        for cid in sorted(set(planned) - seen):
            case = _load_case(os.path.join(host_dir, cid), '%s/%s' % (rel, cid), host, cid, planned[cid], run_id, [])
            case['error'] = 'planned but no result was collected (the case did not run or was not fetched)'
            warnings.append('%s/%s: planned in %s but no result was collected' % (rel, cid, PLAN_FILE))
            cases.append(case)
        cases.sort(key=lambda c: c['case_id'])
        hosts[host] = {'facts': facts or {}, 'plan': plan, 'cases': cases}
    return {'run_dir': run_dir, 'run': run, 'hosts': hosts, 'warnings': warnings}


def check_run_dir(run_dir):
    """Why run_dir cannot be reported on, or None when it can."""
    if not os.path.isdir(run_dir):
        return '%s is not a folder' % run_dir
    missing = [name for name, ok in (('%s/' % RAW_DIR, os.path.isdir(os.path.join(run_dir, RAW_DIR))),
                                     (RUN_FILE, os.path.isfile(os.path.join(run_dir, RUN_FILE)))) if not ok]
    if missing:
        return ('%s is not a run folder of kbypass.testbed: it has no %s (expected results/<run-id>/ with %s and '
                '%s/<host>/...)' % (run_dir, ' and no '.join(missing), RUN_FILE, RAW_DIR))
    return None


# ---------------------------------------------------------------------------------------------
# The tidy table
# ---------------------------------------------------------------------------------------------
def _none_last(value):
    return (value is None, value if value is not None else 0)


def _row_key(row):
    rate = row['rate_pps']
    rate_key = (rate is None, math.inf if rate == 0 else (rate or 0))     # unpaced after every paced rate
    return (row['host'], _none_last(row['path']), _none_last(row['tool']), _none_last(row['backend']),
            _none_last(row['mode']), _none_last(row['size']), rate_key, _none_last(row['burst']),
            _none_last(row['touch']), row['case_id'], _METRIC_ORDER.get(row['metric'], -1), row['metric'])


def _require_pandas():
    if not HAS_PANDAS:
        raise ReportError('the report needs pandas: %s' % PANDAS_IMPORT_ERROR)


def tidy(run):
    """One row per case and metric, columns results_schema.CSV_COLUMNS, in a fixed order."""
    _require_pandas()
    rows = []
    for host in sorted(run['hosts']):
        for case in run['hosts'][host]['cases']:
            base = {'run_id': case['run_id'], 'host': host, 'case_id': case['case_id'], 'status': case['status']}
            base.update(case['conditions'])
            if case['status'] != 'ok' or not case['metrics']:
                rows.append(dict(base, metric='status', value=None, unit=''))
                continue
            for name, value in case['metrics'].items():
                rows.append(dict(base, metric=name, value=value, unit=METRICS[name]))
    rows.sort(key=_row_key)
    df = pd.DataFrame(rows, columns=list(CSV_COLUMNS))
    for column in INT_COLUMNS:
        df[column] = df[column].astype('Int64')
    for column in BOOL_COLUMNS:
        df[column] = df[column].astype('boolean')
    df['value'] = df['value'].astype('float64')
    return df


def to_csv(df):
    """results.csv text of a tidy table."""
    return df.to_csv(index=False, lineterminator='\n')


def _py(value):
    """A cell as a plain Python value (None for NA)."""
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        return value
    if hasattr(value, 'item'):
        return value.item()
    return value


def cases_of(df):
    """The tidy table folded back into one dict per case: conditions, status, metrics, flagged."""
    cases = {}
    order = []
    for record in df.to_dict('records'):
        key = (record['host'], record['case_id'])
        if key not in cases:
            case = dict((column, _py(record[column])) for column in CSV_COLUMNS
                        if column not in ('metric', 'value', 'unit'))
            case['metrics'] = {}
            case['flagged'] = bool(case.get('cores_shared')) or bool(case.get('oversubscribed'))
            if case.get('peer_host'):
                # a two-host case: its own row in every table, never merged with one host's
                case['host'] = '%s -> %s' % (case['host'], case['peer_host'])
            cases[key] = case
            order.append(key)
        value = _py(record['value'])
        if record['metric'] in METRICS and value is not None:
            cases[key]['metrics'][record['metric']] = float(value)
    return merge_repeats([cases[key] for key in order])


def _median(values):
    values = sorted(values)
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2.0


def merge_repeats(cases):
    """The rounds of a repeated case (case ids ending in .repN) folded into one case whose metrics
    are the medians of its ok rounds; 'repeats' says how many, 'rx_range' the lowest and highest
    rx rate. Failed rounds stay as they are (listed as failures)."""
    groups, out = {}, []
    for case in cases:
        if case.get('repeat') is None or case['status'] != 'ok':
            out.append(case)
            continue
        base = re.sub(r'\.rep\d+$', '', case['case_id'])
        if (case['host'], base) not in groups:
            merged = dict(case, case_id=base, repeat=None, rounds=[])
            groups[(case['host'], base)] = merged
            out.append(merged)
        groups[(case['host'], base)]['rounds'].append(case)
    for merged in groups.values():
        rounds = merged.pop('rounds')
        names = sorted(set(name for r in rounds for name in r['metrics']))
        merged['metrics'] = dict((name, _median([r['metrics'][name] for r in rounds if name in r['metrics']]))
                                 for name in names)
        merged['repeats'] = len(rounds)
        merged['flagged'] = any(r['flagged'] for r in rounds)
        rx = [r['metrics']['rx_pps'] for r in rounds if 'rx_pps' in r['metrics']]
        if rx:
            merged['rx_range'] = (min(rx), max(rx))
    return out


# ---------------------------------------------------------------------------------------------
# Tables: data -> (headers, rows); rendered as text, markdown or HTML
# ---------------------------------------------------------------------------------------------
def _fmt(value, digits=3, scale=1.0):
    if value is None:
        return '-'
    return '%.*f' % (digits, value / scale)


def _rate_text(rate):
    if rate is None:
        return '?'
    return 'max' if rate == 0 else str(rate)


def _flags(case):
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
    return [best[key][1] for key in sorted(best, key=lambda k: tuple(_none_last(v) for v in k))]


def summary_rows(df):
    """(headers, rows) of the summary: throughput at the highest offered rate, every sender-alone
    (tx) and latency case, every failed case."""
    headers = ('host', 'path', 'tool', 'backend', 'mode', 'size', 'rate', 'burst', 'rx Mpps', 'tx Mpps',
               'loss %', 'p50 us', 'p99 us', 'note')
    cases = cases_of(df)
    tput = set(id(c) for c in at_max_rate(cases))
    rows = []
    for case in cases:
        m = case['metrics']
        note = _flags(case)
        if case['status'] != 'ok':
            figures = ['-'] * 5
            note = 'FAILED' + (' ' + note if note else '')
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
                     _rate_text(case['rate_pps']), '?' if case['burst'] is None else str(case['burst'])]
                    + figures + [note])
    return headers, rows


def _is_number(text):
    return bool(re.match(r'^-?[0-9.]+[*]?$', text)) or text == '-'


def render_text(headers, rows):
    """A plain aligned table, numbers right-aligned."""
    if not rows:
        return '(none)'
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(headers)]
    numeric = [all(_is_number(str(r[i])) for r in rows) for i in range(len(headers))]
    lines = []
    for cells in [list(headers)] + [list(r) for r in rows]:
        parts = [str(c).rjust(w) if num else str(c).ljust(w) for c, w, num in zip(cells, widths, numeric)]
        lines.append('  '.join(parts).rstrip())
    lines.insert(1, '  '.join('-' * w for w in widths))
    return '\n'.join(lines)


def _md_cell(text):
    """A markdown table cell: no line break, no column break, no raw HTML."""
    text = str(text).replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')
    return text.replace('|', '\\|').replace('\r', ' ').replace('\n', ' ')


def render_markdown(headers, rows):
    if not rows:
        return '(none)\n'
    out = ['| ' + ' | '.join(_md_cell(h) for h in headers) + ' |',
           '|' + '|'.join('---' for _h in headers) + '|']
    out += ['| ' + ' | '.join(_md_cell(c) for c in r) + ' |' for r in rows]
    return '\n'.join(out) + '\n'


def render_html_table(headers, rows):
    if not rows:
        return '<p class="none">(none)</p>\n'
    out = ['<table>', '<tr>' + ''.join('<th>%s</th>' % html.escape(str(h)) for h in headers) + '</tr>']
    for r in rows:
        cells = []
        for c in r:
            text = str(c)
            cls = ' class="flag"' if text.endswith(FLAG_MARK) or 'FAILED' in text else ''
            cls = ' class="num"' if not cls and _is_number(text) else cls
            cells.append('<td%s>%s</td>' % (cls, html.escape(text)))
        out.append('<tr>' + ''.join(cells) + '</tr>')
    out.append('</table>')
    return '\n'.join(out) + '\n'


def summary_table(df):
    """Short text table for the terminal: throughput (rx Mpps at the highest offered rate) or
    round trip p50/p99 (us) per host, path, tool, backend, mode, size, with flags."""
    headers, rows = summary_rows(df)
    text = render_text(headers, rows)
    if any(FLAG_MARK in c for r in rows for c in r):
        text += '\n' + FLAG_NOTE
    return text


# ---------------------------------------------------------------------------------------------
# Cross-checks and the study
# ---------------------------------------------------------------------------------------------
def cross_checks(df):
    """(headers, rows): icperf against a reference tool (sockperf, testpmd) at the same host, path,
    mode, size and offered rate; ratio = icperf figure / reference figure."""
    headers = ('host', 'path', 'mode', 'size', 'rate', 'icperf backend', 'icperf burst', 'icperf metric', 'icperf',
               'reference', 'ref backend', 'ref burst', 'ref metric', 'reference value', 'ratio', 'note')
    cases = [c for c in cases_of(df) if c['status'] == 'ok']
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
                rows.append([case['host'], case['path'], case['mode'], str(case['size']), _rate_text(case['rate_pps']),
                             case['backend'], str(case['burst']), ours.replace('_pps', ' Mpps'),
                             _fmt(a, digits, scale) + mark, ref['tool'], ref['backend'], str(ref['burst']),
                             theirs.replace('_pps', ' Mpps'), _fmt(b, digits, scale) + mark,
                             ('%.2f' % (a / b)) + mark if b else '-', '; '.join(note)])
    return headers, rows


def kernel_vs_bypass(df):
    """(headers, rows): per host, the best kernel-socket rate at 64 B (any kernel path, backend,
    burst) against each bypass path's best rate at 64 B; ratio = bypass / kernel."""
    headers = ('host', 'kernel best (path, backend)', 'kernel Mpps', 'bypass path', 'topology', 'bypass Mpps',
               'bypass / kernel', 'note')
    best = {}
    for case in at_max_rate(cases_of(df)):
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
                         ('%.1f' % (rate / krate)) + mark if krate else '-', _flags(case)])
    return headers, rows


def _study_row(table, path):
    name = study_row(path)
    if name is None:
        return None
    if name in table['rows']:
        return name
    for row in sorted(table['rows']):
        if row.startswith(name + ' '):
            return row
    return None


def study_comparison(df):
    """(headers, rows): our figures beside the study's where a path (and backend) matches a study row."""
    headers = ('host', 'path', 'tool', 'backend', 'size', 'rate', 'burst', 'touch', 'ours', 'study', 'unit',
               'study row', 'study table', 'ours / study')
    cases = cases_of(df)
    rows = []

    def add(case, ours, study, unit, row, table):
        mark = FLAG_MARK if case['flagged'] else ''
        digits = 1 if unit in ('kpps', 'us') else 3 if unit == 'Mpps' else 2
        rows.append([case['host'], case['path'], case['tool'], case['backend'], str(case['size']),
                     _rate_text(case['rate_pps']), str(case['burst']), 'yes' if case['touch'] else 'no',
                     _fmt(ours, digits) + mark, _fmt(study, digits), unit, row, table,
                     '%.2f%s' % (ours / study, mark)])

    for case in at_max_rate(cases):
        rx = case['metrics']['rx_pps']
        table_key = 'max_rx_touch' if case['touch'] else 'max_rx'
        table = STUDY[table_key]
        row = _study_row(table, case['path'])
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


# ---------------------------------------------------------------------------------------------
# Plots
# ---------------------------------------------------------------------------------------------
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
            parts.append('r%s' % _rate_text(value))
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
    keys = sorted(series, key=lambda k: tuple(_none_last(v) for v in k))
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
    keys = sorted(series, key=lambda k: tuple(_none_last(v) for v in k))
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
        ours = dict((_study_row(table, path), color) for (path, t), color in colors.items() if t == touch)
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
    points.sort(key=lambda c: tuple(_none_last(c.get(n)) for n in names))
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
    keys = sorted(series, key=lambda k: tuple(_none_last(v) for v in k))
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


def make_plots(df):
    """{plot name: PNG bytes} of every plot that has data."""
    if not HAS_MATPLOTLIB:
        return {}
    cases = cases_of(df)
    out = {}
    with matplotlib.rc_context():
        matplotlib.rcdefaults()
        for name, func in (('throughput_vs_rate', plot_throughput_vs_rate), ('rx_vs_size', plot_rx_vs_size),
                           ('latency_percentiles', plot_latency), ('kernel_sockets', plot_kernel_sockets)):
            png = func(cases)
            if png is not None:
                out[name] = png
    return out


# ---------------------------------------------------------------------------------------------
# summary.md and report.html
# ---------------------------------------------------------------------------------------------
def _failed_cases(run):
    out = []
    for host in sorted(run['hosts']):
        for case in run['hosts'][host]['cases']:
            if case['status'] != 'ok':
                out.append((host, case['case_id'], case['error'] or ''))
    return out


def _counts(run):
    cases = [c for h in run['hosts'].values() for c in h['cases']]
    return len(cases), sum(1 for c in cases if c['status'] != 'ok')


def _run_line(run):
    meta = run['run']
    coll = meta.get('collection') if isinstance(meta.get('collection'), dict) else {}
    return ('run %s, started %s; %s %s (git %s); ansible-core %s' % (
        meta.get('run_id') or os.path.basename(run['run_dir']), meta.get('started_utc') or '?',
        coll.get('name') or 'kbypass.testbed', coll.get('version') or '?', coll.get('git_sha') or 'n/a',
        meta.get('ansible_version') or '?'))


def _tables(df):
    return {'summary': summary_rows(df), 'cross': cross_checks(df), 'study': study_comparison(df),
            'bypass': kernel_vs_bypass(df)}


def render_summary_md(run, df, tables=None):
    """summary.md text: the same tables as the HTML report, without plots."""
    tables = tables or _tables(df)
    total, failed = _counts(run)
    out = ['# kbypass.testbed report: %s' % (run['run'].get('run_id') or os.path.basename(run['run_dir'])), '',
           _run_line(run) + '.', '',
           'Hosts: %s. Cases: %d, failed: %d. Throughput in Mpps (frames of the whole Ethernet frame, 10^6/s), '
           'round trip in us.' % (', '.join(sorted(run['hosts'])) or 'none', total, failed), '',
           '## Summary', '', 'Throughput at the highest offered rate (max = unpaced); every latency case.', '',
           render_markdown(*tables['summary'])]
    flagged = any(FLAG_MARK in c for name in ('summary', 'cross', 'study', 'bypass') for r in tables[name][1] for c in r)
    if flagged:
        out += [FLAG_NOTE, '']
    out += ['## Kernel sockets vs kernel bypass at %d B' % BYPASS_SIZE, '',
            'Best received rate of icperf over any kernel path against each bypass path; %s.' % BYPASS_STUDY, '',
            render_markdown(*tables['bypass']),
            '## Cross-checks: icperf vs reference tool', '',
            'Ratio = icperf figure / reference figure; sockperf\'s rx is its server\'s count over the client\'s '
            'run time, its tx what its client reports having sent. Mode tx (DPDK switch in a loop): each '
            'generator sends alone (icperf send, testpmd txonly), tx is what the switch took from it; mode tput '
            'in a loop is the round trip (icperf client, which checks every frame, against testpmd flowgen).',
            '', render_markdown(*tables['cross']),
            '## Study comparison', '', 'Our figures beside the published ones where a path matches a study row '
            '(see report.html for the study\'s tables and sources).', '', render_markdown(*tables['study']),
            '## Failed cases', '']
    failed_rows = [[h, c, e] for h, c, e in _failed_cases(run)]
    out.append(render_markdown(('host', 'case', 'error'), failed_rows))
    out += ['## Warnings', '']
    out += ['- %s' % _md_cell(w) for w in run['warnings']] if run['warnings'] else ['(none)']
    return '\n'.join(out).rstrip('\n') + '\n'


_CSS = """
body { font-family: sans-serif; margin: 1.5em; color: #222; max-width: 1400px; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; border-bottom: 1px solid #ccc; margin-top: 1.6em; }
h3 { font-size: 1.0em; }
table { border-collapse: collapse; margin: 0.5em 0 1em 0; font-size: 0.85em; }
th, td { border: 1px solid #ccc; padding: 2px 6px; text-align: left; vertical-align: top; }
th { background: #f0f0f0; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.flag { background: #fff3cd; text-align: right; }
pre { background: #f7f7f7; padding: 0.5em; overflow-x: auto; white-space: pre-wrap; font-size: 0.85em; }
img { max-width: 100%; border: 1px solid #ddd; margin: 0.5em 0; }
.note { font-size: 0.85em; color: #555; } .none { color: #777; }
"""


def _kv_table(pairs):
    return render_html_table(('name', 'value'), [[k, v] for k, v in pairs])


def _json_text(value):
    return json.dumps(value, indent=1, sort_keys=True, default=str)


def render_html(run, df, plots, tables=None):
    """The self-contained report: CSS inline, images as data URIs, no script."""
    tables = tables or _tables(df)
    meta = run['run']
    total, failed = _counts(run)
    esc = html.escape
    title = 'kbypass.testbed report: %s' % (meta.get('run_id') or os.path.basename(run['run_dir']))
    out = ['<!DOCTYPE html>', '<html lang="en">', '<head>', '<meta charset="utf-8">',
           '<title>%s</title>' % esc(title), '<style>%s</style>' % _CSS, '</head>', '<body>',
           '<h1>%s</h1>' % esc(title),
           '<p>Cases: %d, failed: %d, warnings: %d. Throughput counts whole Ethernet frames (Mpps = 10^6 frames/s), '
           'latency is the round trip in microseconds.</p>' % (total, failed, len(run['warnings']))]
    coll = meta.get('collection') if isinstance(meta.get('collection'), dict) else {}
    controller = meta.get('controller') if isinstance(meta.get('controller'), dict) else {}
    out += ['<h2 id="run">Run metadata</h2>', _kv_table([
        ('run id', meta.get('run_id') or ''), ('started (UTC)', meta.get('started_utc') or ''),
        ('collection', '%s %s' % (coll.get('name') or 'kbypass.testbed', coll.get('version') or '?')),
        ('git sha', coll.get('git_sha') or 'n/a'), ('ansible-core', meta.get('ansible_version') or '?'),
        ('controller', ', '.join('%s: %s' % (k, controller[k]) for k in sorted(controller))),
        ('hosts', ', '.join(str(h) for h in meta.get('hosts') or []))]),
        '<h3>Parameters</h3>', '<pre>%s</pre>' % esc(_json_text(meta.get('parameters') or {}))]
    out.append('<h2 id="hosts">Hosts</h2>')
    if not run['hosts']:
        out.append('<p class="none">(no host)</p>')
    for host in sorted(run['hosts']):
        entry = run['hosts'][host]
        facts = entry['facts']
        out.append('<h3>%s</h3>' % esc(host))
        out.append(_kv_table([(k, _json_text(facts[k]) if isinstance(facts[k], (dict, list)) else facts[k])
                              for k in sorted(facts) if k not in ('versions', 'schema')]))
        versions = facts.get('versions') if isinstance(facts.get('versions'), dict) else {}
        out.append('<p>Component versions</p>')
        out.append(render_html_table(('component', 'version'), [[k, versions[k]] for k in sorted(versions)]))
        plan = entry['plan']
        if isinstance(plan, dict):
            cpu = plan.get('cpu_plan') if isinstance(plan.get('cpu_plan'), dict) else {}
            out.append('<p>Plan: %d cases; CPU plan:</p>' % len(plan.get('cases') or []))
            out.append('<pre>%s</pre>' % esc(_json_text(cpu)))
    flagged = any(FLAG_MARK in c for name in ('summary', 'cross', 'study', 'bypass') for r in tables[name][1] for c in r)
    flag_note = '<p class="note">%s</p>' % esc(FLAG_NOTE) if flagged else ''
    out += ['<h2 id="summary">Summary</h2>',
            '<p>Throughput at the highest offered rate (max = unpaced); every latency case.</p>',
            render_html_table(*tables['summary']), flag_note,
            '<h2 id="bypass">Kernel sockets vs kernel bypass at %d B</h2>' % BYPASS_SIZE,
            '<p>Best received rate of icperf over any kernel path against each bypass path; %s. In a loop '
            'topology the rate is what came back to the sender through the switch.</p>' % esc(BYPASS_STUDY),
            render_html_table(*tables['bypass']),
            '<h2 id="cross-checks">Cross-checks: icperf vs reference tool</h2>',
            '<p>Ratio = icperf figure / reference figure at the same host, path, mode, size and offered rate. '
            'sockperf\'s rx is its server\'s count over the client\'s run time, its tx what its client reports '
            'having sent. Mode tx (DPDK switch in a loop): each generator sends alone (icperf send, testpmd '
            'txonly), tx is what the switch took from it; mode tput in a loop is the round trip (icperf client, '
            'which checks every frame, against testpmd flowgen).</p>',
            render_html_table(*tables['cross']),
            '<h2 id="study">Study comparison</h2>',
            '<p>Our figures beside the published ones where our path matches a study row '
            '(testpmd, OVS-DPDK, VPP, SR-IOV, VALE; Linux-bridge socket backends udp, udp-mmsg, raw, raw-mmsg).</p>',
            render_html_table(*tables['study'])]
    out.append('<h3>%s</h3>' % esc("The study's tables"))
    for caption, source, headers, rows in study_tables():
        out += ['<p><b>%s</b><br><span class="note">Source: %s</span></p>' % (esc(caption), esc(source)),
                render_html_table(headers, rows)]
    out.append('<h2 id="plots">Plots</h2>')
    if not plots:
        out.append('<p class="none">(no plot: no data%s)</p>' % ('' if HAS_MATPLOTLIB else ', matplotlib is missing'))
    captions = {'throughput_vs_rate': 'Received rate against offered rate',
                'rx_vs_size': 'Received rate by frame size at the highest offered rate, with the study (dashed)',
                'latency_percentiles': 'Round-trip percentiles',
                'kernel_sockets': 'Kernel socket techniques at 64 B, with the study'}
    for name in PLOT_FILES:
        if name in plots:
            out += ['<h3>%s</h3>' % esc(captions[name]),
                    '<img alt="%s" src="data:image/png;base64,%s">' % (esc(name), base64.b64encode(plots[name]).decode('ascii'))]
    out.append('<h2 id="failed">Failed cases</h2>')
    failed_cases = _failed_cases(run)
    if not failed_cases:
        out.append('<p class="none">(none)</p>')
    for host, cid, error in failed_cases:
        out += ['<h3>%s: %s</h3>' % (esc(host), esc(cid)), '<pre>%s</pre>' % esc(error)]
    out.append('<h2 id="warnings">Warnings</h2>')
    if run['warnings']:
        out.append('<ul>%s</ul>' % ''.join('<li>%s</li>' % esc(w) for w in run['warnings']))
    else:
        out.append('<p class="none">(none)</p>')
    out += ['<h2 id="table">All rows</h2>', '<details><summary>results.csv (%d rows)</summary>' % len(df),
            render_html_table(CSV_COLUMNS, [['' if _py(v) is None else str(_py(v)) for v in r]
                                            for r in df.itertuples(index=False, name=None)]),
            '</details>', '</body>', '</html>']
    return '\n'.join(out) + '\n'


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------
def render_report(run_dir):
    """Everything write_report() would write, in memory: {'files': {relative path: bytes}, ...}."""
    _require_pandas()
    run = load_run(run_dir)
    df = tidy(run)
    tables = _tables(df)
    plots = make_plots(df)
    if not HAS_MATPLOTLIB:
        run['warnings'].append('matplotlib is missing: no plot drawn')
    files = {CSV_FILE: to_csv(df).encode('utf-8'),
             SUMMARY_FILE: render_summary_md(run, df, tables).encode('utf-8')}
    for name in PLOT_FILES:
        if name in plots:
            files[PLOT_FILES[name]] = plots[name]
    files[HTML_FILE] = render_html(run, df, plots, tables).encode('utf-8')
    total, failed = _counts(run)
    return {'run': run, 'df': df, 'files': files, 'cases': total, 'failed': failed,
            'warnings': list(run['warnings']), 'table': summary_table(df)}


def _read_bytes(path):
    try:
        with open(path, 'rb') as handle:
            return handle.read()
    except OSError:
        return None


def write_report(run_dir, check_mode=False):
    """Write results.csv, summary.md, plots/*.png and report.html into run_dir.

    Files whose content is already right are left alone; plots of an earlier report that have no
    data now are removed. With check_mode nothing is written. Returns {'csv', 'html', 'summary_md',
    'plots', 'cases', 'failed', 'warnings', 'table', 'changed': [relative paths written or removed]}.
    """
    run_dir = os.path.abspath(run_dir)
    report = render_report(run_dir)
    changed = []
    for rel, content in report['files'].items():
        path = os.path.join(run_dir, rel)
        if _read_bytes(path) == content:
            continue
        changed.append(rel)
        if check_mode:
            continue
        write_atomic(path, content)
    for rel in PLOT_FILES.values():
        path = os.path.join(run_dir, rel)
        if rel not in report['files'] and os.path.exists(path):
            changed.append(rel)
            if not check_mode:
                os.remove(path)
    plots = [os.path.join(run_dir, PLOT_FILES[n]) for n in PLOT_FILES if PLOT_FILES[n] in report['files']]
    return {'csv': os.path.join(run_dir, CSV_FILE), 'html': os.path.join(run_dir, HTML_FILE),
            'summary_md': os.path.join(run_dir, SUMMARY_FILE), 'plots': plots, 'cases': report['cases'],
            'failed': report['failed'], 'warnings': report['warnings'], 'table': report['table'],
            'changed': changed}


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog='python -m ansible_collections.kbypass.testbed.plugins.module_utils.report',
        description='Build results.csv, summary.md, plots and report.html of one kbypass.testbed run '
                    'from its raw/ files and run.json.')
    parser.add_argument('run_dir', help='results/<run-id> folder (with run.json and raw/)')
    args = parser.parse_args(argv)
    problem = check_run_dir(args.run_dir)
    if problem:
        sys.stderr.write('error: %s\n' % problem)
        return 2
    if not HAS_PANDAS:
        sys.stderr.write('error: the report needs pandas (pip install pandas)\n')
        return 2
    result = write_report(args.run_dir)
    lines = [result['table'], '', '%d cases, %d failed, %d warnings' % (
        result['cases'], result['failed'], len(result['warnings']))]
    lines += ['warning: %s' % warning for warning in result['warnings']]
    lines.append('Report: %s' % result['html'])
    sys.stdout.write('\n'.join(lines) + '\n')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
