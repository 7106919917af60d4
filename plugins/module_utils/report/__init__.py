# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Report stage: raw files of one run -> tidy table -> results.csv, summary.md, plots, report.html.

Runs on the controller only and needs no Ansible: standard library, pandas and matplotlib.
Re-runnable from results/<run-id>/raw and run.json alone; the same raw files give the same
results.csv and summary.md byte for byte (no time of 'now' is written anywhere).

    python -m ansible_collections.kbypass.testbed.plugins.module_utils.report RESULTS_RUN_DIR

The package, in the order the data flows:
- load: the raw files of a run -> records (load_run), never failing on a damaged file;
- table: records -> the tidy table of results.csv (tidy), and back to case records (cases_of);
- views: case records -> the report's tables (summary, kernel vs bypass, cross-checks, study);
- plots: case records -> PNG plots;
- render: tables and the words of text.py -> text, summary.md, report.html;
- write: all of it into the run folder (write_report), and the command line (main);
- study: the reference study's figures; text: the report's words. Both are data only.

Here are the names the module kbypass.testbed.report and the tests use.
"""

from __future__ import annotations

from ansible_collections.kbypass.testbed.plugins.module_utils.report.load import (
    ReportError, check_run_dir, load_run, parse_case_id,
)
from ansible_collections.kbypass.testbed.plugins.module_utils.report.plots import (
    HAS_MATPLOTLIB, MATPLOTLIB_IMPORT_ERROR, PLOT_FILES, make_plots,
)
from ansible_collections.kbypass.testbed.plugins.module_utils.report.render import (
    render_html, render_summary_md, summary_table,
)
from ansible_collections.kbypass.testbed.plugins.module_utils.report.study import STUDY
from ansible_collections.kbypass.testbed.plugins.module_utils.report.table import (
    HAS_PANDAS, PANDAS_IMPORT_ERROR, cases_of, merge_repeats, tidy, to_csv,
)
from ansible_collections.kbypass.testbed.plugins.module_utils.report.text import FLAG_NOTE
from ansible_collections.kbypass.testbed.plugins.module_utils.report.views import (
    cross_checks, flags, kernel_vs_bypass, report_tables, study_comparison, summary_rows,
)
from ansible_collections.kbypass.testbed.plugins.module_utils.report.write import (
    main, render_report, write_report,
)

__all__ = [
    'FLAG_NOTE', 'HAS_MATPLOTLIB', 'HAS_PANDAS', 'MATPLOTLIB_IMPORT_ERROR', 'PANDAS_IMPORT_ERROR', 'PLOT_FILES',
    'ReportError', 'STUDY', 'cases_of', 'check_run_dir', 'cross_checks', 'flags', 'kernel_vs_bypass', 'load_run',
    'main', 'make_plots', 'merge_repeats', 'parse_case_id', 'render_html', 'render_report', 'render_summary_md',
    'report_tables', 'study_comparison', 'summary_rows', 'summary_table', 'tidy', 'to_csv', 'write_report',
]
