# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ledger (module_utils/ledger.py) under a fake root, and its one atomic write."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import os
import stat

import pytest

from ansible_collections.kbypass.testbed.plugins.module_utils import ledger
from ansible_collections.kbypass.testbed.plugins.module_utils.ledger import (
    LEGACY_DEVBIND, STATE_DIR, Ledger, LedgerError, write_atomic)


def under(root, path):
    return str(root) + path


def read(root, path):
    with open(under(root, path)) as handle:
        return json.load(handle)


def put(root, path, text):
    os.makedirs(os.path.dirname(under(root, path)), exist_ok=True)
    with open(under(root, path), 'w') as handle:
        handle.write(text)


# ============================================================================ write_atomic
def test_write_atomic_creates_the_directory_and_a_0644_file(tmp_path):
    path = str(tmp_path / 'a' / 'b' / 'f.json')
    write_atomic(path, 'one\n')
    assert open(path).read() == 'one\n'
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
    assert os.listdir(os.path.dirname(path)) == ['f.json']


def test_write_atomic_keeps_the_mode_and_writes_bytes(tmp_path):
    path = tmp_path / 'f'
    path.write_text('old')
    os.chmod(str(path), 0o600)
    write_atomic(str(path), b'\x00new')
    assert path.read_bytes() == b'\x00new' and stat.S_IMODE(os.stat(str(path)).st_mode) == 0o600


def test_write_atomic_leaves_no_temp_file_and_the_old_text_on_error(tmp_path, monkeypatch):
    path = tmp_path / 'f.json'
    path.write_text('old\n')

    def broken(src, dst):
        raise OSError(28, 'No space left on device')
    monkeypatch.setattr(ledger.os, 'rename', broken)
    with pytest.raises(OSError, match='No space left'):
        write_atomic(str(path), 'new\n')
    assert path.read_text() == 'old\n' and [p.name for p in tmp_path.iterdir()] == ['f.json']
    with pytest.raises(TypeError):
        write_atomic(str(tmp_path / 'g.json'), 42)  # write fails: nothing left behind either
    assert [p.name for p in tmp_path.iterdir()] == ['f.json']


# ============================================================================ the ledger
def test_first_value_wins_and_forget_removes_the_empty_file(tmp_path):
    book = Ledger(str(tmp_path))
    assert book.file('sriov') == STATE_DIR + '/sriov.json'
    assert book.recorded('sriov', 'pf') is None and book.records() == {} and book.files() == []
    assert book.record('sriov', 'pf', {'num_vfs': 0}) is True
    assert book.record('sriov', 'pf', {'num_vfs': 2}) is False  # a later run finds the host changed already
    assert book.record('sriov', 'other', 3) is True
    assert read(tmp_path, STATE_DIR + '/sriov.json') == {'pf': {'num_vfs': 0}, 'other': 3}
    assert book.recorded('sriov', 'pf') == {'num_vfs': 0}
    assert book.records() == {'sriov': {'pf': {'num_vfs': 0}, 'other': 3}}
    assert book.forget('sriov', 'pf') is True and book.forget('sriov', 'pf') is False
    assert book.files() == ['sriov.json']
    assert book.forget('sriov', 'other') is True
    # the file goes with its last key; the directory stays for teardown's leftover check
    assert book.files() == [] and os.path.isdir(under(tmp_path, STATE_DIR))
    assert book.records() == {} and book.owners() == []


def test_store_overwrites_and_recorded_values_are_copies(tmp_path):
    book = Ledger(str(tmp_path))
    assert book.store('openvswitch', 'users', {'ovs': {}}) is True
    assert book.store('openvswitch', 'users', {'ovs': {}}) is False
    value = book.recorded('openvswitch', 'users')
    value['changed'] = True
    assert book.store('openvswitch', 'users', {}) is True
    assert book.recorded('openvswitch', 'users') == {}


def test_one_file_per_owner_and_every_name_listed(tmp_path):
    book = Ledger(str(tmp_path))
    book.record('devbind', '0000:03:00.0', {'driver': 'e1000e', 'netdevs': ['eth1']})
    book.record('hugepages', '2M', {'count': 0})
    put(tmp_path, STATE_DIR + '/stray', 'x')
    assert book.files() == ['devbind.json', 'hugepages.json', 'stray']
    assert book.owners() == ['devbind', 'hugepages']
    assert book.records(['hugepages', 'bpffs']) == {'hugepages': {'2M': {'count': 0}}}


def test_check_mode_writes_nothing(tmp_path):
    book = Ledger(str(tmp_path), check_mode=True)
    assert book.record('sriov', 'pf', 1) is True
    assert book.files() == [] and not os.path.exists(under(tmp_path, STATE_DIR))


def test_for_file_names_the_owner_and_the_directory(tmp_path):
    book, owner = Ledger.for_file('/srv/state/openvswitch.json', str(tmp_path))
    assert (book.directory, owner, book.file(owner)) == ('/srv/state', 'openvswitch', '/srv/state/openvswitch.json')
    book.record(owner, 'before', {})
    assert read(tmp_path, '/srv/state/openvswitch.json') == {'before': {}}


@pytest.mark.parametrize('text, words', [
    ('{broken', ['/var/lib/kbypass-state/sriov.json is not valid JSON', 'given back']),
    ('[1, 2]', ['/var/lib/kbypass-state/sriov.json holds list, not a JSON object']),
])
def test_a_broken_file_is_named(tmp_path, text, words):
    put(tmp_path, STATE_DIR + '/sriov.json', text)
    with pytest.raises(LedgerError) as err:
        Ledger(str(tmp_path)).record('sriov', 'pf', 1)
    for word in words:
        assert word in str(err.value)
    assert open(under(tmp_path, STATE_DIR + '/sriov.json')).read() == text


def test_a_write_failure_is_named(tmp_path):
    put(tmp_path, STATE_DIR, 'a file where the directory should be')
    with pytest.raises(LedgerError, match='cannot write /var/lib/kbypass-state/sriov.json'):
        Ledger(str(tmp_path)).record('sriov', 'pf', 1)


# ============================================================================ earlier versions
OLD_DEVBIND = {'0000:03:00.0': {'driver': 'e1000e', 'netdevs': ['eth1']},
               '0000:01:10.2': {'driver': 'igbvf', 'netdevs': ['ens1v1']}}


def test_the_old_devbind_record_is_found_and_moved_into_the_ledger(tmp_path):
    put(tmp_path, LEGACY_DEVBIND, json.dumps(OLD_DEVBIND))
    check = Ledger(str(tmp_path), check_mode=True)
    assert check.owners() == ['devbind'] and check.records() == {'devbind': OLD_DEVBIND}
    assert os.path.exists(under(tmp_path, LEGACY_DEVBIND)) and check.files() == []  # check mode moves nothing
    book = Ledger(str(tmp_path))
    assert book.recorded('devbind', '0000:03:00.0') == OLD_DEVBIND['0000:03:00.0']
    assert not os.path.exists(under(tmp_path, LEGACY_DEVBIND))
    assert read(tmp_path, STATE_DIR + '/devbind.json') == OLD_DEVBIND
    assert book.forget('devbind', '0000:03:00.0') and book.forget('devbind', '0000:01:10.2')
    assert book.files() == [] and book.records() == {}


def test_the_old_devbind_record_joins_a_ledger_record(tmp_path):
    put(tmp_path, LEGACY_DEVBIND, json.dumps({'0000:03:00.0': {'driver': 'e1000e', 'netdevs': []}}))
    put(tmp_path, STATE_DIR + '/devbind.json', json.dumps({'0000:05:00.0': {'driver': 'igb', 'netdevs': []}}))
    assert sorted(Ledger(str(tmp_path)).load('devbind')) == ['0000:03:00.0', '0000:05:00.0']
    assert not os.path.exists(under(tmp_path, LEGACY_DEVBIND))


def test_a_broken_old_devbind_record_is_named_and_kept(tmp_path):
    put(tmp_path, LEGACY_DEVBIND, '{')
    with pytest.raises(LedgerError, match='/var/lib/kbypass/devbind.json is not valid JSON'):
        Ledger(str(tmp_path)).load('devbind')
    assert os.path.exists(under(tmp_path, LEGACY_DEVBIND))


@pytest.mark.parametrize('owner, old, new', [
    ('hugepages', {'size': '2M', 'count': 0}, {'2M': {'count': 0}}),
    ('bpffs', {'path': '/sys/fs/bpf', 'mounted_by_kbypass': True}, {'/sys/fs/bpf': {'mounted': False}}),
])
def test_the_dpdk_roles_old_files_are_read_in_their_new_shape(tmp_path, owner, old, new):
    put(tmp_path, '%s/%s.json' % (STATE_DIR, owner), json.dumps(old))
    book = Ledger(str(tmp_path))
    assert book.records() == {owner: new}
    key = list(new)[0]
    assert book.forget(owner, key) is True and book.files() == []
