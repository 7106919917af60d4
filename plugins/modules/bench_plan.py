#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
---
module: bench_plan
short_description: Validate benchmark inputs against a host and expand the case matrix
version_added: 0.1.0
description:
  - Plan stage of a benchmark run. Reads the host's online CPUs and the MTU of each data path,
    validates every input and returns the list of cases with stable ids and the CPU plan.
  - Changes nothing on the host. Fails with a message naming the variable and the allowed values.
author: kbypass.testbed maintainers (@kbypass)
extends_documentation_fragment:
  - kbypass.testbed.attributes
options:
  parameters:
    description:
      - Every parameter of the benchmark, by its variable name (C(benchmark_paths), C(benchmark_sizes), ...).
        Their table (names, types, defaults, meaning) is the C(main) entry point of the benchmark role's
        C(meta/argument_specs.yml); the role passes them all with the lookup C(kbypass.testbed.bench_parameters).
      - The plan validates each against the host and names the variable when one is wrong.
    type: dict
    required: true
  container_config:
    description: LXC configuration keys given to every container (mounts); the CPU plan adds the cpuset.
    type: dict
    default: {}
  mtus:
    description: MTU of a path's links where it differs from C(benchmark_mtu) (path name -> MTU).
    type: dict
    default: {}
  parents:
    description:
      - Path name -> the host NIC the path is joined to (C(macvlan_parent), C(ovs_uplink), C(sriov_pf)); it must
        exist on the host. Empty values keep a path inside the host.
      - The C(sriov) path has no such fallback; its NIC (C(sriov_pf)) must be an SR-IOV physical function
        (C(/sys/class/net/<if>/device/sriov_totalvfs) exists) that offers a VF for each of the two containers.
    type: dict
    default: {}
  host:
    description: Inventory name of this host.
    type: str
    default: ''
  hosts:
    description:
      - Inventory names of every host of the benchmark, in inventory order. A host's position gives its
        containers their addresses and MACs, so that hosts joined by a link never share one.
    type: list
    elements: str
    default: []
attributes:
  check_mode:
    support: full
    details: Changes nothing on the host; check mode returns the same plan.
  diff_mode:
    support: N/A
    details: Changes nothing on the host.
'''

EXAMPLES = r'''
- name: Plan the cases, every parameter as set or by its default
  kbypass.testbed.bench_plan:
    parameters: "{{ lookup('kbypass.testbed.bench_parameters') | combine({'benchmark_duration': 5}) }}"
  register: plan
'''

RETURN = r'''
cases:
  description: The cases to run, each with its id, conditions, containers and addresses.
  returned: success
  type: list
  elements: dict
cpu_plan:
  description: CPUs given to each peer of the paths without a polling switch, and whether they are shared or oversubscribed.
  returned: success
  type: dict
path_plans:
  description:
    - Path name -> its topology (pair or loop), CPUs (a, b, and for switch paths switch and main), cores_shared,
      oversubscribed, housekeeping, note, socket_dir.
  returned: success
  type: dict
path_vars:
  description:
    - Path name -> what the benchmark hands the path's role (C(tasks/path.yml)) -- C(role), the role's name,
      and C(vars), its variables (<prefix>_containers, <prefix>_mtu and those the registry entry names, e.g.
      topology, cpus, main_cpus, socket_dir), from the plan and the data-path registry (module_utils/paths.py).
  returned: success
  type: dict
all_path_vars:
  description: Like RV(path_vars), for every path the collection knows (teardown removes them all).
  returned: success
  type: dict
known_paths:
  description: Every data path the collection knows, in registry order.
  returned: success
  type: list
  elements: str
checked_paths:
  description: The planned paths whose role checks the host at the plan stage (its C(check) entry point; the registry's C(check)).
  returned: success
  type: list
  elements: str
dpdk_paths:
  description: The planned paths of kind dpdk (the C(dpdk) role provisions hugepages for them).
  returned: success
  type: list
  elements: str
parameters:
  description: The inputs as validated and converted (C(benchmark_) prefixed names), for the run metadata.
  returned: success
  type: dict
cross_cases:
  description: The two-host cases this host sends in (run with M(kbypass.testbed.bench_case) and its C(side) option).
  returned: success
  type: list
  elements: dict
host_index:
  description: Position of this host in O(hosts) (0 when it is not listed).
  returned: success
  type: int
payload_bytes_min:
  description: UDP payload of the smallest frame.
  returned: success
  type: int
'''

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kbypass.testbed.plugins.module_utils.plan import (
    DATA_PATHS, PlanError, format_cpu_list, make_plan, read_online_cpus, read_total_vfs,
)

PREFIX = 'benchmark_'


def main():
    module = AnsibleModule(
        argument_spec=dict(
            parameters=dict(type='dict', required=True),
            container_config=dict(type='dict', default={}),
            mtus=dict(type='dict', default={}),
            parents=dict(type='dict', default={}),
            host=dict(type='str', default=''),
            hosts=dict(type='list', elements='str', default=[]),
        ),
        supports_check_mode=True,
    )
    given = module.params['parameters']
    params = dict((name[len(PREFIX):], value) for name, value in given.items() if name.startswith(PREFIX))
    params.update((k, module.params[k]) for k in ('container_config', 'parents', 'host', 'hosts'))
    try:
        host_cpus = read_online_cpus()
        mtus = dict((path, module.params['mtus'].get(path, params['mtu'])) for path in DATA_PATHS) \
            if params.get('mtu') else module.params['mtus']
        links = os.listdir('/sys/class/net') if os.path.isdir('/sys/class/net') else None
        # the sriov path's PF: sriov_totalvfs of every link, to check sriov_pf and list the PFs there are
        nic_paths = [p for p in params.get('paths') or [] if p in DATA_PATHS and DATA_PATHS[p]['nic_required']]
        total_vfs = read_total_vfs(links) if links is not None and nic_paths else None
        plan = make_plan(params, host_cpus, mtus, links, total_vfs)
    except PlanError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, host_cpus=format_cpu_list(host_cpus), parameters=given, **plan)


if __name__ == '__main__':
    main()
