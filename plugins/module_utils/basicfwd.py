# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""DPDK's skeleton forwarder ``basicfwd`` (examples/skeleton/basicfwd.c, built unmodified) as the
switch of the ``basicfwd`` data path: argv builders and a parser of what it prints (pure functions).

basicfwd takes EAL arguments only. It forwards every frame received on port p to port p^1 (0<->1,
2<->3...), on one lcore (its main lcore), and refuses an odd number of ports. It prints nothing
per packet, has no statistics and no signal handler: SIGTERM kills it (the module's stop signal;
SIGINT would too, but a process started in the background of a non-interactive shell inherits
SIGINT ignored), and the vhost-user sockets of its ``net_vhost`` ports stay behind (the module
removes them).

Ports (N = the container's index): pair = ``net_vhost0`` (container a), ``net_vhost1`` (b);
loop = port 2N ``net_vhostN``, port 2N+1 ``net_ringN``: DPDK's ring PMD created without arguments
uses one ring for its rx and tx, so what basicfwd sends to it comes back on it and basicfwd sends
it to the container again: a -> port 0 -> port 1 (the ring) -> port 1 -> port 0 -> a. Each frame
crosses basicfwd twice in a loop (once in the pair).

What it prints (DPDK 22.11, stdout line-buffered by ``stdbuf -oL``; EAL lines around it)::

    Port 0 MAC: 56 48 4f 53 54 00
    Port 1 MAC: 00 00 00 00 00 00

    Core 0 forwarding packets. [Ctrl+C to quit]

and on an error (rte_exit)::

    EAL: Error - exiting with code: 1
      Cause: Error: number of ports must be even
"""

from __future__ import annotations

import re

from ansible_collections.kbypass.testbed.plugins.module_utils.plan import format_cpu_list
from ansible_collections.kbypass.testbed.plugins.module_utils.vhost_switch import (
    SwitchError, check_ports, parse_cpulist, socket_paths, vhost_vdev)

# printed once every port is started, right before its forwarding loop
READY_TEXT = 'forwarding packets.'
EAL_ARGS = ('--in-memory', '--no-pci')

_PORT_MAC = re.compile(r'^Port (\d+) MAC: ((?:[0-9a-fA-F]{2} ){5}[0-9a-fA-F]{2})\s*$', re.MULTILINE)
_CORE = re.compile(r'^Core (\d+) forwarding packets\.', re.MULTILINE)
# rte_exit(): "EAL: Error - exiting with code: 1" then "  Cause: <the message>"
_CAUSE = re.compile(r'^\s*Cause: (.*?)\s*$', re.MULTILINE)


def _one_cpu(text, what):
    cpus = parse_cpulist(text)
    if len(cpus) != 1:
        raise SwitchError('%s=%r: basicfwd forwards on exactly one lcore (its main lcore); give one CPU '
                          '(benchmark_switch_cpus: 1)' % (what, text))
    return cpus[0]


def switch_argv(ports, socket_dir, topology='pair', cpus='1', binary='basicfwd', eal_args=None):
    """argv of basicfwd as the switch between the containers ``ports`` (names), its lcore on the CPU
    ``cpus``; see the module docstring for the ports of each topology."""
    check_ports(ports, socket_dir, topology)
    argv = [binary, '--lcores=0@%d' % _one_cpu(cpus, 'cpus')] + list(EAL_ARGS)
    for index, socket in enumerate(socket_paths(ports, socket_dir)):
        argv += ['--vdev', vhost_vdev(index, socket)]
        if topology == 'loop':
            argv += ['--vdev', 'net_ring%d' % index]
    return argv + list(eal_args or [])


def launcher(cpus, main_cpus):
    """What execs basicfwd: ``taskset`` on its lcore's CPU and ``main_cpus`` (EAL puts its control
    threads, the vhost-user socket thread among them, on the process's CPUs other than the lcores',
    so they land on ``main_cpus``), then ``stdbuf -oL`` (its printf lines reach the log as they are
    printed, not when it exits)."""
    cpu = _one_cpu(cpus, 'cpus')
    main = parse_cpulist(main_cpus)
    if not main:
        raise SwitchError('main_cpus is empty: give the CPU(s) of the EAL control threads, e.g. "0"')
    return ['taskset', '-c', format_cpu_list(main + [cpu]), 'stdbuf', '-oL']


def parse_basicfwd(text):
    """basicfwd's output -> {ports: {port: 'aa:bb:..'}, lcore: the forwarding lcore or None,
    forwarding: whether it reached its loop, error: the cause it exited with, or None}."""
    text = (text or '').replace('\r', '')
    core = _CORE.search(text)
    errors = _CAUSE.findall(text)
    return {'ports': dict((int(p), mac.replace(' ', ':').lower()) for p, mac in _PORT_MAC.findall(text)),
            'lcore': int(core.group(1)) if core else None,
            'forwarding': core is not None,
            'error': errors[-1] if errors else None}
