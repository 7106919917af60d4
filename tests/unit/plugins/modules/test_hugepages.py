# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kbypass.testbed.hugepages driven through main(): against a fake tree, and once for real."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os

import pytest

from ansible_collections.kbypass.testbed.plugins.module_utils import sysfs
from ansible_collections.kbypass.testbed.plugins.module_utils import hugepages as hp_utils
from ansible_collections.kbypass.testbed.plugins.modules import hugepages as hp_module

from ..module_utils.test_hugepages import FakeKernel, mount

REAL_2M = '/sys/kernel/mm/hugepages/hugepages-2048kB'


@pytest.fixture
def fake(tmp_path, monkeypatch):
    """A fake host: the module's files live under tmp_path, writes go to FakeKernel; its commands
    (through the module's command_runner) to kernel.commands."""
    kernel = FakeKernel(tmp_path, count=16)
    monkeypatch.setattr(hp_utils, 'DEFAULT_ROOT', str(tmp_path))
    monkeypatch.setattr(sysfs, 'write_file', kernel.writer)
    return kernel


def test_reserves_mounts_and_is_idempotent(run_module, fake):
    args = {'count': 32, 'mount': '/dev/hugepages', 'persistent': True}
    first = run_module(hp_module.main, args, fake.expect(mount('/dev/hugepages')).commands)
    assert first['changed'] is True and 'failed' not in first
    assert first['before']['count'] == 16 and first['after']['count'] == 32
    assert first['after']['mount']['fstype'] == 'hugetlbfs' and first['reboot_required'] is False
    assert 'diff' not in first
    assert fake.count() == 32 and 'vm.nr_hugepages = 32' in fake.get(hp_utils.SYSCTL_FILE)
    second = run_module(hp_module.main, args, fake.commands)
    assert second['changed'] is False


def test_check_and_diff_mode(run_module, fake):
    out = run_module(hp_module.main, {'count': 64, 'size': '1G', 'node': 0, 'persistent': True,
                                      '_ansible_check_mode': True, '_ansible_diff': True}, fake.commands)
    assert out['changed'] is True and out['reboot_required'] is True
    assert out['diff'][0]['before']['count'] == 16 and out['diff'][0]['after']['count'] == 64
    assert 'hugepagesz=1G hugepages=0:64' in out['diff'][1]['after']
    assert fake.writes == [] and not os.path.exists(fake.root + hp_utils.GRUB_FILE)


def test_shortage_fails_and_restores(run_module, fake):
    fake.cap = 20
    out = run_module(hp_module.main, {'count': 100}, fake.commands)
    assert out['failed'] is True
    assert 'asked for 100 pages, the kernel gave 20 (previous reservation 16)' in out['msg']
    assert out['asked'] == 100 and out['got'] == 20 and out['previous'] == 16
    assert fake.count() == 16


def test_unsupported_size(run_module, tmp_path, monkeypatch):
    kernel = FakeKernel(tmp_path, sizes=(2048,))
    monkeypatch.setattr(hp_utils, 'DEFAULT_ROOT', str(tmp_path))
    out = run_module(hp_module.main, {'count': 1, 'size': '1G'}, kernel.commands)
    assert out['failed'] is True and 'supported sizes: 2M' in out['msg']


def test_argument_spec_refuses_other_sizes(run_module, fake):
    out = run_module(hp_module.main, {'count': 1, 'size': '16G'}, fake.commands)
    assert out['failed'] is True and 'size' in out['msg'] and fake.writes == []


def _read_int(path):
    with open(path) as handle:
        return int(handle.read())


def _pool():
    return _read_int(REAL_2M + '/nr_hugepages') - _read_int(REAL_2M + '/surplus_hugepages')


@pytest.mark.hugepages
def test_real_2m_reservation(run_module):
    """On this machine: reserve 4 more 2M pages, re-run, check mode, an impossible count, restore."""
    original = _pool()
    with open('/proc/meminfo') as handle:
        mem_kb = int([ln for ln in handle if ln.startswith('MemTotal:')][0].split()[1])
    impossible = 10 * mem_kb // 2048
    try:
        first = run_module(hp_module.main, {'count': original + 4})
        assert first['changed'] is True, first
        assert first['before']['count'] == original and first['after']['count'] == original + 4
        assert _pool() == original + 4

        again = run_module(hp_module.main, {'count': original + 4})
        assert again['changed'] is False

        check = run_module(hp_module.main, {'count': original, '_ansible_check_mode': True})
        assert check['changed'] is True and check['after']['count'] == original
        assert _pool() == original + 4

        failed = run_module(hp_module.main, {'count': impossible})
        assert failed['failed'] is True
        assert 'asked for %d pages' % impossible in failed['msg']
        assert 'previous reservation %d' % (original + 4) in failed['msg']
        assert failed['got'] < impossible
        assert _pool() == original + 4
        print('\nreal 2M pages: original %d, raised to %d, asked %d, kernel gave %d, restored to %d'
              % (original, original + 4, impossible, failed['got'], _pool()))
    finally:
        with open(REAL_2M + '/nr_hugepages', 'w') as handle:
            handle.write(str(original))
    assert _pool() == original
