# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/lxc.py: config file editing, parsing of lxc-* output, the waiting and stopping logic.

Recorded end-to-end sequences live in tests/unit/plugins/modules/fixtures/lxc_container/.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os
import stat

import pytest

from ansible_collections.kbypass.testbed.plugins.module_utils.lxc import (
    BLOCK_BEGIN, BLOCK_END, ContainerManager, LxcCli, LxcError, config_values, drop_udhcpc, eth0_manual,
    find_tools, normalize_config, render_config, write_atomic)

from ...harness import Commands, call

# the config lxc-create -t busybox wrote on the testbed (lxc 5.0.2), shortened
TEMPLATE_CONFIG = """\
# Template used to create this container: /usr/share/lxc/templates/lxc-busybox

lxc.net.0.type = veth
lxc.net.0.link = lxcbr0
lxc.net.0.flags = up
lxc.apparmor.profile = generated
lxc.rootfs.path = dir:/var/lib/lxc/kbpt-c1/rootfs
lxc.uts.name = "kbpt-c1"
lxc.mount.entry = /lib lib none ro,bind 0 0
lxc.mount.entry = /usr/lib usr/lib none ro,bind 0 0
"""


def block(*lines):
    return [BLOCK_BEGIN] + list(lines) + [BLOCK_END]


# ============================================================================ normalize_config
def test_normalize_config_types_and_order():
    got = normalize_config({'lxc.cgroup.cpuset.cpus': 1, 'lxc.mount.entry': ['a b', ' c d '],
                            'lxc.autodev': True, 'lxc.cap.drop': None, 'lxc.tty.max': []})
    assert got == [('lxc.cgroup.cpuset.cpus', ['1']), ('lxc.mount.entry', ['a b', 'c d']),
                   ('lxc.autodev', ['1']), ('lxc.cap.drop', []), ('lxc.tty.max', [])]


@pytest.mark.parametrize('config, words', [
    ({'net.0.link': 'x'}, ["'net.0.link'", 'lxc.net.0.link']),
    ({'lxc.net.0.link = x': 'y'}, ['not an LXC config key']),
    ({'lxc.mount.entry': ['a\nb']}, ['config[lxc.mount.entry]', 'line break', 'list']),
    ({'lxc.mount.entry': [{'a': 1}]}, ['string or a list of strings']),
])
def test_normalize_config_refuses(config, words):
    with pytest.raises(LxcError) as exc:
        normalize_config(config)
    for word in words:
        assert word in str(exc.value)


# ============================================================================ render_config
def test_render_moves_managed_keys_into_block_type_first():
    managed = normalize_config({'lxc.net.0.link': 'kbp-br0', 'lxc.net.0.type': 'veth',
                                'lxc.net.0.ipv4.address': '198.18.0.1/24', 'lxc.cgroup.cpuset.cpus': '1'})
    out = render_config(TEMPLATE_CONFIG, managed).splitlines()
    # the template's lxc.net.0.flags follows lxc.net.0.type into the block (type resets the device)
    assert out[-7:] == block('lxc.net.0.type = veth', 'lxc.net.0.flags = up', 'lxc.net.0.link = kbp-br0',
                             'lxc.net.0.ipv4.address = 198.18.0.1/24', 'lxc.cgroup.cpuset.cpus = 1')
    assert out.count('lxc.net.0.link = lxcbr0') == 0
    assert out[-8] == ''
    # untouched keys stay where they were
    assert 'lxc.mount.entry = /lib lib none ro,bind 0 0' in out[:-7]
    assert out[2] == 'lxc.apparmor.profile = generated'


def test_render_is_idempotent_and_stable_across_key_sets():
    first = normalize_config({'lxc.net.0.type': 'veth', 'lxc.net.0.link': 'kbp-br0'})
    second = normalize_config({'lxc.cgroup.cpuset.cpus': '1'})
    text = render_config(TEMPLATE_CONFIG, first)
    assert render_config(text, first) == text
    both = render_config(text, second)
    # a key not mentioned stays in the block, where it was; the new key is appended
    assert both.splitlines()[-6:] == block('lxc.net.0.type = veth', 'lxc.net.0.flags = up',
                                           'lxc.net.0.link = kbp-br0', 'lxc.cgroup.cpuset.cpus = 1')
    # two tasks managing different keys of one container do not flip-flop
    assert render_config(both, first) == both
    assert render_config(both, second) == both


def test_render_replaces_list_key_wholesale_and_in_place():
    managed = normalize_config({'lxc.mount.entry': ['/opt/kbypass opt/kbypass none bind,ro,create=dir 0 0']})
    text = render_config(TEMPLATE_CONFIG, managed)
    assert config_values(text, ['lxc.mount.entry'])['lxc.mount.entry'] == \
        ['/opt/kbypass opt/kbypass none bind,ro,create=dir 0 0']
    grown = normalize_config({'lxc.mount.entry': ['/lib lib none ro,bind 0 0', '/a a none bind 0 0']})
    text2 = render_config(render_config(text, normalize_config({'lxc.tty.max': '1'})), grown)
    assert text2.splitlines()[-5:] == block('lxc.mount.entry = /lib lib none ro,bind 0 0',
                                            'lxc.mount.entry = /a a none bind 0 0', 'lxc.tty.max = 1')


def test_render_removes_key_and_drops_empty_block():
    managed = normalize_config({'lxc.cgroup.cpuset.cpus': '1'})
    text = render_config(TEMPLATE_CONFIG, managed)
    assert BLOCK_BEGIN in text
    gone = render_config(text, normalize_config({'lxc.cgroup.cpuset.cpus': []}))
    assert gone == TEMPLATE_CONFIG
    assert render_config(TEMPLATE_CONFIG, []) == TEMPLATE_CONFIG


def test_render_keeps_lines_after_a_block_and_hand_edits_outside():
    text = render_config(TEMPLATE_CONFIG, normalize_config({'lxc.tty.max': '1'}))
    text += 'lxc.pty.max = 2\n'
    out = render_config(text, normalize_config({'lxc.tty.max': '2'}))
    assert 'lxc.pty.max = 2' in out
    assert out.splitlines()[-3:] == block('lxc.tty.max = 2')


def test_config_values_reads_all_lines_in_order():
    assert config_values(TEMPLATE_CONFIG, ['lxc.mount.entry', 'lxc.nope']) == {
        'lxc.mount.entry': ['/lib lib none ro,bind 0 0', '/usr/lib usr/lib none ro,bind 0 0'], 'lxc.nope': []}


# ============================================================================ static network
def test_drop_udhcpc_busybox_rcs():
    rcs = '#!/bin/sh\n/bin/syslogd\n/bin/mount -a\n/bin/udhcpc\n'
    assert drop_udhcpc(rcs) == '#!/bin/sh\n/bin/syslogd\n/bin/mount -a\n'
    assert drop_udhcpc(drop_udhcpc(rcs)) == drop_udhcpc(rcs)


def test_eth0_manual_debian_interfaces():
    text = 'auto lo\niface lo inet loopback\n\nauto eth0\niface eth0 inet dhcp\n'
    assert eth0_manual(text) == 'auto lo\niface lo inet loopback\n\nauto eth0\niface eth0 inet manual\n'
    assert eth0_manual(eth0_manual(text)) == eth0_manual(text)


# ============================================================================ files
def test_write_atomic_keeps_mode(tmp_path):
    path = tmp_path / 'config'
    path.write_text('old\n')
    os.chmod(str(path), 0o640)
    write_atomic(str(path), 'new\n')
    assert path.read_text() == 'new\n'
    assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ['config']


# ============================================================================ command line
def test_find_tools_names_the_package():
    with pytest.raises(LxcError) as exc:
        find_tools(lambda tool: None if tool == 'lxc-wait' else '/usr/bin/' + tool)
    assert 'lxc-wait' in str(exc.value)
    assert 'package lxc' in str(exc.value)
    assert find_tools(lambda tool: '/usr/bin/' + tool)['lxc-ls'] == '/usr/bin/lxc-ls'


INFO = ['lxc-info', '-n', 'kbpt-c1', '-P', '/var/lib/lxc', '-s', '-p', '-i', '-H', '-l', 'ERROR']


@pytest.mark.parametrize('rc, out, err, expected', [
    # recorded on the testbed
    (0, 'State:          RUNNING\nPID:            4298\nIP:             198.18.0.1\n', '',
     ({'state': 'RUNNING', 'pid': 4298, 'ips': ['198.18.0.1']}, None)),
    (0, 'State:          STOPPED\n', '', ({'state': 'STOPPED', 'pid': None, 'ips': []}, None)),
    (1, '', "kbpt-c1 doesn't exist\n", (None, "kbpt-c1 doesn't exist")),
])
def test_info_parsing(rc, out, err, expected):
    cli = LxcCli(Commands([call(INFO, rc, out, err)]), {}, '/var/lib/lxc')
    assert cli.info('kbpt-c1') == expected


def _manager(steps, tmp_path, clock=None, **params):
    """A ContainerManager whose commands must be ``steps``, (argv, rc, out, err), in order."""
    lxcpath = str(tmp_path)
    os.makedirs(os.path.join(lxcpath, 'kbpt-c1'))
    script = Commands([call([a.replace('LXCPATH', lxcpath) for a in argv], rc, out, err)
                       for argv, rc, out, err in steps])
    p = dict(name='kbpt-c1', lxcpath=lxcpath, template='busybox', start_timeout=2, stop_timeout=10)
    p.update(params)
    ticks = iter(clock or range(1000))
    mgr = ContainerManager(LxcCli(script, {}, lxcpath), p, sleep=lambda s: None, clock=lambda: next(ticks))
    return mgr


START = ['lxc-start', '-n', 'kbpt-c1', '-d', '-P', 'LXCPATH', '-l', 'ERROR', '-o', 'LXCPATH/kbpt-c1/kbypass-start.log']
WAIT = ['lxc-wait', '-n', 'kbpt-c1', '-P', 'LXCPATH', '-s', 'RUNNING', '-t', '2']
ATTACH = ['lxc-attach', '-n', 'kbpt-c1', '-P', 'LXCPATH', '--', '/bin/true']
ATTACH_ERR = ('lxc-attach: kbpt-c1: ../src/lxc/attach.c: get_attach_context: 406 Connection refused - '
              'Failed to get init pid\n')


def test_start_retries_attach_until_it_works(tmp_path):
    mgr = _manager([(START, 0, '', ''), (WAIT, 0, '', ''), (ATTACH, 1, '', ATTACH_ERR),
                   (ATTACH, 0, '', '')], tmp_path)
    mgr.start([])


def test_start_gives_up_after_start_timeout(tmp_path):
    mgr = _manager([(START, 0, '', ''), (WAIT, 0, '', ''), (ATTACH, 1, '', ATTACH_ERR),
                   (ATTACH, 1, '', ATTACH_ERR)], tmp_path, clock=[0, 1, 5])
    with pytest.raises(LxcError) as exc:
        mgr.start([])
    assert 'start_timeout=2' in str(exc.value)
    assert 'Failed to get init pid' in str(exc.value)


def test_start_template_none_does_not_attach(tmp_path):
    mgr = _manager([(START, 0, '', ''), (WAIT, 0, '', '')], tmp_path, template='none')
    mgr.start([])


def test_wait_failure_names_timeout(tmp_path):
    mgr = _manager([(START, 0, '', ''), (WAIT, 1, '', '')], tmp_path)
    with pytest.raises(LxcError) as exc:
        mgr.start([])
    assert 'did not reach RUNNING within start_timeout=2s' in str(exc.value)


LS = ['lxc-ls', '-P', 'LXCPATH', '-1']
INFO_T = ['lxc-info', '-n', 'kbpt-c1', '-P', 'LXCPATH', '-s', '-p', '-i', '-H', '-l', 'ERROR']
RUNNING = 'State:          RUNNING\nPID:            4298\n'
STOP_T = ['lxc-stop', '-n', 'kbpt-c1', '-P', 'LXCPATH', '-t', '10']
STOP_K = ['lxc-stop', '-n', 'kbpt-c1', '-P', 'LXCPATH', '-k']


def test_stop_falls_back_to_kill(tmp_path):
    mgr = _manager([(STOP_T, 1, '', 'timed out'), (LS, 0, 'kbpt-c1\n', ''), (INFO_T, 0, RUNNING, ''),
                   (STOP_K, 0, '', '')], tmp_path)
    mgr.stop()


def test_stop_timeout_zero_kills_at_once(tmp_path):
    mgr = _manager([(STOP_K, 0, '', '')], tmp_path, stop_timeout=0)
    mgr.stop()


def test_stop_failure_reported(tmp_path):
    mgr = _manager([(STOP_K, 1, '', 'boom'), (LS, 0, 'kbpt-c1\n', ''), (INFO_T, 0, RUNNING, '')],
                   tmp_path, stop_timeout=0)
    with pytest.raises(LxcError) as exc:
        mgr.stop()
    assert 'lxc-stop -n kbpt-c1 failed (rc=1): boom' in str(exc.value)


@pytest.mark.parametrize('log, managed, key', [
    # lines recorded from lxc-start -l ERROR -o LOG on the testbed (lxc 5.0.2)
    ('lxc-start c 20261127003607.182 ERROR    confile - ../src/lxc/confile.c:set_config_unsupported_key:164 - '
     'Invalid argument - Unsupported config key "lxc.bogus.key"', [('lxc.bogus.key', ['1'])],
     ('lxc.bogus.key', ['1'])),
    ('lxc-start c 20261127003607.369 ERROR    parse - ../src/lxc/parse.c:lxc_file_for_each_line_mmap:129 - '
     'Failed to parse config file "/var/lib/lxc/c/config" at line "lxc.net.0.ipv4.address = notanip"', [],
     ('lxc.net.0.ipv4.address', ['notanip'])),
    ('lxc-start c 20261127003607.345 ERROR    cgfsng - ../src/lxc/cgroups/cgfsng.c:cgfsng_setup_limits_legacy:'
     '3165 - Numerical result out of range - Failed to set "cpuset.cpus" to "7"',
     [('lxc.cgroup.cpuset.cpus', ['7'])], ('lxc.cgroup.cpuset.cpus', ['7'])),
    ('lxc-start c 20261127003607.260 ERROR    network - ../src/lxc/network.c:netdev_configure_server_veth:711 - '
     'No such file or directory - Failed to attach "vethiSHFwl" to bridge "kbpt-nobr0", bridge interface '
     "doesn't exist", [('lxc.net.0.type', ['veth']), ('lxc.net.0.link', ['kbpt-nobr0'])],
     ('lxc.net.0.link', ['kbpt-nobr0'])),
    ('lxc-start c ERROR start - something else entirely', [('lxc.net.0.link', ['kbpt-br0'])], None),
])
def test_rejected_key_from_log(log, managed, key):
    assert ContainerManager._rejected_key(log, managed) == key


def test_start_failure_message_has_key_and_log(tmp_path):
    log = ('lxc-start kbpt-c1 20261127003607.345 ERROR    cgfsng - ../src/lxc/cgroups/cgfsng.c:'
           'cgfsng_setup_limits_legacy:3165 - Numerical result out of range - Failed to set "cpuset.cpus" to "7"\n')
    mgr = _manager([(START, 1, '', 'The container failed to start\n')], tmp_path)

    real_run = mgr.cli._run_command

    def run(argv, **kwargs):
        with open(mgr.log_path, 'w') as handle:
            handle.write(log)
        return real_run(argv, **kwargs)
    mgr.cli._run_command = run
    with pytest.raises(LxcError) as exc:
        mgr.start([('lxc.cgroup.cpuset.cpus', ['7'])])
    msg = str(exc.value)
    assert 'LXC rejected config key lxc.cgroup.cpuset.cpus (value 7)' in msg
    assert 'Failed to set "cpuset.cpus" to "7"' in msg
    assert mgr.log_path in msg


def test_static_network_edits_rootfs(tmp_path):
    mgr = _manager([], tmp_path)
    rootfs = tmp_path / 'kbpt-c1' / 'rootfs'
    (rootfs / 'etc' / 'init.d').mkdir(parents=True)
    (rootfs / 'etc' / 'init.d' / 'rcS').write_text('#!/bin/sh\n/bin/mount -a\n/bin/udhcpc\n')
    mgr.check_mode = True
    mgr.static_network(str(rootfs))
    assert (rootfs / 'etc' / 'init.d' / 'rcS').read_text().endswith('/bin/udhcpc\n')
    assert mgr.actions == ['removed udhcpc from %s/etc/init.d/rcS' % rootfs]
    mgr.check_mode, mgr.actions = False, []
    mgr.static_network(str(rootfs))
    assert (rootfs / 'etc' / 'init.d' / 'rcS').read_text() == '#!/bin/sh\n/bin/mount -a\n'
    mgr.actions = []
    mgr.static_network(str(rootfs))
    assert mgr.actions == []
    mgr.p['static_network'] = False
    (rootfs / 'etc' / 'init.d' / 'rcS').write_text('/bin/udhcpc\n')
    mgr.static_network(str(rootfs))
    assert mgr.actions == []
