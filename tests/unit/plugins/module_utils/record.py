# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Record real process interactions of bench.CaseRunner once (tests/unit/fixtures/bench/); the
unit tests replay them in order with harness.ReplaySpawner.

Record (root, on a host where `make bench` provisioned the containers; for the testpmd and
ovs_dpdk paths start the switch first: the benchmark's path.yml with benchmark_entry=start):
  PYTHONPATH=.build/collections python tests/unit/plugins/module_utils/record.py CASE_ID OUT.json
"""

from __future__ import annotations

import json
import os
import sys

from ...params import plan_params
from ansible_collections.kbypass.testbed.plugins.module_utils.bench import Spawner


class RecordingSpawner(Spawner):
    """A real Spawner that writes down every command, its exit code and its output."""

    def __init__(self):
        self.events = []

    def run(self, argv, timeout=30):
        rc, out, err = super().run(argv, timeout)
        self.events.append({'kind': 'run', 'argv': list(argv), 'rc': rc, 'out': out, 'err': err})
        return rc, out, err

    def read(self, path):
        text = super().read(path)
        if path.startswith('/proc/'):
            self.events.append({'kind': 'read', 'argv': [path], 'rc': 0, 'out': text, 'err': ''})
        return text

    def start(self, argv, stdout_path, stderr_path, detach=False):
        proc = super().start(argv, stdout_path, stderr_path, detach)
        self.events.append({'kind': 'start', 'argv': list(argv), 'stdout_path': stdout_path,
                            'stderr_path': stderr_path, 'proc': proc})
        return proc

    def dump(self):
        out = []
        for event in self.events:
            event = dict(event)
            if event['kind'] == 'start':
                proc = event.pop('proc')
                event['rc'] = proc.returncode
                event['out'] = self.read(event.pop('stdout_path'))
                event['err'] = self.read(event.pop('stderr_path'))
            out.append(event)
        return out


def main(argv):
    from ansible_collections.kbypass.testbed.plugins.module_utils.bench import CaseRunner
    from ansible_collections.kbypass.testbed.plugins.module_utils.plan import make_plan, read_online_cpus
    case_id, dest = argv[1], argv[2]
    path = case_id.split('.', 1)[0]
    tool, mode = case_id.split('.')[1], case_id.split('.')[3]
    # testpmd's own cases, and the senders-alone cases (mode tx) planned beside them
    refs = ['testpmd'] if mode == 'tx' else {'sockperf': ['sockperf'], 'testpmd': ['testpmd']}.get(tool, [])
    plan = make_plan(plan_params(paths=[path], backends=['udp', 'udp-mmsg', 'raw', 'raw-mmsg'], duration=3,
                                 warmup=1, reference_tools=refs, reference_paths=[path] if refs else []),
                     read_online_cpus())
    case = [c for c in plan['cases'] if c['case_id'] == case_id][0]
    spawner = RecordingSpawner()
    run_dir = '/tmp/kbypass-record'
    record = CaseRunner(case, run_dir, 'record', 'localhost', spawner=spawner).run()
    with open(dest, 'w') as handle:
        json.dump({'case': case, 'events': spawner.dump(), 'record': {k: record[k] for k in ('status', 'error', 'metrics')}},
                  handle, indent=1, sort_keys=True)
    print(record['status'], record['headline'], os.path.abspath(dest))


if __name__ == '__main__':
    main(sys.argv)
