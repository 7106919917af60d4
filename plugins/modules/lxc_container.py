#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
---
module: lxc_container
short_description: Manage an LXC system container with the lxc-* command line tools
version_added: 0.1.0
description:
  - Creates an LXC system container from a template when it is missing, manages chosen keys of its
    config file, and starts, stops or destroys it. Uses the lxc-* tools, not the python3-lxc binding.
  - "Config marking: the keys given in O(config) are written in a block at the end of the
    container's config file, between C(# BEGIN kbypass.testbed lxc_container managed keys ...) and
    C(# END kbypass.testbed lxc_container managed keys). Every existing line of a key given in
    O(config) is removed, wherever it is, and the new lines are written in the block, in the order
    given; a key already in the block is rewritten where it stands. Keys not given are left as they
    are and where they are. The file is replaced atomically."
  - LXC resets a network device when it reads C(lxc.net.N.type); so in the block that line is put
    before the other C(lxc.net.N.*) lines, and the C(lxc.net.N.*) lines above the block (such as the
    template's C(lxc.net.0.flags = up)) are moved into the block after it, values unchanged.
  - "Restart policy: when the values of the managed keys change while the container runs and
    O(state=started), the container is stopped and started again and RV(restarted) is true.
    Edits made by O(static_network) alone do not restart it."
  - O(state=started) returns once C(lxc-wait -s RUNNING) succeeded and C(lxc-attach -- /bin/true)
    works, so the next task can use C(lxc-attach) at once (for O(template=none), only the first).
author: kbypass.testbed maintainers (@kbypass)
extends_documentation_fragment:
  - kbypass.testbed.attributes
requirements:
  - the package C(lxc) on the target (lxc-create, lxc-start, lxc-stop, lxc-destroy, lxc-info, lxc-ls,
    lxc-wait, lxc-attach), and C(lxc-templates) for the templates
options:
  name:
    description:
      - Name of the container.
    type: str
    required: true
  state:
    description:
      - V(started) creates the container if needed, applies O(config) and runs it.
      - V(stopped) creates the container if needed, applies O(config) and stops it.
      - V(absent) stops (kills) and destroys the container with its rootfs; nothing happens when it
        is missing.
    type: str
    choices: [started, stopped, absent]
    default: started
  template:
    description:
      - Template used by C(lxc-create) when the container is missing. Ignored for an existing container.
      - V(busybox) builds a 2 MB container offline in under a second.
      - V(debian) runs debootstrap (about a minute, needs a Debian mirror).
      - V(none) creates only a config; bring your own rootfs with C(lxc.rootfs.path).
    type: str
    choices: [busybox, debian, none]
    default: busybox
  template_options:
    description:
      - Arguments passed to the template after C(--), for example V([-r, bookworm]).
    type: list
    elements: str
    default: []
  lxcpath:
    description:
      - Directory that holds the containers (C(lxc-* -P)).
    type: path
    default: /var/lib/lxc
  config:
    description:
      - LXC config keys to manage, mapped to one value or a list of values (one config line each).
      - A key mapped to an empty list or null is removed from the file.
      - Numbers and booleans are written as strings (V(true) as V(1)).
      - A key given here replaces every line of that key, including the template's. For
        C(lxc.mount.entry) this drops the busybox template's bind mounts of C(/lib) and C(/usr/lib);
        list them too if the container needs them.
      - On this testbed's cgroup v1 hosts use C(lxc.cgroup.*) keys; C(lxc.cgroup2.*) keys are ignored.
    type: dict
    default: {}
  static_network:
    description:
      - Keep the static address LXC gives the container.
      - For O(template=busybox), remove the C(udhcpc) line from the rootfs' C(/etc/init.d/rcS)
        (busybox's udhcpc drops the address LXC set).
      - For O(template=debian), set C(eth0) to C(manual) in the rootfs' C(/etc/network/interfaces),
        so boot does not wait for DHCP.
      - Nothing is done for O(template=none).
    type: bool
    default: true
  start_timeout:
    description:
      - Seconds to wait for the container to be RUNNING and then accept C(lxc-attach).
    type: int
    default: 30
  stop_timeout:
    description:
      - Seconds C(lxc-stop) waits for a clean shutdown before it kills the container (C(lxc-stop -t)).
        If that fails, C(lxc-stop -k) follows. V(0) kills at once.
      - O(state=absent) always kills at once.
    type: int
    default: 10
attributes:
  check_mode:
    support: full
    details: Only C(lxc-ls) and C(lxc-info) are run; nothing is created, written, started or stopped.
  diff_mode:
    support: full
    details: Before and after dicts of C(state) and C(config) (the values of the managed keys).
notes:
  - lxc-start runs with C(-l ERROR -o <lxcpath>/<name>/kbypass-start.log); when the start fails the
    last lines of that log are in the error message, with the config key LXC rejected when it can be
    told from the log.
  - A container whose config LXC cannot load (for example after an unknown key was written) is
    reported as C(unreadable); giving the bad key with an empty list in O(config) removes it.
'''

EXAMPLES = r'''
- name: A busybox container on a bridge, pinned to CPU 1
  kbypass.testbed.lxc_container:
    name: kbp-c1
    config:
      lxc.net.0.type: veth
      lxc.net.0.link: kbp-br0
      lxc.net.0.ipv4.address: 198.18.0.1/24
      lxc.cgroup.cpuset.cpus: "1"
      lxc.mount.entry:
        - /opt/kbypass opt/kbypass none bind,ro,create=dir 0 0

- name: A Debian container without networking (DPDK inside), stopped for now
  kbypass.testbed.lxc_container:
    name: kbp-dpdk1
    template: debian
    template_options: [-r, bookworm]
    state: stopped
    config:
      lxc.net.0.type: empty

- name: Remove it with its rootfs
  kbypass.testbed.lxc_container:
    name: kbp-c1
    state: absent
'''

RETURN = r'''
container:
  description: The container after the module ran. In check mode, a prediction.
  returned: always
  type: dict
  contains:
    name:
      description: Container name.
      type: str
      sample: kbp-c1
    state:
      description: LXC state in lower case (V(running), V(stopped), ...), V(absent), or V(unreadable)
        when LXC cannot load the config.
      type: str
      sample: running
    config_path:
      description: Path of the container's config file.
      type: str
      sample: /var/lib/lxc/kbp-c1/config
    rootfs:
      description: Root filesystem from C(lxc.rootfs.path) (without the C(dir:) prefix); null when absent.
      type: str
      sample: /var/lib/lxc/kbp-c1/rootfs
    pid:
      description: PID of the container's init on the host when it runs, else null.
      type: int
      sample: 4298
    ips:
      description: Addresses reported by C(lxc-info -i).
      type: list
      elements: str
      sample: [198.18.0.1]
restarted:
  description: Whether a running container was stopped and started again because its config changed.
  returned: always
  type: bool
  sample: false
actions:
  description: What was done (or, in check mode, would be done), in order.
  returned: always
  type: list
  elements: str
  sample: [created with template busybox, removed udhcpc from /var/lib/lxc/kbp-c1/rootfs/etc/init.d/rcS,
           wrote /var/lib/lxc/kbp-c1/config, started]
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kbypass.testbed.plugins.module_utils.commands import command_runner
from ansible_collections.kbypass.testbed.plugins.module_utils.lxc import (
    STATES, TEMPLATES, ContainerManager, LxcCli, LxcError, find_tools)
from ansible_collections.kbypass.testbed.plugins.module_utils.module_exit import run_and_exit


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type='str', required=True),
            state=dict(type='str', choices=list(STATES), default='started'),
            template=dict(type='str', choices=list(TEMPLATES), default='busybox'),
            template_options=dict(type='list', elements='str', default=[]),
            lxcpath=dict(type='path', default='/var/lib/lxc'),
            config=dict(type='dict', default={}),
            static_network=dict(type='bool', default=True),
            start_timeout=dict(type='int', default=30),
            stop_timeout=dict(type='int', default=10),
        ),
        supports_check_mode=True,
    )
    runner = command_runner(module)

    def ensure():
        # every lxc tool first: one message names all those missing and the package
        cli = LxcCli(runner, find_tools(runner.find), module.params['lxcpath'])
        return ContainerManager(cli, module.params, check_mode=module.check_mode).ensure()

    run_and_exit(module, ensure, LxcError)


if __name__ == '__main__':
    main()
