#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
---
module: report
short_description: Build the report of one benchmark run from its raw files
version_added: 0.1.0
description:
  - Reads C(run.json) and C(raw/<host>/...) of one run folder (the results schema, see
    C(docs/results-schema.md)) and writes the tidy table C(results.csv), C(summary.md),
    C(plots/*.png) and a self-contained C(report.html) into the same folder.
  - Runs on the controller (delegate the task to C(localhost)); O(run_dir) is a controller path.
    The same report can be built without Ansible with
    C(python -m ansible_collections.kbypass.testbed.plugins.module_utils.report RUN_DIR).
  - Files under C(raw/) are only read. Re-running on the same raw files writes the same
    C(results.csv) and C(summary.md), byte for byte, and reports no change.
  - A missing or corrupt raw file does not fail the module; it is returned in RV(report_warnings)
    and shown as a warning, and a C(case.json) that cannot be read becomes a failed case.
author: kbypass.testbed maintainers (@kbypass)
extends_documentation_fragment:
  - kbypass.testbed.attributes
  - kbypass.testbed.attributes.no_diff
requirements:
  - pandas >= 2.2
  - matplotlib >= 3.8 (the module fails without it; the command-line report then has no plots)
options:
  run_dir:
    description: The run folder, C(results/<run-id>), holding C(run.json) and C(raw/).
    type: path
    required: true
attributes:
  check_mode:
    support: full
    details: The report is built and RV(changed_files) lists the files that would be written or removed; nothing
      is written.
  platform:
    details: Any POSIX controller (the task is delegated to C(localhost)).
'''

EXAMPLES = r'''
- name: Build the report of a run
  kbypass.testbed.report:
    run_dir: "{{ playbook_dir }}/../results/20261127T010203Z-a1b2c3"
  delegate_to: localhost
  run_once: true
  register: benchmark_report

- name: Show the summary table
  ansible.builtin.debug:
    msg: "{{ benchmark_report.table.splitlines() }}"
'''

RETURN = r'''
csv:
  description: Path of results.csv, the tidy table (one row per case and metric).
  returned: success
  type: str
  sample: /srv/results/20261127T010203Z-a1b2c3/results.csv
html:
  description: Path of report.html, the self-contained report (images inlined).
  returned: success
  type: str
  sample: /srv/results/20261127T010203Z-a1b2c3/report.html
summary_md:
  description: Path of summary.md, the summary tables in markdown.
  returned: success
  type: str
  sample: /srv/results/20261127T010203Z-a1b2c3/summary.md
plots:
  description: Paths of the plots drawn (only plots that have data).
  returned: success
  type: list
  elements: str
  sample: [/srv/results/20261127T010203Z-a1b2c3/plots/throughput_vs_rate.png]
cases:
  description: Number of cases found (including failed ones).
  returned: success
  type: int
  sample: 12
failed_cases:
  description:
    - Number of failed cases (including unreadable case.json and planned cases without a result).
    - Not named C(failed), which Ansible reads as the task's own failure; a failed case does not fail the task.
  returned: success
  type: int
  sample: 1
report_warnings:
  description:
    - Problems found in the raw files (missing or corrupt files, unknown metrics), also emitted as
      Ansible warnings (the C(warnings) key of the result).
  returned: success
  type: list
  elements: str
  sample: ["raw/lab2/macvlan.icperf.udp.tput.s64.rmax.b32/case.json cannot be parsed: Expecting ',' delimiter"]
table:
  description: The summary table as plain text, as printed by the command-line report.
  returned: success
  type: str
changed_files:
  description: Files (relative to O(run_dir)) written or removed, or that would be in check mode.
  returned: success
  type: list
  elements: str
  sample: [results.csv, summary.md, report.html]
'''

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.kbypass.testbed.plugins.module_utils import report as lib


def main():
    module = AnsibleModule(
        argument_spec=dict(
            run_dir=dict(type='path', required=True),
        ),
        supports_check_mode=True,
    )
    if not lib.HAS_PANDAS:
        module.fail_json(msg=missing_required_lib('pandas'), exception=lib.PANDAS_IMPORT_ERROR)
    if not lib.HAS_MATPLOTLIB:
        module.fail_json(msg=missing_required_lib('matplotlib'), exception=lib.MATPLOTLIB_IMPORT_ERROR)
    run_dir = module.params['run_dir']
    problem = lib.check_run_dir(run_dir)
    if problem:
        module.fail_json(msg=problem)
    try:
        result = lib.write_report(run_dir, check_mode=module.check_mode)
    except (OSError, lib.ReportError) as exc:
        module.fail_json(msg='cannot write the report of %s: %s' % (run_dir, exc))
    for warning in result['warnings']:
        module.warn(warning)
    module.exit_json(changed=bool(result['changed']), csv=result['csv'], html=result['html'],
                     summary_md=result['summary_md'], plots=result['plots'], cases=result['cases'],
                     failed_cases=result['failed'], report_warnings=result['warnings'], table=result['table'],
                     changed_files=result['changed'])


if __name__ == '__main__':
    main()
