# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Record the real API exchanges of the VPP managers (module_utils/vpp.py) with a running VPP once,
one scene a file in tests/unit/fixtures/vpp/<VPP version>/; test_vpp.py replays them in order
(harness.ReplayApi).

Record (root, VPP running with the vhost and memif plugins, vpp_papi installed):
  PYTHONPATH=.build/collections python -m tests.unit.plugins.module_utils.record_vpp API_SOCKET API_DIR SOCKET_DIR
SOCKET_DIR: an empty folder where the scenes' vhost-user and memif sockets are made.
"""

from __future__ import annotations

import json
import os
import sys

from ansible_collections.kbypass.testbed.plugins.module_utils import vpp as V

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, '..', '..', 'fixtures', 'vpp')


class RecordingTransport(V.PapiTransport):
    """The real transport, writing down connect, disconnect and every call with its reply."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.calls = []

    def _note(self, message, args, reply):
        self.calls.append({'kind': 'api', 'argv': [message, json.dumps(args, sort_keys=True)], 'rc': 0, 'out': '',
                           'err': '', 'reply': reply})

    def connect(self):
        super().connect()
        self._note('connect', {}, None)

    def disconnect(self):
        super().disconnect()
        self._note('disconnect', {}, None)

    def call(self, message, args):
        reply = super().call(message, args)
        self._note(message, args, reply)
        return reply

    def offered(self):
        known = set(name for versions in V.MESSAGES.values() for name, _crc in versions)
        return dict((k, v) for k, v in super().offered().items() if k in known)


def scene(api_socket, api_dir, errors, steps):
    """Run ``steps(client)`` on one connection; the recording of it."""
    transport = RecordingTransport(api_socket, api_dir, 5.0)
    client = V.VppClient(transport, errors)
    results = []
    with client:
        offered = transport.offered()
        version = client.version()
        try:
            steps(client, results)
        except V.VppError as exc:
            results.append({'error': str(exc)})
    codes = set(c['reply'].get('retval', 0) for c in transport.calls if isinstance(c['reply'], dict))
    return {'vpp_version': version, 'offered': offered, 'calls': transport.calls, 'results': results,
            'errors': dict((str(code), errors[code]) for code in sorted(codes) if code in errors)}


def run(results, manager):
    results.append(manager.ensure())


def scenes(socket_dir):
    """{scene: steps(client, results)}: what is recorded, and what test_vpp.py replays."""
    a, b = os.path.join(socket_dir, 'kbp-vp-a.sock'), os.path.join(socket_dir, 'kbp-vp-b.sock')
    m = os.path.join(socket_dir, 'kbp-vm-a.sock')
    va, vb = 'VirtualEthernet0/0/0', 'VirtualEthernet0/0/1'
    bd_args = dict(bd_id=11, flood=True, uu_flood=True, forward=True, learn=True, arp_term=False, arp_ufwd=False,
                   mac_age=0, bd_tag='', is_add=True)
    return {
        'info': lambda c, r: run(r, V.InfoReader(c)),
        'vhost_user': lambda c, r: [
            run(r, V.VhostUserManager(c, a, mac='02:fe:00:00:00:01', tag='kbp-vp-a')),
            run(r, V.VhostUserManager(c, a, mac='02:fe:00:00:00:01', tag='kbp-vp-a')),
            run(r, V.VhostUserManager(c, a, state='absent', check_mode=True)),
            run(r, V.VhostUserManager(c, a, state='absent')),
            run(r, V.VhostUserManager(c, a, state='absent'))],
        'memif': lambda c, r: [
            run(r, V.MemifManager(c, m, 1, mac='02:fe:00:00:01:01')),
            run(r, V.MemifManager(c, m, 1, mac='02:fe:00:00:01:01')),
            run(r, V.MemifManager(c, m, 1, mac='02:fe:00:00:01:01', ring_size=2048)),
            run(r, V.MemifManager(c, m, 1, state='absent'))],
        'bridge_domain': lambda c, r: [
            run(r, V.VhostUserManager(c, a)), run(r, V.VhostUserManager(c, b)),
            run(r, V.BridgeDomainManager(c, 10, [va, vb], check_mode=True)),
            run(r, V.BridgeDomainManager(c, 10, [va, vb])),
            run(r, V.BridgeDomainManager(c, 10, [va, vb])),
            run(r, V.BridgeDomainManager(c, 10, [va])),
            run(r, V.BridgeDomainManager(c, 10, state='absent'))],
        'bridge_domain_exists': lambda c, r: [r.append(c.call('bridge_domain_add_del', **bd_args)),
                                              r.append(c.call('bridge_domain_add_del', **bd_args))],
        'xconnect': lambda c, r: [
            run(r, V.XconnectManager(c, [{'rx': va, 'tx': va}])),
            run(r, V.XconnectManager(c, [{'rx': va, 'tx': va}])),
            run(r, V.XconnectManager(c, [{'rx': va, 'tx': va}], 'absent'))],
        'interface': lambda c, r: [
            run(r, V.InterfaceManager(c, va, admin_up=True, rx_mode='polling')),
            run(r, V.InterfaceManager(c, va, admin_up=True, rx_mode='polling')),
            run(r, V.InterfaceManager(c, va, admin_up=False, check_mode=True)),
            run(r, V.InterfaceManager(c, va, rx_mode='interrupt'))],
        'cleanup': lambda c, r: [
            run(r, V.VhostUserManager(c, a, state='absent')), run(r, V.VhostUserManager(c, b, state='absent')),
            run(r, V.BridgeDomainManager(c, 11, state='absent'))],
    }


def main(api_socket, api_dir, socket_dir):
    errors = V.load_error_table(V.error_header_candidates(api_dir))
    version = None
    for name, steps in scenes(socket_dir).items():
        recording = scene(api_socket, api_dir, errors, steps)
        version = recording['vpp_version']
        recording['socket_dir'] = socket_dir
        out_dir = os.path.join(FIXTURES, version)
        os.makedirs(out_dir, exist_ok=True)
        with open(os.path.join(out_dir, name + '.json'), 'w') as handle:
            json.dump(recording, handle, indent=1, sort_keys=True)
            handle.write('\n')
        print(name, len(recording['calls']), 'calls', [x.get('error') for x in recording['results'] if 'error' in x])


if __name__ == '__main__':
    main(*sys.argv[1:4])
