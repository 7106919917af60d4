# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kbypass.testbed.host_state driven through main() against a ledger under a fake root."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import os

import pytest

from ansible_collections.kbypass.testbed.plugins.module_utils.ledger import LEGACY_DEVBIND, STATE_DIR
from ansible_collections.kbypass.testbed.plugins.modules import host_state


@pytest.fixture
def root(tmp_path, monkeypatch):
    monkeypatch.setattr(host_state, 'DEFAULT_ROOT', str(tmp_path))
    return str(tmp_path)


def test_record_keeps_the_first_value_and_forget_removes_the_file(run_module, root):
    args = {'state': 'recorded', 'owner': 'hugepages', 'key': '2M', 'value': {'count': 0}}
    check = run_module(host_state.main, dict(args, _ansible_check_mode=True))
    assert check['changed'] is True and check['recorded'] == {'count': 0} and check['files'] == []
    first = run_module(host_state.main, args)
    assert first['changed'] is True and first['directory'] == STATE_DIR
    assert first['records'] == {'hugepages': {'2M': {'count': 0}}} and first['files'] == ['hugepages.json']
    later = run_module(host_state.main, dict(args, value={'count': 1024}))  # the host is changed already
    assert later['changed'] is False and later['recorded'] == {'count': 0}
    with open(root + STATE_DIR + '/hugepages.json') as handle:
        assert json.load(handle) == {'2M': {'count': 0}}
    query = run_module(host_state.main, {})
    assert query['changed'] is False and query['records'] == {'hugepages': {'2M': {'count': 0}}}
    forget = {'state': 'forgotten', 'owner': 'hugepages', 'key': '2M'}
    check = run_module(host_state.main, dict(forget, _ansible_check_mode=True, _ansible_diff=True))
    assert check['changed'] is True and check['records'] == {}
    assert check['diff'] == {'before': {'hugepages': {'2M': {'count': 0}}}, 'after': {}}
    gone = run_module(host_state.main, forget)
    assert gone['changed'] is True and gone['recorded'] == {'count': 0} and 'diff' not in gone
    assert gone['records'] == {} and gone['files'] == [] and os.path.isdir(root + STATE_DIR)
    again = run_module(host_state.main, {'state': 'forgotten', 'owner': 'hugepages', 'key': '2M'})
    assert again['changed'] is False and again['recorded'] is None


def test_query_moves_the_old_devbind_record_into_the_ledger(run_module, root):
    os.makedirs(os.path.dirname(root + LEGACY_DEVBIND))
    with open(root + LEGACY_DEVBIND, 'w') as handle:
        json.dump({'0000:01:00.0': {'driver': 'e1000e', 'netdevs': ['spare0']}}, handle)
    check = run_module(host_state.main, {'owner': 'devbind', '_ansible_check_mode': True})
    assert check['changed'] is True and check['records'] == {
        'devbind': {'0000:01:00.0': {'driver': 'e1000e', 'netdevs': ['spare0']}}}
    assert os.path.exists(root + LEGACY_DEVBIND) and check['files'] == []
    out = run_module(host_state.main, {})
    assert out['changed'] is True and out['records'] == check['records'] and out['files'] == ['devbind.json']
    assert not os.path.exists(root + LEGACY_DEVBIND)
    assert run_module(host_state.main, {})['changed'] is False


def test_another_directory(run_module, root):
    out = run_module(host_state.main, {'state': 'recorded', 'owner': 'bpffs', 'key': '/sys/fs/bpf',
                                       'value': {'mounted': False}, 'state_dir': '/srv/ledger'})
    assert out['directory'] == '/srv/ledger' and os.path.exists(root + '/srv/ledger/bpffs.json')


@pytest.mark.parametrize('args, words', [
    ({'state': 'recorded', 'owner': 'hugepages'}, 'state is recorded but all of the following are missing: key, value'),
    ({'state': 'forgotten', 'key': '2M'}, 'state is forgotten but all of the following are missing: owner'),
    ({'owner': '../etc/passwd'}, "owner='../etc/passwd' is not an owner name"),
])
def test_bad_input(run_module, root, args, words):
    out = run_module(host_state.main, args)
    assert out['failed'] is True and words in out['msg']
    assert not os.path.exists(root + STATE_DIR)


def test_a_broken_file_fails_naming_it(run_module, root):
    os.makedirs(root + STATE_DIR)
    with open(root + STATE_DIR + '/sriov.json', 'w') as handle:
        handle.write('{')
    out = run_module(host_state.main, {})
    assert out['failed'] is True and '/var/lib/kbypass-state/sriov.json is not valid JSON' in out['msg']
