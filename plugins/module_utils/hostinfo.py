# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host facts and component versions for host.json (parsers are pure functions)."""

from __future__ import annotations

import json
import os
import platform
import re
import shutil

from ansible_collections.kbypass.testbed.plugins.module_utils.ledger import write_atomic
from ansible_collections.kbypass.testbed.plugins.module_utils.plan import format_cpu_list, parse_cpu_list
from ansible_collections.kbypass.testbed.plugins.module_utils.results_schema import SCHEMA_VERSION

# Component -> argv printing its version. A missing command gives null, never an error.
VERSION_COMMANDS = {
    'lxc': ['lxc-create', '--version'],
    'sockperf': ['sockperf', '--version'],
    'iproute2': ['ip', '-V'],
    'iperf3': ['iperf3', '--version'],
    'openvswitch': ['ovs-vsctl', '--version'],
    'dpdk': ['pkg-config', '--modversion', 'libdpdk'],
}

_VERSION = re.compile(r'(\d+\.\d+(?:[.\-][0-9A-Za-z]+)*)')


def parse_version(text):
    """First version-looking token of a tool's --version output ('sockperf, version 3.7-no.git' -> '3.7-no.git')."""
    for line in (text or '').splitlines():
        match = _VERSION.search(line)
        if match:
            return match.group(1)
    return None


def parse_cpuinfo(text):
    """/proc/cpuinfo -> (model name, logical CPU count)."""
    models = re.findall(r'^model name\s*:\s*(.+)$', text or '', re.MULTILINE)
    count = len(re.findall(r'^processor\s*:', text or '', re.MULTILINE))
    return (models[0].strip() if models else None), count


def parse_meminfo(text):
    match = re.search(r'^MemTotal:\s+(\d+) kB', text or '', re.MULTILINE)
    return int(match.group(1)) // 1024 if match else None


def parse_os_release(text):
    values = dict(re.findall(r'^([A-Z_]+)="?([^"\n]*)"?$', text or '', re.MULTILINE))
    return values.get('PRETTY_NAME') or values.get('NAME')


def _read(path):
    try:
        with open(path) as handle:
            return handle.read()
    except OSError:
        return ''


class HostInfo:
    """Reads facts with the module's run_command so tests can feed recorded output."""

    def __init__(self, run_command, sysroot=''):
        self.run_command = run_command
        self.sysroot = sysroot

    def _p(self, path):
        return self.sysroot + path

    def version(self, argv):
        if not shutil.which(argv[0]):
            return None
        try:
            rc, out, err = self.run_command(argv)
        except OSError:
            return None
        if rc not in (0, 1):
            return None
        return parse_version(out or err)

    def collect(self, host, extra_versions=None):
        model, count = parse_cpuinfo(_read(self._p('/proc/cpuinfo')))
        node_dir = self._p('/sys/devices/system/node')
        nodes = [n for n in (os.listdir(node_dir) if os.path.isdir(node_dir) else []) if re.match(r'node\d+$', n)]
        online = _read(self._p('/sys/devices/system/cpu/online')).strip()
        commands = dict(VERSION_COMMANDS)
        commands.update(extra_versions or {})
        versions = dict((name, self.version(argv)) for name, argv in sorted(commands.items()))
        return {
            'schema': SCHEMA_VERSION, 'host': host, 'hostname': platform.node(),
            'kernel': platform.release(), 'arch': platform.machine(),
            'cpu_model': model, 'cpu_count': count,
            'cpus_online': format_cpu_list(parse_cpu_list(online)) if online else None,
            'numa_nodes': len(nodes) or 1,
            'memory_mb': parse_meminfo(_read(self._p('/proc/meminfo'))),
            'os': parse_os_release(_read(self._p('/etc/os-release'))),
            'versions': versions,
        }


def write_json_if_changed(path, data):
    """Write data as JSON; returns True when the file content changed."""
    text = json.dumps(data, indent=1, sort_keys=True) + '\n'
    if _read(path) == text:
        return False
    write_atomic(path, text)
    return True
