# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Integration of the VPP paths (vpp: vhost-user ports, vpp_memif: memif ports) on this machine,
beside testpmd, with a VPP already on the host (vpp_install: present) under the prefix that
KBYPASS_VPP_PREFIX names. Skipped with that reason without it.

Order: the plan-stage refusals first (nothing may change), one short benchmark, a second
provisioning pass (changes nothing), teardown (no VPP process, socket, interface, hugepage or file
left behind).
"""

from __future__ import annotations

import glob
import json
import os
import shutil

import pytest

from test_benchmark_local import LEFT_BEHIND, _out, host_state, playbook, recap_changed, rows

PREFIX = os.environ.get('KBYPASS_VPP_PREFIX', '')
PATHS = ['vpp', 'vpp_memif', 'testpmd']

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0 or not shutil.which('lxc-create') or not shutil.which('ansible-playbook'),
                       reason='needs root, LXC and ansible-playbook (make deps installs them)'),
    pytest.mark.skipif(not PREFIX or not os.path.exists(os.path.join(PREFIX, 'bin', 'vpp')),
                       reason='no VPP named: set KBYPASS_VPP_PREFIX to the install prefix of a VPP on this host '
                              '(bin/vpp, lib/x86_64-linux-gnu/vpp_plugins, share/vpp/api under it)'),
]


def extra(results, **more):
    values = {'benchmark_paths': PATHS, 'benchmark_reference_paths': [], 'benchmark_results_dir': results,
              'benchmark_duration': 4, 'benchmark_warmup': 1, 'benchmark_path_repeats': {},
              'vpp_install': 'present', 'vpp_prefix': PREFIX}
    values.update(more)
    return ['-e', json.dumps(values)]


def vpp_state():
    """What VPP can leave behind: its process, its sockets and shared memory, its files."""
    state = host_state()
    state['vpp'] = sorted(set(_out(['pgrep', '-x', '-l', 'vpp|vpp_main']).split()[1::2]))
    state['vpp_files'] = sorted(p for p in glob.glob('/run/kbypass/vpp*') + glob.glob('/var/lib/kbypass/vpp*') +
                                glob.glob('/var/log/kbypass/vpp*') + glob.glob('/dev/shm/*vpe-api*') +
                                glob.glob('/dev/shm/global_vm') + glob.glob('/run/vpp'))
    return state


@pytest.fixture(scope='module')
def bench(tmp_path_factory):
    results = str(tmp_path_factory.mktemp('vpp-results'))
    out = {'results': results, 'before': vpp_state(), 'bad': {}}
    try:
        for name, more in (('no_vpp', {'vpp_prefix': '/nonexistent/vpp'}),
                           ('plugin', {'vpp_plugins': ['vhost_plugin.so', 'nosuch_plugin.so']}),
                           ('worker', {'vpp_worker_cpus': '64'})):
            out['bad'][name] = playbook('benchmark.yml', *extra(results, **more), check=False)
            out['after_' + name] = vpp_state()
        out['run'] = playbook('benchmark.yml', *extra(results))
        out['run_dir'] = glob.glob(os.path.join(results, '*T*Z-*'))[0]
        out['again'] = playbook('benchmark.yml', '--tags', 'provision', *extra(results))
        yield out
    finally:
        out['teardown'] = playbook('teardown.yml', check=False)


@pytest.mark.parametrize('name, message', [
    ('no_vpp', 'vpp_binary /nonexistent/vpp/bin/vpp, vpp_plugin_dir /nonexistent/vpp/lib/x86_64-linux-gnu/vpp_plugins, '
               'vpp_api_dir /nonexistent/vpp/share/vpp/api (the *.api.json of that VPP) do not exist: install VPP from '
               'FD.io\'s packages'),
    ('plugin', 'vpp_plugins: nosuch_plugin.so is not in'),
    ('worker', 'vpp_worker_cpus: CPU(s) 64 do not exist on this host'),
])
def test_bad_input_stops_at_the_plan_with_nothing_changed(bench, name, message):
    proc = bench['bad'][name]
    assert proc.returncode != 0 and message in proc.stdout, proc.stdout[-3000:]
    assert bench['after_' + name] == bench['before']


@pytest.mark.parametrize('path, mode, metric', [
    ('vpp', 'tput', 'rx_pps'), ('vpp', 'lat', 'rtt_p50_us'),
    ('vpp_memif', 'tput', 'rx_pps'), ('vpp_memif', 'lat', 'rtt_p50_us'),
    ('testpmd', 'tput', 'rx_pps'),
])
def test_figures_of_the_vpp_paths(bench, path, mode, metric):
    found = [r for r in rows(bench) if (r['path'], r['tool'], r['mode'], r['metric']) == (path, 'icperf', mode, metric)]
    assert found, 'no %s row for %s/%s' % (metric, path, mode)
    for row in found:
        value = float(row['value'])
        assert (1e3 < value < 1e8) if metric.endswith('_pps') else (1.0 < value < 1e6), row
        assert row['status'] == 'ok' and row['topology'] in ('pair', 'loop')


def test_second_provisioning_changes_nothing(bench):
    assert recap_changed(bench['again'].stdout).get('localhost') == 0


def test_zz_teardown_leaves_no_vpp_behind(bench):
    proc = playbook('teardown.yml')
    state = vpp_state()
    assert proc.returncode == 0
    assert state['vpp'] == [] and state['vpp_files'] == [], state
    assert dict((k, state[k]) for k in LEFT_BEHIND) == dict((k, []) for k in LEFT_BEHIND), state
    assert state['hugepages'] == bench['before']['hugepages']
