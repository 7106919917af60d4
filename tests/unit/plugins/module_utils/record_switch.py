# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Record what a switch module does on the real system (every file access, start, poll and signal
of daemon.Daemon) once, into tests/unit/plugins/module_utils/fixtures/<switch>/; the unit tests
replay the events in order with harness.ReplayOps.

Record (root, basicfwd built by the role, huge pages reserved, nothing else polling):
  PYTHONPATH=.build/collections python -m tests.unit.plugins.module_utils.record_switch OUT_DIR
"""

from __future__ import annotations

import json
import os
import sys

from ansible_collections.kbypass.testbed.plugins.module_utils.daemon import DaemonError, SystemOps
from ansible_collections.kbypass.testbed.plugins.modules import basicfwd_switch


def _text(raw):
    return None if raw is None else raw.decode('latin-1')


class RecordingProc(object):
    def __init__(self, ops, proc):
        self.ops, self.proc, self.pid = ops, proc, proc.pid

    def poll(self):
        code = self.proc.poll()
        self.ops.note('poll', [self.pid], returncode=code)
        return code

    @property
    def returncode(self):
        return self.proc.returncode


class RecordingOps(SystemOps):
    """The real system, writing down every call and its answer (harness.ReplayOps's events)."""

    def __init__(self):
        self.events = []

    def note(self, kind, argv, rc=0, out='', err='', **extra):
        self.events.append(dict(extra, kind=kind, argv=list(argv), rc=rc, out=out, err=err))

    def read(self, path):
        raw = super().read(path)
        self.note('read', [path], rc=0 if raw is not None else 1, out=_text(raw))
        return raw

    def write(self, path, text):
        super().write(path, text)
        self.note('write', [path, text])

    def remove(self, path):
        removed = super().remove(path)
        self.note('remove', [path], rc=0 if removed else 1)
        return removed

    def exists(self, path):
        found = super().exists(path)
        self.note('exists', [path], rc=0 if found else 1)
        return found

    def makedirs(self, path):
        super().makedirs(path)
        self.note('makedirs', [path])

    def spawn(self, argv, log):
        proc = super().spawn(argv, log)
        self.note('start', argv, pid=proc.pid)
        return RecordingProc(self, proc)

    def kill(self, pid, sig):
        super().kill(pid, sig)
        self.note('kill', [pid, int(sig)])


BASE = dict(state='started', ports=['kbp-bf-a', 'kbp-bf-b'], socket_dir='/run/kbypass/basicfwd', topology='pair',
            cpus='0', main_cpus='1', binary='/opt/kbypass/bin/basicfwd', eal_args=[],
            pidfile='/run/kbypass/basicfwd-switch.pid', log='/var/log/kbypass/basicfwd/switch.log', timeout=30.0,
            stop_timeout=10.0)

# name -> the module runs of one scenario, in order
SCENARIOS = {
    'pair-start-again-stop': [dict(BASE), dict(BASE), dict(BASE, state='stopped')],
    'loop-start-restart-pair-stop': [dict(BASE, topology='loop', ports=['kbp-bf-a']), dict(BASE),
                                     dict(BASE, state='stopped')],
    # one vhost port and no ring: basicfwd refuses an odd number of ports and exits
    'odd-ports-exit': [dict(BASE, topology='loop', ports=['kbp-bf-a'], eal_args=['--vdev', 'net_ring9'])],
}


def record(scenario):
    ops = RecordingOps()
    runs = []
    for params in SCENARIOS[scenario]:
        try:
            result = basicfwd_switch.run(dict(params), ops=ops)
            runs.append({'params': params, 'result': result})
        except DaemonError as exc:
            runs.append({'params': params, 'error': str(exc)})
    return {'runs': runs, 'events': ops.events}


def main(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    for scenario in SCENARIOS:
        with open(os.path.join(out_dir, scenario + '.json'), 'w') as handle:
            json.dump(record(scenario), handle, indent=1, sort_keys=True)
            handle.write('\n')


if __name__ == '__main__':
    main(sys.argv[1])
