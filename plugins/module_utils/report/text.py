# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report's words, once, as data: the outline of summary.md and report.html (SECTIONS) and
what each part says. render.py turns them into Markdown and HTML.

Markup, the least there is:
- a paragraph is a tuple of pieces, joined; a piece is a string (in both documents) or
  {'md': ...} / {'html': ...} (only in summary.md / only in report.html);
- {name} is a figure of the run filled in by the renderer (run_id, hosts, cases, failed,
  warnings, bypass_size, bypass_study); it is escaped for HTML, the text around it is written as is
  apart from &, < and > (so no HTML in here).
"""

from __future__ import annotations

FLAG_MARK = '*'
FLAG_NOTE = ('* measured with cores shared between busy threads or with more CPUs planned than the host has: '
             'not comparable with unmarked figures')

TITLE = 'kbypass.testbed report: {run_id}'
INTRO = ({'md': 'Hosts: {hosts}. '}, 'Cases: {cases}, failed: {failed}', {'html': ', warnings: {warnings}'},
         '. Throughput in Mpps (frames of the whole Ethernet frame, 10^6/s), round trip in us.')

# Every section of either document, in order. 'in': the documents it is part of (default both);
# 'table': the view (views.report_tables) it shows; 'if_rows': the section is left out when that
# table has no row; 'flag_note': FLAG_NOTE follows its table when a figure of any table is marked.
SECTIONS = (
    {'id': 'run', 'title': 'Run metadata', 'in': ('html',)},
    {'id': 'hosts', 'title': 'Hosts', 'in': ('html',)},
    {'id': 'summary', 'title': 'Summary', 'table': 'summary', 'flag_note': True, 'text': (
        ('Throughput at the highest offered rate (max = unpaced); every latency case.',),
    )},
    {'id': 'search', 'title': 'Throughput by search: NDR and PDR (RFC 2544)', 'table': 'search', 'if_rows': True, 'text': (
        ('The highest offered rate without loss (NDR) and with at most the PDR loss ratio (PDR), each confirmed by a '
         'full-length trial and within the search precision of a rate that failed; MRR is the received rate of the '
         "unpaced trial (the study's maximum), sent what the sender achieved in the confirming trials. "
         'Method and parameters: docs/method.md; every trial: search.json of the case.',),
    )},
    {'id': 'latency-load', 'title': 'Latency under load', 'table': 'latency_load', 'if_rows': True, 'text': (
        ('Round trip at 10, 50 and 90 % of the PDR found: one client sends the load and times every reply, so the '
         'path carries the load in both directions (the PDR is one-way); loss is that of the round trip.',),
    )},
    {'id': 'soak', 'title': 'Soak', 'table': 'soak', 'if_rows': True, 'text': (
        ('One long trial at 90 % of the PDR found (benchmark_search_soak_s), as CSIT soaks: its loss over the '
         'window (refused frames count as lost) and the seconds in which it lost a frame',
         {'md': ' (the loss per second: plots/soak_loss.png and report.html).'},
         {'html': '; its loss second by second: the plot below.'}),
    )},
    {'id': 'cpu', 'title': 'CPU cost per packet', 'table': 'cpu', 'if_rows': True, 'flag_note': True, 'text': (
        ("Share of a core used by each peer inside its measurement window (icperf's own CPU time) and by the "
         "switch process over its trial, and cycles per packet = share x the CPU clock (/proc/cpuinfo) / the "
         'packet rate it handled (a: sent; b and the switch: received). A busy poller shows about 100 % whatever '
         'its rate: its cycles per packet say what a packet costs at that rate.',),
    )},
    {'id': 'bypass', 'title': 'Kernel sockets vs kernel bypass at {bypass_size} B', 'table': 'bypass', 'text': (
        ('Best received rate of icperf over any kernel path against each bypass path; {bypass_study}.',
         {'html': ' In a loop topology the rate is what came back to the sender through the switch.'}),
    )},
    {'id': 'cross-checks', 'title': 'Cross-checks: icperf vs reference tool', 'table': 'cross', 'text': (
        ('Ratio = icperf figure / reference figure',
         {'md': ';'}, {'html': ' at the same host, path, mode, size and offered rate.'},
         " sockperf's rx is its server's count over the client's run time, its tx what its client reports having "
         'sent. Mode tx (DPDK switch in a loop): each generator sends alone (icperf send, testpmd txonly), tx is '
         'what the switch took from it; mode tput in a loop is the round trip (icperf client, which checks every '
         'frame, against testpmd flowgen).'),
    )},
    {'id': 'study', 'title': 'Study comparison', 'table': 'study', 'text': (
        ('Our figures beside the published ones where a path matches a study row ',
         {'md': "(see report.html for the study's tables and sources)."},
         {'html': '(testpmd, OVS-DPDK, VPP, SR-IOV, VALE; Linux-bridge socket backends udp, udp-mmsg, raw, '
                  'raw-mmsg).'}),
    )},
    {'id': 'plots', 'title': 'Plots', 'in': ('html',)},
    {'id': 'failed', 'title': 'Failed and invalid cases'},
    {'id': 'warnings', 'title': 'Warnings'},
    {'id': 'table', 'title': 'All rows', 'in': ('html',)},
)

STUDY_TABLES_TITLE = "The study's tables"
PLOT_CAPTIONS = {
    'throughput_vs_rate': 'Received rate against offered rate',
    'rx_vs_size': 'Received rate by frame size at the highest offered rate, with the study (dashed)',
    'latency_percentiles': 'Round-trip percentiles',
    'kernel_sockets': 'Kernel socket techniques at 64 B, with the study',
    'soak_loss': 'Soak: loss second by second at 90 % of the PDR',
}
