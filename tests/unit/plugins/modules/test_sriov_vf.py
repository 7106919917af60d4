# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kbypass.testbed.sriov_vf driven through main() against the fake kernel of test_sriov."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import pytest

from ansible_collections.kbypass.testbed.plugins.module_utils import sriov as sriov_utils
from ansible_collections.kbypass.testbed.plugins.module_utils import sysfs
from ansible_collections.kbypass.testbed.plugins.modules import sriov_vf

from ..module_utils.test_sriov import NUMVFS, PF, SETTLE, VF_ADDRESSES, fresh, host


@pytest.fixture
def fake(tmp_path, monkeypatch):
    """A fake host: files under tmp_path, sysfs writes and netlink go to FakeSriov, commands
    (through the module's command_runner) to fake.commands."""
    kernel = host(tmp_path)
    kernel.sockets = []

    def open_socket():
        kernel.sockets.append('open')
        return kernel

    def close():
        kernel.sockets.append('closed')

    kernel.close = close
    monkeypatch.setattr(sriov_utils, 'DEFAULT_ROOT', kernel.root)
    monkeypatch.setattr(sysfs, 'write_file', kernel.writer)
    monkeypatch.setattr(sriov_vf, 'IPRoute', open_socket)
    monkeypatch.setattr(sriov_vf, 'HAS_PYROUTE2', True)
    return kernel


def test_create_then_nothing_to_do(run_module, fake):
    args = {'pf': 'ens1', 'num_vfs': 2, 'vfs': [{'index': 1, 'vlan': 100, 'trust': True}], '_ansible_diff': True}
    first = run_module(sriov_vf.main, args, fake.expect(SETTLE, SETTLE).commands)
    assert first['changed'] is True
    assert (first['pf'], first['pf_pci'], first['total_vfs'], first['num_vfs']) == ('ens1', PF, 8, 2)
    assert first['vfs'] == [fresh(0), fresh(1, vlan=100, trust=True)]
    assert first['actions'] == ['write 2 to %s' % NUMVFS, 'VF 1: vlan 100 qos 0', 'VF 1: trust on',
                                'VF 0: driver none -> igbvf', 'VF 1: driver none -> igbvf']
    assert first['diff']['before'] == {'num_vfs': 0, 'vfs': []}
    assert first['diff']['after'] == {'num_vfs': 2, 'vfs': first['vfs']}
    assert first['recorded'] == {'pf': 'ens1', 'num_vfs': 0, 'vfs': []}
    assert fake.sockets == ['open', 'closed']
    again = run_module(sriov_vf.main, dict(args, _ansible_diff=False), fake.commands)
    assert again['changed'] is False and again['actions'] == [] and 'diff' not in again


def test_check_mode_writes_nothing(run_module, fake):
    out = run_module(sriov_vf.main, {'pf_pci': '01:00.0', 'num_vfs': 3, '_ansible_check_mode': True,
                                     'vfs': [{'index': 2, 'mac': '02:00:00:00:00:03', 'driver': 'vfio-pci'}]},
                     fake.commands)
    assert out['changed'] is True and out['num_vfs'] == 3
    assert [vf['pci'] for vf in out['vfs']] == VF_ADDRESSES[:3]
    assert out['vfs'][2]['mac'] == '02:00:00:00:00:03' and out['vfs'][2]['driver'] == 'vfio-pci'
    assert fake.writes == [] and fake.netlink == [] and fake.numvfs() == 0 and fake.records() is None


def test_warnings_are_module_warnings(run_module, fake):
    fake.configure('ens1', up=False)
    out = run_module(sriov_vf.main, {'pf': 'ens1', 'num_vfs': 1, 'vfs': [{'index': 0, 'mac': '02:00:00:00:00:aa'}]},
                     fake.expect(SETTLE, SETTLE).commands)
    assert out['changed'] is True and fake.autoprobe() == 1
    warnings = str(out['warnings'])  # strings, or dicts with the message in newer ansible-core
    assert 'VFs created while ens1 is down: igbvf and other VF drivers need the PF up' in warnings
    assert 'VF 0 (0000:01:10.0) has MAC 02:00:00:00:00:aa for the PF, but its interface ens1v0 still uses' in warnings


def test_refusal_is_a_failure_naming_the_pf(run_module, fake):
    out = run_module(sriov_vf.main, {'pf': 'ens1', 'num_vfs': 12}, fake.commands)
    assert out['failed'] is True and out['pf_pci'] == PF and out['pf'] == 'ens1'
    assert 'num_vfs=12' in out['msg'] and 'sriov_totalvfs is 8' in out['msg']
    assert fake.writes == [] and fake.sockets == ['open', 'closed']


def test_failure_after_a_change_says_changed(run_module, fake):
    fake.pfs[PF]['unsupported'].add('link_state')
    out = run_module(sriov_vf.main, {'pf': 'ens1', 'num_vfs': 1, 'vfs': [{'index': 0, 'link_state': 'enable'}]},
                     fake.expect(SETTLE).commands)
    assert out['failed'] is True and out['changed'] is True
    assert out['actions'] == ['write 1 to %s' % NUMVFS, 'VF 0: driver none -> igbvf']
    assert 'drop vfs[].link_state' in out['msg'] and fake.autoprobe() == 1


def test_unknown_pf_lists_the_sriov_devices(run_module, fake):
    out = run_module(sriov_vf.main, {'pf': 'ens7', 'state': 'absent'}, fake.commands)
    assert out['failed'] is True and 'pf=ens7: no such network interface' in out['msg']
    assert '0000:01:00.0 (igb, ens1, 8 VFs max, 0 enabled)' in out['msg'] and 'virtio' not in out['msg']


@pytest.mark.parametrize('args, words', [
    ({'pf': 'ens1', 'pf_pci': PF}, ['mutually exclusive', 'pf', 'pf_pci']),
    ({'num_vfs': 2}, ['one of the following is required', 'pf', 'pf_pci']),
    ({'pf': 'ens1', 'vfs': [{'index': 0, 'link_state': 'up'}]}, ['link_state', 'auto, disable, enable']),
    ({'pf': 'ens1', 'vfs': [{'mac': '02:00:00:00:00:01'}]}, ['index']),
    ({'pf': 'ens1', 'state': 'gone'}, ['state', 'present, absent, restored']),
])
def test_argument_spec(run_module, fake, args, words):
    out = run_module(sriov_vf.main, args, fake.commands)
    assert out['failed'] is True
    for word in words:
        assert word in out['msg']
    assert fake.writes == []


def test_missing_pyroute2(run_module, monkeypatch):
    monkeypatch.setattr(sriov_vf, 'HAS_PYROUTE2', False)
    monkeypatch.setattr(sriov_vf, 'PYROUTE2_IMP_ERR', 'Traceback: No module named pyroute2')
    result = run_module(sriov_vf.main, {'pf': 'ens1'})
    assert result['failed'] is True and 'pyroute2' in result['msg']
