# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.kbypass.testbed.plugins.module_utils import plan as P

from ...params import plan_params


@pytest.mark.parametrize('text, cpus', [
    ('0', [0]), ('0-3', [0, 1, 2, 3]), ('0-1,4,6-7', [0, 1, 4, 6, 7]), ('', []), (' 2 , 1 ', [1, 2]),
])
def test_parse_cpu_list(text, cpus):
    assert P.parse_cpu_list(text) == cpus


@pytest.mark.parametrize('text', ['a', '3-1', '0-', '1,,x'])
def test_parse_cpu_list_bad(text):
    with pytest.raises(P.PlanError, match='CPU list'):
        P.parse_cpu_list(text)


@pytest.mark.parametrize('cpus, text', [([0, 1, 2, 5], '0-2,5'), ([3], '3'), ([], ''), ([1, 0], '0-1')])
def test_format_cpu_list(cpus, text):
    assert P.format_cpu_list(cpus) == text


BASE = plan_params(paths=['linux_bridge', 'macvlan'], sizes=[64, 1500], lat_sizes=[64], duration=5, warmup=1)


def test_matrix_and_ids_are_stable():
    plan = P.make_plan(dict(BASE, reference_tools=['sockperf'], reference_paths=['linux_bridge']), [0, 1])
    ids = [c['case_id'] for c in plan['cases']]
    assert ids == [
        'linux_bridge.icperf.udp.tput.s64.rmax.b32', 'linux_bridge.icperf.udp.tput.s1500.rmax.b32',
        'linux_bridge.icperf.udp.lat.s64.r1000.b4',
        'linux_bridge.sockperf.udp.tput.s64.rmax.b1', 'linux_bridge.sockperf.udp.tput.s1500.rmax.b1',
        'linux_bridge.sockperf.udp.lat.s64.r1000.b1',
        'macvlan.icperf.udp.tput.s64.rmax.b32', 'macvlan.icperf.udp.tput.s1500.rmax.b32',
        'macvlan.icperf.udp.lat.s64.r1000.b4',
    ]
    again = P.make_plan(dict(BASE, reference_tools=['sockperf'], reference_paths=['linux_bridge']), [0, 1])
    assert ids == [c['case_id'] for c in again['cases']]
    case = plan['cases'][0]
    assert case['network']['a']['ip'] == '198.18.1.1' and case['network']['b']['name'] == 'kbp-br-b'
    assert case['duration_s'] == 5 and case['warmup_s'] == 1 and case['rate_pps'] == 0


@pytest.mark.parametrize('cpus, topology, tx_cases', [
    ([0, 1], 'loop', ['testpmd.icperf.dpdk.tx.s64.rmax.b32', 'testpmd.testpmd.dpdk.tx.s64.rmax.b32']),
    ([0, 1, 2, 3], 'pair', []),     # pair: tput's sender and receiver already are txonly and rxonly
])
def test_senders_alone_are_compared_in_a_loop_only(cpus, topology, tx_cases):
    plan = P.make_plan(dict(BASE, paths=['testpmd'], modes=['tput', 'lat'], sizes=[64],
                            reference_tools=['testpmd'], reference_paths=['testpmd']), cpus)
    assert plan['path_plans']['testpmd']['topology'] == topology
    assert [c['case_id'] for c in plan['cases'] if c['mode'] == 'tx'] == tx_cases
    assert all(c['rate_pps'] == 0 and c['topology'] == topology for c in plan['cases'] if c['mode'] == 'tx')
    without_ref = P.make_plan(dict(BASE, paths=['testpmd'], modes=['tput'], sizes=[64]), cpus)
    assert [c for c in without_ref['cases'] if c['mode'] == 'tx'] == []


@pytest.mark.parametrize('params, message', [
    ({'paths': ['linux_brdge']}, "benchmark_paths: unknown value 'linux_brdge'; allowed values: linux_bridge, macvlan"),
    ({'paths': []}, 'benchmark_paths must be a non-empty list'),
    ({'sizes': [63]}, 'benchmark_sizes: frame size 63 is outside 64..1514 for path linux_bridge'),
    ({'sizes': [1515]}, 'outside 64..1514'),
    ({'rates': [-5]}, "benchmark_rates: -5 must be > 0 packets per second, or 'max'"),
    ({'rates': ['fast']}, "benchmark_rates: 'fast' is not a rate"),
    ({'bursts': [0]}, 'benchmark_bursts: 0 must be between 1 and 1024'),
    ({'duration': 0}, 'benchmark_duration: 0 must be between 1'),
    ({'warmup': 5}, 'benchmark_warmup: 5 must be a whole number of seconds, >= 0 and below benchmark_duration'),
    ({'backends': ['dpdk']}, "benchmark_backends: unknown value 'dpdk'"),
    ({'cpus': '0-7'}, 'benchmark_cpus: CPU(s) 2-7 do not exist on this host (online: 0-1)'),
    ({'cpus': 'x'}, "bad CPU list 'x'"),
    ({'reference_tools': ['iperf9']}, "benchmark_reference_tools: unknown value 'iperf9'"),
    ({'reference_tools': ['sockperf'], 'reference_paths': ['macvlan'], 'paths': ['linux_bridge']},
     "benchmark_reference_paths: 'macvlan' is not in benchmark_paths"),
])
def test_bad_input_names_the_variable(params, message):
    with pytest.raises(P.PlanError) as err:
        P.make_plan(dict(BASE, **params), [0, 1])
    assert message in str(err.value)


def test_mtu_raises_the_size_limit():
    plan = P.make_plan(dict(BASE, sizes=[9000]), [0, 1], mtus={'linux_bridge': 9000, 'macvlan': 9000})
    assert {c['size'] for c in plan['cases'] if c['mode'] == 'tput'} == {9000}


@pytest.mark.parametrize('host, wanted, cpp, reserve, cpus, shared', [
    ([0, 1], None, 1, True, {'a': '0', 'b': '1'}, False),              # 2 CPUs: no housekeeping left
    ([0, 1, 2, 3], None, 1, True, {'a': '1', 'b': '2'}, False),        # CPU 0 kept for the host
    ([0, 1, 2, 3], None, 2, True, {'a': '0-1', 'b': '2-3'}, False),    # not enough to keep one
    ([0, 1], None, 2, True, {'a': '0-1', 'b': '0-1'}, True),           # oversubscribed
    ([0, 1, 2, 3], [2, 3], 1, False, {'a': '2', 'b': '3'}, False),
    ([0], None, 1, True, {'a': '0', 'b': '0'}, True),
])
def test_plan_cpus(host, wanted, cpp, reserve, cpus, shared):
    out = P.plan_cpus(host, wanted, ('a', 'b'), cpp, reserve)
    assert out['cpus'] == cpus
    assert out['cores_shared'] is shared and out['oversubscribed'] is shared


def test_oversubscription_is_recorded_in_every_case():
    plan = P.make_plan(dict(BASE, cpus_per_container=2), [0, 1])
    assert all(c['oversubscribed'] and c['cores_shared'] for c in plan['cases'])
    assert 'a, b need 4 CPUs, host offers 2' in plan['cpu_plan']['note']


def test_containers_carry_cpuset_and_common_config():
    mounts = {'lxc.mount.entry': ['/opt/kbypass/bin opt/kbypass/bin none bind,ro,create=dir 0 0']}
    plan = P.make_plan(dict(BASE, container_config=mounts), [0, 1, 2])
    a, b = plan['containers']['macvlan']
    assert a['name'] == 'kbp-mv-a' and a['config']['lxc.cgroup.cpuset.cpus'] == '1'
    assert b['config']['lxc.cgroup.cpuset.cpus'] == '2'
    assert b['config']['lxc.mount.entry'] == P.BUSYBOX_MOUNTS + mounts['lxc.mount.entry']
    debian = P.make_plan(dict(BASE, container_config=mounts, container_template='debian'), [0, 1, 2])
    assert debian['containers']['macvlan'][0]['config']['lxc.mount.entry'] == mounts['lxc.mount.entry']
    assert set(plan['all_path_vars']) == set(P.DATA_PATHS)
    assert plan['path_vars']['macvlan'] == {'role': 'kbypass.testbed.macvlan', 'vars': {
        'macvlan_containers': plan['containers']['macvlan'], 'macvlan_mtu': 1500}}


@pytest.mark.parametrize('path, host, topology, want_topology, cpus, over', [
    # 2 vCPUs: a polling switch and two polling peers do not fit: the switch loops a's traffic back
    ('testpmd', [0, 1], 'auto', 'loop', {'switch': '0', 'a': '1', 'b': '1', 'main': '1'}, False),
    ('ovs_dpdk', [0, 1], 'auto', 'loop', {'switch': '0', 'a': '1', 'b': '1', 'main': '1'}, False),
    ('basicfwd', [0, 1], 'auto', 'loop', {'switch': '0', 'a': '1', 'b': '1', 'main': '1'}, False),
    # asked for the study's pair anyway: three pollers share two CPUs, and it says so
    ('testpmd', [0, 1], 'pair', 'pair', {'switch': '0-1', 'a': '0-1', 'b': '0-1', 'main': '0-1'}, True),
    # enough CPUs: switch first, then the peers, CPU 0 for housekeeping and the switch's main thread
    ('testpmd', [0, 1, 2, 3, 4], 'auto', 'pair', {'switch': '1', 'a': '2', 'b': '3', 'main': '0'}, False),
    ('testpmd', [0, 1, 2, 3], 'auto', 'pair', {'switch': '1', 'a': '2', 'b': '3', 'main': '0'}, False),
    ('basicfwd', [0, 1, 2, 3], 'auto', 'pair', {'switch': '1', 'a': '2', 'b': '3', 'main': '0'}, False),
    ('basicfwd', [0, 1], 'pair', 'pair', {'switch': '0-1', 'a': '0-1', 'b': '0-1', 'main': '0-1'}, True),
    ('testpmd', [0, 1, 2], 'loop', 'loop', {'switch': '1', 'a': '2', 'b': '2', 'main': '0'}, False),
    # no polling switch: always the pair
    ('memif', [0, 1], 'auto', 'pair', {'a': '0', 'b': '1'}, False),
    ('af_xdp', [0, 1], 'loop', 'pair', {'a': '0', 'b': '1'}, False),
])
def test_path_topology_fits_the_cpus(path, host, topology, want_topology, cpus, over):
    out = P.plan_path_cpus(path, host, 1, 1, topology)
    assert out['topology'] == want_topology
    assert out['cpus'] == cpus
    assert out['oversubscribed'] is over and out['cores_shared'] is over


def test_dpdk_paths_plan_dpdk_cases_and_devices():
    plan = P.make_plan(dict(BASE, paths=['linux_bridge', 'testpmd', 'memif', 'ovs_dpdk', 'af_xdp', 'ovs'],
                            reference_tools=['sockperf', 'testpmd'], reference_paths=['linux_bridge', 'testpmd']),
                       [0, 1])
    by_path = {}
    for case in plan['cases']:
        by_path.setdefault(case['path'], []).append(case)
    assert {c['backend'] for c in by_path['testpmd']} == {'dpdk'}
    assert {c['backend'] for c in by_path['ovs']} == {'udp'}
    assert {c['tool'] for c in by_path['testpmd']} == {'icperf', 'testpmd'}
    assert {c['tool'] for c in by_path['linux_bridge']} == {'icperf', 'sockperf'}
    assert 'testpmd.testpmd.dpdk.tput.s64.rmax.b32' in {c['case_id'] for c in by_path['testpmd']}
    tp = by_path['testpmd'][0]
    assert tp['topology'] == 'loop' and not tp['oversubscribed']
    assert tp['network']['a']['vdev'] == ('net_virtio_user0,path=/run/kbypass/testpmd/kbp-tp-a.sock,queues=1,'
                                          'mac=02:6b:62:05:00:01')
    assert tp['network']['eal'] == '--in-memory --single-file-segments --no-pci'
    od = by_path['ovs_dpdk'][0]['network']
    assert 'server=1' in od['b']['vdev'] and od['b']['ready'] == 'link up'
    mf = by_path['memif'][0]['network']
    assert 'role=server' in mf['b']['vdev'] and 'role=client' in mf['a']['vdev'] and mf['b']['ready'] == 'started'
    # the sockets a server peer creates (the run clears a stale one first): memif's b, both virtio-user servers
    assert mf['b']['listens'] == '/run/kbypass/memif/memif.sock' and 'listens' not in mf['a']
    assert [od[p]['listens'] for p in 'ab'] == ['/run/kbypass/ovs_dpdk/kbp-od-%s.sock' % p for p in 'ab']
    assert 'listens' not in tp['network']['a']
    assert by_path['memif'][0]['topology'] == 'pair'
    sock_mount = '/run/kbypass/testpmd run/kbypass/testpmd none bind,create=dir 0 0'
    assert sock_mount in plan['containers']['testpmd'][0]['config']['lxc.mount.entry']
    assert not [m for m in plan['containers']['ovs'][0]['config']['lxc.mount.entry'] if 'run/kbypass' in m]
    assert plan['path_plans']['testpmd']['socket_dir'] == '/run/kbypass/testpmd'


@pytest.mark.parametrize('host, topology', [([0, 1], 'loop'), ([0, 1, 2, 3], 'pair')])
def test_basicfwd_is_planned_like_testpmd(host, topology):
    """The same topology and CPUs as testpmd's switch, its own sockets and addresses, and the
    switch's variables handed to its role (the benchmark reserves the hugepages)."""
    plan = P.make_plan(dict(BASE, paths=['basicfwd', 'testpmd'], modes=['tput', 'lat'], sizes=[64]), host)
    bf, tp = plan['path_plans']['basicfwd'], plan['path_plans']['testpmd']
    assert bf['topology'] == tp['topology'] == topology and bf['cpus'] == tp['cpus'] and not bf['oversubscribed']
    cases = [c for c in plan['cases'] if c['path'] == 'basicfwd']
    assert sorted(c['case_id'] for c in cases) == ['basicfwd.icperf.dpdk.lat.s64.r1000.b4',
                                                   'basicfwd.icperf.dpdk.tput.s64.rmax.b32']
    assert {c['topology'] for c in cases} == {topology}
    assert cases[0]['network']['a']['vdev'] == ('net_virtio_user0,path=/run/kbypass/basicfwd/kbp-bf-a.sock,'
                                                'queues=1,mac=02:6b:62:09:00:01')
    role = plan['path_vars']['basicfwd']
    assert role['role'] == 'kbypass.testbed.basicfwd'
    assert dict((k, v) for k, v in role['vars'].items() if k != 'basicfwd_containers') == {
        'basicfwd_mtu': 1500, 'basicfwd_topology': topology, 'basicfwd_cpus': bf['cpus']['switch'],
        'basicfwd_main_cpus': bf['cpus']['main'], 'basicfwd_socket_dir': '/run/kbypass/basicfwd',
        'basicfwd_dpdk': False}
    assert [c['name'] for c in role['vars']['basicfwd_containers']] == ['kbp-bf-a', 'kbp-bf-b']


@pytest.mark.parametrize('params, message', [
    ({'paths': ['testpmd'], 'reference_tools': ['sockperf'], 'reference_paths': ['testpmd']},
     "benchmark_reference_paths: 'testpmd' is a dpdk path and no reference tool for it"),
    ({'paths': ['testpmd'], 'topology': 'ring'}, "benchmark_topology: unknown value 'ring'"),
    ({'paths': ['memif'], 'dpdk_memory': 'lots'}, "benchmark_dpdk_memory: unknown value 'lots'"),
])
def test_bad_dpdk_input(params, message):
    with pytest.raises(P.PlanError) as err:
        P.make_plan(dict(BASE, **params), [0, 1])
    assert message in str(err.value)


def test_repeats_run_in_alternating_rounds():
    plan = P.make_plan(dict(BASE, paths=['linux_bridge', 'testpmd'], modes=['tput'], sizes=[64],
                            reference_tools=['testpmd'], reference_paths=['testpmd'], path_repeats={'testpmd': 3}),
                       [0, 1])
    ids = [c['case_id'] for c in plan['cases'] if c['path'] == 'testpmd']
    # 2 CPUs: the loop topology, where the senders alone (mode tx) are compared too
    assert ids == ['testpmd.%s.dpdk.%s.s64.rmax.b32.rep%d' % (tool, mode, rnd) for rnd in (1, 2, 3)
                   for mode, tool in (('tput', 'icperf'), ('tput', 'testpmd'), ('tx', 'icperf'), ('tx', 'testpmd'))]
    assert [c['repeat'] for c in plan['cases'] if c['path'] == 'linux_bridge'] == [None]
    assert [c['case_id'] for c in plan['cases'] if c['path'] == 'linux_bridge'] == [
        'linux_bridge.icperf.udp.tput.s64.rmax.b32']


@pytest.mark.parametrize('params, message', [
    ({'repeats': 0}, 'benchmark_repeats: 0 must be between 1 and 100'),
    ({'path_repeats': {'netmap': 2}}, "benchmark_path_repeats: unknown path 'netmap'"),
    ({'path_repeats': {'testpmd': 'x'}}, "benchmark_path_repeats[testpmd]: 'x' is not a whole number"),
])
def test_bad_repeats(params, message):
    with pytest.raises(P.PlanError) as err:
        P.make_plan(dict(BASE, **params), [0, 1])
    assert message in str(err.value)


CROSS = dict(BASE, paths=['macvlan', 'ovs'], sizes=[64], hosts=['lab1', 'lab2'], cross_pairs=[{'a': 'lab1', 'b': 'lab2'}],
             cross_paths=['ovs', 'macvlan'], parents={'macvlan': 'data0', 'ovs': 'data0'})


def test_hosts_get_their_own_addresses_and_macs():
    one = P.make_plan(dict(CROSS, host='lab1'), [0, 1])
    two = P.make_plan(dict(CROSS, host='lab2'), [0, 1])
    assert (one['host_index'], two['host_index']) == (0, 1)
    nets = [p['cases'][0]['network'] for p in (one, two)]
    assert [(n['a']['ip'], n['b']['ip']) for n in nets] == [('198.18.2.1', '198.18.2.2'), ('198.18.2.3', '198.18.2.4')]
    assert nets[1]['a']['mac'] == '02:6b:62:02:01:01' and nets[0]['b']['mac'] == '02:6b:62:02:00:02'
    assert two['containers']['macvlan'][1]['ip'] == '198.18.2.4'
    # the single-host plan is unchanged
    assert P.make_plan(BASE, [0, 1])['cases'][0]['network']['a']['mac'] == '02:6b:62:01:00:01'


def test_two_host_cases_are_planned_on_the_sending_host():
    one = P.make_plan(dict(CROSS, host='lab1'), [0, 1])
    two = P.make_plan(dict(CROSS, host='lab2'), [0, 1])
    assert two['cross_cases'] == []
    ids = [c['case_id'] for c in one['cross_cases']]
    assert ids == ['ovs.icperf.udp.tput.s64.rmax.b32.to-lab2', 'ovs.icperf.udp.lat.s64.r1000.b4.to-lab2',
                   'macvlan.icperf.udp.tput.s64.rmax.b32.to-lab2', 'macvlan.icperf.udp.lat.s64.r1000.b4.to-lab2']
    case = one['cross_cases'][0]
    assert case['hosts'] == {'a': 'lab1', 'b': 'lab2'} and case['peer_host'] == 'lab2'
    # a is lab1's own container a, b is the container lab2's plan gives to b
    assert case['network']['a'] == [c for c in one['cases'] if c['path'] == 'ovs'][0]['network']['a']
    assert case['network']['b'] == [c for c in two['cases'] if c['path'] == 'ovs'][0]['network']['b']
    assert not [c for c in one['cases'] if c.get('peer_host')]


@pytest.mark.parametrize('params, message', [
    ({'cross_pairs': [{'a': 'lab1', 'b': 'lab3'}]}, "benchmark_cross_pairs: host 'lab3' (b) is not in the play; hosts: lab1, lab2"),
    ({'cross_pairs': [{'a': 'lab1', 'b': 'lab1'}]}, 'pairs a host with itself'),
    ({'cross_pairs': [['lab1', 'lab2']]}, 'must be a mapping with exactly the keys a'),
    ({'cross_paths': []}, 'benchmark_cross_paths is empty'),
    ({'cross_paths': ['memif']}, "benchmark_cross_paths: 'memif' cannot join two hosts; allowed: macvlan, ovs"),
    ({'paths': ['macvlan']}, "benchmark_cross_paths: 'ovs' is not in benchmark_paths (macvlan) of lab1"),
    ({'parents': {'macvlan': 'data0'}}, 'set ovs_uplink (on lab1) to the NIC that links the hosts'),
])
def test_bad_two_host_input(params, message):
    with pytest.raises(P.PlanError) as err:
        P.make_plan(dict(CROSS, host='lab1', **params), [0, 1])
    assert message in str(err.value)


def test_uplink_must_exist_on_the_host():
    with pytest.raises(P.PlanError) as err:
        P.make_plan(dict(CROSS, host='lab1'), [0, 1], host_links=['lo', 'eth0'])
    assert "macvlan_parent: link 'data0' does not exist on this host" in str(err.value)
    with pytest.raises(P.PlanError) as err:
        P.make_plan(dict(CROSS, host='lab1', parents={'macvlan': 'data1', 'ovs': 'data0'}), [0, 1],
                    host_links=['lo', 'data1'])
    assert "ovs_uplink: link 'data0' does not exist on this host; set ovs_uplink to one of: data1, lo" in str(err.value)


# the sriov path: its PF (sriov_pf) is checked against {link: sriov_totalvfs} as bench_plan reads them
SRIOV = dict(BASE, paths=['linux_bridge', 'sriov'], sizes=[64], parents={'sriov': 'ens1f0'})
LINKS = ['lo', 'eth0', 'ens1f0', 'ens1f1', 'ens1f0v0']
TOTAL_VFS = {'lo': None, 'eth0': None, 'ens1f0': 8, 'ens1f1': 1, 'ens1f0v0': None}


def test_sriov_is_a_kernel_path_with_its_own_address_block():
    plan = P.make_plan(SRIOV, [0, 1, 2], host_links=LINKS, total_vfs=TOTAL_VFS)
    cases = [c for c in plan['cases'] if c['path'] == 'sriov']
    assert [c['case_id'] for c in cases] == ['sriov.icperf.udp.tput.s64.rmax.b32', 'sriov.icperf.udp.lat.s64.r1000.b4']
    net = cases[0]['network']
    assert (net['a']['name'], net['a']['ip'], net['a']['mac']) == ('kbp-sv-a', '198.18.8.1', '02:6b:62:08:00:01')
    assert (net['b']['name'], net['b']['ip'], net['b']['mac']) == ('kbp-sv-b', '198.18.8.2', '02:6b:62:08:00:02')
    assert 'vdev' not in net['a'] and 'eal' not in net
    assert plan['path_plans']['sriov']['topology'] == 'pair' and plan['path_plans']['sriov']['socket_dir'] == ''
    assert [c['name'] for c in plan['containers']['sriov']] == ['kbp-sv-a', 'kbp-sv-b']
    assert plan['containers']['sriov'][1]['mac'] == '02:6b:62:08:00:02'
    assert plan['dpdk_paths'] == [] and 'sriov' in plan['known_paths']
    # the earlier paths keep their blocks (DATA_PATHS is only appended to; an index may be kept
    # for a path still to come)
    indexes = [P.DATA_PATHS[p]['index'] for p in P.DATA_PATHS]
    assert indexes[:8] == list(range(1, 9)) and indexes == sorted(set(indexes))


@pytest.mark.parametrize('parents, links, total_vfs, message', [
    # no PF named: the message says what to set, and lists the PFs there are when it can
    ({}, None, None, 'sriov_pf is empty: set it to the interface of an SR-IOV capable NIC (a PF: '
                     '/sys/class/net/<if>/device/sriov_totalvfs exists) or remove sriov from benchmark_paths'),
    ({'sriov': ''}, LINKS, TOTAL_VFS, 'sriov_pf is empty: set it to'),
    ({'sriov': ''}, LINKS, TOTAL_VFS, 'SR-IOV PFs on this host: ens1f0 (8 VFs), ens1f1 (1 VF)'),
    ({'macvlan': 'eth0'}, LINKS, TOTAL_VFS, 'sriov_pf is empty'),
    ({'sriov': ''}, ['lo'], {'lo': None}, 'SR-IOV PFs on this host: none (no interface has device/sriov_totalvfs'),
    # a link that is not there
    ({'sriov': 'ens9'}, LINKS, TOTAL_VFS, "sriov_pf: link 'ens9' does not exist on this host; set sriov_pf to the "
                                          'interface of an SR-IOV capable NIC'),
    ({'sriov': 'ens9'}, LINKS, TOTAL_VFS, 'or remove sriov from benchmark_paths; SR-IOV PFs on this host: ens1f0'),
    # a link that is not a PF (a plain NIC, a VF, a virtual link)
    ({'sriov': 'eth0'}, LINKS, TOTAL_VFS, "sriov_pf: 'eth0' is not an SR-IOV physical function (no "
                                          '/sys/class/net/eth0/device/sriov_totalvfs)'),
    ({'sriov': 'ens1f0v0'}, LINKS, TOTAL_VFS, 'enable SR-IOV for the NIC in the firmware, or remove sriov from '
                                              'benchmark_paths; SR-IOV PFs on this host: ens1f0 (8 VFs)'),
    # too few VFs for the two containers
    ({'sriov': 'ens1f1'}, LINKS, TOTAL_VFS, 'sriov_pf: ens1f1 offers 1 VF (sriov_totalvfs) but the sriov path '
                                            'needs 2, one per container'),
    ({'sriov': 'ens1f1'}, LINKS, dict(TOTAL_VFS, ens1f1=0), 'ens1f1 offers 0 VFs'),
])
def test_sriov_needs_a_pf_with_a_vf_per_container(parents, links, total_vfs, message):
    with pytest.raises(P.PlanError) as err:
        P.make_plan(dict(SRIOV, parents=parents), [0, 1], host_links=links, total_vfs=total_vfs)
    assert message in str(err.value)


def test_sriov_pf_is_only_checked_when_sriov_is_planned():
    plan = P.make_plan(dict(SRIOV, paths=['linux_bridge'], parents={'sriov': 'eth0'}), [0, 1],
                       host_links=LINKS, total_vfs=TOTAL_VFS)
    assert plan['paths'] == ['linux_bridge']
    # without a host's links at hand only the empty name is refused
    assert P.make_plan(dict(SRIOV, parents={'sriov': 'ens9'}), [0, 1])['paths'] == ['linux_bridge', 'sriov']


def test_read_total_vfs(tmp_path):
    for name, total in (('ens1f0', '7\n'), ('bad0', 'x')):
        folder = tmp_path / 'sys' / 'class' / 'net' / name / 'device'
        folder.mkdir(parents=True)
        (folder / 'sriov_totalvfs').write_text(total)
    (tmp_path / 'sys' / 'class' / 'net' / 'eth0' / 'device').mkdir(parents=True)
    assert P.read_total_vfs(['ens1f0', 'eth0', 'bad0', 'lo'], root=str(tmp_path)) == \
        {'ens1f0': 7, 'eth0': None, 'bad0': None, 'lo': None}
    assert P.read_total_vfs(None) == {}


SRIOV_CROSS = dict(CROSS, paths=['macvlan', 'sriov'], cross_paths=['sriov'], parents={'sriov': 'ens1f0'})


def test_two_hosts_over_sriov():
    one = P.make_plan(dict(SRIOV_CROSS, host='lab1'), [0, 1], host_links=LINKS, total_vfs=TOTAL_VFS)
    two = P.make_plan(dict(SRIOV_CROSS, host='lab2'), [0, 1], host_links=LINKS, total_vfs=TOTAL_VFS)
    assert [c['case_id'] for c in one['cross_cases']] == ['sriov.icperf.udp.tput.s64.rmax.b32.to-lab2',
                                                          'sriov.icperf.udp.lat.s64.r1000.b4.to-lab2']
    assert two['cross_cases'] == []
    net = one['cross_cases'][0]['network']
    # VFs of the two hosts' PFs on one wire: a of lab1 to b of lab2, every address and MAC its own
    assert (net['a']['ip'], net['a']['mac']) == ('198.18.8.1', '02:6b:62:08:00:01')
    assert (net['b']['ip'], net['b']['mac']) == ('198.18.8.4', '02:6b:62:08:01:02')
    assert net['b'] == [c for c in two['cases'] if c['path'] == 'sriov'][0]['network']['b']
    assert [c['ip'] for c in two['containers']['sriov']] == ['198.18.8.3', '198.18.8.4']


@pytest.mark.parametrize('params, message', [
    ({'parents': {}}, 'sriov_pf is empty'),
    ({'paths': ['macvlan']}, "benchmark_cross_paths: 'sriov' is not in benchmark_paths (macvlan) of lab1"),
    ({'cross_paths': ['linux_bridge']}, "'linux_bridge' cannot join two hosts; allowed: macvlan, ovs, sriov"),
])
def test_bad_two_host_input_over_sriov(params, message):
    with pytest.raises(P.PlanError) as err:
        P.make_plan(dict(SRIOV_CROSS, host='lab1', **params), [0, 1])
    assert message in str(err.value)


def test_search_plans_one_case_per_backend_size_and_burst():
    plan = P.make_plan(dict(BASE, method='search', paths=['linux_bridge', 'testpmd'], modes=['tput', 'lat'],
                            sizes=[64, 1500], rates=[1000, 'max'], bursts=[32], reference_tools=['sockperf'],
                            reference_paths=['linux_bridge']), [0, 1])
    search = [c for c in plan['cases'] if c['mode'] == 'search']
    assert sorted(c['case_id'] for c in search) == [
        'linux_bridge.icperf.udp.search.s1500.rmax.b32', 'linux_bridge.icperf.udp.search.s64.rmax.b32',
        'testpmd.icperf.dpdk.search.s1500.rmax.b32', 'testpmd.icperf.dpdk.search.s64.rmax.b32']
    # benchmark_rates is not used by a search; the latency cases and the reference tools stay
    assert not [c for c in plan['cases'] if c['mode'] == 'tput' and c['tool'] == 'icperf']
    assert [c['case_id'] for c in plan['cases'] if c['tool'] == 'sockperf' and c['mode'] == 'tput']
    assert [c for c in plan['cases'] if c['mode'] == 'lat' and c['tool'] == 'icperf']
    opts = search[0]['search']
    assert opts == {'goals': {'ndr': 0.0, 'pdr': 0.005}, 'precision': 0.005, 'precision_pps': 10000,
                    'short_s': BASE['warmup'] + 1, 'full_s': BASE['duration'], 'max_s': 600, 'latency': True,
                    'soak_s': 0}
    assert all(c['offered_tolerance'] == 0.05 for c in plan['cases'])
    # the sweep plans no search and the same ids as before
    sweep = P.make_plan(dict(BASE, paths=['linux_bridge']), [0, 1])
    assert not [c for c in sweep['cases'] if c['mode'] == 'search' or 'search' in c]


@pytest.mark.parametrize('params, message', [
    ({'method': 'mlr'}, "benchmark_method: unknown value 'mlr'; allowed values: sweep, search"),
    ({'search_pdr_loss': 0.5, 'search_ndr_loss': 0.6}, 'benchmark_search_pdr_loss: 0.5 is below benchmark_search_ndr_loss'),
    ({'search_pdr_loss': 1.0}, 'benchmark_search_pdr_loss: 1.0 must be a ratio from 0 to 1 (excluded)'),
    ({'search_ndr_loss': -0.1}, 'benchmark_search_ndr_loss: -0.1 must be a ratio'),
    ({'search_precision': 'fine'}, "benchmark_search_precision: 'fine' is not a number"),
    ({'search_precision_pps': 0}, 'benchmark_search_precision_pps: 0 must be between 1'),
    ({'search_trial_s': 20}, 'benchmark_search_trial_s: 20 s after the 1 s warm-up is longer than benchmark_duration '
                             '(5 s, the confirming trials); make it at most 4'),
    ({'search_max_s': 5}, 'benchmark_search_max_s: 5 s leaves no room'),
    ({'search_soak_s': 3}, 'benchmark_search_soak_s: 3 s is shorter than a confirming trial (benchmark_duration, '
                           '5 s); give 0 (no soak) or at least 5'),
    ({'search_soak_s': -60}, 'benchmark_search_soak_s: -60 must be between 1'),
])
def test_bad_search_input_names_the_variable(params, message):
    with pytest.raises(P.PlanError) as err:
        P.make_plan(dict(BASE, **dict({'method': 'search'}, **params)), [0, 1])
    assert message in str(err.value)


def test_bad_offered_tolerance_names_the_variable():
    with pytest.raises(P.PlanError, match='benchmark_offered_tolerance: 0.9 must be a ratio from 0 to 0.5'):
        P.make_plan(dict(BASE, offered_tolerance=0.9), [0, 1])


def test_warmup_stable_is_a_ratio_every_case_takes_along():
    with pytest.raises(P.PlanError, match='benchmark_warmup_stable: 5 must be a ratio from 0 to 1'):
        P.make_plan(dict(BASE, warmup_stable=5), [0, 1])
    cases = P.make_plan(dict(BASE, warmup_stable=0.05), [0, 1])['cases']
    assert cases and all(c['warmup_stable'] == 0.05 and c['offered_tolerance'] == 0.05 for c in cases)
