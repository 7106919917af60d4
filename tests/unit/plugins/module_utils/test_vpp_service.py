# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/vpp_service.py: the plan-stage checks (a VPP under a prefix in a temporary folder,
laid out as VPP's own install lays it out), and the VPP process started, stopped and given back."""

from __future__ import annotations

import json
import os
import signal

import pytest

from ansible_collections.kbypass.testbed.plugins.module_utils import vpp_service as S

from ...harness import FakeHost, FakeProc


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
    # what is missing, then once how to provide VPP
    assert problems[0].startswith('vpp_binary %s/bin/vpp, vpp_plugin_dir %s/lib/x86_64-linux-gnu/vpp_plugins, '
                                  'vpp_api_dir %s/share/vpp/api (the *.api.json of that VPP) do not exist: '
                                  'install VPP from FD.io\'s packages' % (root, root, root))
    assert 'vpp_prefix' in problems[0] and problems[0].count('install VPP') == 1
    assert len(problems) == 1


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


# --------------------------------------------------------------------------- the VPP process
FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures', 'vpp')


def recorded_proc():
    """/proc/<pid>/stat and cmdline of a real VPP started by the vpp role (fixtures/vpp/<version>/proc.json)."""
    versions = sorted(d for d in os.listdir(FIXTURES) if os.path.isdir(os.path.join(FIXTURES, d)))
    with open(os.path.join(FIXTURES, versions[-1], 'proc.json')) as handle:
        return json.load(handle)


class FakeOps(FakeHost):
    """A host where the recorded VPP runs when spawned; it creates its API socket, and leaves its
    sockets behind when it dies of SIGTERM (as VPP does)."""

    def __init__(self, files=None, creates=True):
        self.proc = recorded_proc()
        super().__init__(self.proc['stat'], files)
        self.creates = creates

    def spawn(self, argv, log):
        self.calls.append(('spawn', list(argv)))
        pid = 7000 + len(self.calls)
        self.run_recorded(pid, '\0'.join(argv) + '\0')
        self.files[log] = self.proc['log'].encode()
        if self.creates:
            self.files[API] = b''
        return FakeProc(None, pid)


API = '/run/kbypass/vpp-api/api.sock'
LEFT = ['/run/kbypass/vpp-api/cli.sock', '/run/kbypass/vpp-api/stats.sock', '/run/kbypass/vpp/kbp-vp-a.sock']


def service_params(**kw):
    p = dict(state='started', binary='/opt/vpp/bin/vpp', startup_conf='/var/lib/kbypass/vpp/startup.conf',
             api_socket=API, sockets=list(LEFT), systemd='no', unit='vpp', pidfile='/run/kbypass/vpp.pid',
             log='/var/log/kbypass/vpp/vpp.out', restart=False, timeout=5.0, stop_timeout=2.0, state_dir='/ledger')
    p.update(kw)
    return p


def no_commands(argv):
    raise AssertionError('no command expected: %r' % (argv,))


def run(ops, tmp_path, **kw):
    return S.VppService(service_params(**kw), no_commands, ops=ops, root=str(tmp_path)).ensure()


def ledger(tmp_path):
    path = tmp_path / 'ledger' / 'vpp.json'
    return json.loads(path.read_text()) if path.exists() else None


def test_recorded_vpp_is_the_role_s_command_line():
    proc = recorded_proc()
    assert proc['cmdline'][0].endswith('/bin/vpp') and proc['cmdline'][1] == '-c'


def test_start_removes_stale_sockets_records_waits_and_is_idempotent(tmp_path):
    (tmp_path / 'ledger').mkdir()
    ops = FakeOps(files=dict((p, b'') for p in LEFT + [API]))
    result = run(ops, tmp_path)
    assert result['changed'] and ops.calls[0] == ('spawn', ['/opt/vpp/bin/vpp', '-c', '/var/lib/kbypass/vpp/startup.conf'])
    assert [a for a in result['actions'] if a.startswith('remove')] == ['remove %s' % p for p in LEFT + [API]]
    assert ledger(tmp_path) == {'service': {'running': False, 'systemd': False}}
    assert ops.exists(API) and ops.read('/run/kbypass/vpp.pid') == b'7001\n'
    again = run(ops, tmp_path)
    assert not again['changed'] and len(ops.calls) == 1


def test_start_fails_when_the_api_socket_never_appears(tmp_path):
    (tmp_path / 'ledger').mkdir()
    ops = FakeOps(creates=False)
    with pytest.raises(S.VppServiceError, match='did not appear within 5.0s; it was stopped'):
        run(ops, tmp_path)


def test_stop_sigterm_and_the_sockets_vpp_leaves_behind(tmp_path):
    (tmp_path / 'ledger').mkdir()
    ops = FakeOps()
    run(ops, tmp_path)
    for path in LEFT:
        ops.files[path] = b''
    result = run(ops, tmp_path, state='stopped')
    assert ('kill', 7001, signal.SIGTERM) in ops.calls
    assert result['after'] == {'running': False, 'sockets': []}
    assert not ops.exists('/run/kbypass/vpp.pid')
    assert not run(ops, tmp_path, state='stopped')['changed']


def test_release_stops_what_the_collection_started_and_forgets(tmp_path):
    (tmp_path / 'ledger').mkdir()
    ops = FakeOps()
    run(ops, tmp_path)
    result = run(ops, tmp_path, state='released')
    assert result['after']['running'] is False and ledger(tmp_path) is None
    assert 'forget the VPP record' in result['actions']
    assert not run(ops, tmp_path, state='released')['changed']


def test_check_mode_changes_nothing(tmp_path):
    (tmp_path / 'ledger').mkdir()
    ops = FakeOps(files={API: b''})
    result = S.VppService(service_params(), no_commands, check_mode=True, ops=ops, root=str(tmp_path)).ensure()
    assert result['changed'] and ops.calls == [] and ops.exists(API) and ledger(tmp_path) is None


def test_under_systemd_a_runtime_drop_in_then_systemctl(tmp_path):
    (tmp_path / 'ledger').mkdir()
    ops = FakeOps()
    commands = []

    def systemctl(argv):
        commands.append(argv)
        if argv[:2] == ['systemctl', 'start']:
            ops.files[API] = b''
        return (3, '', '') if argv[1] == 'is-active' else (0, '', '')

    result = S.VppService(service_params(systemd='yes'), systemctl, ops=ops, root=str(tmp_path)).ensure()
    assert result['changed'] and result['systemd']
    assert ops.read(S.DROP_IN % 'vpp') == S.drop_in_text('/opt/vpp/bin/vpp', '/var/lib/kbypass/vpp/startup.conf').encode()
    assert commands == [['systemctl', 'is-active', '--quiet', 'vpp'], ['systemctl', 'is-active', '--quiet', 'vpp'],
                        ['systemctl', 'daemon-reload'], ['systemctl', 'start', 'vpp'],
                        ['systemctl', 'is-active', '--quiet', 'vpp']]
