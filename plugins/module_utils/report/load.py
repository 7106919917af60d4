# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The raw files of one run -> records: run.json, raw/<host>/{host.json,plan.json,<case-id>/case.json}.

Standard library only; nothing here raises on a missing or corrupt file (it becomes a warning).
"""

from __future__ import annotations

import json
import math
import os
import re

from ansible_collections.kbypass.testbed.plugins.module_utils.results_schema import (
    CASE_FILE, CONDITION_COLUMNS, HOST_FILE, METRICS, PLAN_FILE, RUN_FILE, SCHEMA_VERSION, SEARCH_FILE,
)

RAW_DIR = 'raw'
INT_COLUMNS = ('size', 'rate_pps', 'burst', 'duration_s', 'warmup_s', 'repeat')
BOOL_COLUMNS = ('touch', 'cores_shared', 'oversubscribed')

_CASE_ID = re.compile(r'^(?P<path>[^.]+)\.(?P<tool>[^.]+)\.(?P<backend>[^.]+)\.(?P<mode>[^.]+)'
                      r'\.s(?P<size>\d+)\.r(?P<rate>max|\d+)\.b(?P<burst>\d+)(?P<touch>\.touch)?'
                      r'(?:\.to-(?P<peer>[A-Za-z0-9_.-]+?))?(?:\.rep(?P<repeat>\d+))?$')


class ReportError(Exception):
    """The run folder cannot be reported on (no raw/, no run.json)."""


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
            'metrics': {}, 'started_utc': None, 'elapsed_s': None, 'dir': rel, 'soak': None}
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
    case['status'] = data.get('status') if data.get('status') in ('ok', 'invalid') else 'failed'
    error = data.get('error')
    case['error'] = None if error is None else str(error)
    if case['status'] != 'ok' and not case['error']:
        case['error'] = 'status %r without an error text' % (data.get('status'),)
    case['metrics'] = _metrics(data.get('metrics'), rel_file, warnings)
    case['started_utc'] = data.get('started_utc')
    case['elapsed_s'] = data.get('elapsed_s')
    if case['status'] == 'ok' and not case['metrics']:
        warnings.append('%s: status ok but no metric' % rel_file)
    case['soak'] = _soak_trial(os.path.join(case_dir, SEARCH_FILE), '%s/%s' % (rel, SEARCH_FILE), warnings)
    return case


def _soak_trial(path, rel, warnings):
    """The soak trial of a search case's search.json ({'rate_pps', 'duration_s', 'invalid', 'seconds'}),
    or None (no search.json, no soak)."""
    found = _read_json(path, rel, warnings)
    trials = found.get('trials') if found else None
    for trial in trials if isinstance(trials, list) else ():
        if isinstance(trial, dict) and trial.get('phase') == 'soak':
            return dict((key, trial.get(key)) for key in ('rate_pps', 'duration_s', 'invalid', 'seconds'))
    return None


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


def all_cases(run):
    """The case records of a loaded run, host by host (hosts sorted, cases in load_run's order)."""
    return [case for host in sorted(run['hosts']) for case in run['hosts'][host]['cases']]


def failed_cases(run):
    """[(host, case id, status, error)] of the cases that are not ok (failed or invalid)."""
    return [(case['host'], case['case_id'], case['status'], case['error'] or '') for case in all_cases(run)
            if case['status'] != 'ok']


def counts(run):
    """(cases, failed cases) of a loaded run."""
    cases = all_cases(run)
    return len(cases), sum(1 for c in cases if c['status'] != 'ok')
