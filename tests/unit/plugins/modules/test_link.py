# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module wiring of kbypass.testbed.link; the logic is tested in module_utils/test_netlink.py."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import pytest

from ansible_collections.kbypass.testbed.plugins.modules import link as link_module

from ...harness import run_module
from ..module_utils.test_netlink import FakeIPRoute, base_links


@pytest.fixture
def run(monkeypatch):
    def _run(args, ipr=None):
        ipr = ipr or FakeIPRoute(base_links())
        ipr.opened = ipr.closed = False

        def close():
            ipr.closed = True
        ipr.close = close

        def open_ipr():
            ipr.opened = True
            return ipr
        monkeypatch.setattr(link_module, 'IPRoute', open_ipr)
        monkeypatch.setattr(link_module, 'HAS_PYROUTE2', True)
        result = run_module(link_module.main, args)
        assert ipr.closed is ipr.opened  # every socket opened is closed
        return result, ipr
    return _run


def test_create_bridge_returns_link_and_diff(run):
    result, ipr = run({'name': 'kbpt-br1', 'kind': 'bridge', 'mtu': 9000, '_ansible_diff': True})
    assert result['changed'] is True
    assert result['link']['kind'] == 'bridge'
    assert result['link']['mtu'] == 9000
    assert result['diff'] == {'before': {}, 'after': result['link']}
    assert ipr.link_calls()[0] == ('add', {'ifname': 'kbpt-br1', 'kind': 'bridge'})


def test_no_diff_unless_asked(run):
    result, _ipr = run({'name': 'kbpt-br0', 'kind': 'bridge'})
    assert result['changed'] is False
    assert 'diff' not in result


def test_check_mode_passed_through(run):
    result, ipr = run({'name': 'kbpt-v0', 'kind': 'veth', 'peer': 'kbpt-v0p', 'up': False,
                       '_ansible_check_mode': True})
    assert result['changed'] is True
    assert result['link']['up'] is False
    assert ipr.link_calls() == []


def test_kind_required_when_present(run):
    result, _ipr = run({'name': 'kbpt-br1'})
    assert result['failed']
    assert 'kind' in result['msg']


def test_absent_without_kind(run):
    result, ipr = run({'name': 'kbpt-v0', 'state': 'absent'})
    assert result['changed'] is True
    assert ipr.link_calls() == [('del', {'index': 2})]


def test_refusal_is_a_failure(run):
    result, ipr = run({'name': 'kbpt-br0', 'kind': 'macvlan', 'parent': 'kbpt-v0p'})
    assert result['failed']
    assert 'kind bridge' in result['msg']
    assert ipr.link_calls() == []


def test_bad_choice_rejected(run):
    result, _ipr = run({'name': 'kbpt-mv1', 'kind': 'macvlan', 'parent': 'kbpt-v0p', 'macvlan_mode': 'source'})
    assert result['failed']
    assert 'macvlan_mode' in result['msg']


def test_missing_pyroute2(monkeypatch):
    monkeypatch.setattr(link_module, 'HAS_PYROUTE2', False)
    monkeypatch.setattr(link_module, 'PYROUTE2_IMP_ERR', 'Traceback: No module named pyroute2')
    result = run_module(link_module.main, {'name': 'kbpt-br0', 'kind': 'bridge'})
    assert result['failed'] is True and 'pyroute2' in result['msg']
