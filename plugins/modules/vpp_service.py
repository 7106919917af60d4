#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
---
module: vpp_service
short_description: Start, stop and give back the VPP process; check a VPP installation
version_added: 0.2.0
description:
  - O(state=started) starts VPP with O(startup_conf) and waits, at most O(timeout) seconds, for its API socket to
    appear. Under systemd (O(systemd)) it runs C(systemctl start) O(unit); without systemd it runs
    O(binary) C(-c) O(startup_conf) in its own session, known by O(pidfile), output in O(log). Stale socket files
    (O(api_socket), O(sockets)) are removed first. With O(restart) a running VPP is restarted (its startup.conf changed).
    Whether VPP ran before is recorded in the ledger (owner C(vpp)) before the first start.
  - O(state=stopped) stops VPP (SIGTERM, SIGKILL after O(stop_timeout)) and removes the socket files it leaves behind.
  - O(state=released) gives back what the ledger recorded; VPP runs again if it ran before, else it is stopped,
    and the record is dropped.
  - O(state=checked) changes nothing; it fails, naming each problem, when O(binary), O(plugin_dir) (with each of
    O(plugins)) or O(api_dir) is missing, or a CPU of O(cpus) is not online; with O(install=packages) and no VPP installed
    yet, only when O(repo_url) cannot be reached in O(timeout) seconds (the message says how to provide VPP).
author: kbypass.testbed maintainers (@kbypass)
extends_documentation_fragment:
  - kbypass.testbed.attributes
options:
  state:
    description: What to do.
    type: str
    choices: [started, stopped, released, checked]
    default: started
  binary:
    description: The vpp program.
    type: path
    default: /usr/bin/vpp
  startup_conf:
    description: VPP's configuration file.
    type: path
    default: /etc/vpp/startup.conf
  api_socket:
    description: VPP's API socket (the one startup.conf names).
    type: path
    default: /run/vpp/api.sock
  sockets:
    description: Other socket files VPP leaves behind (its CLI and stats sockets, memif sockets).
    type: list
    elements: path
    default: []
  systemd:
    description: V(auto) uses systemd where C(/run/systemd/system) exists.
    type: str
    choices: [auto, 'yes', 'no']
    default: auto
  unit:
    description: systemd unit of VPP.
    type: str
    default: vpp
  pidfile:
    description: Pid file of VPP started without systemd.
    type: path
    default: /run/kbypass/vpp.pid
  log:
    description: Output of VPP started without systemd.
    type: path
    default: /var/log/kbypass/vpp/vpp.out
  restart:
    description: Restart a running VPP (O(state=started)).
    type: bool
    default: false
  timeout:
    description: Seconds to wait for the API socket (and for O(repo_url)).
    type: float
    default: 30
  stop_timeout:
    description: Seconds between SIGTERM and SIGKILL.
    type: float
    default: 10
  state_dir:
    description: Directory of the ledger.
    type: path
    default: /var/lib/kbypass-state
  install:
    description: (O(state=checked)) V(present) (a VPP on the host) or V(packages) (FD.io's packages).
    type: str
    choices: [present, packages]
    default: present
  plugin_dir:
    description: (O(state=checked)) VPP's plugin directory.
    type: path
    default: /usr/lib/x86_64-linux-gnu/vpp_plugins
  api_dir:
    description: (O(state=checked)) VPP's API definitions.
    type: path
    default: /usr/share/vpp/api
  plugins:
    description: (O(state=checked)) Plugins that must be in O(plugin_dir).
    type: list
    elements: str
    default: []
  cpus:
    description: (O(state=checked)) Variable name -> CPU list of VPP's threads; each CPU must be online.
    type: dict
    default: {}
  repo_url:
    description: (O(state=checked), O(install=packages)) The package repository VPP comes from.
    type: str
    default: ''
attributes:
  check_mode:
    support: full
    details: Says what it would do.
  diff_mode:
    support: full
    details: Running or not and the socket files, before and after.
'''

EXAMPLES = r'''
- name: Start VPP without systemd
  kbypass.testbed.vpp_service:
    binary: /opt/vpp/bin/vpp
    startup_conf: /etc/vpp/startup.conf
    api_socket: /run/vpp/api.sock
    sockets: [/run/vpp/cli.sock]
'''

RETURN = r'''
actions:
  description: What was (or would be) done.
  returned: always
  type: list
  elements: str
systemd:
  description: Whether systemd runs VPP.
  returned: always
  type: bool
before:
  description: running and the socket files left before the run.
  returned: always
  type: dict
after:
  description: The same after the run (null in check mode).
  returned: always
  type: dict
'''

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.urls import open_url

from ansible_collections.kbypass.testbed.plugins.module_utils.module_exit import run_and_exit
from ansible_collections.kbypass.testbed.plugins.module_utils.plan import read_online_cpus
from ansible_collections.kbypass.testbed.plugins.module_utils.vpp_service import (
    VppService, VppServiceError, check_host,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type='str', choices=['started', 'stopped', 'released', 'checked'], default='started'),
            binary=dict(type='path', default='/usr/bin/vpp'),
            startup_conf=dict(type='path', default='/etc/vpp/startup.conf'),
            api_socket=dict(type='path', default='/run/vpp/api.sock'),
            sockets=dict(type='list', elements='path', default=[]),
            systemd=dict(type='str', choices=['auto', 'yes', 'no'], default='auto'),
            unit=dict(type='str', default='vpp'),
            pidfile=dict(type='path', default='/run/kbypass/vpp.pid'),
            log=dict(type='path', default='/var/log/kbypass/vpp/vpp.out'),
            restart=dict(type='bool', default=False),
            timeout=dict(type='float', default=30),
            stop_timeout=dict(type='float', default=10),
            state_dir=dict(type='path', default='/var/lib/kbypass-state'),
            install=dict(type='str', choices=['present', 'packages'], default='present'),
            plugin_dir=dict(type='path', default='/usr/lib/x86_64-linux-gnu/vpp_plugins'),
            api_dir=dict(type='path', default='/usr/share/vpp/api'),
            plugins=dict(type='list', elements='str', default=[]),
            cpus=dict(type='dict', default={}),
            repo_url=dict(type='str', default=''),
        ),
        supports_check_mode=True,
    )
    if module.params['state'] == 'checked':
        p = module.params
        run_and_exit(module, lambda: check_host(p, read_online_cpus(),
                                                reach=lambda url: open_url(url, timeout=p['timeout'], method='HEAD')),
                     VppServiceError)
    service = VppService(module.params, module.run_command, module.check_mode)
    run_and_exit(module, service.ensure, VppServiceError)


if __name__ == '__main__':
    main()
