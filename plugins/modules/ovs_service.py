#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
---
module: ovs_service
short_description: Run Open vSwitch for a user (role), with the plain or the DPDK ovs-vswitchd, and give the host back
version_added: 0.1.0
description:
  - Several roles share one ovsdb-server and one ovs-vswitchd. Each calls this module with its own
    O(user). The first change records the host's OVS state (daemons running, the C(ovs-vswitchd)
    alternative) in O(state_file); every user records the previous values of the C(other_config)
    keys it sets.
  - V(started) starts ovsdb-server, sets O(other_config), selects the binary (the DPDK build when
    any user asks for V(dpdk)) through C(update-alternatives), then starts or restarts ovs-vswitchd
    when it is not running, runs another binary, or (DPDK build) a DPDK EAL key changed.
  - V(released) removes the user; its C(other_config) keys get their old values back, the alternative
    goes back to what it was when no user needs DPDK (ovs-vswitchd is restarted on the other binary
    when it runs); when it was the last user, the daemons not running before are stopped and the
    state file is removed. Delete your bridges first (netdev bridges leave tap devices otherwise).
  - Without systemd as PID 1 the daemons are run with C(ovs-ctl), with systemd through C(systemctl).
author: kbypass.testbed maintainers (@kbypass)
extends_documentation_fragment:
  - kbypass.testbed.attributes
options:
  user:
    description: Name of the user (a role name) holding OVS.
    type: str
    required: true
  state:
    description: V(started) registers the user and converges; V(released) gives back what it changed.
    type: str
    choices: [started, released]
    default: started
  binary:
    description:
      - Which ovs-vswitchd the user needs. V(dpdk) the DPDK build, V(plain) the plain one, V(any) either
        (the DPDK build also runs system and netdev bridges).
    type: str
    choices: [any, plain, dpdk]
    default: any
  other_config:
    description: Keys of C(Open_vSwitch other_config) to set (a null value removes the key).
    type: dict
    default: {}
  state_file:
    description: JSON file holding the state from before the first change.
    type: path
    default: /var/lib/kbypass-state/openvswitch.json
  systemd:
    description: Use systemctl (true) or ovs-ctl (false); default whether C(/run/systemd/system) exists.
    type: bool
  ovs_ctl:
    description: Path of ovs-ctl.
    type: path
    default: /usr/share/openvswitch/scripts/ovs-ctl
attributes:
  check_mode:
    support: full
    details: Reports the actions it would take, runs only reading commands.
  diff_mode:
    support: full
    details: Daemons, alternative and ovs-vswitchd binary before and after.
notes:
  - Needs root. The ulimit warning of ovs-ctl in containers without CAP_SYS_RESOURCE is harmless.
'''

EXAMPLES = r'''
- name: OVS with the DPDK build for ovs_dpdk
  kbypass.testbed.ovs_service:
    user: ovs_dpdk
    binary: dpdk
    other_config:
      dpdk-init: "true"
      dpdk-socket-mem: "256"
      dpdk-lcore-mask: "0x1"
      pmd-cpu-mask: "0x2"

- name: Give it back
  kbypass.testbed.ovs_service:
    user: ovs_dpdk
    state: released
'''

RETURN = r'''
actions:
  description: What was done (or would be in check mode).
  returned: always
  type: list
  elements: str
  sample: ["start ovsdb-server", "set other_config dpdk-init=true", "start ovs-vswitchd"]
before:
  description: Daemons (name -> pid or null), alternative (status, value) and the running ovs-vswitchd binary.
  returned: always
  type: dict
after:
  description: Same as RV(before) after the run; null in check mode.
  returned: always
  type: dict
binary:
  description: Path of the ovs-vswitchd binary that runs (or would run).
  returned: always
  type: str
  sample: /usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk
record:
  description: Content of the state file (null when removed).
  returned: always
  type: dict
'''

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kbypass.testbed.plugins.module_utils.ovs import OVS_CTL, STATE_FILE, OvsError, ServiceManager
from ansible_collections.kbypass.testbed.plugins.module_utils.commands import command_runner
from ansible_collections.kbypass.testbed.plugins.module_utils.module_exit import run_and_exit


def main():
    module = AnsibleModule(
        argument_spec=dict(
            user=dict(type='str', required=True),
            state=dict(type='str', choices=['started', 'released'], default='started'),
            binary=dict(type='str', choices=['any', 'plain', 'dpdk'], default='any'),
            other_config=dict(type='dict', default={}),
            state_file=dict(type='path', default=STATE_FILE),
            systemd=dict(type='bool'),
            ovs_ctl=dict(type='path', default=OVS_CTL),
        ),
        supports_check_mode=True,
    )
    p = module.params
    systemd = p['systemd'] if p['systemd'] is not None else os.path.isdir('/run/systemd/system')
    manager = ServiceManager(command_runner(module), p['user'], state=p['state'], binary=p['binary'],
                             other_config=p['other_config'], state_file=p['state_file'], systemd=systemd,
                             ovs_ctl=p['ovs_ctl'], check_mode=module.check_mode)
    run_and_exit(module, manager.ensure, OvsError, lambda: dict(actions=manager.actions))


if __name__ == '__main__':
    main()
