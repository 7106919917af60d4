# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Integration: the real playbooks on this machine (inventories/local), as a user runs them.

Order: bad input first (nothing may change), then one short benchmark, a second provisioning
pass (must change nothing), the report re-run from raw files, and teardown (nothing left behind).
Teardown always runs, whatever fails (the module fixture's finally).
"""

from __future__ import annotations

import csv
import glob
import json
import os
import re
import shutil
import statistics
import subprocess
import sys

import pytest

# the collection's ledger of what it changed on the host (kbypass.testbed.host_state)
from ansible_collections.kbypass.testbed.plugins.module_utils.ledger import STATE_DIR as LEDGER
from ansible_collections.kbypass.testbed.plugins.module_utils.ovs import PLAIN_BINARY

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
SHORT = ['-e', 'benchmark_duration=4', '-e', 'benchmark_warmup=1']

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which('lxc-create') or not shutil.which('ansible-playbook'),
    reason='needs root, LXC and ansible-playbook (make deps installs them); runs on a Debian 12 host like CI')


def playbook(name, *args, check=True):
    argv = ['ansible-playbook', os.path.join(TOP, 'playbooks', name), '-i', os.path.join(TOP, 'inventories', 'local')]
    argv += list(args)
    proc = subprocess.run(argv, cwd=TOP, capture_output=True, text=True, check=False)
    sys.stdout.write(proc.stdout[-6000:])
    sys.stderr.write(proc.stderr[-3000:])
    if check and proc.returncode != 0:
        pytest.fail('%s failed (rc %d):\n%s\n%s' % (name, proc.returncode, proc.stdout[-4000:], proc.stderr[-2000:]))
    return proc


def _out(argv):
    return subprocess.run(argv, capture_output=True, text=True, check=False).stdout


def processes(*names):
    """The names among ``names`` that run (pgrep -x, one name at a time: a pattern longer than 15
    characters, like 'a|b', matches nothing)."""
    return sorted(name for name in names if _out(['pgrep', '-x', name]).strip())


def host_state():
    """What the benchmark can leave behind (containers, links, mounts, files, sockets) and the host
    state it changes and must give back (hugepages, bpffs, OVS daemons and binary)."""
    lxc = _out(['lxc-ls', '-1']).split()
    links = _out(['ip', '-br', 'link'])
    with open('/proc/self/mounts') as handle:
        mounts = [line for line in handle if 'kbp-' in line or 'kbypass' in line]
        handle.seek(0)
        bpffs = [line.split()[1] for line in handle if line.split()[2] == 'bpf']
    with open('/proc/sys/vm/nr_hugepages') as handle:
        hugepages = int(handle.read())
    alternative = [line for line in _out(['update-alternatives', '--query', 'ovs-vswitchd']).splitlines()
                   if line.startswith(('Status:', 'Value:'))]
    return {
        'containers': sorted(c for c in lxc if c.startswith('kbp-')),
        'links': sorted(line.split()[0].split('@')[0] for line in links.splitlines()
                        if line.startswith(('kbp-', 'ovs-netdev', 'ovs-system'))),
        'mounts': mounts,
        'files': [p for p in ('/var/lib/kbypass', '/opt/kbypass/bin/icperf', '/opt/kbypass/src/icperf',
                              '/opt/kbypass/bin/basicfwd', '/opt/kbypass/src/basicfwd', '/var/log/kbypass',
                              '/run/kbypass', '/var/lib/kbypass-state') if os.path.exists(p)],
        # the DPDK switches on the host: nothing may poll after stop or teardown
        'switches': processes('basicfwd', 'dpdk-testpmd'),
        'hugepages': hugepages,
        'bpffs': bpffs,
        'ovs_daemons': processes('ovs-vswitchd', 'ovsdb-server'),
        'ovs_alternative': alternative,
    }


LEFT_BEHIND = ('containers', 'links', 'mounts', 'files', 'switches')


def recap_changed(stdout):
    return dict((m.group(1), int(m.group(2))) for m in re.finditer(r'^(\S+)\s+: ok=\d+\s+changed=(\d+)', stdout, re.M))


@pytest.fixture(scope='module')
def bench(tmp_path_factory):
    results = str(tmp_path_factory.mktemp('results'))
    before = host_state()
    if any(before[k] for k in LEFT_BEHIND) or os.path.exists(LEDGER):
        # an earlier run on this host was not torn down (by hand, or interrupted): its ledger holds
        # the host as the collection first found it, which teardown gives back. Compare with that
        # host, not with the leftovers (hugepages it reserved, say).
        playbook('teardown.yml')
        before = host_state()
    out = {'results': results, 'before': before}
    try:
        bad = playbook('benchmark.yml', '-e', '{"benchmark_sizes": [63]}', '-e', 'benchmark_results_dir=' + results,
                       check=False)
        out['bad'] = bad
        out['after_bad'] = host_state()
        run = playbook('benchmark.yml', '-e', 'benchmark_results_dir=' + results, *SHORT)
        out['run'] = run
        out['run_dir'] = glob.glob(os.path.join(results, '*T*Z-*'))[0]
        out['again'] = playbook('benchmark.yml', '--tags', 'provision', '-e', 'benchmark_results_dir=' + results,
                                *SHORT)
        yield out
    finally:
        out['teardown'] = playbook('teardown.yml', check=False)
        out['after_teardown'] = host_state()


def test_bad_input_stops_before_any_change(bench):
    assert bench['bad'].returncode != 0
    assert 'benchmark_sizes: frame size 63 is outside 64..1514' in bench['bad'].stdout
    assert bench['after_bad'] == bench['before']


def rows(bench):
    with open(os.path.join(bench['run_dir'], 'results.csv')) as handle:
        return list(csv.DictReader(handle))


def test_report_and_table_exist(bench):
    run_dir = bench['run_dir']
    for name in ('report.html', 'results.csv', 'summary.md', 'run.json'):
        assert os.path.getsize(os.path.join(run_dir, name)) > 0, name
    assert 'Report: ' + os.path.join(run_dir, 'report.html') in bench['run'].stdout


@pytest.mark.parametrize('path, tool, mode, metric', [
    ('linux_bridge', 'icperf', 'tput', 'rx_pps'),
    ('linux_bridge', 'icperf', 'lat', 'rtt_p50_us'),
    ('macvlan', 'icperf', 'tput', 'rx_pps'),
    ('macvlan', 'icperf', 'lat', 'rtt_p99_us'),
    ('linux_bridge', 'sockperf', 'tput', 'tx_pps'),
    ('linux_bridge', 'sockperf', 'lat', 'rtt_p50_us'),
    ('ovs', 'icperf', 'tput', 'rx_pps'),
    ('ovs_dpdk', 'icperf', 'tput', 'rx_pps'),
    ('ovs_dpdk', 'icperf', 'lat', 'rtt_p50_us'),
    ('testpmd', 'icperf', 'tput', 'rx_pps'),
    ('testpmd', 'testpmd', 'tput', 'rx_pps'),
    ('basicfwd', 'icperf', 'tput', 'rx_pps'),
    ('basicfwd', 'icperf', 'lat', 'rtt_p50_us'),
    ('memif', 'icperf', 'tput', 'rx_pps'),
    ('memif', 'icperf', 'lat', 'rtt_p99_us'),
    ('af_xdp', 'icperf', 'tput', 'rx_pps'),
])
def test_figures_exist_are_plausible_and_carry_conditions(bench, path, tool, mode, metric):
    found = [r for r in rows(bench) if (r['path'], r['tool'], r['mode'], r['metric']) == (path, tool, mode, metric)]
    assert found, 'no %s row for %s/%s/%s' % (metric, path, tool, mode)
    for row in found:
        value = float(row['value'])
        if metric.endswith('_pps'):
            assert 1e3 < value < 1e8, row          # kpps .. Mpps: anything else is a broken run
        else:
            assert 1.0 < value < 1e6, row          # 1 us .. 1 s round trip
        assert row['status'] == 'ok' and row['cores_shared'] in ('True', 'False') and row['duration_s'] == '4'
        assert row['unit'] == ('pps' if metric.endswith('_pps') else 'us')


def test_raw_files_and_metadata(bench):
    run_dir = bench['run_dir']
    meta = json.load(open(os.path.join(run_dir, 'run.json')))
    assert meta['parameters']['benchmark_duration'] == 4 and meta['ansible_version']
    host = json.load(open(os.path.join(run_dir, 'raw', 'localhost', 'host.json')))
    assert host['cpu_count'] >= 1 and host['versions']['icperf'] and host['versions']['lxc']
    case = json.load(open(os.path.join(run_dir, 'raw', 'localhost', 'linux_bridge.icperf.udp.tput.s64.rmax.b32',
                                       'case.json')))
    assert case['status'] == 'ok' and case['peers']['b']['received'] > 0
    samples = open(os.path.join(run_dir, 'raw', 'localhost', 'linux_bridge.icperf.udp.tput.s64.rmax.b32',
                                'b.jsonl')).read().splitlines()
    assert sum(1 for line in samples if '"type":"sample"' in line.replace(' ', '')) >= 3


def test_report_rerun_from_raw_is_identical(bench):
    run_dir = bench['run_dir']
    before = open(os.path.join(run_dir, 'results.csv')).read()
    subprocess.run([sys.executable, '-m', 'ansible_collections.kbypass.testbed.plugins.module_utils.report', run_dir],
                   check=True, capture_output=True)
    assert open(os.path.join(run_dir, 'results.csv')).read() == before


def test_second_provisioning_changes_nothing(bench):
    changed = recap_changed(bench['again'].stdout)
    assert changed.get('localhost') == 0, changed


# a search on one kernel and one DPDK path, coarse (5 % or 50 kpps) so that it stays short: what
# is asserted is that the search's figures hold up, not how fine they are (docs/method.md)
SEARCH = ['-e', json.dumps({'benchmark_method': 'search', 'benchmark_paths': ['linux_bridge', 'testpmd'],
                            'benchmark_backends': ['udp'], 'benchmark_modes': ['tput'], 'benchmark_sizes': [64],
                            'benchmark_reference_paths': [], 'benchmark_path_repeats': {},
                            'benchmark_search_precision': 0.05, 'benchmark_search_precision_pps': 50000,
                            'benchmark_search_soak_s': 8})]


@pytest.fixture(scope='module')
def search_run(bench):
    results = bench['results'] + '-search'
    run = playbook('benchmark.yml', '-e', 'benchmark_results_dir=' + results, *(SHORT + SEARCH))
    return {'run': run, 'run_dir': glob.glob(os.path.join(results, '*T*Z-*'))[0]}


@pytest.mark.parametrize('path', ['linux_bridge', 'testpmd'])
def test_search_finds_ndr_and_pdr_within_their_goals(search_run, path):
    backend = 'udp' if path == 'linux_bridge' else 'dpdk'
    cid = '%s.icperf.%s.search.s64.rmax.b32' % (path, backend)
    folder = os.path.join(search_run['run_dir'], 'raw', 'localhost', cid)
    case = json.load(open(os.path.join(folder, 'case.json')))
    assert case['status'] == 'ok', case['error']
    found = json.load(open(os.path.join(folder, 'search.json')))
    m, trials = case['metrics'], found['trials']
    assert found['complete'] and 1e3 < m['ndr_pps'] <= m['pdr_pps'] <= m['max_tx_pps'] < 1e8
    for goal, loss in (('ndr', 0.0), ('pdr', 0.005)):
        result = found['goals'][goal]
        confirm = trials[result['trial'] - 1]
        # a full-length trial met the goal at the rate found, and it sent what it was asked to
        assert confirm['duration_s'] == 4 and confirm['loss_ratio'] <= loss and confirm['offered']
        assert confirm['invalid'] is None and confirm['rate_pps'] in (m[goal + '_pps'], 0)
        if result['bound'] == 'search':
            # a trial failed the goal within the precision above it
            assert result['upper_pps'] - result['rate_pps'] <= max(0.05 * result['upper_pps'], 50000)
            assert [t for t in trials if (t['rate_pps'] or int(t['tx_pps'])) == result['upper_pps']
                    and (t['invalid'] or not t['offered'] or t['loss_ratio'] > loss)]
    # every trial ran in this one case, one after the other, each with its start and end
    assert [t['index'] for t in trials] == list(range(1, len(trials) + 1))
    for earlier, later in zip(trials, trials[1:]):
        assert earlier['start_s'] < earlier['end_s'] <= later['start_s'] + 0.01
    assert trials[0]['phase'] == 'max'
    assert {t['phase'] for t in trials} <= {'max', 'narrow', 'confirm', 'latency', 'soak'}
    assert 0 < found['measured_s'] < found['elapsed_s'] <= case['elapsed_s'] + 0.01
    # latency under load: full-length round trips at 10, 50 and 90 % of the PDR
    assert [t['load_pct'] for t in trials if t['phase'] == 'latency'] == [10, 50, 90]
    for load in (10, 50, 90):
        assert 1.0 < m['rtt_p50_us_pdr%d' % load] <= m['rtt_p99_us_pdr%d' % load] < 1e6
    # the soak: one 8 s trial at 90 % of the PDR, last, with its seconds
    soak = trials[-1]
    assert (soak['phase'], soak['duration_s'], soak['rate_pps']) == ('soak', 8, round(0.9 * m['pdr_pps']))
    assert soak['invalid'] is None and m['soak_s'] == 8 and m['soak_rx_pps'] > 0 and 0 <= m['soak_loss_ratio'] < 1
    inside = [s for s in soak['seconds'] if s['window']]
    assert len(inside) == 7 and 0 <= m['soak_loss_seconds'] <= 7
    rows = [r for r in csv.DictReader(open(os.path.join(search_run['run_dir'], 'results.csv')))
            if r['case_id'] == cid]
    assert {'ndr_pps', 'pdr_pps', 'mrr_pps', 'rtt_p99_us_pdr90'} <= {r['metric'] for r in rows}
    assert all(r['mode'] == 'search' and r['duration_s'] == '4' for r in rows)
    md = open(os.path.join(search_run['run_dir'], 'summary.md')).read()
    assert '## Throughput by search: NDR and PDR (RFC 2544)' in md and '## Latency under load' in md
    assert '## Soak' in md and os.path.isfile(os.path.join(search_run['run_dir'], 'plots', 'soak_loss.png'))


def test_zz_teardown_leaves_nothing_behind(bench):
    # last test of the module (pytest keeps file order): tear down now and look; the fixture's
    # finally tears down again (a no-op then) when an earlier step failed.
    proc = playbook('teardown.yml')
    state = host_state()
    assert proc.returncode == 0
    assert dict((k, state[k]) for k in LEFT_BEHIND) == dict((k, []) for k in LEFT_BEHIND), state
    # what the run changed on the host is as it was before the run
    before = bench['before']
    expected = dict((k, v) for k, v in before.items() if k not in LEFT_BEHIND)
    if not before['ovs_alternative']:
        # OVS was not installed before the run (a fresh host): the package the run installed stays
        # (teardown removes no package), its alternative as the package set it up, in auto mode
        expected['ovs_alternative'] = ['Status: auto', 'Value: %s' % PLAIN_BINARY]
    assert dict((k, v) for k, v in state.items() if k not in LEFT_BEHIND) == expected, (before, state)
    assert recap_changed(playbook('teardown.yml').stdout).get('localhost') == 0


def test_dpdk_paths_record_their_topology_and_the_cpu_plan(bench):
    plan = json.load(open(os.path.join(bench['run_dir'], 'raw', 'localhost', 'plan.json')))
    cpus = len(plan['host_cpus'].split(',')) if '-' not in plan['host_cpus'] else \
        int(plan['host_cpus'].split('-')[1]) - int(plan['host_cpus'].split('-')[0]) + 1
    for path in ('testpmd', 'ovs_dpdk', 'basicfwd'):
        pp = plan['path_plans'][path]
        # switch + 2 polling peers need 3 CPUs: fewer -> the loop (2 pollers), never silently shared
        assert pp['topology'] == ('pair' if cpus >= 3 else 'loop'), pp
        assert not pp['oversubscribed'], pp
        found = [row for row in rows(bench) if row['path'] == path]
        assert found, 'no %s row in results.csv' % path
        for row in found:
            assert row['topology'] == pp['topology'] and row['oversubscribed'] == 'False', row
            assert row['cores_shared'] == str(pp['cores_shared']) and row['backend'] == 'dpdk', row


def markdown_rows(section):
    """The rows of the first markdown table in a summary.md section, as {header: cell}."""
    lines = [line for line in section.splitlines() if line.startswith('|')]
    assert len(lines) >= 2 and set(lines[1]) <= set('|-'), section

    def cells(line):
        return [c.strip() for c in re.split(r'(?<!\\)\|', line.strip())[1:-1]]
    headers = cells(lines[0])
    return [dict(zip(headers, cells(line))) for line in lines[2:]]


def check_testpmd_cross_row(cross, csv_rows, topology, mode, size=64):
    """The one cross-check row of icperf against testpmd on the testpmd path (mode, size) holds the
    medians of the two tools' rounds in results.csv, their ratio, and says the topology."""
    metric = {'tput': 'rx_pps', 'tx': 'tx_pps'}[mode]
    found = [r for r in cross if (r['host'], r['path'], r['mode'], r['size'], r['reference']) ==
             ('localhost', 'testpmd', mode, str(size), 'testpmd')]
    assert len(found) == 1, cross
    row = found[0]
    rounds = {}
    for tool in ('icperf', 'testpmd'):
        rounds[tool] = [r for r in csv_rows if (r['host'], r['path'], r['tool'], r['mode'], r['size'], r['metric'],
                                                r['status']) == ('localhost', 'testpmd', tool, mode, str(size), metric, 'ok')]
        assert rounds[tool], 'no %s %s row of testpmd/%s in results.csv' % (tool, metric, mode)
    ours, theirs = (statistics.median(float(r['value']) for r in rounds[t]) for t in ('icperf', 'testpmd'))
    label = metric.replace('_pps', ' Mpps')
    assert (row['icperf backend'], row['ref backend'], row['icperf metric'], row['ref metric']) == \
        ('dpdk', 'dpdk', label, label), row
    # the figures are printed in Mpps with 3 decimals, the ratio with 2 (a '*' marks shared cores)
    assert abs(float(row['icperf'].rstrip('*')) - ours / 1e6) <= 0.0005 + 1e-9, (row, ours)
    assert abs(float(row['reference value'].rstrip('*')) - theirs / 1e6) <= 0.0005 + 1e-9, (row, theirs)
    assert abs(float(row['ratio'].rstrip('*')) - ours / theirs) <= 0.005 + 1e-9, (row, ours / theirs)
    assert {r['topology'] for t in rounds for r in rounds[t]} == {topology}, rounds
    assert ('topology %s' % topology in row['note']) is (topology != 'pair'), row
    for tool in rounds:
        if len(rounds[tool]) > 1:
            assert '%s median of %d rounds' % (tool, len(rounds[tool])) in row['note'], row


def test_report_compares_kernel_and_bypass_and_icperf_with_testpmd(bench):
    summary = open(os.path.join(bench['run_dir'], 'summary.md')).read()
    section = summary.split('## Kernel sockets vs kernel bypass at 64 B', 1)[1].split('\n## ', 1)[0]
    for path in ('ovs_dpdk', 'testpmd', 'memif', 'af_xdp', 'basicfwd'):
        assert '| %s |' % path in section, section
    cross = markdown_rows(summary.split('## Cross-checks', 1)[1].split('\n## ', 1)[0])
    plan = json.load(open(os.path.join(bench['run_dir'], 'raw', 'localhost', 'plan.json')))
    topology = plan['path_plans']['testpmd']['topology']
    # icperf against testpmd's own rate, same run, same topology
    check_testpmd_cross_row(cross, rows(bench), topology, 'tput')
    if topology == 'loop':
        # in a loop the senders alone are compared too: icperf send against testpmd txonly
        check_testpmd_cross_row(cross, rows(bench), topology, 'tx')
        for tool in ('icperf', 'testpmd'):
            found = [r for r in rows(bench) if (r['path'], r['tool'], r['mode'], r['metric']) ==
                     ('testpmd', tool, 'tx', 'tx_pps')]
            assert found and all(1e5 < float(r['value']) < 1e8 and r['topology'] == 'loop' for r in found), found


def test_report_sets_basicfwd_beside_the_study(bench):
    """The study's basicfwd row (CLOSER'20/CCIS'21: mean round trip, one host, 1000 pps, burst 4)
    stands beside our basicfwd latency case in the study comparison."""
    summary = open(os.path.join(bench['run_dir'], 'summary.md')).read()
    study = markdown_rows(summary.split('## Study comparison', 1)[1].split('\n## ', 1)[0])
    found = [r for r in study if (r['path'], r['study row'], r['study table'], r['size']) ==
             ('basicfwd', 'basicfwd', 'mean RTT, one host, burst 4', '64')]
    assert len(found) == 1, study
    assert float(found[0]['study'].rstrip('*')) == 3.5 and float(found[0]['ours'].rstrip('*')) > 0, found
