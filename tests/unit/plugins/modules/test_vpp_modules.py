# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The thin VPP modules run as Ansible runs them, on the API exchanges recorded from a real VPP
(tests/unit/fixtures/vpp/<VPP version>/, record_vpp.py); every recorded call is consumed."""

from __future__ import annotations

import functools
import json

import pytest

from ansible_collections.kbypass.testbed.plugins.module_utils import vpp as V
from ansible_collections.kbypass.testbed.plugins.modules import (
    vpp_bridge_domain, vpp_info, vpp_interface, vpp_memif, vpp_vhost_user, vpp_xconnect,
)

from ...harness import ReplayApi, run_module
from ..module_utils.test_vpp import recording

API = {'api_dir': '/opt/vpp/share/vpp/api', 'api_socket': '/run/kbypass/vpp-api/api.sock'}


def module_replay(main, rec, calls, args, check_mode=False):
    """Run the module on the recorded calls ``calls`` (a slice of one scene) with a connect/disconnect around."""
    replay = {'offered': rec['offered'], 'calls': [rec['calls'][0]] + calls + [rec['calls'][-1]]}
    transport = ReplayApi(replay)
    if check_mode:
        args = dict(args, _ansible_check_mode=True)
    return run_module(functools.partial(main, transport=transport), dict(API, **args)), transport


def test_vhost_user_module_creates_the_server_port():
    rec = recording('vhost_user')
    calls = rec['calls'][2:]
    # first run: dump, create, dump again
    first = calls[:3]
    assert [c['argv'][0] for c in first] == ['sw_interface_vhost_user_dump', 'create_vhost_user_if_v2',
                                             'sw_interface_vhost_user_dump']
    result, _t = module_replay(vpp_vhost_user.main, rec, first,
                               {'socket': rec['socket_dir'] + '/kbp-vp-a.sock', 'mac': '02:fe:00:00:00:01',
                                'tag': 'kbp-vp-a'})
    assert result['changed'] and result['interface']['server'] is True
    assert result['vpp_messages'] == {'sw_interface_vhost_user_dump': 'sw_interface_vhost_user_dump',
                                      'create_vhost_user_if': 'create_vhost_user_if_v2'}
    # second run: one dump, nothing to do
    result, _t = module_replay(vpp_vhost_user.main, rec, calls[3:4],
                               {'socket': rec['socket_dir'] + '/kbp-vp-a.sock', 'mac': '02:fe:00:00:00:01'})
    assert result['changed'] is False


def test_vhost_user_module_check_mode_deletes_nothing():
    rec = recording('vhost_user')
    calls = rec['calls'][2:]
    result, _t = module_replay(vpp_vhost_user.main, rec, calls[4:5],
                               {'socket': rec['socket_dir'] + '/kbp-vp-a.sock', 'state': 'absent'}, check_mode=True)
    assert result['changed'] and result['actions'][0].startswith('delete VirtualEthernet')


def test_info_module():
    rec = recording('info')
    result, _t = module_replay(vpp_info.main, rec, rec['calls'][2:-1], {})
    assert result['changed'] is False and result['version'] == rec['vpp_version']
    assert result['messages']['memif_create'] == 'memif_create_v2_8c7de5f7'


def test_bridge_domain_module_refuses_bd_0():
    result = run_module(functools.partial(vpp_bridge_domain.main, transport=ReplayApi({'offered': {}, 'calls': []})),
                        dict(API, bd_id=0))
    assert result['failed'] and 'bd_id 0' in result['msg']


def test_memif_module_refuses_socket_0():
    result = run_module(functools.partial(vpp_memif.main, transport=ReplayApi({'offered': {}, 'calls': []})),
                        dict(API, socket='/s', socket_id=0))
    assert result['failed'] and 'socket_id 0' in result['msg']


def test_module_error_carries_vpps_text():
    rec = recording('bridge_domain_exists')
    # the second add of the domain, alone: VPP answers -119
    last = rec['calls'][-2]
    assert last['argv'][0] == 'bridge_domain_add_del_v2' and last['reply']['retval'] == -119
    client = V.VppClient(ReplayApi({'offered': rec['offered'], 'calls': [rec['calls'][0], last]}),
                         {-119: rec['errors']['-119']})
    client.connect()
    with pytest.raises(V.VppError, match='Bridge domain already exists'):
        client.call('bridge_domain_add_del', **json.loads(last['argv'][1]))


def test_without_vpp_papi_the_module_says_what_to_install(monkeypatch):
    monkeypatch.setattr(V, 'HAS_VPP_PAPI', False)
    for main, args in ((vpp_info.main, {}), (vpp_xconnect.main, {'pairs': [{'rx': 'a', 'tx': 'a'}]}),
                       (vpp_interface.main, {'name': 'local0'})):
        result = run_module(main, dict(API, **args))
        assert result['failed'] and 'vpp_papi' in result['msg']
