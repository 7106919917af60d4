#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: testpmd_switch
short_description: Run DPDK testpmd in the background as a vhost-user switch between containers
version_added: 0.1.0
description:
  - "Starts C(dpdk-testpmd) detached from Ansible (own session, stdin /dev/null, stdout and stderr
    into O(log)), with one C(net_vhostN,iface=<socket_dir>/<port>.sock,queues=1) port per name of
    O(ports), C(io) forwarding, C(--port-topology=paired) or C(loop), C(--stats-period 1), no C(-i);
    it forwards until SIGINT."
  - "Idempotent: when the process of O(pidfile) runs with the same argv nothing changes; another
    argv restarts it (RV(restarted)). O(state=started) returns when every vhost socket exists and
    fails with the end of the log when testpmd exits first."
  - O(state=stopped) sends SIGINT, waits O(stop_timeout) seconds, then SIGKILL. The log is kept, its
    final C(Forward statistics) are the switch's counters, returned parsed in RV(totals).
author: kbypass.testbed maintainers (@kbypass)
extends_documentation_fragment:
  - kbypass.testbed.attributes
  - kbypass.testbed.vhost_switch
requirements:
  - C(dpdk-testpmd) (Debian package C(dpdk)) and huge pages reserved (role C(kbypass.testbed.dpdk))
options:
  ports:
    description:
      - Names of the ports, in port order (the containers); port N gets C(<socket_dir>/<name>.sock).
      - Required for O(state=started). For V(stopped), when given, the process is stopped only if it
        runs this argv; otherwise only if its program is O(binary).
    type: list
    elements: str
    default: []
  socket_dir:
    description: Directory of the vhost-user sockets (testpmd creates them, it is the server).
    type: path
    default: /run/kbypass/testpmd
  cpus:
    description: CPU list of the forwarding lcores (one lcore per CPU, C(--nb-cores) = their number).
    type: str
    default: "1"
  main_cpus:
    description: CPU list of testpmd's main lcore (it only prints the statistics).
    type: str
    default: "0"
  total_num_mbufs:
    description: C(--total-num-mbufs); the default pool (about 340 MB) is too big for small hosts.
    type: int
    default: 16384
  binary:
    description: testpmd program.
    type: str
    default: dpdk-testpmd
  app_args:
    description: Extra testpmd arguments (after C(--)).
    type: list
    elements: str
    default: []
  pidfile:
    description: Pid file of the switch.
    type: path
    default: /run/kbypass/testpmd-switch.pid
  log:
    description: File that receives testpmd's stdout and stderr (rewritten at each start).
    type: path
    default: /var/log/kbypass/testpmd/switch.log
attributes:
  check_mode:
    support: full
    details: Reads the pid file and C(/proc) only; starts, stops and signals nothing, and RV(totals) is not read.
  diff_mode:
    support: full
    details: RV(before) and RV(after) (running, pid, argv).
'''

EXAMPLES = r'''
- name: Switch two containers
  kbypass.testbed.testpmd_switch:
    ports: [kbp-a, kbp-b]
    topology: pair
    cpus: "1"
    main_cpus: "0"

- name: Stop it (its counters are in the result)
  kbypass.testbed.testpmd_switch:
    state: stopped
  register: switch
'''

RETURN = r'''
argv:
  description: The command line of the switch.
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
totals:
  description: Final forward statistics per port from the log (rx_packets, rx_dropped, tx_packets, tx_dropped...).
  returned: state=stopped and a switch was stopped
  type: dict
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

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kbypass.testbed.plugins.module_utils.testpmd import parse_testpmd, switch_argv
from ansible_collections.kbypass.testbed.plugins.module_utils.vhost_switch import (
    REQUIRED_IF, argument_spec, run_module, run_switch)


def run(params, check_mode=False, ops=None):
    """The module's work, without AnsibleModule (for the tests)."""
    argv = []
    if params['ports'] or params['state'] == 'started':
        argv = switch_argv(params['ports'], params['socket_dir'], params['topology'], params['cpus'],
                           params['main_cpus'], params['total_num_mbufs'], params['binary'],
                           params['eal_args'], params['app_args'])
    daemon, result = run_switch(params, argv, check_mode, ops)
    if params['state'] == 'stopped' and result['before']['running'] and not check_mode:
        parsed = parse_testpmd(daemon.log_text())
        result['totals'] = dict((str(port), value) for port, value in parsed['totals'].items())
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(argument_spec('testpmd', 'dpdk-testpmd'),
                           total_num_mbufs=dict(type='int', default=16384),
                           app_args=dict(type='list', elements='str', default=[])),
        required_if=REQUIRED_IF,
        supports_check_mode=True,
    )
    run_module(module, run)


if __name__ == '__main__':
    main()
