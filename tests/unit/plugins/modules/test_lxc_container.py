# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kbypass.testbed.lxc_container.

* YAML-driven cases (fixtures/lxc_container/*.yml): each file is a sequence of module runs against
  one lxcpath; each run gives the module input, the exact run_command calls expected with the
  outputs recorded on a real machine (argv, rc, out, err, and the files the command wrote or
  removed), and the expected result. ``{lxcpath}`` stands for the container directory's parent.
  The calls are replayed by harness.Commands: in order, every one of them, no other.
* The fixtures are re-recorded on a machine with LXC by
  ``KBYPASS_RECORD_LXC=1 pytest -k test_record_fixtures tests/unit/plugins/modules/test_lxc_container.py``.
* One real test (marker ``lxc``) drives a busybox container through its whole life.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import glob
import os
import shutil
import subprocess
import time

import pytest
import yaml

from ansible.module_utils import basic

from ansible_collections.kbypass.testbed.plugins.modules import lxc_container
from ansible_collections.kbypass.testbed.plugins.module_utils import lxc as lxc_utils

from ...harness import Commands, run_module

FIXTURES = os.path.join(os.path.dirname(__file__), 'fixtures', 'lxc_container')
RECORD_LXCPATH = '/var/lib/kbpt-lxc-rec'


# ============================================================================ replay
def _sub(value, lxcpath):
    """Replace the {lxcpath} placeholder everywhere in a fixture value."""
    if isinstance(value, str):
        return value.replace('{lxcpath}', lxcpath)
    if isinstance(value, list):
        return [_sub(v, lxcpath) for v in value]
    if isinstance(value, dict):
        return dict((_sub(k, lxcpath), _sub(v, lxcpath)) for k, v in value.items())
    return value


def _bin_path(tool):
    return '/usr/bin/' + tool


def replay(calls, lxcpath, name):
    """harness.Commands for the recorded calls; each one also writes and removes the files the
    real command did, and is made with expand_user_and_vars=False (argv taken as it is)."""
    def files(recorded, _argv, kwargs):
        assert kwargs.get('expand_user_and_vars') is False, kwargs
        for rel in recorded.get('removes', []):
            path = os.path.join(lxcpath, rel)
            if os.path.isdir(path):
                shutil.rmtree(path)
            elif os.path.exists(path):
                os.unlink(path)
        for rel, text in (recorded.get('writes') or {}).items():
            path = os.path.join(lxcpath, rel)
            if not os.path.isdir(os.path.dirname(path)):
                os.makedirs(os.path.dirname(path))
            with open(path, 'w') as handle:
                handle.write(text)
    return Commands(calls, name, on_call=files)


def _fixture_files():
    return sorted(glob.glob(os.path.join(FIXTURES, '*.yml')))


def _load(path):
    with open(path) as handle:
        return yaml.safe_load(handle)


def _read_tree(root):
    """{relative path: text} of the watched files of every container under ``root``."""
    out = {}
    for rel in _WATCHED:
        for path in glob.glob(os.path.join(root, '*', rel)):
            with open(path) as handle:
                out[os.path.relpath(path, root)] = handle.read()
    return out


_WATCHED = ('config', lxc_utils.START_LOG, 'rootfs/etc/init.d/rcS', 'rootfs/etc/network/interfaces')


@pytest.mark.parametrize('path', _fixture_files(), ids=[os.path.basename(p)[:-4] for p in _fixture_files()])
def test_recorded_sequence(monkeypatch, tmp_path, path):
    lxcpath = str(tmp_path / 'lxc')
    os.makedirs(lxcpath)
    monkeypatch.setattr(lxc_utils.time, 'sleep', lambda s: None)
    doc = _load(path)
    assert doc['cases'], path
    for case in doc['cases']:
        commands = replay(_sub(case['mocks']['run_command'], lxcpath), lxcpath,
                          '%s: %s' % (os.path.basename(path), case['id']))
        args = _sub(dict(case['input'], lxcpath='{lxcpath}'), lxcpath)
        for flag in case.get('flags', []):
            args['_ansible_%s' % flag] = True
        result = run_module(lxc_container.main, args, commands, _bin_path)
        commands.verify()
        expected = _sub(case['output'], lxcpath)
        assert 'changed' in expected or 'failed' in expected, case['id']
        for key, value in expected.items():
            assert result.get(key) == value, '%s: %s' % (case['id'], key)
        if 'files' in case:
            assert _read_tree(lxcpath) == _sub(case['files'], lxcpath), case['id']


def test_fixtures_present():
    names = [os.path.basename(p) for p in _fixture_files()]
    for name in ('lifecycle.yml', 'errors.yml', 'check_mode.yml', 'template_none.yml'):
        assert name in names


def test_lxc_tools_missing():
    result = run_module(lxc_container.main, {'name': 'kbpt-c1'}, Commands([]),
                        lambda tool: None if tool in ('lxc-create', 'lxc-attach') else _bin_path(tool))
    assert result['failed']
    assert 'lxc-create, lxc-attach' in result['msg']
    assert 'package lxc' in result['msg']


@pytest.mark.parametrize('args, words', [
    ({'name': 'kbpt c1'}, ['name=', 'not a usable container name']),
    ({'name': 'kbpt-c1', 'start_timeout': 0}, ['start_timeout=0']),
    ({'name': 'kbpt-c1', 'config': {'net.0.link': 'x'}}, ['net.0.link', 'not an LXC config key']),
    ({'name': 'kbpt-c1', 'config': {'lxc.mount.entry': ['a\nb']}}, ['line break']),
    ({'name': 'kbpt-c1', 'template': 'download'}, ['template', 'busybox, debian, none']),
])
def test_bad_input_runs_nothing(args, words):
    result = run_module(lxc_container.main, args, Commands([]), _bin_path)   # no command may run
    assert result['failed']
    for word in words:
        assert word in result['msg']


# ============================================================================ recording
def _ip(*argv):
    subprocess.run(['ip'] + list(argv), check=False, capture_output=True)


class Recorder(object):
    """Wraps the real run_command; records argv, rc, out, err and the files each command changed."""

    def __init__(self, real, lxcpath):
        self.real = real
        self.lxcpath = lxcpath
        self.calls = []

    def __call__(self, argv, **kwargs):
        before = _read_tree(self.lxcpath) if os.path.isdir(self.lxcpath) else {}
        dirs = set(os.listdir(self.lxcpath)) if os.path.isdir(self.lxcpath) else set()
        rc, out, err = self.real(argv, **kwargs)
        after = _read_tree(self.lxcpath) if os.path.isdir(self.lxcpath) else {}
        dirs_after = set(os.listdir(self.lxcpath)) if os.path.isdir(self.lxcpath) else set()
        call = {'argv': list(argv), 'rc': rc, 'out': out, 'err': err}
        writes = dict((k, v) for k, v in after.items() if before.get(k) != v)
        removes = sorted(dirs - dirs_after)
        removes += sorted(k for k in before if k not in after and k.split('/')[0] not in removes)
        if writes:
            call['writes'] = writes
        if removes:
            call['removes'] = removes
        self.calls.append(call)
        return rc, out, err


def _placeholder(value):
    if isinstance(value, str):
        return value.replace(RECORD_LXCPATH, '{lxcpath}')
    if isinstance(value, list):
        return [_placeholder(v) for v in value]
    if isinstance(value, dict):
        return dict((_placeholder(k), _placeholder(v)) for k, v in value.items())
    return value


class _Dumper(yaml.SafeDumper):
    pass


def _str_representer(dumper, data):
    style = '|' if '\n' in data and not any(line != line.rstrip() for line in data.split('\n')) else None
    return dumper.represent_scalar('tag:yaml.org,2002:str', data, style=style)


_Dumper.add_representer(str, _str_representer)

BR = 'kbpt-rbr0'
NET = {'lxc.net.0.type': 'veth', 'lxc.net.0.link': BR, 'lxc.net.0.ipv4.address': '198.18.0.11/24',
       'lxc.cgroup.cpuset.cpus': '1'}

# file name -> (description, [(id, input, flags)])
SCENARIOS = {
    'lifecycle': ('busybox container on a bridge: create+start, no-op, key change -> restart, stop, destroy', [
        ('create_and_start', dict(name='kbpt-r1', config=NET), []),
        ('same_args_no_change', dict(name='kbpt-r1', config=NET), []),
        ('check_mode_key_change', dict(name='kbpt-r1', config=dict(NET, **{'lxc.cgroup.cpuset.cpus': '0'})),
         ['check_mode', 'diff']),
        ('key_change_restarts', dict(name='kbpt-r1', config=dict(NET, **{'lxc.cgroup.cpuset.cpus': '0'})),
         ['diff']),
        ('add_list_key', dict(name='kbpt-r1', config={
            'lxc.mount.entry': ['/lib lib none ro,bind 0 0', 'tmpfs tmp tmpfs defaults,create=dir 0 0']}), []),
        ('stop', dict(name='kbpt-r1', state='stopped', config=dict(NET, **{'lxc.cgroup.cpuset.cpus': '0'})), []),
        ('stopped_no_change', dict(name='kbpt-r1', state='stopped'), []),
        ('absent', dict(name='kbpt-r1', state='absent'), ['diff']),
        ('absent_no_change', dict(name='kbpt-r1', state='absent'), []),
    ]),
    'errors': ('failures: template options, unknown key, missing bridge, cpu out of range', [
        ('template_fails', dict(name='kbpt-r2', template_options=['--bogus']), []),
        ('unknown_key', dict(name='kbpt-r2', config=dict(NET, **{'lxc.bogus.key': '1'})), []),
        ('unreadable_config_reported', dict(name='kbpt-r2', state='stopped'), []),
        ('remove_unknown_key_and_start', dict(name='kbpt-r2', config={'lxc.bogus.key': []}), []),
        ('missing_bridge', dict(name='kbpt-r2', config=dict(NET, **{'lxc.net.0.link': 'kbpt-nobr0'})), []),
        ('cpu_out_of_range', dict(name='kbpt-r2', config=dict(NET, **{'lxc.cgroup.cpuset.cpus': '7'})), []),
        ('absent', dict(name='kbpt-r2', state='absent'), []),
    ]),
    'check_mode': ('check mode on a missing container runs only lxc-ls', [
        ('create_check_mode', dict(name='kbpt-r3', config=NET), ['check_mode', 'diff']),
        ('absent_check_mode_missing', dict(name='kbpt-r3', state='absent'), ['check_mode']),
    ]),
    'template_none': ('template none: config only, kept stopped', [
        ('create_stopped', dict(name='kbpt-r4', template='none', state='stopped',
                                config={'lxc.net.0.type': 'empty'}), ['diff']),
        ('absent', dict(name='kbpt-r4', state='absent'), []),
    ]),
}


@pytest.mark.lxc
@pytest.mark.skipif(not os.environ.get('KBYPASS_RECORD_LXC'), reason='set KBYPASS_RECORD_LXC=1 to re-record fixtures')
def test_record_fixtures(monkeypatch):
    real = basic.AnsibleModule.run_command
    from ansible_collections.kbypass.testbed.plugins.module_utils.netlink import LinkManager
    from pyroute2 import IPRoute
    ipr = IPRoute()
    LinkManager(ipr).ensure({'name': BR, 'kind': 'bridge', 'state': 'present'})
    try:
        for fname, (description, runs) in SCENARIOS.items():
            cases = []
            for case_id, args, flags in runs:
                monkeypatch.undo()
                rec = Recorder(lambda argv, **kw: real(module_holder[0], argv, **kw), RECORD_LXCPATH)
                module_holder = [None]

                def run_command(self, argv, **kw):
                    module_holder[0] = self
                    return rec(argv, **kw)
                monkeypatch.setattr(basic.AnsibleModule, 'run_command', run_command)
                full = dict(args, lxcpath=RECORD_LXCPATH)
                for flag in flags:
                    full['_ansible_%s' % flag] = True
                result = run_module(lxc_container.main, full)
                output = dict((k, result[k]) for k in ('changed', 'restarted', 'container', 'actions', 'diff',
                                                       'failed', 'msg') if k in result)
                cases.append({'id': case_id, 'input': dict(args), 'flags': flags,
                              'mocks': {'run_command': rec.calls}, 'output': output,
                              'files': _read_tree(RECORD_LXCPATH) if os.path.isdir(RECORD_LXCPATH) else {}})
            version = subprocess.run(['lxc-create', '--version'], capture_output=True, text=True,
                                     check=False).stdout.strip()
            doc = {'description': description,
                   'recorded': 'on %s, lxc %s, %s' % (os.uname()[2], version, time.strftime('%Y-%m-%d')),
                   'cases': _placeholder(cases)}
            with open(os.path.join(FIXTURES, fname + '.yml'), 'w') as handle:
                handle.write('---\n')
                yaml.dump(doc, handle, Dumper=_Dumper, default_flow_style=False, sort_keys=False, width=120)
    finally:
        for name in ('kbpt-r1', 'kbpt-r2', 'kbpt-r3', 'kbpt-r4'):
            subprocess.run(['lxc-stop', '-n', name, '-P', RECORD_LXCPATH, '-k'], capture_output=True, check=False)
            subprocess.run(['lxc-destroy', '-n', name, '-P', RECORD_LXCPATH], capture_output=True, check=False)
        shutil.rmtree(RECORD_LXCPATH, ignore_errors=True)
        LinkManager(ipr).ensure({'name': BR, 'state': 'absent'})
        ipr.close()


# ============================================================================ real container
def _out(*argv):
    proc = subprocess.run(list(argv), capture_output=True, text=True, check=False)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.mark.lxc
def test_real_busybox_container():
    name, bridge, lxcpath = 'kbpt-c1', 'kbpt-br-c1', '/var/lib/lxc'
    config = {
        'lxc.net.0.type': 'veth',
        'lxc.net.0.link': bridge,
        'lxc.net.0.ipv4.address': '198.18.0.1/24',
        'lxc.cgroup.cpuset.cpus': '1',
        'lxc.mount.entry': ['/lib lib none ro,bind 0 0'],
    }
    args = {'name': name, 'lxcpath': lxcpath, 'config': config, '_ansible_diff': True}
    assert _out('ip', 'link', 'add', bridge, 'type', 'bridge')[0] == 0
    try:
        _ip('link', 'set', bridge, 'up')
        first = run_module(lxc_container.main, args)
        assert not first.get('failed'), first.get('msg')
        assert first['changed'] is True
        assert first['container']['state'] == 'running'
        assert first['container']['pid']

        time.sleep(3)  # udhcpc, had it run, would have dropped the address by now
        rc, out, err = _out('lxc-attach', '-n', name, '-P', lxcpath, '--', 'ip', '-4', 'addr', 'show', 'eth0')
        assert rc == 0, err
        assert 'inet 198.18.0.1/24' in out
        rc, out, err = _out('lxc-cgroup', '-n', name, '-P', lxcpath, 'cpuset.cpus')
        assert (rc, out.strip()) == (0, '1'), err

        second = run_module(lxc_container.main, args)
        assert second['changed'] is False, second['actions']
        assert second['restarted'] is False

        changed = run_module(lxc_container.main, dict(args, config=dict(config, **{'lxc.cgroup.cpuset.cpus': '0'})))
        assert changed['changed'] is True
        assert changed['restarted'] is True
        assert changed['container']['pid'] != first['container']['pid']
        rc, out, err = _out('lxc-cgroup', '-n', name, '-P', lxcpath, 'cpuset.cpus')
        assert (rc, out.strip()) == (0, '0'), err

        gone = run_module(lxc_container.main, {'name': name, 'lxcpath': lxcpath, 'state': 'absent'})
        assert gone['changed'] is True
        assert gone['container']['state'] == 'absent'
        assert not os.path.exists(os.path.join(lxcpath, name))
        assert name not in _out('lxc-ls', '-P', lxcpath, '-1')[1].split()
    finally:
        _out('lxc-stop', '-n', name, '-P', lxcpath, '-k')
        _out('lxc-destroy', '-n', name, '-P', lxcpath)
        _ip('link', 'del', bridge)
