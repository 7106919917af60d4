#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
---
module: bench_case
short_description: Run one benchmark case between two LXC containers
version_added: 0.1.0
description:
  - Run stage of a benchmark. Starts the receiving (or reflecting) peer in container B, waits until
    its socket is open, runs the sending (or client) peer in container A, keeps the raw output of
    both and writes C(case.json) in the results schema (docs/results-schema.md).
  - A case that fails is recorded with its error and the module still succeeds, so a run goes on.
  - Peers run icperf, or a reference tool (sockperf) for cross-checks.
author: kbypass.testbed maintainers (@kbypass)
extends_documentation_fragment:
  - kbypass.testbed.attributes
  - kbypass.testbed.attributes.no_diff
options:
  case:
    description: One element of the C(cases) list returned by M(kbypass.testbed.bench_plan).
    type: dict
    required: true
  run_dir:
    description: Folder on the host for this run's raw files; the case gets a sub-folder named by its id.
    type: path
    required: true
  run_id:
    description: Id of the run.
    type: str
    required: true
  host:
    description: Inventory name of the host, recorded in the results.
    type: str
    required: true
  icperf:
    description: Path of icperf inside the containers.
    type: str
    default: /opt/kbypass/bin/icperf
  sockperf:
    description: Path of sockperf inside the containers.
    type: str
    default: /usr/local/bin/sockperf
  lxcpath:
    description: LXC path of the containers.
    type: path
    default: /var/lib/lxc
  port:
    description: UDP port the peers use.
    type: int
    default: 9000
  side:
    description:
      - V(both) runs a one-host case (both containers on this host).
      - A two-host case (one of the C(cross_cases) of M(kbypass.testbed.bench_plan)) takes three calls, in
        this order, each on the host of the container it names. V(b_start) starts B detached and waits
        until it takes traffic. V(a) runs A to its end and returns its output in RV(sender). V(b_finish)
        waits for B's end and writes C(case.json) from both sides; O(sender) is what V(a) returned.
    type: str
    choices: [both, b_start, a, b_finish]
    default: both
  sender:
    description: With O(side=b_finish), the RV(sender) result of the O(side=a) call.
    type: dict
attributes:
  check_mode:
    support: partial
    details:
      - Nothing is run or checked in check mode (neither the containers nor the peers' programs); the case is
        returned with status C(skipped), empty RV(metrics) and RV(files), and C(changed=false), although a real
        run always reports a change.
notes:
  - The module reports C(changed=true) when it ran a case, because it wrote new raw files.
'''

EXAMPLES = r'''
- name: Run one case
  kbypass.testbed.bench_case:
    case: "{{ item }}"
    run_dir: /var/lib/kbypass/runs/20261127T010203Z-abcdef
    run_id: 20261127T010203Z-abcdef
    host: "{{ inventory_hostname }}"
  loop: "{{ plan.cases }}"
'''

RETURN = r'''
case_id:
  description: Id of the case.
  returned: always
  type: str
status:
  description: C(ok) or C(failed); C(started) with O(side=b_start) and C(sent) with O(side=a) (or C(failed));
    C(skipped) in check mode.
  returned: always
  type: str
error:
  description: Why the case failed.
  returned: always
  type: str
metrics:
  description: Metrics of the case (names and units in docs/results-schema.md).
  returned: always
  type: dict
headline:
  description: One line with the case's main figure.
  returned: always
  type: str
files:
  description: Raw files written on the host for this case.
  returned: always
  type: list
  elements: str
sender:
  description: With O(side=a), A's output (out, err, rc, cpu_pct, error), for the O(side=b_finish) call.
  returned: when side is a
  type: dict
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kbypass.testbed.plugins.module_utils.bench import CaseRunner


def main():
    module = AnsibleModule(
        argument_spec=dict(
            case=dict(type='dict', required=True),
            run_dir=dict(type='path', required=True),
            run_id=dict(type='str', required=True),
            host=dict(type='str', required=True),
            icperf=dict(type='str', default='/opt/kbypass/bin/icperf'),
            sockperf=dict(type='str', default='/usr/local/bin/sockperf'),
            lxcpath=dict(type='path', default='/var/lib/lxc'),
            port=dict(type='int', default=9000),
            side=dict(type='str', default='both', choices=['both', 'b_start', 'a', 'b_finish']),
            sender=dict(type='dict'),
        ),
        supports_check_mode=True,
    )
    p = module.params
    missing = [k for k in ('case_id', 'tool', 'mode', 'backend', 'size', 'network') if k not in p['case']]
    if missing:
        module.fail_json(msg='case: missing keys %s; pass an element of bench_plan cases' % ', '.join(missing))
    if module.check_mode:
        module.exit_json(changed=False, case_id=p['case']['case_id'], status='skipped', error='',
                         metrics={}, headline='skipped (check mode)', files=[])
    runner = CaseRunner(p['case'], p['run_dir'], p['run_id'], p['host'], icperf=p['icperf'],
                        sockperf=p['sockperf'], lxcpath=p['lxcpath'], port=p['port'])
    if p['side'] == 'b_start':
        state = runner.start_receiver()
        module.exit_json(changed=True, case_id=p['case']['case_id'], status='failed' if state['error'] else 'started',
                         error=state['error'] or '', metrics={}, headline='receiver started', files=[])
    if p['side'] == 'a':
        sender = runner.run_sender()
        module.exit_json(changed=True, case_id=p['case']['case_id'], status='failed' if sender['error'] else 'sent',
                         error=sender['error'] or '', metrics={}, headline='sender done', files=runner.files,
                         sender=sender)
    record = runner.finish_receiver(p['sender']) if p['side'] == 'b_finish' else runner.run()
    module.exit_json(changed=True, case_id=record['case_id'], status=record['status'],
                     error=record['error'] or '', metrics=record['metrics'], headline=record['headline'],
                     files=record['files'])


if __name__ == '__main__':
    main()
