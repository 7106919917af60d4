# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.kbypass.testbed.plugins.module_utils import hostinfo

from ...harness import Commands, call

# Real outputs recorded on Debian 12 (the project's reference machine).
VERSIONS = [
    ('5.0.2\n', '5.0.2'),
    ('sockperf, version 3.7-no.git\n   compiled 2021-08-23 12:14:23\n', '3.7-no.git'),
    ('ip utility, iproute2-6.1.0, libbpf 1.1.2\n', '6.1.0'),
    ('iperf 3.12 (cJSON 1.7.15)\nLinux vm 6.18.44-fc-v782 #1 SMP\n', '3.12'),
    ('icperf 0.1.0\n', '0.1.0'),
    ('', None),
    ('no version here', None),
]


@pytest.mark.parametrize('text, version', VERSIONS)
def test_parse_version(text, version):
    assert hostinfo.parse_version(text) == version


def test_parse_cpuinfo():
    text = 'processor\t: 0\nmodel name\t: AMD EPYC\n\nprocessor\t: 1\nmodel name\t: AMD EPYC\n'
    assert hostinfo.parse_cpuinfo(text) == ('AMD EPYC', 2)
    assert hostinfo.parse_cpuinfo('') == (None, 0)


@pytest.mark.parametrize('text, value', [('MemTotal:       24683656 kB\n', 24105), ('', None)])
def test_parse_meminfo(text, value):
    assert hostinfo.parse_meminfo(text) == value


def test_parse_os_release():
    text = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\n'
    assert hostinfo.parse_os_release(text) == 'Debian GNU/Linux 12 (bookworm)'


def test_collect_from_a_fake_host(tmp_path, monkeypatch):
    root = tmp_path
    (root / 'proc').mkdir()
    (root / 'proc' / 'cpuinfo').write_text('processor\t: 0\nmodel name\t: Xeon E5-2640 v4\nprocessor\t: 1\n')
    (root / 'proc' / 'meminfo').write_text('MemTotal: 2048000 kB\n')
    (root / 'etc').mkdir()
    (root / 'etc' / 'os-release').write_text('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n')
    for node in ('node0', 'node1', 'possible'):
        (root / 'sys' / 'devices' / 'system' / 'node' / node).mkdir(parents=True)
    (root / 'sys' / 'devices' / 'system' / 'cpu').mkdir(parents=True)
    (root / 'sys' / 'devices' / 'system' / 'cpu' / 'online').write_text('0-1\n')
    # the version commands in the order of their names; iperf3 is missing, so not run
    run_command = Commands([
        call(['pkg-config', '--modversion', 'libdpdk'], 0, '22.11.11\n'),
        call(['ip', '-V'], 0, 'ip utility, iproute2-6.1.0, libbpf 1.1.2\n'),
        call(['lxc-create', '--version'], 0, '5.0.2\n'),
        call(['ovs-vsctl', '--version'], 0, 'ovs-vsctl (Open vSwitch) 3.1.0\nDB Schema 8.3.1\n'),
        call(['sockperf', '--version'], 0, 'sockperf, version 3.7-no.git\n'),
    ])
    monkeypatch.setattr(hostinfo.shutil, 'which', lambda name: None if name == 'iperf3' else '/usr/bin/' + name)
    info = hostinfo.HostInfo(run_command, sysroot=str(root)).collect('lab1')
    assert info['cpu_model'] == 'Xeon E5-2640 v4' and info['cpu_count'] == 2 and info['numa_nodes'] == 2
    assert info['memory_mb'] == 2000 and info['cpus_online'] == '0-1'
    assert info['versions'] == {'iperf3': None, 'iproute2': '6.1.0', 'lxc': '5.0.2', 'sockperf': '3.7-no.git',
                                'openvswitch': '3.1.0', 'dpdk': '22.11.11'}


def test_write_json_if_changed(tmp_path):
    path = str(tmp_path / 'host.json')
    assert hostinfo.write_json_if_changed(path, {'a': 1}) is True
    assert hostinfo.write_json_if_changed(path, {'a': 1}) is False
    assert hostinfo.write_json_if_changed(path, {'a': 2}) is True
    assert json.load(open(path)) == {'a': 2} and not os.path.exists(path + '.tmp')
