# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tables (headers, rows) and the words of text.py -> plain text, Markdown (summary.md) and the
self-contained HTML report (report.html). Both documents follow text.SECTIONS."""

from __future__ import annotations

import base64
import html
import json
import os
import re

from ansible_collections.kbypass.testbed.plugins.module_utils.results_schema import CSV_COLUMNS
from ansible_collections.kbypass.testbed.plugins.module_utils.report.load import counts, failed_cases
from ansible_collections.kbypass.testbed.plugins.module_utils.report.plots import HAS_MATPLOTLIB, PLOT_FILES
from ansible_collections.kbypass.testbed.plugins.module_utils.report.study import BYPASS_SIZE, BYPASS_STUDY
from ansible_collections.kbypass.testbed.plugins.module_utils.report.table import cell
from ansible_collections.kbypass.testbed.plugins.module_utils.report.text import (
    FLAG_MARK, FLAG_NOTE, INTRO, PLOT_CAPTIONS, SECTIONS, STUDY_TABLES_TITLE, TITLE,
)
from ansible_collections.kbypass.testbed.plugins.module_utils.report.views import study_tables, summary_rows

FORMATS = ('md', 'html')


# ---------------------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------------------
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


def summary_table(cases):
    """Short text table for the terminal: throughput (rx Mpps at the highest offered rate) or
    round trip p50/p99 (us) per host, path, tool, backend, mode, size, with flags."""
    headers, rows = summary_rows(cases)
    text = render_text(headers, rows)
    if any(FLAG_MARK in c for r in rows for c in r):
        text += '\n' + FLAG_NOTE
    return text


# ---------------------------------------------------------------------------------------------
# The words of text.py
# ---------------------------------------------------------------------------------------------
def words(text, fmt, values):
    """A title or paragraph of text.py (a string or a tuple of pieces) in one document ('md' or
    'html'), its {names} filled in from values; for HTML escaped, the values with their quotes."""
    pieces = (text,) if isinstance(text, str) else text
    joined = ''.join(piece.get(fmt, '') if isinstance(piece, dict) else piece for piece in pieces)
    if fmt == 'html':
        return html.escape(joined, quote=False).format(**dict((k, html.escape(str(v))) for k, v in values.items()))
    return joined.format(**values)


def sections(fmt, tables):
    """The sections of text.SECTIONS in one document, in order, without those whose table must
    have rows (if_rows) and has none."""
    return [section for section in SECTIONS if fmt in section.get('in', FORMATS)
            and not (section.get('if_rows') and not tables[section['table']][1])]


def _values(run):
    """The figures of a run the words name."""
    total, failed = counts(run)
    return {'run_id': run['run'].get('run_id') or os.path.basename(run['run_dir']),
            'hosts': ', '.join(sorted(run['hosts'])) or 'none', 'cases': total, 'failed': failed,
            'warnings': len(run['warnings']), 'bypass_size': BYPASS_SIZE, 'bypass_study': BYPASS_STUDY}


def _flagged(tables):
    """Whether a figure of any table is marked (then FLAG_NOTE is shown)."""
    return any(FLAG_MARK in c for _headers, rows in tables.values() for r in rows for c in r)


def _run_line(run):
    meta = run['run']
    coll = meta.get('collection') if isinstance(meta.get('collection'), dict) else {}
    return ('run %s, started %s; %s %s (git %s); ansible-core %s' % (
        meta.get('run_id') or os.path.basename(run['run_dir']), meta.get('started_utc') or '?',
        coll.get('name') or 'kbypass.testbed', coll.get('version') or '?', coll.get('git_sha') or 'n/a',
        meta.get('ansible_version') or '?'))


def render_summary_md(run, tables):
    """summary.md text: the same tables as the HTML report (views.report_tables), without plots."""
    values = _values(run)
    bodies = {
        'failed': lambda: [render_markdown(('host', 'case', 'status', 'error'), [list(f) for f in failed_cases(run)])],
        'warnings': lambda: ['- %s' % _md_cell(w) for w in run['warnings']] if run['warnings'] else ['(none)'],
    }
    out = ['# ' + words(TITLE, 'md', values), '', _run_line(run) + '.', '', words(INTRO, 'md', values), '']
    for section in sections('md', tables):
        out += ['## ' + words(section['title'], 'md', values), '']
        for paragraph in section.get('text', ()):
            out += [words(paragraph, 'md', values), '']
        if 'table' in section:
            out.append(render_markdown(*tables[section['table']]))
        if section.get('flag_note') and _flagged(tables):
            out += [FLAG_NOTE, '']
        out += bodies[section['id']]() if section['id'] in bodies else []
    return '\n'.join(out).rstrip('\n') + '\n'


# ---------------------------------------------------------------------------------------------
# report.html
# ---------------------------------------------------------------------------------------------
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


def _html_run(meta):
    coll = meta.get('collection') if isinstance(meta.get('collection'), dict) else {}
    controller = meta.get('controller') if isinstance(meta.get('controller'), dict) else {}
    return [_kv_table([
        ('run id', meta.get('run_id') or ''), ('started (UTC)', meta.get('started_utc') or ''),
        ('collection', '%s %s' % (coll.get('name') or 'kbypass.testbed', coll.get('version') or '?')),
        ('git sha', coll.get('git_sha') or 'n/a'), ('ansible-core', meta.get('ansible_version') or '?'),
        ('controller', ', '.join('%s: %s' % (k, controller[k]) for k in sorted(controller))),
        ('hosts', ', '.join(str(h) for h in meta.get('hosts') or []))]),
        '<h3>Parameters</h3>', '<pre>%s</pre>' % html.escape(_json_text(meta.get('parameters') or {}))]


def _html_hosts(hosts):
    esc = html.escape
    out = [] if hosts else ['<p class="none">(no host)</p>']
    for host in sorted(hosts):
        entry = hosts[host]
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
    return out


def _html_study_tables():
    esc = html.escape
    out = ['<h3>%s</h3>' % esc(STUDY_TABLES_TITLE)]
    for caption, source, headers, rows in study_tables():
        out += ['<p><b>%s</b><br><span class="note">Source: %s</span></p>' % (esc(caption), esc(source)),
                render_html_table(headers, rows)]
    return out


def _html_plots(plots):
    out = [] if plots else ['<p class="none">(no plot: no data%s)</p>' % (
        '' if HAS_MATPLOTLIB else ', matplotlib is missing')]
    for name in PLOT_FILES:
        if name in plots:
            out += ['<h3>%s</h3>' % html.escape(PLOT_CAPTIONS[name]), '<img alt="%s" src="data:image/png;base64,%s">' % (
                html.escape(name), base64.b64encode(plots[name]).decode('ascii'))]
    return out


def _html_failed(run):
    failed = failed_cases(run)
    out = [] if failed else ['<p class="none">(none)</p>']
    for host, cid, status, error in failed:
        out += ['<h3>%s: %s (%s)</h3>' % (html.escape(host), html.escape(cid), html.escape(status)),
                '<pre>%s</pre>' % html.escape(error)]
    return out


def _html_warnings(warnings):
    if not warnings:
        return ['<p class="none">(none)</p>']
    return ['<ul>%s</ul>' % ''.join('<li>%s</li>' % html.escape(w) for w in warnings)]


def _html_rows(df):
    return ['<details><summary>results.csv (%d rows)</summary>' % len(df),
            render_html_table(CSV_COLUMNS, [['' if cell(v) is None else str(cell(v)) for v in r]
                                            for r in df.itertuples(index=False, name=None)]),
            '</details>']


def render_html(run, df, tables, plots):
    """The self-contained report: CSS inline, images as data URIs, no script. tables: views.report_tables,
    plots: {name: PNG bytes} (plots.make_plots)."""
    values = _values(run)
    bodies = {'run': lambda: _html_run(run['run']), 'hosts': lambda: _html_hosts(run['hosts']),
              'study': _html_study_tables, 'plots': lambda: _html_plots(plots), 'failed': lambda: _html_failed(run),
              'warnings': lambda: _html_warnings(run['warnings']), 'table': lambda: _html_rows(df)}
    title = words(TITLE, 'html', values)
    out = ['<!DOCTYPE html>', '<html lang="en">', '<head>', '<meta charset="utf-8">', '<title>%s</title>' % title,
           '<style>%s</style>' % _CSS, '</head>', '<body>', '<h1>%s</h1>' % title, '<p>%s</p>' % words(INTRO, 'html', values)]
    for section in sections('html', tables):
        out.append('<h2 id="%s">%s</h2>' % (section['id'], words(section['title'], 'html', values)))
        out += ['<p>%s</p>' % words(paragraph, 'html', values) for paragraph in section.get('text', ())]
        if 'table' in section:
            out.append(render_html_table(*tables[section['table']]))
        if section.get('flag_note'):
            out.append('<p class="note">%s</p>' % html.escape(FLAG_NOTE) if _flagged(tables) else '')
        out += bodies[section['id']]() if section['id'] in bodies else []
    out += ['</body>', '</html>']
    return '\n'.join(out) + '\n'
