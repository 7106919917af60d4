# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/vpp.py against the API exchanges recorded from a real VPP (record_vpp.py; the VPP
version is the fixtures' folder name, VPP 26.06 built from FD.io's public source): every recorded
call made in order with the same arguments, none left (harness.ReplayApi)."""

from __future__ import annotations

import collections
import copy
import glob
import json
import os

import pytest

from ansible_collections.kbypass.testbed.plugins.module_utils import vpp as V

from ...harness import ReplayApi, api_call
from .record_vpp import scenes

FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures', 'vpp')
VERSIONS = sorted(os.path.basename(p) for p in glob.glob(os.path.join(FIXTURES, '*')) if os.path.isdir(p))
VERSION = VERSIONS[-1]


def recording(name, version=VERSION):
    with open(os.path.join(FIXTURES, version, name + '.json')) as handle:
        return json.load(handle)


def errors_of(rec):
    return dict((int(k), v) for k, v in rec['errors'].items())


def replay(name, version=VERSION):
    """Run the scene on the recorded replies; (results, recording)."""
    rec = recording(name, version)
    client = V.VppClient(ReplayApi(rec), errors_of(rec))
    results = []
    with client:
        client.version()
        try:
            scenes(rec['socket_dir'])[name](client, results)
        except V.VppError as exc:
            results.append({'error': str(exc)})
    return json.loads(json.dumps(results)), rec


def test_fixtures_name_the_vpp_version():
    assert VERSIONS and all(v[:2].isdigit() and '.' in v for v in VERSIONS)
    assert recording('info')['vpp_version'] == VERSION


@pytest.mark.parametrize('name', ['info', 'vhost_user', 'memif', 'bridge_domain', 'bridge_domain_exists',
                                  'xconnect', 'interface', 'cleanup'])
def test_scene_replays_as_recorded(name):
    results, rec = replay(name)
    assert results == rec['results']


def test_info_reads_version_plugins_and_the_messages_chosen():
    (info,), _rec = replay('info')
    assert info['changed'] is False and info['version'] == VERSION
    names = [p['name'] for p in info['plugins']]
    assert names == ['memif_plugin.so', 'vhost_plugin.so']
    assert info['messages']['create_vhost_user_if'] == 'create_vhost_user_if_v2_dba1cc1d'
    assert info['messages']['memif_create'] == 'memif_create_v2_8c7de5f7'
    assert info['messages']['bridge_domain_add_del'] == 'bridge_domain_add_del_v2_600b7170'
    assert all(info['messages'].values())
    assert isinstance(info['api_modules'], dict)     # api_versions answers an empty list in 26.06
    assert 'local0' in info['interfaces']


def test_vhost_user_created_idempotent_check_mode_and_removed():
    results, _rec = replay('vhost_user')
    created, again, check, removed, gone = results
    assert created['changed'] and created['interface']['server'] is True
    assert created['interface']['name'].startswith('VirtualEthernet')
    assert not again['changed'] and again['actions'] == []
    assert check['changed'] and check['interface'] is None
    assert removed['changed'] and removed['interface'] is None
    assert not gone['changed']


def test_memif_created_idempotent_ring_size_not_compared_removed():
    results, _rec = replay('memif')
    created, again, bigger, removed = results
    assert created['changed'] and created['memif']['interface']['role'] == 'master'
    assert created['memif']['interface']['mac'] == '02:fe:00:00:01:01'
    assert not again['changed']
    # VPP's memif_dump shows ring_size 1 and buffer_size 0 until a peer connects
    assert not bigger['changed'] and bigger['memif']['interface']['ring_size'] == 1
    assert removed['changed'] and removed['memif'] == {'socket': None, 'interface': None}


def test_bridge_domain_members_exactly_those_wanted():
    results, _rec = replay('bridge_domain')
    check, made, again, one, removed = results[2:]
    assert check['changed'] and check['bridge_domain']['members'] == ['VirtualEthernet0/0/0', 'VirtualEthernet0/0/1']
    assert made['changed'] and made['bridge_domain']['members'] == ['VirtualEthernet0/0/0', 'VirtualEthernet0/0/1']
    assert not again['changed']
    assert one['actions'] == ['leave VirtualEthernet0/0/1'] and one['bridge_domain']['members'] == ['VirtualEthernet0/0/0']
    assert removed['changed'] and removed['bridge_domain'] is None


def test_a_non_zero_retval_is_an_error_with_vpps_text():
    results, rec = replay('bridge_domain_exists')
    assert results[0]['retval'] == 0
    assert results[1]['error'].startswith('bridge_domain_add_del_v2(')
    assert results[1]['error'].endswith('failed: retval -119, Bridge domain already exists')
    assert rec['errors'] == {'-119': 'Bridge domain already exists'}


def test_without_vpps_error_texts_the_code_is_named():
    rec = recording('bridge_domain_exists')
    client = V.VppClient(ReplayApi(rec))
    with client:
        client.version()
        client.call('bridge_domain_add_del', **json.loads(rec['calls'][-3]['argv'][1]))
        with pytest.raises(V.VppError, match=r"retval -119, VPP error -119; its text is in VPP's vnet/error.h"):
            client.call('bridge_domain_add_del', **json.loads(rec['calls'][-2]['argv'][1]))


def test_xconnect_loop_on_itself():
    (made, again, removed), _rec = replay('xconnect')
    assert made['changed'] and made['xconnects'] == {'VirtualEthernet0/0/0': 'VirtualEthernet0/0/0'}
    assert not again['changed']
    assert removed['changed'] and removed['xconnects'] == {'VirtualEthernet0/0/0': None}


def test_interface_up_polling_then_vpp_refuses_interrupt_before_a_peer_connects():
    results, _rec = replay('interface')
    up, again, check = results[:3]
    assert up['changed'] and up['interface']['admin_up'] is True and up['interface']['rx_mode'] == 'polling'
    assert not again['changed']
    assert check['changed'] and check['actions'] == ['admin down']
    assert results[3]['error'].startswith('sw_interface_set_rx_mode(')
    assert 'failed: retval' in results[3]['error']


# --------------------------------------------------------------------------- the message versions
def client_with(offered, version=None):
    """A client on the offered table; VPP's version is asked for (show_version) only by an error."""
    calls = [api_call('connect')]
    if version:
        calls.append(api_call('show_version', {}, {'retval': 0, 'version': version}))
    return V.VppClient(ReplayApi({'offered': offered, 'calls': calls}))


def test_the_newest_version_offered_is_used_an_older_one_when_it_is_missing():
    offered = recording('info')['offered']
    client = client_with(offered)
    client.connect()
    assert client.message('memif_create') == 'memif_create_v2'
    del offered['memif_create_v2']
    client = client_with(offered)
    client.connect()
    assert client.message('memif_create') == 'memif_create'


def test_a_message_missing_names_the_operation_and_the_vpp_version():
    offered = dict((k, v) for k, v in recording('info')['offered'].items() if not k.startswith('memif_create'))
    client = client_with(offered, '26.06-release')
    client.connect()
    with pytest.raises(V.VppError) as err:
        client.message('memif_create')
    assert str(err.value) == (
        'VPP 26.06-release does not offer memif_create in a version this collection knows (memif_create_v2 (CRC '
        '0x8c7de5f7), memif_create (CRC 0xb1b25061)); it offers none by those names. Is memif_plugin.so loaded '
        '(plugins in startup.conf)? The versions known are in plugins/module_utils/vpp.py (MESSAGES)')
    assert err.value.result == {'operation': 'memif_create', 'vpp_version': '26.06-release'}


def test_a_message_of_another_crc_is_not_used():
    offered = recording('info')['offered']
    offered['create_vhost_user_if_v2'] = '0x12345678'
    client = client_with(offered, '26.06-release')
    client.connect()
    with pytest.raises(V.VppError, match=r'it offers create_vhost_user_if_v2 \(CRC 0x12345678\)'):
        client.message('create_vhost_user_if')


def test_every_operation_is_offered_by_the_recorded_vpp():
    offered = recording('info')['offered']
    for operation, versions in V.MESSAGES.items():
        assert offered.get(versions[0][0]) == versions[0][1], operation


# --------------------------------------------------------------------------- parsers, plain values
def test_parse_error_table_and_where_it_is():
    text = '#define foreach_vnet_error\\\n  _ (UNSPECIFIED, -1, "Unspecified Error")                 \\\n' \
           '  _ (BD_ALREADY_EXISTS, -119, "Bridge domain already exists")   \\\n'
    assert V.parse_error_table(text) == {-1: 'Unspecified Error', -119: 'Bridge domain already exists'}
    wanted = ['/opt/vpp/include/vnet/error.h', '/usr/include/vnet/error.h']
    assert V.error_header_candidates('/opt/vpp/share/vpp/api') == wanted
    assert V.error_header_candidates('/usr/share/vpp/api')[0] == '/usr/include/vnet/error.h'


def test_parse_show_plugins_of_the_recorded_reply():
    rec = recording('info')
    text = [c['reply']['reply'] for c in rec['calls'] if c['argv'][0] == 'cli_inband'][0]
    assert [p['name'] for p in V.parse_show_plugins(text)] == ['memif_plugin.so', 'vhost_plugin.so']
    assert V.parse_show_plugins('') == []


def test_plain_turns_papi_values_into_json():
    Reply = collections.namedtuple('Reply', 'retval sw_if_index mac items')

    class Mac(object):
        def __str__(self):
            return '02:00:00:00:00:01'

    value = V.plain(Reply(0, 3, Mac(), [Reply(1, 2, b'\x01', ())]))
    assert value == {'retval': 0, 'sw_if_index': 3, 'mac': '02:00:00:00:00:01',
                     'items': [{'retval': 1, 'sw_if_index': 2, 'mac': '01', 'items': []}]}
    assert copy.deepcopy(value) == json.loads(json.dumps(value))
