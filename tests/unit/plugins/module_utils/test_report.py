# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report stage on the example run in tests/unit/fixtures/run_example (2 hosts, linux_bridge and
macvlan, icperf tput and lat, sockperf, a failed case, a corrupt case.json, a planned case that
never came back, cores shared on lab2)."""

from __future__ import annotations

import csv
import html
import io
import json
import os
import shutil

import pandas as pd
import pytest

from ansible_collections.kbypass.testbed.plugins.module_utils import report
from ansible_collections.kbypass.testbed.plugins.module_utils.report.load import all_cases, failed_cases
from ansible_collections.kbypass.testbed.plugins.module_utils.results_schema import CSV_COLUMNS, METRICS

FIXTURE = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures', 'run_example')
RUN_ID = '20261127T010203Z-a1b2c3'
FAILED = {
    ('lab1', 'linux_bridge.icperf.udp-mmsg.tput.s64.rmax.b32'): 'sendmmsg: Operation not permitted',
    ('lab1', 'macvlan.icperf.udp.tput.s128.rmax.b32'): 'planned but no result was collected',
    ('lab2', 'macvlan.icperf.udp.tput.s64.rmax.b32'): 'case.json cannot be parsed',
}
TPUT_METRICS = 10   # tx, rx, rx_std, rx_bps, loss, lost, reordered, duplicated, cpu a, cpu b
LAT_METRICS = 11    # 7 rtt, loss, tx, cpu a, cpu b


@pytest.fixture
def run_dir(tmp_path):
    dest = tmp_path / RUN_ID
    shutil.copytree(FIXTURE, str(dest))
    return str(dest)


@pytest.fixture
def df(run_dir):
    return report.tidy(report.load_run(run_dir))


@pytest.fixture
def cases(df):
    return report.cases_of(df)


def cases_in(run_dir):
    """The case records of a run folder, as the report's tables read them."""
    return report.cases_of(report.tidy(report.load_run(run_dir)))


@pytest.fixture(scope='module')
def written(tmp_path_factory):
    """The example run with its report written once (for the tests that only read it)."""
    dest = str(tmp_path_factory.mktemp('written') / RUN_ID)
    shutil.copytree(FIXTURE, dest)
    result = report.write_report(dest)
    return dest, result


def write_case(run_dir, host, cid, metrics, status='ok', error=None, **conditions):
    cond = report.parse_case_id(cid)
    cond.update({'duration_s': 4, 'warmup_s': 1, 'topology': 'pair', 'cores_shared': False, 'oversubscribed': False})
    cond.update(conditions)
    folder = os.path.join(run_dir, 'raw', host, cid)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, 'case.json'), 'w') as handle:
        json.dump({'schema': 1, 'run_id': RUN_ID, 'host': host, 'case_id': cid, 'conditions': cond,
                   'status': status, 'error': error, 'metrics': metrics}, handle)


# -- loading and the tidy table ------------------------------------------------------------------
def test_tidy_has_the_schema_columns_and_units(df):
    assert tuple(df.columns) == CSV_COLUMNS
    ok = df[df['metric'] != 'status']
    assert len(ok) > 0 and set(ok['metric']) <= set(METRICS)
    for metric, unit in zip(ok['metric'], ok['unit']):
        assert unit == METRICS[metric]
    assert set(df['run_id']) == {RUN_ID}
    assert set(df['host']) == {'lab1', 'lab2'}


@pytest.mark.parametrize('host, cid, rows', [
    ('lab1', 'linux_bridge.icperf.udp.tput.s64.rmax.b32', TPUT_METRICS),
    ('lab1', 'linux_bridge.icperf.udp.lat.s64.r1000.b4', LAT_METRICS),
    ('lab1', 'linux_bridge.sockperf.udp.tput.s64.rmax.b1', 6),
    ('lab1', 'linux_bridge.sockperf.udp.lat.s64.r1000.b1', 13),
    ('lab1', 'macvlan.icperf.udp.tput.s64.rmax.b32', TPUT_METRICS),      # jitter_ns is left out
    ('lab2', 'linux_bridge.icperf.udp.tput.s64.r50000.b32', TPUT_METRICS),
    ('lab2', 'macvlan.icperf.udp.lat.s64.r1000.b4', LAT_METRICS),
] + [(host, cid, 1) for host, cid in FAILED])
def test_rows_per_case(df, host, cid, rows):
    assert len(df[(df['host'] == host) & (df['case_id'] == cid)]) == rows


def test_row_count_and_case_count(df):
    assert len(df) == 4 * TPUT_METRICS + 3 * LAT_METRICS + 6 + 13 + 3
    assert df.groupby(['host', 'case_id']).ngroups == 12


@pytest.mark.parametrize('host, cid', sorted(FAILED))
def test_failed_case_is_one_status_row_with_its_error(run_dir, df, host, cid):
    rows = df[(df['host'] == host) & (df['case_id'] == cid)]
    assert list(rows['metric']) == ['status'] and list(rows['status']) == ['failed']
    assert rows['value'].isna().all()
    # conditions come from case.json, else plan.json, else the case id
    assert rows['path'].iloc[0] == cid.split('.')[0] and int(rows['size'].iloc[0]) in (64, 128)
    run = report.load_run(run_dir)
    errors = dict(((c['host'], c['case_id']), c['error']) for h in run['hosts'].values() for c in h['cases'])
    assert FAILED[(host, cid)] in errors[(host, cid)]


@pytest.mark.parametrize('needle', [
    "metric 'jitter_ns' is not in the results schema",
    'macvlan.icperf.udp.tput.s128.rmax.b32: planned in plan.json but no result was collected',
    'raw/lab2/macvlan.icperf.udp.tput.s64.rmax.b32/case.json cannot be parsed',
])
def test_problems_are_warnings(run_dir, needle):
    warnings = report.load_run(run_dir)['warnings']
    assert any(needle in w for w in warnings), warnings


@pytest.mark.parametrize('damage, warning', [
    ('rm raw/lab1/host.json', 'raw/lab1/host.json is missing'),
    ('corrupt raw/lab1/host.json', 'raw/lab1/host.json cannot be parsed'),
    ('corrupt raw/lab1/plan.json', 'raw/lab1/plan.json cannot be parsed'),
    ('corrupt run.json', 'run.json cannot be parsed'),
    ('list run.json', 'run.json is not a JSON object'),
    ('rm raw/lab2/linux_bridge.icperf.udp.tput.s64.r50000.b32/case.json', 'case.json is missing'),
    ('empty raw/lab1/linux_bridge.icperf.udp.lat.s64.r1000.b4/case.json', 'cannot be parsed'),
])
def test_damaged_files_never_crash(run_dir, damage, warning):
    action, rel = damage.split(' ', 1)
    path = os.path.join(run_dir, rel)
    if action == 'rm':
        os.remove(path)
    else:
        with open(path, 'w') as handle:
            handle.write({'corrupt': '{"schema": 1, ', 'list': '[1, 2]', 'empty': ''}[action])
    result = report.write_report(run_dir)
    assert any(warning in w for w in result['warnings']), result['warnings']
    assert os.path.getsize(result['csv']) > 0 and os.path.getsize(result['html']) > 0


def test_conditions_and_csv_text(written):
    with open(os.path.join(written[0], 'results.csv')) as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == list(CSV_COLUMNS)
    row = [r for r in rows if r['case_id'] == 'linux_bridge.icperf.udp.tput.s64.rmax.b32' and r['host'] == 'lab1'
           and r['metric'] == 'rx_pps'][0]
    assert (row['size'], row['rate_pps'], row['burst'], row['duration_s'], row['warmup_s']) == ('64', '0', '32', '4', '1')
    assert (row['touch'], row['cores_shared'], row['oversubscribed'], row['topology']) == ('False', 'False', 'False', 'pair')
    assert float(row['value']) == 164367.99 and row['unit'] == 'pps'
    shared = [r for r in rows if r['host'] == 'lab2' and r['case_id'].startswith('linux_bridge')]
    assert shared and all(r['cores_shared'] == 'True' for r in shared)
    failed = [r for r in rows if r['metric'] == 'status']
    assert len(failed) == 3 and all(r['value'] == '' and r['unit'] == '' for r in failed)


def test_rows_are_sorted(df):
    keys = list(zip(df['host'], df['path'], df['tool'], df['backend'], df['mode'], df['size']))
    assert keys == sorted(keys)
    # within a case, metrics follow the schema's order; unpaced comes after every paced rate
    case = df[df['case_id'] == 'linux_bridge.icperf.udp.tput.s64.rmax.b32']
    order = list(METRICS)
    assert [order.index(m) for m in case[case['host'] == 'lab1']['metric']] == sorted(
        order.index(m) for m in case[case['host'] == 'lab1']['metric'])
    lab2 = list(df[(df['host'] == 'lab2') & (df['path'] == 'linux_bridge')]['rate_pps'].drop_duplicates())
    assert lab2 == [50000, 0]


# -- write_report: reproducible, complete ---------------------------------------------------------
def test_rerun_gives_identical_files(run_dir):
    first = report.write_report(run_dir)
    names = ['results.csv', 'summary.md', 'report.html'] + [os.path.relpath(p, run_dir) for p in first['plots']]
    before = dict((n, open(os.path.join(run_dir, n), 'rb').read()) for n in names)
    assert set(first['changed']) == set(names)
    second = report.write_report(run_dir)
    assert second['changed'] == []
    for name in names:
        assert open(os.path.join(run_dir, name), 'rb').read() == before[name], name
    # a copy of raw/ elsewhere gives the same table and summary
    other = os.path.join(os.path.dirname(run_dir), 'copy', RUN_ID)
    shutil.copytree(os.path.join(run_dir, 'raw'), os.path.join(other, 'raw'))
    shutil.copy(os.path.join(run_dir, 'run.json'), other)
    report.write_report(other)
    for name in ('results.csv', 'summary.md'):
        assert open(os.path.join(other, name), 'rb').read() == before[name], name


def test_write_report_result(written):
    run_dir, result = written
    assert (result['cases'], result['failed']) == (12, 3)
    assert result['csv'] == os.path.join(run_dir, 'results.csv')
    assert result['html'] == os.path.join(run_dir, 'report.html')
    assert result['summary_md'] == os.path.join(run_dir, 'summary.md')
    # every plot but the soak's (the example run has no search)
    assert sorted(os.path.basename(p) for p in result['plots']) == sorted(
        os.path.basename(p) for name, p in report.PLOT_FILES.items() if name != 'soak_loss')
    for path in result['plots']:
        assert open(path, 'rb').read(8) == b'\x89PNG\r\n\x1a\n'
    assert len(result['warnings']) == 3


def test_check_mode_writes_nothing(run_dir):
    result = report.write_report(run_dir, check_mode=True)
    assert 'results.csv' in result['changed'] and 'report.html' in result['changed']
    assert not os.path.exists(result['csv']) and not os.path.exists(os.path.join(run_dir, 'plots'))


def test_stale_plot_is_removed(run_dir):
    report.write_report(run_dir)
    for cid in os.listdir(os.path.join(run_dir, 'raw', 'lab1')):
        if '.lat.' in cid:
            shutil.rmtree(os.path.join(run_dir, 'raw', 'lab1', cid))
    shutil.rmtree(os.path.join(run_dir, 'raw', 'lab2'))
    os.remove(os.path.join(run_dir, 'raw', 'lab1', 'plan.json'))
    result = report.write_report(run_dir)
    assert 'plots/latency_percentiles.png' in result['changed']
    assert not os.path.exists(os.path.join(run_dir, 'plots', 'latency_percentiles.png'))


@pytest.mark.parametrize('section', [
    'Run metadata', 'Parameters', 'Hosts', 'Component versions', 'Summary',
    'Cross-checks: icperf vs reference tool', 'Study comparison', "The study's tables", 'Plots', 'Failed and invalid cases',
    'Warnings', RUN_ID, '2026-11-27T01:02:03Z', '9549237abcdef0123456789abcdef0123456789a', '2.19.4',
    'Intel(R) Xeon(R) CPU E5-2640 v4', 'sockperf', 'benchmark_reference_tools',
])
def test_html_has_the_sections(written, section):
    assert html_text(written[0]).count(html.escape(section)) >= 1


def html_text(run_dir):
    with open(os.path.join(run_dir, 'report.html'), encoding='utf-8') as handle:
        return handle.read()


def test_html_is_self_contained_and_escaped(written):
    run_dir, result = written
    text = html_text(run_dir)
    assert text.count('src="data:image/png;base64,') == len(result['plots']) == 4
    assert '<script' not in text.lower()
    assert '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; sendmmsg' in text
    assert 'http://' not in text and 'https://' not in text and '<link' not in text
    summary = open(os.path.join(run_dir, 'summary.md')).read()
    assert '<script>' not in summary and '&lt;script&gt;' in summary


def test_study_tables_are_in_the_report(written):
    text = html_text(written[0])
    for name in ('max_rx', 'max_rx_touch', 'sockets', 'scalability', 'rtt_mean'):
        assert html.escape(report.STUDY[name]['title']) in text
        assert html.escape(report.STUDY[name]['source'].split(';', maxsplit=1)[0]) in text
    assert 'doi 10.1007/978-3-030-34356-9_1' in text
    assert '<td class="num">16.2</td>' in text and '<td class="num">594</td>' in text


@pytest.mark.parametrize('name', ['max_rx', 'max_rx_touch'])
def test_study_size_tables_are_well_formed(name):
    table = report.STUDY[name]
    assert table['sizes'] == (64, 128, 256, 512, 1024, 1500) and table['unit'] == 'Mpps' and table['source']
    assert table['rows']
    for values in table['rows'].values():
        assert len(values) == len(table['sizes']) and list(values) == sorted(values, reverse=True)


@pytest.mark.parametrize('path, backend, size, row, table, study', [
    ('vpp', 'dpdk', 64, 'VPP', "VHPC'19", 6.3),
    ('sriov', 'dpdk', 1500, 'SR-IOV', "VHPC'19", 3.2),
    ('testpmd', 'dpdk', 128, 'testpmd', "VHPC'19", 9.2),
    ('ovs_dpdk', 'dpdk', 256, 'OVS-DPDK', "VHPC'19", 4.7),
    ('linux_bridge', 'udp-mmsg', 64, 'UDP sendmmsg/recvmmsg', "VHPC'19 (burst 64)", 276),
    ('linux_bridge', 'raw', 64, 'raw send/recv', "CLOSER'20 (1 Mpps offered, burst 64)", 360),
    ('linux_bridge', 'raw-mmsg', 64, 'raw mmsg', "VHPC'19 (burst 64)", 594),
])
def test_study_comparison_maps_paths(run_dir, declare_path, path, backend, size, row, table, study):
    cid = '%s.icperf.%s.tput.s%d.rmax.b32' % (path, backend, size)
    write_case(run_dir, 'lab1', cid, {'rx_pps': 2.0e6, 'tx_pps': 2.0e6})
    headers, rows = report.study_comparison(cases_in(run_dir))
    found = [dict(zip(headers, r)) for r in rows if r[1] == path and r[3] == backend and r[12] == table]
    assert len(found) == 1, rows
    assert found[0]['study row'] == row and float(found[0]['study']) == study
    ours = 2.0 if found[0]['unit'] == 'Mpps' else 2000.0
    assert found[0]['ours / study'] == '%.2f' % (ours / study)


def test_study_comparison_of_the_example(cases):
    headers, rows = report.study_comparison(cases)
    lab1 = [dict(zip(headers, r)) for r in rows if r[0] == 'lab1']
    assert [(r['study row'], r['study'], r['ours / study']) for r in lab1] == [
        ('UDP send/recv', '227.0', '0.72'), ('UDP send/recv', '338.0', '0.49')]
    lab2 = [dict(zip(headers, r)) for r in rows if r[0] == 'lab2']
    assert lab2 and all(r['ours'].endswith('*') and r['ours / study'].endswith('*') for r in lab2)


def test_touch_case_is_held_against_the_touch_table(run_dir, declare_path):
    declare_path('vale', 91, 'va', 'dpdk', study='VALE')
    write_case(run_dir, 'lab1', 'vale.icperf.dpdk.tput.s64.rmax.b32.touch', {'rx_pps': 7.0e6}, touch=True)
    headers, rows = report.study_comparison(cases_in(run_dir))
    found = [dict(zip(headers, r)) for r in rows if r[1] == 'vale']
    assert [(f['study row'], f['study'], f['touch']) for f in found] == [('VALE', '7.680', 'yes')]


# -- cross-checks and the summary ----------------------------------------------------------------
def test_cross_check_ratio(cases):
    headers, rows = report.cross_checks(cases)
    checks = [dict(zip(headers, r)) for r in rows]
    tput = [c for c in checks if c['mode'] == 'tput']
    assert len(tput) == 2
    rx = [c for c in tput if c['ref metric'] == 'rx Mpps'][0]
    tx = [c for c in tput if c['ref metric'] == 'tx Mpps'][0]
    # the example's figures (raw/lab1): icperf rx 164367.99, tx 164374.047; sockperf rx 72145, tx 72338
    assert (rx['icperf'], rx['reference'], rx['reference value']) == ('0.164', 'sockperf', '0.072')
    assert rx['ratio'] == '%.2f' % (164367.99 / 72145.0)
    assert tx['icperf metric'] == 'tx Mpps' and (tx['icperf'], tx['reference value']) == ('0.164', '0.072')
    assert tx['ratio'] == '%.2f' % (164374.047 / 72338.0)
    assert 'send rate' in tx['note'] and 'send rate' not in rx['note']
    lat = dict((c['icperf metric'], c) for c in checks if c['mode'] == 'lat')
    assert sorted(lat) == ['rtt_p50_us', 'rtt_p99_us']
    assert lat['rtt_p50_us']['ratio'] == '%.2f' % (90.879 / 80.448)
    assert all(c['host'] == 'lab1' for c in checks)     # lab2 has no reference tool


def test_senders_alone_in_a_loop_are_compared_and_summarised(run_dir):
    loop = dict(topology='loop', repeat=None)
    write_case(run_dir, 'lab1', 'testpmd.icperf.dpdk.tx.s64.rmax.b32', {'tx_pps': 17.2e6}, **loop)
    write_case(run_dir, 'lab1', 'testpmd.testpmd.dpdk.tx.s64.rmax.b32', {'tx_pps': 14.3e6}, **loop)
    cases = cases_in(run_dir)
    headers, rows = report.cross_checks(cases)
    tx = [dict(zip(headers, r)) for r in rows if r[2] == 'tx']
    assert [(c['path'], c['icperf metric'], c['icperf'], c['reference'], c['reference value'], c['ratio'])
            for c in tx] == [('testpmd', 'tx Mpps', '17.200', 'testpmd', '14.300', '%.2f' % (17.2 / 14.3))]
    assert 'topology loop' in tx[0]['note']
    headers, rows = report.summary_rows(cases)
    summary = [dict(zip(headers, r)) for r in rows if r[4] == 'tx']
    assert sorted((c['tool'], c['rx Mpps'], c['tx Mpps']) for c in summary) == [
        ('icperf', '-', '17.200'), ('testpmd', '-', '14.300')]


@pytest.mark.parametrize('line', [
    ('lab1', 'linux_bridge', 'icperf', 'udp', 'tput', '64', 'max', '32', '0.164'),
    ('lab1', 'macvlan', 'icperf', 'udp', 'lat', '64', '1000', '4', '60.5', '310.2'),
    ('lab1', 'linux_bridge', 'icperf', 'udp-mmsg', 'tput', '64', 'max', '32', 'FAILED'),
    ('lab2', 'linux_bridge', 'icperf', 'udp', 'tput', '64', 'max', '32', '0.098*', 'cores_shared'),
    ('lab2', 'macvlan', 'icperf', 'udp', 'lat', '64', '1000', '4', '70.2*', 'cores_shared,oversubscribed'),
])
def test_summary_table(cases, line):
    table = report.summary_table(cases)
    assert any(all(word in row.split() for word in line) for row in table.splitlines()), table
    assert table.rstrip().endswith(report.FLAG_NOTE)


def test_summary_shows_the_highest_rate_only(cases):
    table = report.summary_table(cases)
    assert '50000' not in table and '0.050' not in table


def test_summary_md(written):
    text = open(os.path.join(written[0], 'summary.md')).read()
    for needle in ('# kbypass.testbed report: ' + RUN_ID, 'started 2026-11-27T01:02:03Z', '## Cross-checks',
                   '## Study comparison', '## Failed and invalid cases', '## Warnings', report.FLAG_NOTE, '| 2.27 |'):
        assert needle in text, needle


def test_no_cores_flag_note_without_flagged_figures(run_dir):
    shutil.rmtree(os.path.join(run_dir, 'raw', 'lab2'))
    result = report.write_report(run_dir)
    assert report.FLAG_NOTE not in result['table']
    assert report.FLAG_NOTE not in html_text(run_dir)


# -- command line ---------------------------------------------------------------------------------
def test_main_writes_and_prints(run_dir, capsys):
    assert report.main([run_dir]) == 0
    out = capsys.readouterr().out
    assert 'Report: %s' % os.path.join(run_dir, 'report.html') in out
    assert 'linux_bridge' in out and '12 cases, 3 failed, 3 warnings' in out


@pytest.mark.parametrize('remove, message', [
    ('raw', 'has no raw/'),
    ('run.json', 'has no run.json'),
])
def test_main_refuses_a_folder_that_is_not_a_run(run_dir, capsys, remove, message):
    path = os.path.join(run_dir, remove)
    if os.path.isdir(path):
        shutil.rmtree(path)
    else:
        os.remove(path)
    assert report.main([run_dir]) == 2
    assert message in capsys.readouterr().err
    assert not os.path.exists(os.path.join(run_dir, 'results.csv'))


def test_main_on_a_missing_folder(tmp_path, capsys):
    assert report.main([str(tmp_path / 'nothing')]) == 2
    assert 'is not a folder' in capsys.readouterr().err


def test_parse_case_id():
    assert report.parse_case_id('linux_bridge.icperf.udp-mmsg.tput.s64.rmax.b32.touch') == {
        'path': 'linux_bridge', 'tool': 'icperf', 'backend': 'udp-mmsg', 'mode': 'tput', 'size': 64,
        'rate_pps': 0, 'burst': 32, 'touch': True, 'repeat': None, 'peer_host': None}
    assert report.parse_case_id('testpmd.testpmd.dpdk.tput.s64.rmax.b32.rep3')['repeat'] == 3
    two = report.parse_case_id('ovs.icperf.udp.tput.s64.rmax.b32.to-lab2.example.org.rep2')
    assert (two['peer_host'], two['repeat'], two['burst']) == ('lab2.example.org', 2, 32)
    assert report.parse_case_id('ovs.icperf.udp.tput.s64.rmax.b32.to-lab2')['peer_host'] == 'lab2'
    assert report.parse_case_id('not a case') == {}


def _round(cid, repeat, rx, status='ok', host='h1'):
    return {'host': host, 'case_id': '%s.rep%d' % (cid, repeat), 'repeat': repeat, 'status': status,
            'tool': cid.split('.')[1], 'flagged': False, 'metrics': {'rx_pps': rx, 'tx_pps': rx + 1} if rx else {}}


def test_repeated_rounds_fold_into_their_median():
    cid = 'testpmd.icperf.dpdk.tput.s64.rmax.b32'
    once = {'host': 'h1', 'case_id': 'memif.icperf.dpdk.tput.s64.rmax.b32', 'repeat': None, 'status': 'ok',
            'flagged': False, 'metrics': {'rx_pps': 1.0}}
    cases = report.merge_repeats([once, _round(cid, 1, 5e6), _round(cid, 2, 9e6), _round(cid, 3, 6e6),
                                  _round(cid, 4, None, 'failed')])
    assert [c['case_id'] for c in cases] == [once['case_id'], cid, cid + '.rep4']
    merged = cases[1]
    assert merged['metrics'] == {'rx_pps': 6e6, 'tx_pps': 6e6 + 1} and merged['repeats'] == 3
    assert merged['rx_range'] == (5e6, 9e6) and 'median of 3 (rx 5.000..9.000 Mpps)' in report.flags(merged)
    assert cases[2]['status'] == 'failed'      # a failed round is listed, not averaged away
    two = report.merge_repeats([_round(cid, 1, 4e6), _round(cid, 2, 6e6)])
    assert two[0]['metrics']['rx_pps'] == 5e6


def test_csv_round_trips_through_pandas(run_dir, df):
    again = pd.read_csv(io.StringIO(report.to_csv(df)), keep_default_na=True)
    assert list(again.columns) == list(CSV_COLUMNS) and len(again) == len(df)


# -- the package: one case-records pass, the words once, the study as data -----------------------
def test_a_report_folds_the_table_into_cases_once(run_dir, monkeypatch):
    from ansible_collections.kbypass.testbed.plugins.module_utils.report import write
    calls = []

    def counted(df):
        calls.append(len(df))
        return report.cases_of(df)

    monkeypatch.setattr(write, 'cases_of', counted)
    write.render_report(run_dir)
    assert len(calls) == 1


def test_words_in_each_document():
    from ansible_collections.kbypass.testbed.plugins.module_utils.report.render import words
    text = ('a < b', {'md': ' (md)'}, {'html': ' (html)'}, ": {name}'s")
    values = {'name': '<x> & "y"'}
    assert words(text, 'md', values) == 'a < b (md): <x> & "y"\'s'
    assert words(text, 'html', values) == "a &lt; b (html): &lt;x&gt; &amp; &quot;y&quot;'s"
    assert words('plain {name}', 'md', {'name': 1}) == 'plain 1'


def test_both_documents_follow_the_sections(written):
    from ansible_collections.kbypass.testbed.plugins.module_utils.report import render
    from ansible_collections.kbypass.testbed.plugins.module_utils.report.text import SECTIONS
    from ansible_collections.kbypass.testbed.plugins.module_utils.report.views import report_tables
    values = {'bypass_size': 64}
    tables = report_tables(cases_in(written[0]))
    md = open(os.path.join(written[0], 'summary.md')).read()
    assert [line[3:] for line in md.splitlines() if line.startswith('## ')] == [
        render.words(s['title'], 'md', values) for s in render.sections('md', tables)]
    text = html_text(written[0])
    ids = [s['id'] for s in render.sections('html', tables)]
    assert [text.index('<h2 id="%s">' % i) for i in ids] == sorted(text.index('<h2 id="%s">' % i) for i in ids)
    # the example run has no search: the sections that need one's rows are left out, no other
    assert text.count('<h2 ') == len(ids) == len([s for s in SECTIONS if not s.get('if_rows')])
    # a section's own words stand in its document; the other document's pieces do not
    assert 'In a loop topology the rate is what came back' in text and 'In a loop topology' not in md
    assert "(see report.html for the study's tables and sources)." in md and 'see report.html' not in text


def test_study_is_data_only():
    import ast
    from ansible_collections.kbypass.testbed.plugins.module_utils.report import study
    tree = ast.parse(open(study.__file__).read())
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            assert node.module == '__future__'
            continue
        assert isinstance(node, (ast.Assign, ast.Expr)), ast.dump(node)[:80]
        for sub in ast.walk(node):
            assert not isinstance(sub, (ast.Call, ast.Lambda, ast.FunctionDef)), ast.dump(sub)[:80]


def test_an_invalid_case_is_listed_with_its_reason_and_left_out_of_the_figures(run_dir):
    cid = 'linux_bridge.icperf.udp.tput.s1500.rmax.b32'
    reason = 'traffic stopped: the receiver received no packet in second 4 of the run'
    write_case(run_dir, 'lab1', cid, {'rx_pps': 61321.968, 'tx_pps': 262000.0}, status='invalid', error=reason)
    run = report.load_run(run_dir)
    assert ('lab1', cid, 'invalid', reason) in failed_cases(run)
    rows = report.tidy(run)
    rows = rows[(rows['host'] == 'lab1') & (rows['case_id'] == cid)]
    assert list(rows['metric']) == ['status'] and list(rows['status']) == ['invalid']
    headers, rows = report.summary_rows(cases_in(run_dir))
    found = [r for r in (dict(zip(headers, row)) for row in rows) if r['path'] == 'linux_bridge' and r['size'] == '1500']
    assert len(found) == 1 and found[0]['rx Mpps'] == '-' and found[0]['note'] == 'INVALID', found
    report.write_report(run_dir)
    with open(os.path.join(run_dir, 'summary.md')) as handle:
        summary = handle.read()
    assert '| lab1 | %s | invalid | %s |' % (cid, reason) in summary


SEARCH_METRICS = {
    'ndr_pps': 5392300.0, 'ndr_bps': 5392300.0 * 512, 'ndr_tx_pps': 5391000.0, 'ndr_loss_ratio': 0.0,
    'pdr_pps': 5858800.0, 'pdr_bps': 5858800.0 * 512, 'pdr_tx_pps': 5601000.0, 'pdr_loss_ratio': 0.004,
    'max_tx_pps': 9000000.0, 'mrr_pps': 5900000.0, 'search_trials': 12, 'search_s': 120.0, 'measured_s': 96.0,
    'rtt_p50_us_pdr10': 12.0, 'rtt_p99_us_pdr10': 30.0, 'tx_pps_pdr10': 585880.0, 'loss_ratio_pdr10': 0.0,
    'rtt_p50_us_pdr90': 80.0, 'rtt_p99_us_pdr90': 900.0, 'tx_pps_pdr90': 5272920.0, 'loss_ratio_pdr90': 0.02,
}


def test_a_search_has_its_table_and_its_latency_under_load(run_dir):
    cid = 'linux_bridge.icperf.udp.search.s64.rmax.b32'
    write_case(run_dir, 'lab1', cid, SEARCH_METRICS, rate_pps=0, duration_s=10, warmup_s=2)
    write_case(run_dir, 'lab1', 'linux_bridge.icperf.udp.search.s1500.rmax.b32', {'search_trials': 30},
               status='invalid', error='search incomplete: search time budget of 600 s spent after 30 trials')
    report.write_report(run_dir)
    cases = cases_in(run_dir)
    from ansible_collections.kbypass.testbed.plugins.module_utils.report import views
    headers, rows = views.search_results(cases)
    assert len(rows) == 1
    row = dict(zip(headers, rows[0]))
    assert (row['NDR Mpps'], row['PDR Mpps'], row['NDR / PDR sent Mpps'], row['MRR Mpps']) == (
        '5.392', '5.859', '5.391 / 5.601', '5.900')
    assert (row['generator max Mpps'], row['tput trials'], row['search s'], row['in windows %']) == (
        '9.000', '12', '120', '80')
    headers, rows = views.latency_under_load(cases)
    loads = [dict(zip(headers, r)) for r in rows]
    # the no-load latency case of the same path and size first, then the loads measured
    assert [r['load'] for r in loads] == ['no load', '10 % of PDR', '90 % of PDR']
    assert loads[2]['offered kpps'] == '5272.9' and loads[2]['p99 us'] == '900.0' and loads[2]['loss %'] == '2.00'
    # an ok search is not repeated in the summary; an invalid one is, with its status
    summary = [r for r in views.summary_rows(cases)[1] if r[4] == 'search']
    assert len(summary) == 1 and summary[0][-1].startswith('INVALID')
    md = open(os.path.join(run_dir, 'summary.md')).read()
    assert '## Throughput by search: NDR and PDR (RFC 2544)' in md and '## Latency under load' in md
    assert 'search incomplete: search time budget of 600 s' in md
    text = html_text(run_dir)
    assert '<h2 id="search">' in text and '<h2 id="latency-load">' in text


def test_a_soak_has_its_row_and_its_loss_second_by_second(run_dir):
    cid = 'linux_bridge.icperf.udp.search.s64.rmax.b32'
    soak = {'soak_pps': 5272920.0, 'soak_s': 600.0, 'soak_tx_pps': 5270000.0, 'soak_rx_pps': 5260000.0,
            'soak_loss_ratio': 0.0019, 'soak_lost': 6000.0, 'soak_window_s': 598.0, 'soak_loss_seconds': 3.0,
            'soak_worst_loss_ratio': 0.0012}
    write_case(run_dir, 'lab1', cid, dict(SEARCH_METRICS, **soak), rate_pps=0, duration_s=10, warmup_s=2)
    seconds = [{'t': t, 'tx_pps': 5.27e6, 'rx_pps': 5.26e6, 'lost': 50 if t in (7, 8, 9) else 0,
                'loss_ratio': 0.0012 if t in (7, 8, 9) else 0.0, 'window': t > 2} for t in range(1, 601)]
    with open(os.path.join(run_dir, 'raw', 'lab1', cid, 'search.json'), 'w') as handle:
        soak_trial = {'phase': 'soak', 'rate_pps': 5272920, 'duration_s': 600, 'invalid': None, 'seconds': seconds}
        json.dump({'trials': [{'phase': 'max', 'rate_pps': 0}, soak_trial]}, handle)
    # a second search whose soak was invalid: its row says so, without figures
    write_case(run_dir, 'lab1', 'linux_bridge.icperf.udp.search.s1500.rmax.b32',
               dict(SEARCH_METRICS, soak_pps=800000.0, soak_s=600.0), rate_pps=0, duration_s=10, warmup_s=2)
    run = report.load_run(run_dir)
    soaked = [c for c in all_cases(run) if c['soak']]
    assert [c['case_id'] for c in soaked] == [cid] and len(soaked[0]['soak']['seconds']) == 600
    from ansible_collections.kbypass.testbed.plugins.module_utils.report import views
    headers, rows = views.soak(cases_in(run_dir))
    rows = [dict(zip(headers, r)) for r in rows]
    assert [(r['size'], r['offered kpps'], r['seconds'], r['loss %'], r['seconds with loss'],
             r['worst second loss %']) for r in rows] == [('64', '5272.9', '600', '0.190', '3', '0.120'),
                                                          ('1500', '800.0', '600', '-', '-', '-')]
    assert rows[1]['note'] == 'invalid: the reason is in search.json'
    result = report.write_report(run_dir)
    assert os.path.join(run_dir, 'plots', 'soak_loss.png') in result['plots']
    assert '## Soak' in open(os.path.join(run_dir, 'summary.md')).read()


def test_cpu_cost_per_packet_per_path(run_dir):
    write_case(run_dir, 'lab1', 'testpmd.icperf.dpdk.search.s64.rmax.b32',
               dict(SEARCH_METRICS, cpu_a_pct=99.0, cpu_b_pct=98.0, cpu_switch_pct=100.0, cpu_mhz=2100.0,
                    cycles_a_per_pkt=375.0, cycles_b_per_pkt=372.0, cycles_switch_per_pkt=358.4),
               rate_pps=0, duration_s=10, warmup_s=2, cores_shared=True)
    from ansible_collections.kbypass.testbed.plugins.module_utils.report import views
    headers, rows = views.cpu_cost(cases_in(run_dir))
    row = [dict(zip(headers, r)) for r in rows if r[1] == 'testpmd']
    assert len(row) == 1
    assert (row[0]['at'], row[0]['Mpps'], row[0]['switch CPU %'], row[0]['switch cycles/pkt'], row[0]['CPU MHz']) == (
        'PDR', '5.859', '100.0*', '358*', '2100')
    # the example run's cases predate the cycles: none of them has a row
    assert [r[1] for r in rows] == ['testpmd']
    report.write_report(run_dir)
    assert '## CPU cost per packet' in open(os.path.join(run_dir, 'summary.md')).read()
