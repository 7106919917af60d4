#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: basicfwd_switch
short_description: Run DPDK's skeleton forwarder basicfwd in the background as a vhost-user switch between containers
version_added: 0.2.0
description:
  - "Starts C(basicfwd) (DPDK's C(examples/skeleton/basicfwd.c), built by the role
    C(kbypass.testbed.basicfwd)) detached from Ansible (own session, stdin /dev/null, stdout and
    stderr into O(log)), through C(taskset -c <main_cpus>,<cpus> stdbuf -oL), with one
    C(net_vhostN,iface=<socket_dir>/<port>.sock,queues=1) port per name of O(ports). basicfwd forwards
    port p to port p^1 on one lcore until a signal kills it."
  - "O(topology=pair): ports in the order of O(ports) (0<->1). O(topology=loop): each container's
    vhost port is paired with a C(net_ringN) port (DPDK's ring PMD, whose one ring is its rx and tx),
    so every frame comes back to its container, crossing basicfwd twice."
  - "Idempotent: when the process of O(pidfile) runs with the same argv nothing changes; another
    argv restarts it (RV(restarted)). O(state=started) removes stale sockets, then returns when
    every vhost socket exists and the log says C(Core N forwarding packets.); it fails with the end
    of the log when basicfwd exits first."
  - O(state=stopped) sends SIGTERM (basicfwd has no handler, it dies; not SIGINT, which a process
    started from a non-interactive shell's background may ignore), waits O(stop_timeout) seconds,
    then SIGKILL, and removes the sockets basicfwd leaves. The log is kept.
author: kbypass.testbed maintainers (@kbypass)
extends_documentation_fragment:
  - kbypass.testbed.attributes
  - kbypass.testbed.vhost_switch
requirements:
  - C(basicfwd) built against the installed libdpdk (role C(kbypass.testbed.basicfwd)), C(taskset),
    C(stdbuf) and huge pages reserved (role C(kbypass.testbed.dpdk))
options:
  ports:
    description:
      - Names of the ports, in port order (the containers); port N gets C(<socket_dir>/<name>.sock).
      - Required for O(state=started). For V(stopped), the sockets of these ports are removed once the
        process is gone (basicfwd leaves them); the process is stopped if its program is O(binary).
    type: list
    elements: str
    default: []
  socket_dir:
    description: Directory of the vhost-user sockets (basicfwd creates them, it is the server).
    type: path
    default: /run/kbypass/basicfwd
  cpus:
    description: The one CPU of basicfwd's lcore (it forwards on its main lcore only).
    type: str
    default: "1"
  main_cpus:
    description: CPU list of the EAL control threads (the vhost-user socket thread, interrupts).
    type: str
    default: "0"
  binary:
    description: The basicfwd program.
    type: str
    default: /opt/kbypass/bin/basicfwd
  pidfile:
    description: Pid file of the switch.
    type: path
    default: /run/kbypass/basicfwd-switch.pid
  log:
    description: File that receives basicfwd's stdout and stderr (rewritten at each start).
    type: path
    default: /var/log/kbypass/basicfwd/switch.log
attributes:
  check_mode:
    support: full
    details: Reads the pid file, C(/proc) and the sockets only; starts, stops, signals and removes nothing.
  diff_mode:
    support: full
    details: RV(before) and RV(after) (running, pid, argv).
'''

EXAMPLES = r'''
- name: Switch two containers
  kbypass.testbed.basicfwd_switch:
    ports: [kbp-bf-a, kbp-bf-b]
    topology: pair
    cpus: "1"
    main_cpus: "0"

- name: Send container a's frames back to it (one vhost port, one ring port)
  kbypass.testbed.basicfwd_switch:
    ports: [kbp-bf-a]
    topology: loop
    cpus: "0"
    main_cpus: "1"

- name: Stop it
  kbypass.testbed.basicfwd_switch:
    state: stopped
'''

RETURN = r'''
argv:
  description: The command line of the switch (without the launcher).
  returned: always
  type: list
  elements: str
pid:
  description: Pid of the running switch, null when stopped.
  returned: always
  type: int
restarted:
  description: Whether a switch with another argv was stopped first.
  returned: state=started
  type: bool
killed:
  description: Whether SIGKILL was needed.
  returned: state=stopped
  type: bool
macs:
  description: Port number -> MAC address, as basicfwd printed them.
  returned: state=started and basicfwd was started
  type: dict
lcore:
  description: The lcore basicfwd forwards on.
  returned: state=started and basicfwd was started
  type: int
log:
  description: Path of the log.
  returned: always
  type: str
before:
  description: running, pid and argv before.
  returned: always
  type: dict
after:
  description: running, pid and argv after.
  returned: always
  type: dict
'''

import signal

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kbypass.testbed.plugins.module_utils.basicfwd import (
    READY_TEXT, launcher, parse_basicfwd, switch_argv)
from ansible_collections.kbypass.testbed.plugins.module_utils.vhost_switch import (
    REQUIRED_IF, argument_spec, run_module, run_switch, socket_paths)


def run(params, check_mode=False, ops=None):
    """The module's work, without AnsibleModule (for the tests)."""
    argv, wrapper = [], []
    if params['state'] == 'started':
        argv = switch_argv(params['ports'], params['socket_dir'], params['topology'], params['cpus'],
                           params['binary'], params['eal_args'])
        wrapper = launcher(params['cpus'], params['main_cpus'])
    daemon, result = run_switch(params, argv, check_mode, ops, launcher=wrapper, ready_text=READY_TEXT,
                                leaves=socket_paths(params['ports'], params['socket_dir']),
                                stop_signal=signal.SIGTERM)
    if params['state'] == 'started' and result['changed'] and not check_mode:
        parsed = parse_basicfwd(daemon.log_text())
        result.update(macs=dict((str(port), mac) for port, mac in parsed['ports'].items()), lcore=parsed['lcore'])
    return result


def main():
    module = AnsibleModule(
        argument_spec=argument_spec('basicfwd', '/opt/kbypass/bin/basicfwd'),
        required_if=REQUIRED_IF,
        supports_check_mode=True,
    )
    run_module(module, run, ('taskset', 'stdbuf'))


if __name__ == '__main__':
    main()
