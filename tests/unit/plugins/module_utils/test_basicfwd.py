# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""basicfwd (DPDK 22.11 examples/skeleton/basicfwd.c, built unmodified on the development VM,
Debian 12): argv builders and parser, and the basicfwd_switch module replayed from what it did on
the real system (tests/unit/plugins/module_utils/record_switch.py recorded every file access,
start, poll and signal; harness.ReplayOps answers them, every one must be used)."""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.kbypass.testbed.plugins.module_utils import basicfwd
from ansible_collections.kbypass.testbed.plugins.module_utils.daemon import DaemonError
from ansible_collections.kbypass.testbed.plugins.module_utils.vhost_switch import SwitchError
from ansible_collections.kbypass.testbed.plugins.modules import basicfwd_switch

from ...harness import ReplayOps

FIXTURES = os.path.join(os.path.dirname(__file__), 'fixtures', 'basicfwd')
SOCK = '/run/kbypass/basicfwd'


def fixture(name):
    with open(os.path.join(FIXTURES, name), encoding='utf-8') as handle:
        return handle.read() if not name.endswith('.json') else json.load(handle)


# ------------------------------------------------------------------------------------------ argv
@pytest.mark.parametrize('ports, topology, vdevs', [
    (['kbp-bf-a', 'kbp-bf-b'], 'pair', ['net_vhost0,iface=%s/kbp-bf-a.sock,queues=1' % SOCK,
                                        'net_vhost1,iface=%s/kbp-bf-b.sock,queues=1' % SOCK]),
    # each container's port paired with a ring port that sends everything back
    (['kbp-bf-a'], 'loop', ['net_vhost0,iface=%s/kbp-bf-a.sock,queues=1' % SOCK, 'net_ring0']),
    (['x', 'y'], 'loop', ['net_vhost0,iface=%s/x.sock,queues=1' % SOCK, 'net_ring0',
                          'net_vhost1,iface=%s/y.sock,queues=1' % SOCK, 'net_ring1']),
])
def test_switch_argv(ports, topology, vdevs):
    argv = basicfwd.switch_argv(ports, SOCK + '/', topology, cpus='0', binary='/b', eal_args=['--log-level=8'])
    assert argv[:4] == ['/b', '--lcores=0@0', '--in-memory', '--no-pci'] and argv[-1] == '--log-level=8'
    assert argv[5:-1:2] == vdevs and set(argv[4:-1:2]) == {'--vdev'}


@pytest.mark.parametrize('kwargs, message', [
    (dict(ports=['a']), 'even number'),
    (dict(ports=[]), 'no port'),
    (dict(ports=['a', 'a']), 'twice'),
    (dict(ports=['a', 'b'], topology='star'), 'topology'),
    (dict(ports=['a', 'b'], cpus='0-1'), 'exactly one lcore'),
    (dict(ports=['a', 'b'], cpus=''), 'exactly one lcore'),
    (dict(ports=['a', 'b'], cpus='x'), 'bad CPU list'),
    (dict(ports=['a', 'b'], socket_dir='rel'), 'absolute'),
])
def test_switch_argv_errors(kwargs, message):
    kwargs.setdefault('socket_dir', SOCK)
    with pytest.raises(SwitchError, match=message):
        basicfwd.switch_argv(**kwargs)


@pytest.mark.parametrize('cpus, main_cpus, cpu_list', [('0', '1', '0-1'), ('1', '0', '0-1'), ('3', '0,5', '0,3,5'),
                                                        ('2', '2', '2')])
def test_launcher(cpus, main_cpus, cpu_list):
    assert basicfwd.launcher(cpus, main_cpus) == ['taskset', '-c', cpu_list, 'stdbuf', '-oL']


@pytest.mark.parametrize('cpus, main_cpus, message', [('0-1', '0', 'exactly one'), ('1', '', 'main_cpus is empty')])
def test_launcher_errors(cpus, main_cpus, message):
    with pytest.raises(SwitchError, match=message):
        basicfwd.launcher(cpus, main_cpus)
