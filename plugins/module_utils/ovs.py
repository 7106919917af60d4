# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Desired-state management of Open vSwitch: daemons and binary, other_config, bridges, ports, flows.

The modules ``kbypass.testbed.ovs_service``, ``ovs_bridge``, ``ovs_port`` and ``ovs_flows`` are thin
wrappers around the managers here. Every state is read and changed through commands (argv lists run
by ``run_command``, which returns (rc, stdout, stderr)), so the unit tests replay recorded real runs:

* ``ovs-vsctl --format=json --columns=... list|find TABLE`` reads the database (:func:`parse_table_json`);
* ``ovs-ofctl --no-stats --names dump-flows BRIDGE`` reads the flow table (:func:`normalize_flow`);
* ``/usr/share/openvswitch/scripts/ovs-ctl status`` and ``readlink /proc/PID/exe`` read the daemons;
* ``update-alternatives --query ovs-vswitchd`` reads which ovs-vswitchd binary is installed as the default.

:class:`ServiceManager` records the host's OVS state before its first change in the ledger (:mod:`ledger`,
owner ``openvswitch``: ``before``, the daemons running before and the alternative; ``users``, each
user's binary and the old values of the other_config keys it set) and gives it back when the last
user releases it.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import re

from ansible_collections.kbypass.testbed.plugins.module_utils.ledger import Ledger, LedgerError

OVS_CTL = '/usr/share/openvswitch/scripts/ovs-ctl'
ALTERNATIVE = 'ovs-vswitchd'
DPDK_BINARY = '/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk'
PLAIN_BINARY = '/usr/lib/openvswitch-switch/ovs-vswitchd'
DAEMONS = ('ovsdb-server', 'ovs-vswitchd')
# other_config keys read by DPDK's EAL at initialisation: a change needs an ovs-vswitchd restart
EAL_KEYS = ('dpdk-init', 'dpdk-socket-mem', 'dpdk-socket-limit', 'dpdk-lcore-mask', 'dpdk-extra',
            'dpdk-alloc-mem', 'dpdk-hugepage-dir')
DEFAULT_PRIORITY = '32768'
OWNER = 'openvswitch'
STATE_FILE = Ledger().file(OWNER)

_STATUS_RE = re.compile(r'^(ovsdb-server|ovs-vswitchd) is (running|not running)(?: with pid (\d+))?', re.M)


class OvsError(Exception):
    """A refusal or failure, with a message that names the cause and the fix."""

    def __init__(self, msg, **result):
        super(OvsError, self).__init__(msg)
        self.result = result


# ============================================================================ parsers
def ovs_value(value):
    """One OVSDB JSON datum -> Python: ["map", [[k, v]]] -> dict, ["set", [...]] -> list (a one-element
    set is its element, an empty set None), ["uuid", x] -> x, atoms unchanged."""
    if isinstance(value, list) and len(value) == 2 and isinstance(value[0], str):
        kind, data = value
        if kind == 'map':
            return dict((ovs_value(k), ovs_value(v)) for k, v in data)
        if kind == 'set':
            items = [ovs_value(v) for v in data]
            if not items:
                return None
            return items[0] if len(items) == 1 else items
        if kind in ('uuid', 'named-uuid'):
            return data
    return value


def parse_table_json(text):
    """Output of ``ovs-vsctl --format=json ... list|find`` -> list of {column: value}."""
    doc = json.loads(text or '{"data": [], "headings": []}')
    headings = doc.get('headings', [])
    return [dict(zip(headings, [ovs_value(v) for v in row])) for row in doc.get('data', [])]


def parse_ctl_status(text):
    """``ovs-ctl status`` -> {daemon: pid or None}; a daemon not named is not running."""
    out = dict((d, None) for d in DAEMONS)
    for name, state, pid in _STATUS_RE.findall(text or ''):
        out[name] = int(pid) if state == 'running' and pid else None
    return out


def parse_alternative(text):
    """``update-alternatives --query NAME`` -> {'status': 'auto'|'manual', 'value': path, 'choices': [..]}."""
    status, value, choices = None, None, []
    for line in (text or '').splitlines():
        key, _sep, val = line.partition(':')
        val = val.strip()
        if key == 'Status':
            status = val
        elif key == 'Value':
            value = val or None
        elif key == 'Alternative':
            choices.append(val)
    return {'status': status, 'value': value, 'choices': choices}


def _split_flow(text):
    """'a=1,b=2 actions=x,y' -> (match tokens, actions text); commas inside () or "" do not split."""
    text = ' '.join(text.split())
    idx = text.find('actions=')
    if idx < 0:
        raise OvsError('flow %r has no actions=; write it like ovs-ofctl add-flow does, e.g. '
                       '"in_port=p1,actions=in_port"' % text)
    match, actions = text[:idx].strip().strip(','), text[idx + len('actions='):].strip()
    tokens = [t for t in re.split(r'[\s,]+', match) if t] if match else []
    return tokens, actions


def normalize_flow(text):
    """A flow as written to ``ovs-ofctl add-flow`` or as printed by ``dump-flows --no-stats --names``
    -> a comparable (sorted match tuple, actions) pair: quotes around names dropped, the default
    priority dropped, action keywords in lower case."""
    tokens, actions = _split_flow(text)
    match = []
    for token in tokens:
        key, sep, value = token.partition('=')
        value = value.strip('"')
        if key == 'priority' and value == DEFAULT_PRIORITY:
            continue
        match.append(key + sep + value)
    return tuple(sorted(match)), actions.replace('"', '').lower()


def parse_dump_flows(text):
    """``ovs-ofctl --no-stats --names dump-flows`` -> list of flow texts (headers skipped)."""
    out = []
    for line in (text or '').splitlines():
        line = line.strip()
        if not line or line.startswith('NXST_FLOW') or line.startswith('OFPST_FLOW') or 'actions=' not in line:
            continue
        out.append(line)
    return out


# ============================================================================ commands
# every ovs-vsctl and ovs-ofctl call gives up after this many seconds: a change waits for
# ovs-vswitchd to apply it, and without a timeout ovs-vsctl waits forever for one that died
CLI_TIMEOUT_S = 60
TIMEOUT_OPTION = '--timeout=%d' % CLI_TIMEOUT_S


class OvsCli(object):
    """ovs-vsctl / ovs-ofctl through ``run_command(argv) -> (rc, out, err)``, each call with
    ``--timeout`` (CLI_TIMEOUT_S)."""

    def __init__(self, run_command, vsctl='ovs-vsctl', ofctl='ovs-ofctl', wait=True):
        self.run_command = run_command
        # False: ovs-vsctl changes the database only (--no-wait): nothing waits for ovs-vswitchd
        self.wait = wait
        self.vsctl_bin = vsctl
        self.ofctl_bin = ofctl

    def run(self, argv, fix=None, ok=(0,)):
        rc, out, err = self.run_command(list(argv))
        if rc not in ok:
            msg = '%s failed (rc=%s): %s' % (' '.join(argv), rc, (err or out).strip())
            if rc == 127:
                msg += '; install openvswitch-switch (the ovs_dpdk/ovs roles do it in install)'
            elif rc in (-14, 142):
                # SIGALRM: --timeout expired
                msg += ('; it gave up after %d s (--timeout): is ovs-vswitchd running? A change waits for it to '
                        'apply it (kbypass.testbed.ovs_service state=started)' % CLI_TIMEOUT_S)
            elif fix:
                msg += '; ' + fix
            raise OvsError(msg, rc=rc, stdout=out, stderr=err)
        return rc, out, err

    def vsctl_argv(self, *args):
        wait = [] if self.wait or '--no-wait' in args else ['--no-wait']
        return [self.vsctl_bin, TIMEOUT_OPTION] + wait + list(args)

    def vsctl(self, *args):
        return self.run(self.vsctl_argv(*args),
                        fix='is ovsdb-server running? (kbypass.testbed.ovs_service state=started)')

    def table(self, table, columns, record=None):
        argv = ['--format=json', '--columns=' + ','.join(columns)]
        if record is None:
            _rc, out, _err = self.vsctl(*(argv + ['list', table]))
        else:
            _rc, out, _err = self.vsctl(*(argv + ['find', table, record]))
        return parse_table_json(out)

    def ofctl(self, *args):
        return self.run([self.ofctl_bin, TIMEOUT_OPTION] + list(args), fix='is ovs-vswitchd running and the bridge there?')


def _diff(header, before, after):
    return {'before_header': header, 'before': before, 'after_header': header, 'after': after}


# ============================================================================ bridge
class BridgeManager(object):
    def __init__(self, cli, name, datapath_type='system', state='present', check_mode=False):
        self.cli = cli
        self.name = name
        self.datapath_type = datapath_type
        self.state = state
        self.check_mode = check_mode

    def read(self):
        for row in self.cli.table('Bridge', ['name', 'datapath_type', 'ports']):
            if row['name'] == self.name:
                return {'name': row['name'], 'datapath_type': row['datapath_type'] or 'system'}
        return None

    def ensure(self):
        before = self.read()
        actions = []
        if self.state == 'absent':
            if before is not None:
                actions.append(['--if-exists', 'del-br', self.name])
            after = None
        else:
            after = {'name': self.name, 'datapath_type': self.datapath_type}
            if before is None:
                actions.append(['add-br', self.name, '--', 'set', 'Bridge', self.name,
                                'datapath_type=%s' % self.datapath_type])
            elif before['datapath_type'] != self.datapath_type:
                actions.append(['set', 'Bridge', self.name, 'datapath_type=%s' % self.datapath_type])
        if actions and not self.check_mode:
            for argv in actions:
                _rc, _out, err = self.cli.vsctl(*argv)
                if 'Error detected while setting up' in (err or ''):
                    # the record is in the database but ovs-vswitchd could not open the datapath
                    self.cli.vsctl('--if-exists', 'del-br', self.name)
                    why = ('the kernel datapath (openvswitch.ko) is not available on this host: no '
                           '/sys/module/openvswitch and modprobe openvswitch fails; use '
                           'datapath_type=netdev (userspace)' if self.datapath_type == 'system'
                           else 'see /var/log/openvswitch/ovs-vswitchd.log')
                    raise OvsError('bridge %s (datapath_type=%s) could not be set up by ovs-vswitchd: %s. %s'
                                   % (self.name, self.datapath_type, err.strip(), why),
                                   changed=False)
            after = self.read() if self.state == 'present' else None
        return {'changed': bool(actions), 'bridge': after, 'commands': actions,
                'diff': _diff('bridge %s' % self.name, before or {}, after or {})}


# ============================================================================ port
class PortManager(object):
    """One port (with its one interface) of a bridge. A change of type or options re-creates the port:
    ovs-vswitchd ignores some option changes on a live interface (vhost-server-path)."""

    def __init__(self, cli, bridge, name, type=None, options=None, ofport_request=None, state='present',
                 check_mode=False, mtu_request=None):
        self.cli = cli
        self.bridge = bridge
        self.name = name
        self.type = type or ''
        self.options = dict((str(k), str(v)) for k, v in (options or {}).items())
        self.ofport_request = ofport_request
        self.mtu_request = mtu_request
        self.state = state
        self.check_mode = check_mode

    def read(self):
        rows = self.cli.table('Interface', ['name', 'type', 'options', 'ofport_request', 'mtu_request', 'ofport',
                                            'error'],
                              'name=%s' % self.name)
        if not rows:
            return None
        row = rows[0]
        bridge = None
        ports = self.cli.table('Port', ['_uuid', 'name'], 'name=%s' % self.name)
        if ports:
            for br in self.cli.table('Bridge', ['name', 'ports']):
                uuids = br['ports'] if isinstance(br['ports'], list) else [br['ports']]
                if ports[0]['_uuid'] in uuids:
                    bridge = br['name']
        return {'name': self.name, 'bridge': bridge, 'type': row['type'] or '',
                'options': row['options'] or {}, 'ofport_request': row['ofport_request'],
                'mtu_request': row['mtu_request'], 'ofport': row['ofport'], 'error': row['error']}

    def _add(self):
        argv = ['add-port', self.bridge, self.name, '--', 'set', 'Interface', self.name]
        if self.type:
            argv.append('type=%s' % self.type)
        for key in sorted(self.options):
            argv.append('options:%s=%s' % (key, self.options[key]))
        if self.ofport_request is not None:
            argv.append('ofport_request=%d' % self.ofport_request)
        if self.mtu_request is not None:
            argv.append('mtu_request=%d' % self.mtu_request)
        if argv[-1] == self.name:
            argv = argv[:3]
        return argv

    def ensure(self):
        before = self.read()
        actions = []
        if self.state == 'absent':
            if before is not None:
                actions.append(['--if-exists', 'del-port', self.name])
        elif before is None:
            actions.append(self._add())
        elif (before['bridge'] != self.bridge or before['type'] != self.type
              or before['options'] != self.options):
            actions.append(['--if-exists', 'del-port', self.name])
            actions.append(self._add())
        else:
            sets = []
            if self.ofport_request is not None and before['ofport_request'] != self.ofport_request:
                sets.append('ofport_request=%d' % self.ofport_request)
            if self.mtu_request is not None and before['mtu_request'] != self.mtu_request:
                sets.append('mtu_request=%d' % self.mtu_request)
            if sets:
                actions.append(['set', 'Interface', self.name] + sets)
        after = None
        if self.state == 'present':
            after = {'name': self.name, 'bridge': self.bridge, 'type': self.type, 'options': self.options,
                     'ofport_request': self.ofport_request if self.ofport_request is not None
                     else (before or {}).get('ofport_request'),
                     'mtu_request': self.mtu_request if self.mtu_request is not None
                     else (before or {}).get('mtu_request')}
        if actions and not self.check_mode:
            for argv in actions:
                self.cli.vsctl(*argv)
            after = self.read() if self.state == 'present' else None
        elif not actions:
            after = before
        return {'changed': bool(actions), 'port': after, 'commands': actions,
                'diff': _diff('port %s' % self.name, _strip_live(before), _strip_live(after))}


def _strip_live(state):
    """A port state without the columns ovs-vswitchd fills in (for the diff)."""
    return dict((k, v) for k, v in (state or {}).items() if k not in ('ofport', 'error'))


# ============================================================================ flows
class FlowsManager(object):
    """The whole OpenFlow table of a bridge: exactly ``flows`` (replaced when it differs)."""

    def __init__(self, cli, bridge, flows, check_mode=False):
        self.cli = cli
        self.bridge = bridge
        self.flows = list(flows)
        self.check_mode = check_mode

    def read(self):
        _rc, out, _err = self.cli.ofctl('--no-stats', '--names', 'dump-flows', self.bridge)
        return parse_dump_flows(out)

    def ensure(self):
        wanted = sorted(normalize_flow(f) for f in self.flows)
        before = self.read()
        changed = sorted(normalize_flow(f) for f in before) != wanted
        after = before
        if changed and not self.check_mode:
            self.cli.ofctl('del-flows', self.bridge)
            for flow in self.flows:
                self.cli.ofctl('--names', 'add-flow', self.bridge, flow)
            after = self.read()
        elif changed:
            after = list(self.flows)
        return {'changed': changed, 'flows': after,
                'diff': _diff('flows %s' % self.bridge, '\n'.join(before) + '\n', '\n'.join(after) + '\n')}


# ============================================================================ daemons, binary, other_config
class ServiceManager(object):
    """ovsdb-server and ovs-vswitchd, the ovs-vswitchd alternative and Open_vSwitch other_config, shared
    by several users (roles). ``state=started`` registers ``user`` and converges; ``state=released``
    gives back what ``user`` changed and, when no user is left, the daemons' state from before."""

    def __init__(self, run_command, user, state='started', binary='any', other_config=None,
                 state_file=STATE_FILE, systemd=False, ovs_ctl=OVS_CTL, check_mode=False, root=''):
        self.run_command = run_command
        self.cli = OvsCli(run_command)
        self.user = user
        self.state = state
        self.binary = binary
        self.other_config = dict((str(k), None if v is None else str(v)) for k, v in (other_config or {}).items())
        self.state_file = state_file
        self.systemd = systemd
        self.ovs_ctl = ovs_ctl
        self.check_mode = check_mode
        self.ledger, self.owner = Ledger.for_file(state_file, root, check_mode)
        self.actions = []

    # ---------------------------------------------------------------- reading
    def daemons(self):
        rc, out, err = self.cli.run([self.ovs_ctl, 'status'], ok=(0, 1, 3))
        return parse_ctl_status(out + err)

    def exe(self, pid):
        if pid is None:
            return None
        rc, out, _err = self.cli.run(['readlink', '/proc/%d/exe' % pid], ok=(0, 1))
        return out.strip() if rc == 0 else None

    def alternative(self):
        _rc, out, _err = self.cli.run(['update-alternatives', '--query', ALTERNATIVE],
                                      fix='install openvswitch-switch')
        return parse_alternative(out)

    def other_config_now(self):
        rows = self.cli.table('Open_vSwitch', ['other_config'])
        return (rows[0]['other_config'] or {}) if rows else {}

    def _ledger(self, operation, *args):
        try:
            return getattr(self.ledger, operation)(self.owner, *args)
        except LedgerError as exc:
            raise OvsError('%s (remove it only if OVS is as it was before kbypass touched it)' % exc)

    def load(self):
        """The record ({before, users}), None when OVS was not changed."""
        record = self._ledger('load')
        if not record:
            return None
        if not isinstance(record.get('before'), dict) or not isinstance(record.get('users', {}), dict):
            raise OvsError('%s has no before (the OVS state from before kbypass changed it); remove it only if '
                           'OVS is as it was before kbypass touched it' % self.state_file)
        record.setdefault('users', {})
        return record

    def _write(self, record):
        """The host's OVS state first (kept once recorded), then the users."""
        self._ledger('record', 'before', record['before'])
        self._ledger('store', 'users', record['users'])

    # ---------------------------------------------------------------- doing
    def _do(self, label, argv):
        self.actions.append(label)
        if not self.check_mode:
            self.cli.run(argv)

    def _start(self, which):
        if self.systemd:
            unit = 'ovsdb-server' if which == 'ovsdb-server' else 'ovs-vswitchd'
            self._do('start %s' % which, ['systemctl', 'start', unit])
        else:
            skip = '--no-ovs-vswitchd' if which == 'ovsdb-server' else '--no-ovsdb-server'
            self._do('start %s' % which, [self.ovs_ctl, skip, 'start'])

    def _restart_vswitchd(self, why):
        if self.systemd:
            self._do('restart ovs-vswitchd (%s)' % why, ['systemctl', 'restart', 'ovs-vswitchd'])
        else:
            self._do('restart ovs-vswitchd (%s)' % why, [self.ovs_ctl, '--no-ovsdb-server', 'restart'])

    def _stop(self, which):
        if self.systemd:
            unit = 'ovsdb-server' if which == 'ovsdb-server' else 'ovs-vswitchd'
            self._do('stop %s' % which, ['systemctl', 'stop', unit])
        else:
            skip = '--no-ovs-vswitchd' if which == 'ovsdb-server' else '--no-ovsdb-server'
            self._do('stop %s' % which, [self.ovs_ctl, skip, 'stop'])

    def _set_alternative(self, status, value):
        if status == 'auto':
            self._do('update-alternatives --auto %s' % ALTERNATIVE,
                     ['update-alternatives', '--auto', ALTERNATIVE])
        else:
            self._do('update-alternatives --set %s %s' % (ALTERNATIVE, value),
                     ['update-alternatives', '--set', ALTERNATIVE, value])

    def _set_other_config(self, wanted, current):
        """Apply {key: value or None} where it differs; return the keys changed."""
        sets, removes = [], []
        for key in sorted(wanted):
            value = wanted[key]
            if value is None and key in current:
                removes.append(key)
            elif value is not None and current.get(key) != value:
                sets.append('other_config:%s=%s' % (key, value))
        # --no-wait: ovs-vswitchd may not run yet (it is started after its configuration is in the
        # database); without it ovs-vsctl waits for it forever
        if sets:
            self._do('set other_config %s' % ' '.join(s.split(':', 1)[1] for s in sets),
                     self.cli.vsctl_argv('--no-wait', 'set', 'Open_vSwitch', '.', *sets))
        if removes:
            self._do('remove other_config %s' % ' '.join(removes),
                     self.cli.vsctl_argv('--no-wait', 'remove', 'Open_vSwitch', '.', 'other_config', *removes))
        return [s.split(':', 1)[1].split('=', 1)[0] for s in sets] + removes

    def _wanted_binary(self, record):
        """Path ovs-vswitchd should run from: DPDK when any user wants it, else the pre-kbypass choice."""
        if any(u.get('binary') == 'dpdk' for u in record['users'].values()):
            return DPDK_BINARY
        if any(u.get('binary') == 'plain' for u in record['users'].values()):
            return PLAIN_BINARY
        return None

    # ---------------------------------------------------------------- converge
    def ensure(self):
        record = self.load()
        daemons = self.daemons()
        alt = self.alternative()
        before = {'daemons': daemons, 'alternative': {'status': alt['status'], 'value': alt['value']},
                  'vswitchd_binary': self.exe(daemons['ovs-vswitchd'])}
        if self.state == 'started':
            result = self._started(record, daemons, alt)
        else:
            result = self._released(record, daemons, alt)
        result.update(changed=bool(self.actions), actions=self.actions, before=before)
        if not self.check_mode:
            daemons = self.daemons()
            alt = self.alternative()
            result['after'] = {'daemons': daemons,
                               'alternative': {'status': alt['status'], 'value': alt['value']},
                               'vswitchd_binary': self.exe(daemons['ovs-vswitchd'])}
        else:
            result['after'] = None
        result['diff'] = _diff('openvswitch', before, result['after'] or {'actions': self.actions})
        return result

    def _save(self, record):
        """Write the state file when the record differs from what was last written."""
        text = json.dumps(record, sort_keys=True)
        if text == self._saved:
            return
        self._saved = text
        if not any(a.startswith('record state in ') for a in self.actions):
            self.actions.append('record state in %s' % self.state_file)
        self._write(record)

    def _started(self, record, daemons, alt):
        if record is None:
            record = {'before': {'ovsdb-server': daemons['ovsdb-server'] is not None,
                                 'ovs-vswitchd': daemons['ovs-vswitchd'] is not None,
                                 'alternative': {'status': alt['status'], 'value': alt['value']},
                                 'other_config': None},
                      'users': {}}
        if self.binary == 'dpdk' and DPDK_BINARY not in alt['choices']:
            raise OvsError('%s is not a choice of the %s alternative (have %s): install '
                           'openvswitch-switch-dpdk' % (DPDK_BINARY, ALTERNATIVE, ', '.join(alt['choices'])))
        self._saved = json.dumps(record, sort_keys=True) if record.get('users') else None
        user = record['users'].setdefault(self.user, {'binary': self.binary, 'other_config': {}})
        user['binary'] = self.binary
        # what is about to change is written down before it changes: a run that fails halfway
        # (or is killed) leaves a record from which teardown can give everything back
        self._save(record)
        if daemons['ovsdb-server'] is None:
            self._start('ovsdb-server')
        current = self.other_config_now() if (daemons['ovsdb-server'] is not None or not self.check_mode) else {}
        for key in self.other_config:
            if key not in user['other_config']:
                user['other_config'][key] = current.get(key)
        self._save(record)
        changed_keys = self._set_other_config(self.other_config, current)

        binary = self._wanted_binary(record)
        if binary is not None and alt['value'] != binary:
            self._set_alternative('manual', binary)
            target = binary
        else:
            target = binary or alt['value']
        self._save(record)

        running = self.exe(daemons['ovs-vswitchd'])
        if daemons['ovs-vswitchd'] is None:
            self._start('ovs-vswitchd')
        elif running is not None and running != target and not running.endswith(' (deleted)'):
            self._restart_vswitchd('binary %s -> %s' % (running, target))
        elif target == DPDK_BINARY and set(changed_keys) & set(EAL_KEYS):
            self._restart_vswitchd('DPDK EAL settings changed: %s' % ', '.join(sorted(set(changed_keys) & set(EAL_KEYS))))
        return {'record': record, 'binary': target}

    def _released(self, record, daemons, alt):
        if record is None or self.user not in record.get('users', {}):
            return {'record': record, 'binary': alt['value']}
        user = record['users'].pop(self.user)
        # other_config keys back to their values from before this user set them
        if daemons['ovsdb-server'] is not None:
            self._set_other_config(user.get('other_config', {}), self.other_config_now())
        last = not record['users']
        before = record['before']
        binary = self._wanted_binary(record)
        if binary is not None:
            wanted_alt = {'status': 'manual', 'value': binary}
        else:
            wanted_alt = before['alternative']
        if (alt['status'], alt['value']) != (wanted_alt['status'], wanted_alt['value']):
            self._set_alternative(wanted_alt['status'], wanted_alt['value'])
        # after --auto the link points at the best choice, which is what it pointed at before
        target = wanted_alt['value']
        running_pid = daemons['ovs-vswitchd']
        if last:
            if not before['ovs-vswitchd'] and running_pid is not None:
                self._stop('ovs-vswitchd')
            elif before['ovs-vswitchd'] and running_pid is not None and self.exe(running_pid) != target:
                self._restart_vswitchd('back to %s' % target)
            elif before['ovs-vswitchd'] and running_pid is None:
                self._start('ovs-vswitchd')
            if not before['ovsdb-server'] and daemons['ovsdb-server'] is not None:
                self._stop('ovsdb-server')
            elif before['ovsdb-server'] and daemons['ovsdb-server'] is None:
                self._start('ovsdb-server')
            self.actions.append('remove %s' % self.state_file)
            self._ledger('forget', 'users')
            self._ledger('forget', 'before')
        else:
            if running_pid is not None and self.exe(running_pid) != target:
                self._restart_vswitchd('back to %s' % target)
            self.actions.append('record state in %s' % self.state_file)
            self._write(record)
        return {'record': None if last else record, 'binary': target}
