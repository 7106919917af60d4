# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Records -> the tidy table (one row per case and metric, results_schema.CSV_COLUMNS, the rows of
results.csv), and the table folded back into case records (cases_of) for the views and plots."""

from __future__ import annotations

import math
import re
import traceback

from ansible_collections.kbypass.testbed.plugins.module_utils.results_schema import CSV_COLUMNS, METRICS
from ansible_collections.kbypass.testbed.plugins.module_utils.report.load import (
    BOOL_COLUMNS, INT_COLUMNS, ReportError, all_cases,
)

try:
    import pandas as pd
    HAS_PANDAS = True
    PANDAS_IMPORT_ERROR = None
except ImportError:
    pd = None
    HAS_PANDAS = False
    PANDAS_IMPORT_ERROR = traceback.format_exc()

_METRIC_ORDER = dict((name, index) for index, name in enumerate(METRICS))


def none_last(value):
    """Sort key of a cell: None after every value."""
    return (value is None, value if value is not None else 0)


def _row_key(row):
    rate = row['rate_pps']
    rate_key = (rate is None, math.inf if rate == 0 else (rate or 0))     # unpaced after every paced rate
    return (row['host'], none_last(row['path']), none_last(row['tool']), none_last(row['backend']),
            none_last(row['mode']), none_last(row['size']), rate_key, none_last(row['burst']),
            none_last(row['touch']), row['case_id'], _METRIC_ORDER.get(row['metric'], -1), row['metric'])


def require_pandas():
    if not HAS_PANDAS:
        raise ReportError('the report needs pandas: %s' % PANDAS_IMPORT_ERROR)


def tidy(run):
    """One row per case and metric, columns results_schema.CSV_COLUMNS, in a fixed order."""
    require_pandas()
    rows = []
    for case in all_cases(run):
        base = {'run_id': case['run_id'], 'host': case['host'], 'case_id': case['case_id'], 'status': case['status']}
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


def cell(value):
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
            case = dict((column, cell(record[column])) for column in CSV_COLUMNS
                        if column not in ('metric', 'value', 'unit'))
            case['metrics'] = {}
            case['flagged'] = bool(case.get('cores_shared')) or bool(case.get('oversubscribed'))
            if case.get('peer_host'):
                # a two-host case: its own row in every table, never merged with one host's
                case['host'] = '%s -> %s' % (case['host'], case['peer_host'])
            cases[key] = case
            order.append(key)
        value = cell(record['value'])
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
