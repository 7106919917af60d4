# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the DPDK switches on the host share (testpmd and basicfwd between the containers of their
data paths): one ``net_vhostN`` port per container, the vhost-user server of the socket
``<socket_dir>/<name>.sock`` that the container's ``net_virtio_user0`` connects to; the checks of
that input; the options of their modules (``testpmd_switch``, ``basicfwd_switch``) and their run
as a :class:`daemon.Daemon` that is ready once every socket exists.
"""

from __future__ import annotations

from ansible_collections.kbypass.testbed.plugins.module_utils.commands import command_runner
from ansible_collections.kbypass.testbed.plugins.module_utils.daemon import Daemon, DaemonError
from ansible_collections.kbypass.testbed.plugins.module_utils.module_exit import run_and_exit
from ansible_collections.kbypass.testbed.plugins.module_utils.plan import PlanError, parse_cpu_list

TOPOLOGIES = ('pair', 'loop')


class SwitchError(ValueError):
    """Bad input of a switch's argv builder."""


def parse_cpulist(text):
    """'0-2,5' -> [0, 1, 2, 5]; '' -> [] (plan.parse_cpu_list, with this module's error type)."""
    try:
        return parse_cpu_list(text or '')
    except PlanError as exc:
        raise SwitchError(str(exc))


def check_ports(ports, socket_dir, topology):
    """Refuse what no switch can run: an unknown topology, no port, a port twice, an odd number of
    ports for the pair (0<->1, 2<->3...), a relative socket folder."""
    if topology not in TOPOLOGIES:
        raise SwitchError('topology=%r: use one of %s' % (topology, ', '.join(sorted(TOPOLOGIES))))
    if not ports:
        raise SwitchError('no port: give the containers the switch connects')
    if len(set(ports)) != len(ports):
        raise SwitchError('ports %r: a container is listed twice' % (ports,))
    if topology == 'pair' and len(ports) % 2:
        raise SwitchError('topology=pair needs an even number of ports (0<->1, 2<->3...), got %d: %s'
                          % (len(ports), ', '.join(ports)))
    if not str(socket_dir).startswith('/'):
        raise SwitchError('socket_dir=%r must be an absolute path' % (socket_dir,))


def socket_paths(ports, socket_dir):
    return ['%s/%s.sock' % (str(socket_dir).rstrip('/'), name) for name in ports]


def vhost_vdev(index, socket):
    """The EAL device of switch port ``index``: the vhost-user server on ``socket``."""
    return 'net_vhost%d,iface=%s,queues=1' % (index, socket)


# AnsibleModule's required_if of every switch module
REQUIRED_IF = [('state', 'started', ['ports'])]


def argument_spec(name, binary):
    """The options every switch module has; its defaults name the data path ``name``."""
    return dict(
        state=dict(type='str', choices=['started', 'stopped'], default='started'),
        ports=dict(type='list', elements='str', default=[]),
        socket_dir=dict(type='path', default='/run/kbypass/%s' % name),
        topology=dict(type='str', choices=list(TOPOLOGIES), default='pair'),
        cpus=dict(type='str', default='1'),
        main_cpus=dict(type='str', default='0'),
        binary=dict(type='str', default=binary),
        eal_args=dict(type='list', elements='str', default=[]),
        pidfile=dict(type='path', default='/run/kbypass/%s-switch.pid' % name),
        log=dict(type='path', default='/var/log/kbypass/%s/switch.log' % name),
        timeout=dict(type='float', default=30),
        stop_timeout=dict(type='float', default=10),
    )


def run_switch(params, argv, check_mode=False, ops=None, **daemon_args):
    """Start (``params['state']``: started) or stop the switch ``argv`` (empty: stop whatever the
    pid file names, if it runs ``params['binary']``). Returns (the Daemon, its result with argv)."""
    daemon = Daemon(argv, params['pidfile'], params['log'],
                    wait_for=socket_paths(params['ports'], params['socket_dir']),
                    timeout=params['timeout'], stop_timeout=params['stop_timeout'],
                    check_mode=check_mode, ops=ops, program=params['binary'], **daemon_args)
    result = daemon.started() if params['state'] == 'started' else daemon.stopped()
    result['argv'] = argv or result['before']['argv']
    return daemon, result


def run_module(module, run, programs=()):
    """The end of a switch module's main(): with state=started, fail naming a missing program (the
    switch's binary, then ``programs``) before anything is stopped; then ``run(params, check_mode)``."""
    if module.params['state'] == 'started':
        runner = command_runner(module)
        for program in [module.params['binary']] + list(programs):
            runner.require(program)
    run_and_exit(module, lambda: run(module.params, module.check_mode), (SwitchError, DaemonError))
