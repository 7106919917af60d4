# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One run's report, end to end: load -> table -> views and plots -> render, written into the run
folder (results.csv, summary.md, plots/*.png, report.html); and the command line."""

from __future__ import annotations

import argparse
import os
import sys

from ansible_collections.kbypass.testbed.plugins.module_utils.ledger import write_atomic
from ansible_collections.kbypass.testbed.plugins.module_utils.report.load import all_cases, check_run_dir, counts, load_run
from ansible_collections.kbypass.testbed.plugins.module_utils.report.plots import HAS_MATPLOTLIB, PLOT_FILES, make_plots
from ansible_collections.kbypass.testbed.plugins.module_utils.report.render import (
    render_html, render_summary_md, summary_table,
)
from ansible_collections.kbypass.testbed.plugins.module_utils.report.table import (
    HAS_PANDAS, cases_of, require_pandas, tidy, to_csv,
)
from ansible_collections.kbypass.testbed.plugins.module_utils.report.views import report_tables

CSV_FILE = 'results.csv'
SUMMARY_FILE = 'summary.md'
HTML_FILE = 'report.html'


def render_report(run_dir):
    """Everything write_report() would write, in memory: {'files': {relative path: bytes}, ...}."""
    require_pandas()
    run = load_run(run_dir)
    df = tidy(run)
    cases = cases_of(df)
    tables = report_tables(cases)
    plots = make_plots(cases, all_cases(run))
    if not HAS_MATPLOTLIB:
        run['warnings'].append('matplotlib is missing: no plot drawn')
    files = {CSV_FILE: to_csv(df).encode('utf-8'),
             SUMMARY_FILE: render_summary_md(run, tables).encode('utf-8')}
    for name in PLOT_FILES:
        if name in plots:
            files[PLOT_FILES[name]] = plots[name]
    files[HTML_FILE] = render_html(run, df, tables, plots).encode('utf-8')
    total, failed = counts(run)
    return {'run': run, 'df': df, 'files': files, 'cases': total, 'failed': failed,
            'warnings': list(run['warnings']), 'table': summary_table(cases)}


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
