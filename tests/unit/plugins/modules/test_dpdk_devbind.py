# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kbypass.testbed.dpdk_devbind driven through main() against the fake PCI tree of test_devbind; its
commands go through the module's command_runner and AnsibleModule.run_command (harness.run_module)."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import pytest

from ansible_collections.kbypass.testbed.plugins.module_utils import sysfs
from ansible_collections.kbypass.testbed.plugins.module_utils import devbind as devbind_utils
from ansible_collections.kbypass.testbed.plugins.modules import dpdk_devbind

from ..module_utils.test_devbind import NIC, SETTLE, host, ip_addr


@pytest.fixture
def fake(tmp_path, monkeypatch):
    """A fake host: files under tmp_path, sysfs writes go to FakePci, commands to fake.commands."""
    pci = host(tmp_path)
    monkeypatch.setattr(devbind_utils, 'DEFAULT_ROOT', pci.root)
    monkeypatch.setattr(sysfs, 'write_file', pci.writer)
    return pci


def test_bind_and_give_back(run_module, fake):
    first = run_module(dpdk_devbind.main, {'device': '03:00.0', 'driver': 'vfio-pci'},
                       fake.expect(ip_addr('eth1')).commands)
    assert first['changed'] is True and first['device'] == NIC and first['driver'] == 'vfio-pci'
    assert first['before'] == {'driver': 'e1000e', 'netdevs': ['eth1']}
    assert first['after'] == {'driver': 'vfio-pci', 'netdevs': []}
    assert first['iommu_group'] == '0' and 'diff' not in first
    assert fake.bound_to(NIC) == 'vfio-pci' and fake.state() == {NIC: first['before']}
    again = run_module(dpdk_devbind.main, {'device': NIC, 'driver': 'vfio-pci'}, fake.commands)
    assert again['changed'] is False
    back = run_module(dpdk_devbind.main, {'device': NIC, 'driver': 'kernel'}, fake.expect(SETTLE).commands)
    assert back['changed'] is True and back['after'] == {'driver': 'e1000e', 'netdevs': ['eth1']}
    assert fake.state() is None  # given back: the ledger forgot it


def test_check_and_diff_mode(run_module, fake):
    out = run_module(dpdk_devbind.main, {'device': NIC, 'driver': 'vfio-pci',
                                         '_ansible_check_mode': True, '_ansible_diff': True},
                     fake.expect(ip_addr('eth1')).commands)
    assert out['changed'] is True
    assert out['diff']['before']['driver'] == 'e1000e' and out['diff']['after']['driver'] == 'vfio-pci'
    assert fake.writes == [] and fake.bound_to(NIC) == 'e1000e'


def test_refusal_and_force(run_module, fake):
    fake.route('eth1')
    out = run_module(dpdk_devbind.main, {'device': NIC, 'driver': 'vfio-pci'}, fake.commands)
    assert out['failed'] is True and out['device'] == NIC
    assert 'eth1' in out['msg'] and 'default route' in out['msg'] and 'force: true' in out['msg']
    assert fake.writes == []
    forced = run_module(dpdk_devbind.main, {'device': NIC, 'driver': 'vfio-pci', 'force': True}, fake.commands)
    assert forced['changed'] is True and fake.bound_to(NIC) == 'vfio-pci'


def test_unknown_address_lists_the_nics(run_module, fake):
    out = run_module(dpdk_devbind.main, {'device': '0000:42:00.0', 'driver': 'vfio-pci'}, fake.commands)
    assert out['failed'] is True and 'unknown PCI address' in out['msg']
    assert '0000:03:00.0 (e1000e, eth1)' in out['msg'] and '0000:04:00.0' not in out['msg']


def test_group_peer_warning(run_module, fake):
    fake.device('0000:03:00.1', native='e1000e', ifname='eth3', group=0)
    out = run_module(dpdk_devbind.main, {'device': NIC, 'driver': 'vfio-pci'}, fake.expect(ip_addr('eth1')).commands)
    assert '0000:03:00.1 (e1000e)' in str(out['warnings'])
