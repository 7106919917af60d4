# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.kbypass.testbed.plugins.modules import bench_plan

from ...params import module_parameters

TOP_LEVEL = ('parents', 'host', 'hosts', 'mtus', 'container_config', '_ansible_check_mode')


def args(given):
    """bench_plan's arguments: the benchmark parameters (table defaults + given) and the host's own."""
    out = dict((k, v) for k, v in given.items() if k in TOP_LEVEL)
    out['parameters'] = module_parameters(**dict((k, v) for k, v in given.items() if k not in TOP_LEVEL))
    return out


@pytest.fixture(autouse=True)
def two_cpus(monkeypatch):
    monkeypatch.setattr(bench_plan, 'read_online_cpus', lambda: [0, 1])


def test_plan_changes_nothing_and_returns_cases(run_module):
    out = run_module(bench_plan.main, args({'paths': ['linux_bridge'], 'sizes': [64], 'modes': ['tput'],
                                            'duration': 3, 'warmup': 1, '_ansible_check_mode': True}))
    assert out['changed'] is False and out['host_cpus'] == '0-1'
    assert [c['case_id'] for c in out['cases']] == ['linux_bridge.icperf.udp.tput.s64.rmax.b32']
    assert out['containers']['linux_bridge'][0]['config']['lxc.cgroup.cpuset.cpus'] == '0'


@pytest.mark.parametrize('given, message', [
    ({'paths': ['ovs_kernel']}, "benchmark_paths: unknown value 'ovs_kernel'; allowed values: linux_bridge, macvlan"),
    ({'paths': ['macvlan'], 'lat_sizes': [2000]}, 'benchmark_lat_sizes: frame size 2000 is outside 64..1514'),
    ({'paths': ['macvlan'], 'cpus': '5'}, 'benchmark_cpus: CPU(s) 5 do not exist on this host (online: 0-1)'),
    ({'paths': ['macvlan'], 'parents': {'macvlan': 'kbpt-nonexistent0'}},
     "macvlan_parent: link 'kbpt-nonexistent0' does not exist on this host"),
])
def test_bad_input_fails_with_the_variable_name(run_module, given, message):
    out = run_module(bench_plan.main, args(given))
    assert out['failed'] is True and message in out['msg']


@pytest.mark.parametrize('total, message', [
    (None, "sriov_pf: 'lo' is not an SR-IOV physical function (no /sys/class/net/lo/device/sriov_totalvfs)"),
    (1, 'sriov_pf: lo offers 1 VF (sriov_totalvfs) but the sriov path needs 2'),
])
def test_sriov_pf_is_read_from_the_host(run_module, monkeypatch, total, message):
    # lo exists on every host; it plays the PF, with the sriov_totalvfs given here
    read = []
    monkeypatch.setattr(bench_plan, 'read_total_vfs', lambda links: read.append(links) or dict(
        (name, total if name == 'lo' else None) for name in links))
    out = run_module(bench_plan.main, args({'paths': ['sriov'], 'parents': {'sriov': 'lo'}}))
    assert out['failed'] is True and message in out['msg']
    assert 'lo' in read[0]


def test_sriov_with_a_pf_is_planned_and_others_do_not_read_sysfs(run_module, monkeypatch):
    monkeypatch.setattr(bench_plan, 'read_total_vfs', lambda links: dict((name, 8 if name == 'lo' else None)
                                                                         for name in links))
    out = run_module(bench_plan.main, args({'paths': ['sriov'], 'parents': {'sriov': 'lo'}, 'sizes': [64],
                                            'modes': ['tput']}))
    assert [c['case_id'] for c in out['cases']] == ['sriov.icperf.udp.tput.s64.rmax.b32']
    monkeypatch.setattr(bench_plan, 'read_total_vfs', lambda links: pytest.fail('read without sriov'))
    assert run_module(bench_plan.main, args({'paths': ['macvlan'], 'parents': {'sriov': 'lo'}}))['changed'] is False


def test_sriov_without_a_pf_fails_before_anything(run_module):
    out = run_module(bench_plan.main, args({'paths': ['sriov']}))
    assert out['failed'] is True and out['msg'].startswith('sriov_pf is empty: set it to the interface of an '
                                                           'SR-IOV capable NIC')
