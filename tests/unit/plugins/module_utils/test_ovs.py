# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/ovs.py: parsers, and the managers against real runs recorded on the testbed.

tests/unit/fixtures/ovs/*.json hold, per step, the argv/rc/stdout/stderr of every command a manager
ran on this machine (Open vSwitch 3.1.0, no openvswitch.ko, no systemd) and what it returned.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import os

import pytest

from ansible_collections.kbypass.testbed.plugins.module_utils import ovs

from ...harness import Commands, call

FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures', 'ovs')


def load(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return json.load(handle)['steps']


# ============================================================================ parsers
@pytest.mark.parametrize('datum, value', [
    (['map', [['a', '1'], ['b', '2']]], {'a': '1', 'b': '2'}),
    (['set', []], None),
    (['set', [1]], 1),
    (['set', [['uuid', 'u1'], ['uuid', 'u2']]], ['u1', 'u2']),
    (['uuid', 'x'], 'x'),
    ('netdev', 'netdev'),
    (7, 7),
])
def test_ovs_value(datum, value):
    assert ovs.ovs_value(datum) == value


def test_parse_table_json():
    text = ('{"data":[["kbp-od-a","dpdkvhostuserclient",["map",[["vhost-server-path","/run/a.sock"]]],1,1,'
            '["set",[]]]],"headings":["name","type","options","ofport_request","ofport","error"]}')
    assert ovs.parse_table_json(text) == [{'name': 'kbp-od-a', 'type': 'dpdkvhostuserclient',
                                           'options': {'vhost-server-path': '/run/a.sock'},
                                           'ofport_request': 1, 'ofport': 1, 'error': None}]
    assert ovs.parse_table_json('{"data":[],"headings":["name"]}') == []


@pytest.mark.parametrize('text, status', [
    ('ovsdb-server is not running\novs-vswitchd is not running\n', {'ovsdb-server': None, 'ovs-vswitchd': None}),
    ('ovsdb-server is running with pid 6323\novs-vswitchd is running with pid 6337\n',
     {'ovsdb-server': 6323, 'ovs-vswitchd': 6337}),
    ('ovsdb-server is running with pid 9\n', {'ovsdb-server': 9, 'ovs-vswitchd': None}),
])
def test_parse_ctl_status(text, status):
    assert ovs.parse_ctl_status(text) == status


def test_parse_alternative():
    text = ('Name: ovs-vswitchd\nLink: /usr/sbin/ovs-vswitchd\nStatus: auto\n'
            'Best: /usr/lib/openvswitch-switch/ovs-vswitchd\nValue: /usr/lib/openvswitch-switch/ovs-vswitchd\n\n'
            'Alternative: /usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk\nPriority: 50\n\n'
            'Alternative: /usr/lib/openvswitch-switch/ovs-vswitchd\nPriority: 100\n')
    assert ovs.parse_alternative(text) == {
        'status': 'auto', 'value': ovs.PLAIN_BINARY, 'choices': [ovs.DPDK_BINARY, ovs.PLAIN_BINARY]}


@pytest.mark.parametrize('wanted, dumped', [
    ('in_port=kbp-od-a,actions=in_port', 'in_port="kbp-od-a" actions=IN_PORT'),
    ('actions=NORMAL', ' actions=NORMAL'),
    ('priority=32768,ip,nw_dst=10.0.0.1,actions=output:p1', 'ip,nw_dst=10.0.0.1 actions=output:"p1"'),
])
def test_normalize_flow_matches_dump(wanted, dumped):
    assert ovs.normalize_flow(wanted) == ovs.normalize_flow(dumped)


@pytest.mark.parametrize('one, other', [
    ('actions=NORMAL', 'priority=0 actions=NORMAL'),
    ('in_port=1,actions=in_port', 'in_port="kbp-od-a" actions=IN_PORT'),
])
def test_normalize_flow_differs(one, other):
    assert ovs.normalize_flow(one) != ovs.normalize_flow(other)


def test_normalize_flow_refuses_no_actions():
    with pytest.raises(ovs.OvsError) as exc:
        ovs.normalize_flow('in_port=1')
    assert 'actions=' in str(exc.value)


def test_parse_dump_flows_skips_headers():
    text = 'NXST_FLOW reply (xid=0x4):\n in_port=1 actions=IN_PORT\n priority=0 actions=NORMAL\n'
    assert ovs.parse_dump_flows(text) == ['in_port=1 actions=IN_PORT', 'priority=0 actions=NORMAL']


# ============================================================================ recorded runs
def _topology_manager(name, cli):
    vhost = dict(bridge='kbp-ovst', name='kbp-ovst-p', type='dpdkvhostuserclient', ofport_request=1)
    return {
        'bridge_create': lambda: ovs.BridgeManager(cli, 'kbp-ovst', 'netdev'),
        'bridge_again': lambda: ovs.BridgeManager(cli, 'kbp-ovst', 'netdev'),
        'bridge_system_check': lambda: ovs.BridgeManager(cli, 'kbp-ovst', 'system', check_mode=True),
        'bridge_system_fails': lambda: ovs.BridgeManager(cli, 'kbp-ovss', 'system'),
        'port_create': lambda: ovs.PortManager(cli, options={'vhost-server-path': '/run/kbp-t/a.sock'}, **vhost),
        'port_again': lambda: ovs.PortManager(cli, options={'vhost-server-path': '/run/kbp-t/a.sock'}, **vhost),
        'port_new_path': lambda: ovs.PortManager(cli, options={'vhost-server-path': '/run/kbp-t/b.sock'}, **vhost),
        'port_mtu': lambda: ovs.PortManager(cli, options={'vhost-server-path': '/run/kbp-t/b.sock'},
                                            mtu_request=2000, **vhost),
        'flows_pair': lambda: ovs.FlowsManager(cli, 'kbp-ovst', ['actions=NORMAL']),
        'flows_pair_again': lambda: ovs.FlowsManager(cli, 'kbp-ovst', ['actions=NORMAL']),
        'flows_loop_check': lambda: ovs.FlowsManager(cli, 'kbp-ovst', ['in_port=kbp-ovst-p,actions=in_port'],
                                                     check_mode=True),
        'flows_loop': lambda: ovs.FlowsManager(cli, 'kbp-ovst', ['in_port=kbp-ovst-p,actions=in_port']),
        'flows_loop_again': lambda: ovs.FlowsManager(cli, 'kbp-ovst', ['in_port=kbp-ovst-p,actions=in_port']),
        'port_absent': lambda: ovs.PortManager(cli, None, 'kbp-ovst-p', state='absent'),
        'port_absent_again': lambda: ovs.PortManager(cli, None, 'kbp-ovst-p', state='absent'),
        'bridge_absent': lambda: ovs.BridgeManager(cli, 'kbp-ovst', state='absent'),
        'bridge_absent_again': lambda: ovs.BridgeManager(cli, 'kbp-ovst', state='absent'),
    }[name]()


def _check(step, make):
    replay = Commands(step['calls'], step['name'])
    if step['error']:
        with pytest.raises(ovs.OvsError) as exc:
            make(replay).ensure()
        assert str(exc.value) == step['error']
    else:
        result = make(replay).ensure()
        result.pop('diff')
        assert json.loads(json.dumps(result)) == step['result']
    replay.verify()


def test_a_call_that_outlives_its_timeout_fails_naming_the_cause():
    # recorded on this machine (2026-12-04) after kill -9 ovs-vswitchd: the port goes from the
    # database, then ovs-vsctl waits for the dead daemon until --timeout's SIGALRM
    replay = Commands([call(['ovs-vsctl', '--timeout=60', '--if-exists', 'del-port', 'kbp-tmo'], -14, '',
                            '2026-12-04T19:10:58Z|00002|fatal_signal|WARN|terminating with signal 14 (Alarm clock)\n')])
    with pytest.raises(ovs.OvsError) as exc:
        ovs.OvsCli(replay).vsctl('--if-exists', 'del-port', 'kbp-tmo')
    assert 'rc=-14' in str(exc.value)
    assert 'gave up after 60 s (--timeout): is ovs-vswitchd running?' in str(exc.value)
    replay.verify()


@pytest.mark.parametrize('step', load('topology.json'), ids=[s['name'] for s in load('topology.json')])
def test_topology_recorded(step):
    _check(step, lambda replay: _topology_manager(step['name'], ovs.OvsCli(replay)))


def test_topology_expectations():
    steps = dict((s['name'], s) for s in load('topology.json'))
    assert [c['argv'][0] for c in steps['bridge_again']['calls']] == ['ovs-vsctl']
    assert steps['port_new_path']['result']['commands'][0] == ['--if-exists', 'del-port', 'kbp-ovst-p']
    assert steps['port_mtu']['result']['commands'] == [['set', 'Interface', 'kbp-ovst-p', 'mtu_request=2000']]
    assert 'kernel datapath (openvswitch.ko) is not available' in steps['bridge_system_fails']['error']
    # check mode only reads
    assert all('dump-flows' in c['argv'] for c in steps['flows_loop_check']['calls'])


def ledger_files(root):
    """Every file under the fake root, relative to it."""
    return sorted(os.path.relpath(os.path.join(d, n), str(root)) for d, _s, names in os.walk(str(root)) for n in names)


def test_service_recorded_sequence(tmp_path):
    """ovs alone, then ovs_dpdk joins (DPDK build, other_config), leaves, and ovs leaves: daemons stop.
    The record is in the ledger under a fake root, in the file state_file names."""
    steps = load('service.json')
    state_file = '/tmp/kbp/record-state.json'
    path = str(tmp_path) + state_file
    oc = {'dpdk-init': 'true', 'dpdk-socket-mem': '256', 'dpdk-lcore-mask': '0x1', 'pmd-cpu-mask': '0x2'}
    args = {'plain_check': dict(user='ovs', check_mode=True), 'plain_start': dict(user='ovs'),
            'plain_again': dict(user='ovs'),
            'dpdk_start': dict(user='ovs_dpdk', binary='dpdk', other_config=oc),
            'dpdk_again': dict(user='ovs_dpdk', binary='dpdk', other_config=oc),
            'dpdk_release': dict(user='ovs_dpdk', state='released'),
            'plain_release': dict(user='ovs', state='released'),
            'plain_release_again': dict(user='ovs', state='released')}
    for step in steps:
        _check(step, lambda replay: ovs.ServiceManager(replay, state_file=state_file, root=str(tmp_path),
                                                       **args[step['name']]))
        if step['name'] == 'plain_check':
            assert ledger_files(tmp_path) == []
        if step['name'] == 'plain_start':
            first = json.load(open(path))
            # recorded before the first change: the daemons were not running
            assert first['before']['ovsdb-server'] is False and first['before']['ovs-vswitchd'] is False
        if step['name'] == 'dpdk_start':
            record = json.load(open(path))
            assert record['before'] == first['before'], 'a later user keeps the first record'
            assert record['before']['alternative']['status'] == 'auto'
            assert record['users']['ovs_dpdk']['other_config'] == dict((k, None) for k in oc)
        if step['name'] == 'dpdk_release':
            assert list(json.load(open(path))['users']) == ['ovs']
    # the last user gave everything back: the file is gone, its directory stays
    assert ledger_files(tmp_path) == [] and os.path.isdir(os.path.dirname(path))
    by_name = dict((s['name'], s) for s in steps)
    assert by_name['plain_again']['result']['changed'] is False
    assert any('update-alternatives --set' in a for a in by_name['dpdk_start']['result']['actions'])
    assert any('restart ovs-vswitchd' in a for a in by_name['dpdk_release']['result']['actions'])
    assert 'stop ovsdb-server' in by_name['plain_release']['result']['actions']
    assert by_name['plain_release_again']['result']['changed'] is False


def test_service_refuses_missing_dpdk_build(tmp_path):
    replay = Commands([
        call(['/usr/share/openvswitch/scripts/ovs-ctl', 'status'], 1,
             'ovsdb-server is not running\novs-vswitchd is not running\n'),
        call(['update-alternatives', '--query', 'ovs-vswitchd'], 0,
             'Name: ovs-vswitchd\nStatus: auto\nValue: %s\n\nAlternative: %s\nPriority: 100\n'
             % (ovs.PLAIN_BINARY, ovs.PLAIN_BINARY)),
    ])
    with pytest.raises(ovs.OvsError) as exc:
        ovs.ServiceManager(replay, 'ovs_dpdk', binary='dpdk', root=str(tmp_path)).ensure()
    assert 'install openvswitch-switch-dpdk' in str(exc.value)
    assert ledger_files(tmp_path) == []
    replay.verify()


def test_service_reads_the_record_of_the_previous_version(tmp_path):
    """openvswitch.json as the previous version wrote it (indent 1) is the ledger's openvswitch owner."""
    record = {'before': {'ovsdb-server': False, 'ovs-vswitchd': False, 'other_config': None,
                         'alternative': {'status': 'auto', 'value': ovs.PLAIN_BINARY}},
              'users': {'ovs': {'binary': 'any', 'other_config': {}}}}
    path = str(tmp_path) + ovs.STATE_FILE
    os.makedirs(os.path.dirname(path))
    with open(path, 'w') as handle:
        handle.write(json.dumps(record, indent=1, sort_keys=True) + '\n')
    assert ovs.ServiceManager(None, 'ovs', root=str(tmp_path)).load() == record
    with open(path, 'w') as handle:
        handle.write('{"users": {}}\n')
    with pytest.raises(ovs.OvsError, match='has no before'):
        ovs.ServiceManager(None, 'ovs', root=str(tmp_path)).load()
