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
  paths:
    description: Data paths to measure.
    type: list
    elements: str
    required: true
  backends:
    description: icperf socket backends to use on kernel paths (DPDK paths use icperf's C(dpdk) backend).
    type: list
    elements: str
    default: [udp]
  modes:
    description: C(tput) (one-way throughput) and/or C(lat) (round trip).
    type: list
    elements: str
    default: [tput, lat]
  sizes:
    description: Frame sizes in bytes (Ethernet+IPv4+UDP, no FCS) for throughput cases.
    type: list
    elements: int
    default: [64]
  rates:
    description: Offered rates in packets per second for throughput cases; C(max) for unpaced.
    type: list
    elements: raw
    default: [max]
  bursts:
    description: Burst sizes for throughput cases.
    type: list
    elements: int
    default: [32]
  lat_sizes:
    description: Frame sizes for latency cases.
    type: list
    elements: int
    default: [64]
  lat_rates:
    description: Offered rates for latency cases.
    type: list
    elements: raw
    default: [1000]
  lat_bursts:
    description: Burst sizes for latency cases.
    type: list
    elements: int
    default: [4]
  duration:
    description: Seconds each case runs.
    type: int
    default: 10
  warmup:
    description: Per-second samples discarded at the start of each case.
    type: int
    default: 2
  touch:
    description: Sender writes and receiver reads every payload byte.
    type: bool
    default: false
  cpus:
    description: CPUs the benchmark may use (kernel list syntax); empty for all online CPUs.
    type: str
    default: ''
  cpus_per_container:
    description: CPUs given to each container.
    type: int
    default: 1
  reserve_housekeeping:
    description: Keep the first CPU free for the host when enough CPUs remain.
    type: bool
    default: true
  repeats:
    description:
      - Rounds of every case (1..100). With more than one, the cases of a path run in rounds (each case once,
        then again), their ids end in C(.repN), and the report shows the median of the rounds.
    type: int
    default: 1
  path_repeats:
    description: "Path name -> rounds for that path, instead of O(repeats) (for example C({testpmd: 3}))."
    type: dict
    default: {}
  switch_cpus:
    description: CPUs given to the polling threads of a DPDK switch (paths C(testpmd), C(ovs_dpdk)).
    type: int
    default: 1
  topology:
    description:
      - Topology of the paths with a polling switch. V(pair) is the study's (container a -> switch -> container b;
        switch + 2 peers need 3 CPUs); V(loop) has the switch send a's traffic back to a (2 CPUs);
        V(auto) takes the pair when the CPUs suffice, else the loop. Paths without a switch always run the pair.
    type: str
    choices: [auto, pair, loop]
    default: auto
  dpdk_memory:
    description:
      - Memory of the DPDK peers in the containers. V(hugepages) (EAL C(--in-memory), pages reserved by the
        C(dpdk) role) or V(no-huge) (C(--no-huge -m 512)).
    type: str
    choices: [hugepages, no-huge]
    default: hugepages
  reference_tools:
    description:
      - Reference tools measured beside icperf as a cross-check. C(sockperf) runs on kernel paths, C(testpmd)
        (txonly/rxonly, or flowgen in a loop) on DPDK paths, each on the O(reference_paths) of its kind.
      - In the loop topology the senders alone are compared too (cases of mode C(tx), icperf C(send)
        against testpmd C(txonly)).
    type: list
    elements: str
    default: []
  reference_paths:
    description: Paths on which the reference tools run.
    type: list
    elements: str
    default: []
  container_config:
    description: LXC configuration keys given to every container (mounts); the CPU plan adds the cpuset.
    type: dict
    default: {}
  template:
    description: LXC template of the containers.
    type: str
    choices: [busybox, debian]
    default: busybox
  template_options:
    description: Options of the LXC template.
    type: list
    elements: str
    default: []
  mtus:
    description: MTU of each path's links (path name -> MTU); 1500 when not given.
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
  cross_pairs:
    description:
      - Two-host cases, as a list of C({a, b}) inventory names; container A of host C(a) sends to container
        B of host C(b) over each of O(cross_paths).
    type: list
    elements: dict
    default: []
  cross_paths:
    description:
      - Kernel paths run between the hosts of O(cross_pairs) (macvlan, ovs, sriov); each needs its NIC in
        O(parents) on both hosts (for sriov, PFs of the two hosts on one wire).
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
- name: Plan the cases
  kbypass.testbed.bench_plan:
    paths: [linux_bridge, macvlan]
    sizes: [64, 1500]
    duration: 5
    warmup: 1
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
    PlanError, format_cpu_list, make_plan, read_online_cpus, read_total_vfs,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            paths=dict(type='list', elements='str', required=True),
            backends=dict(type='list', elements='str', default=['udp']),
            modes=dict(type='list', elements='str', default=['tput', 'lat']),
            sizes=dict(type='list', elements='int', default=[64]),
            rates=dict(type='list', elements='raw', default=['max']),
            bursts=dict(type='list', elements='int', default=[32]),
            lat_sizes=dict(type='list', elements='int', default=[64]),
            lat_rates=dict(type='list', elements='raw', default=[1000]),
            lat_bursts=dict(type='list', elements='int', default=[4]),
            duration=dict(type='int', default=10),
            warmup=dict(type='int', default=2),
            touch=dict(type='bool', default=False),
            cpus=dict(type='str', default=''),
            cpus_per_container=dict(type='int', default=1),
            reserve_housekeeping=dict(type='bool', default=True),
            repeats=dict(type='int', default=1),
            path_repeats=dict(type='dict', default={}),
            switch_cpus=dict(type='int', default=1),
            topology=dict(type='str', default='auto', choices=['auto', 'pair', 'loop']),
            dpdk_memory=dict(type='str', default='hugepages', choices=['hugepages', 'no-huge']),
            reference_tools=dict(type='list', elements='str', default=[]),
            reference_paths=dict(type='list', elements='str', default=[]),
            container_config=dict(type='dict', default={}),
            template=dict(type='str', default='busybox', choices=['busybox', 'debian']),
            template_options=dict(type='list', elements='str', default=[]),
            mtus=dict(type='dict', default={}),
            parents=dict(type='dict', default={}),
            host=dict(type='str', default=''),
            hosts=dict(type='list', elements='str', default=[]),
            cross_pairs=dict(type='list', elements='dict', default=[]),
            cross_paths=dict(type='list', elements='str', default=[]),
        ),
        supports_check_mode=True,
    )
    try:
        host_cpus = read_online_cpus()
        links = os.listdir('/sys/class/net') if os.path.isdir('/sys/class/net') else None
        # the sriov path's PF: sriov_totalvfs of every link, to check sriov_pf and list the PFs there are
        total_vfs = read_total_vfs(links) if links is not None and 'sriov' in module.params['paths'] else None
        plan = make_plan(module.params, host_cpus, module.params['mtus'], links, total_vfs)
    except PlanError as exc:
        module.fail_json(msg=str(exc))
    parameters = dict(('benchmark_' + k, v) for k, v in module.params.items()
                      if k not in ('container_config', 'mtus', 'parents', 'host', 'hosts'))
    module.exit_json(changed=False, host_cpus=format_cpu_list(host_cpus), parameters=parameters, **plan)


if __name__ == '__main__':
    main()
