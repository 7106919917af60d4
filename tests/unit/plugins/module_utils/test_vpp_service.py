# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/vpp_service.py: the plan-stage checks (a VPP under a prefix in a temporary folder,
laid out as VPP's own install lays it out), and the VPP process started, stopped and given back."""

from __future__ import annotations

import os

import pytest

from ansible_collections.kbypass.testbed.plugins.module_utils import vpp_service as S


def prefix(tmp_path, plugins=('vhost_plugin.so', 'memif_plugin.so')):
    root = tmp_path / 'opt-vpp'
    (root / 'bin').mkdir(parents=True)
    (root / 'bin' / 'vpp').write_text('')
    plugin_dir = root / 'lib' / 'x86_64-linux-gnu' / 'vpp_plugins'
    plugin_dir.mkdir(parents=True)
    for name in plugins:
        (plugin_dir / name).write_text('')
    (root / 'share' / 'vpp' / 'api' / 'core').mkdir(parents=True)
    return str(root)


def params(root, **kw):
    p = dict(install='present', binary=root + '/bin/vpp', plugin_dir=root + '/lib/x86_64-linux-gnu/vpp_plugins',
             api_dir=root + '/share/vpp/api', plugins=['vhost_plugin.so', 'memif_plugin.so'],
             cpus={'vpp_worker_cpus': '1', 'vpp_main_cpus': '0'}, repo_url='')
    p.update(kw)
    return p


def never(url):
    raise AssertionError('the repository is not asked about when VPP is on the host')


def test_a_vpp_on_the_host_passes(tmp_path):
    root = prefix(tmp_path)
    assert S.check_host(params(root), [0, 1], never)['problems'] == []


def test_unknown_plugin_is_named_with_the_plugins_there_are(tmp_path):
    root = prefix(tmp_path)
    with pytest.raises(S.VppServiceError) as err:
        S.check_host(params(root, plugins=['vhost_plugin.so', 'nosuch_plugin.so']), [0, 1], never)
    assert str(err.value) == ('vpp_plugins: nosuch_plugin.so is not in %s/lib/x86_64-linux-gnu/vpp_plugins '
                              '(it has: memif_plugin.so, vhost_plugin.so)' % root)


def test_worker_cpu_that_does_not_exist(tmp_path):
    root = prefix(tmp_path)
    with pytest.raises(S.VppServiceError) as err:
        S.check_host(params(root, cpus={'vpp_worker_cpus': '7', 'vpp_main_cpus': '0'}), [0, 1], never)
    assert str(err.value) == 'vpp_worker_cpus: CPU(s) 7 do not exist on this host (online: 0-1)'
    with pytest.raises(S.VppServiceError, match=r"vpp_main_cpus: bad CPU list 'x'"):
        S.check_host(params(root, cpus={'vpp_main_cpus': 'x'}), [0, 1], never)


def test_present_but_missing_says_how_to_provide_vpp(tmp_path):
    root = str(tmp_path / 'nothing')
    with pytest.raises(S.VppServiceError) as err:
        S.check_host(params(root), [0, 1], never)
    problems = err.value.result['problems']
    assert problems[0].startswith('vpp_binary %s/bin/vpp does not exist: install VPP from FD.io\'s packages' % root)
    assert 'vpp_prefix' in problems[0]
    assert [p.split(' ')[0] for p in problems] == ['vpp_binary', 'vpp_plugin_dir', 'vpp_api_dir']


def test_packages_not_installed_and_no_repository_reachable(tmp_path):
    def unreachable(url):
        raise OSError('Name or service not known')

    p = params(str(tmp_path / 'nothing'), install='packages', repo_url='https://packagecloud.io/fdio/release')
    with pytest.raises(S.VppServiceError) as err:
        S.check_host(p, [0, 1], unreachable)
    assert str(err.value) == (
        'VPP is not installed (no %s/nothing/bin/vpp) and its package repository https://packagecloud.io/fdio/release '
        'cannot be reached (Name or service not known): set vpp_repo_url to a mirror you can reach, or install VPP '
        'yourself and set vpp_install: present with vpp_prefix (or vpp_binary, vpp_plugin_dir and vpp_api_dir) '
        'naming it' % tmp_path)
    asked = []
    assert S.check_host(p, [0, 1], asked.append)['problems'] == [] and asked == ['https://packagecloud.io/fdio/release']


def test_packages_installed_already_are_checked_like_a_vpp_on_the_host(tmp_path):
    root = prefix(tmp_path, plugins=('vhost_plugin.so',))
    with pytest.raises(S.VppServiceError, match='memif_plugin.so is not in'):
        S.check_host(params(root, install='packages', repo_url='x'), [0, 1], never)


def test_drop_in_names_our_binary_and_startup_conf():
    assert S.drop_in_text('/opt/vpp/bin/vpp', '/var/lib/kbypass/vpp/startup.conf') == (
        '[Service]\nExecStart=\nExecStart=/opt/vpp/bin/vpp -c /var/lib/kbypass/vpp/startup.conf\n')
    assert S.DROP_IN % 'vpp' == '/run/systemd/system/vpp.service.d/kbypass.conf'
    assert os.path.dirname(S.DROP_IN) == '/run/systemd/system/%s.service.d'
