# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Desired-state management of one LXC system container with the lxc-* command line tools.

The module ``kbypass.testbed.lxc_container`` is a thin wrapper around :class:`ContainerManager`.

Commands go through :class:`LxcCli`, which takes a ``run_command`` callable with the signature of
``AnsibleModule.run_command`` (argv list in, ``(rc, out, err)`` out), so tests can replay recorded
real outputs.

Config marking: the keys this module manages live in a block at the end of the container's
config file::

    # BEGIN kbypass.testbed lxc_container managed keys (rewritten by Ansible)
    lxc.net.0.type = veth
    ...
    # END kbypass.testbed lxc_container managed keys

A run removes every line of each key it is given, wherever the line is, and writes the new lines
inside the block: a key already in the block is rewritten where it stands, a new key is appended.
Keys a run does not mention are left as they are and where they are (also inside the block).
An empty list (or null) removes a key. LXC resets a network device when it reads
``lxc.net.N.type``, so inside the block that line is always put before the other ``lxc.net.N.*``
lines, and the ``lxc.net.N.*`` lines above the block (written by the template, such as
``lxc.net.0.flags = up``) are moved into the block right after it, values unchanged.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os
import re
import time

from ansible_collections.kbypass.testbed.plugins.module_utils import ledger

TOOLS = ('lxc-create', 'lxc-start', 'lxc-stop', 'lxc-destroy', 'lxc-info', 'lxc-ls', 'lxc-wait', 'lxc-attach')
TEMPLATES = ('busybox', 'debian', 'none')
STATES = ('started', 'stopped', 'absent')

BLOCK_BEGIN = '# BEGIN kbypass.testbed lxc_container managed keys (rewritten by Ansible)'
BLOCK_END = '# END kbypass.testbed lxc_container managed keys'
START_LOG = 'kbypass-start.log'
LOG_TAIL_LINES = 15

_KEY_RE = re.compile(r'^lxc\.[A-Za-z0-9_][A-Za-z0-9_.\-]*$')
_LINE_RE = re.compile(r'^\s*(lxc\.[^\s=]+)\s*=\s*(.*?)\s*$')
_NET_KEY_RE = re.compile(r'^lxc\.net\.(\d+)\.(.+)$')
_NAME_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.\-]*$')


class LxcError(Exception):
    """A failure with a message that names the bad input (or the failing command) and the fix."""


# ============================================================================ config file
def normalize_config(config):
    """Validate the ``config`` option. Return a list of (key, [values]) in the order given."""
    out = []
    for key, value in (config or {}).items():
        if not isinstance(key, str) or not _KEY_RE.match(key):
            raise LxcError('config key %r is not an LXC config key; keys look like lxc.net.0.link '
                           '(see lxc.container.conf(5))' % (key,))
        if value is None:
            values = []
        elif isinstance(value, (list, tuple)):
            values = list(value)
        else:
            values = [value]
        clean = []
        for item in values:
            if isinstance(item, bool):
                item = '1' if item else '0'
            elif isinstance(item, (int, float)):
                item = str(item)
            elif not isinstance(item, str):
                raise LxcError('config[%s] must be a string or a list of strings, got %r' % (key, item))
            if '\n' in item or '\r' in item:
                raise LxcError('config[%s] value %r contains a line break; give several values as a list'
                               % (key, item))
            clean.append(item.strip())
        out.append((key, clean))
    return out


def _line_key(line):
    match = _LINE_RE.match(line)
    return match.group(1) if match else None


def config_values(text, keys):
    """Values of ``keys`` in config ``text``, in file order: {key: [values]}."""
    found = dict((k, []) for k in keys)
    for line in text.splitlines():
        match = _LINE_RE.match(line)
        if match and match.group(1) in found:
            found[match.group(1)].append(match.group(2))
    return found


def config_value(text, key):
    """The last value LXC would use for single-valued ``key`` (None when missing)."""
    values = config_values(text, [key])[key]
    return values[-1] if values else None


def _fmt(values):
    """Values for a message: one as it is, several as a list, none as 'none'."""
    if not values:
        return 'none'
    return values[0] if len(values) == 1 else ', '.join(values)


def config_value_from_line(text, key):
    """The value on a 'at line "KEY = VALUE"' log line, as a list (for messages)."""
    match = re.search(r'at line "\s*%s\s*=\s*([^"]*)"' % re.escape(key), text)
    return [match.group(1).strip()] if match else []


def _net_index(key):
    match = _NET_KEY_RE.match(key or '')
    return match.group(1) if match else None


def render_config(text, managed):
    """Return config ``text`` with the managed keys (list of (key, [values])) written in the block."""
    keys = [k for k, _v in managed]
    wanted = dict(managed)
    lines = text.splitlines()
    outside, inside, in_block = [], [], False
    for line in lines:
        if line.strip() == BLOCK_BEGIN:
            in_block = True
        elif line.strip() == BLOCK_END:
            in_block = False
        elif in_block:
            inside.append(line)
        else:
            outside.append(line)

    outside = [line for line in outside if _line_key(line) not in wanted]
    block, done = [], set()
    for line in inside:
        key = _line_key(line)
        if key in wanted:
            if key not in done:
                block.extend('%s = %s' % (key, v) for v in wanted[key])
                done.add(key)
            continue
        block.append(line)
    for key in keys:
        if key not in done:
            block.extend('%s = %s' % (key, v) for v in wanted[key])

    # lxc.net.N.type resets device N: it goes before every other lxc.net.N.* line of the block, and
    # the lxc.net.N.* lines above the block follow it into the block (else LXC would wipe them)
    nets = []
    for line in block:
        key = _line_key(line)
        net = _net_index(key)
        if net is not None and key == 'lxc.net.%s.type' % net and net not in nets:
            nets.append(net)
    for net in nets:
        type_key, prefix = 'lxc.net.%s.type' % net, 'lxc.net.%s.' % net
        type_lines = [line for line in block if _line_key(line) == type_key]
        moved = [line for line in outside if (_line_key(line) or '').startswith(prefix)]
        outside = [line for line in outside if not (_line_key(line) or '').startswith(prefix)]
        rest = [line for line in block if _line_key(line) != type_key]
        first = next((i for i, line in enumerate(rest) if (_line_key(line) or '').startswith(prefix)), None)
        if first is None:
            first = min(block.index(type_lines[0]), len(rest))
        block = rest[:first] + type_lines + moved + rest[first:]

    while outside and not outside[-1].strip():
        outside.pop()
    body = outside
    if any(_line_key(line) for line in block):
        body = outside + [''] + [BLOCK_BEGIN] + block + [BLOCK_END]
    return '\n'.join(body) + '\n'


def write_atomic(path, text):
    """Replace ``path`` with ``text`` atomically (:func:`ledger.write_atomic`), keeping its mode
    (0640 for a new file)."""
    ledger.write_atomic(path, text, mode=0o640)


def _read(path):
    try:
        with open(path) as handle:
            return handle.read()
    except (IOError, OSError):
        return None


# ============================================================================ static network
def drop_udhcpc(text):
    """busybox rcS without the udhcpc line (udhcpc drops the static address LXC set)."""
    lines = text.splitlines(True)
    kept = [line for line in lines if not re.match(r'^\s*(/s?bin/)?udhcpc(\s|$)', line)]
    return ''.join(kept)


def eth0_manual(text):
    """Debian /etc/network/interfaces with eth0 set to manual (no DHCP wait at boot)."""
    return re.sub(r'(?m)^(\s*iface\s+eth0\s+inet\s+)dhcp\b', r'\1manual', text)


STATIC_NETWORK = {
    'busybox': ('etc/init.d/rcS', drop_udhcpc, 'removed udhcpc from %s'),
    'debian': ('etc/network/interfaces', eth0_manual, 'set eth0 to manual in %s'),
}


# ============================================================================ command line
def find_tools(get_bin_path):
    """Map each lxc tool to its path with ``get_bin_path(name)`` (None when missing)."""
    tools, missing = {}, []
    for tool in TOOLS:
        path = get_bin_path(tool)
        if path:
            tools[tool] = path
        else:
            missing.append(tool)
    if missing:
        raise LxcError('LXC tools not found on the target: %s; install the package lxc '
                       '(apt-get install --no-install-recommends lxc)' % ', '.join(missing))
    return tools


class LxcCli(object):
    """Runs lxc-* tools. ``run_command(argv, **kw)`` returns ``(rc, out, err)``."""

    def __init__(self, run_command, tools, lxcpath):
        self._run_command = run_command
        self.tools = tools
        self.lxcpath = lxcpath

    def run(self, tool, *args):
        argv = [self.tools.get(tool, tool)] + [str(a) for a in args]
        rc, out, err = self._run_command(argv, expand_user_and_vars=False)
        return rc, out or '', err or ''

    def names(self):
        rc, out, err = self.run('lxc-ls', '-P', self.lxcpath, '-1')
        if rc != 0:
            raise LxcError('lxc-ls -P %s failed (rc=%s): %s' % (self.lxcpath, rc, err.strip()))
        return [n for n in out.split() if n]

    def info(self, name):
        """{'state': 'RUNNING', 'pid': 123, 'ips': [...]} or (rc, err) tuple when lxc-info fails."""
        # -l ERROR without -o: when LXC cannot load the config, stderr says which line it rejected
        rc, out, err = self.run('lxc-info', '-n', name, '-P', self.lxcpath, '-s', '-p', '-i', '-H', '-l', 'ERROR')
        if rc != 0:
            return None, err.strip() or out.strip()
        info = {'state': None, 'pid': None, 'ips': []}
        for line in out.splitlines():
            label, _sep, value = line.partition(':')
            label, value = label.strip().lower(), value.strip()
            if label == 'state':
                info['state'] = value
            elif label == 'pid' and value.isdigit():
                info['pid'] = int(value)
            elif label == 'ip':
                info['ips'].append(value)
        if info['state'] is None and out.strip():  # plain -s -H output
            info['state'] = out.strip().splitlines()[0]
        return info, None


# ============================================================================ manager
class ContainerManager(object):
    """Converge one container to the module's options."""

    def __init__(self, cli, params, check_mode=False, sleep=time.sleep, clock=time.time):
        self.cli = cli
        self.p = params
        self.check_mode = check_mode
        self.sleep = sleep
        self.clock = clock
        self.actions = []
        self.name = params['name']
        self.lxcpath = params.get('lxcpath') or '/var/lib/lxc'
        self.dir = os.path.join(self.lxcpath, self.name)
        self.config_path = os.path.join(self.dir, 'config')
        self.log_path = os.path.join(self.dir, START_LOG)

    # ------------------------------------------------------------------ reading
    def read(self):
        """{'exists', 'state' (running|stopped|frozen|...|absent|unreadable), 'pid', 'ips', 'error'}."""
        listed = self.name in self.cli.names()
        if not listed and not os.path.isfile(self.config_path):
            return {'exists': False, 'state': 'absent', 'pid': None, 'ips': [], 'error': None}
        info, error = self.cli.info(self.name)
        if info is None:
            # LXC cannot load the config (lxc-ls skips such containers): no state to speak of
            return {'exists': True, 'state': 'unreadable', 'pid': None, 'ips': [], 'error': error}
        state = (info['state'] or 'unknown').lower()
        return {'exists': True, 'state': state, 'pid': info['pid'] if state == 'running' else None,
                'ips': info['ips'], 'error': None}

    def rootfs(self, text=None):
        text = _read(self.config_path) if text is None else text
        value = config_value(text or '', 'lxc.rootfs.path')
        if value is None:
            return None
        # 'dir:/path' or '/path'; other backends (btrfs:, overlay:...) are reported as they are
        return value[4:] if value.startswith('dir:') else value

    # ------------------------------------------------------------------ helpers
    def _act(self, text):
        self.actions.append(text)

    def _log_tail(self):
        text = _read(self.log_path)
        if not text:
            return ''
        return '\n'.join(text.rstrip('\n').splitlines()[-LOG_TAIL_LINES:])

    @staticmethod
    def _public_state(state):
        """LXC state in the words of the state option (running -> started); others as they are."""
        return 'started' if state == 'running' else state

    # ------------------------------------------------------------------ actions
    def create(self):
        template = self.p.get('template') or 'busybox'
        argv = ['-n', self.name, '-t', template, '-P', self.lxcpath]
        if self.p.get('template_options'):
            argv += ['--'] + list(self.p['template_options'])
        self._act('created with template %s' % template)
        if self.check_mode:
            return
        rc, out, err = self.cli.run('lxc-create', *argv)
        if rc != 0:
            detail = err.strip()
            if out.strip():
                detail += '\ntemplate output (last lines):\n' + '\n'.join(out.strip().splitlines()[-10:])
            raise LxcError('lxc-create -n %s -t %s failed (rc=%s): %s\nCheck template=%s and template_options %s.'
                           % (self.name, template, rc, detail, template, self.p.get('template_options') or []))

    def static_network(self, rootfs):
        template = self.p.get('template') or 'busybox'
        if not self.p.get('static_network', True) or template not in STATIC_NETWORK:
            return
        relative, edit, what = STATIC_NETWORK[template]
        if rootfs is None or not rootfs.startswith('/'):
            return
        path = os.path.join(rootfs, relative)
        text = _read(path)
        if text is None:
            return
        new = edit(text)
        if new == text:
            return
        self._act(what % path)
        if not self.check_mode:
            write_atomic(path, new)

    def apply_config(self, managed):
        """Write the managed keys. Return (file_changed, values_changed)."""
        keys = [k for k, _v in managed]
        text = _read(self.config_path)
        if text is None:
            text = ''
        before = config_values(text, keys)
        after = dict(managed)
        new = render_config(text, managed) if managed else text
        file_changed = new != text
        values_changed = any(before[k] != after[k] for k in keys)
        if file_changed:
            self._act('wrote %s' % self.config_path)
            if not self.check_mode:
                write_atomic(self.config_path, new)
        return file_changed, values_changed

    def stop(self, kill=False):
        timeout = self.p.get('stop_timeout', 10)
        self._act('stopped' if not kill else 'killed')
        if self.check_mode:
            return
        if kill or not timeout:
            rc, _out, err = self.cli.run('lxc-stop', '-n', self.name, '-P', self.lxcpath, '-k')
        else:
            # lxc-stop asks init to shut down and kills the container itself after the timeout
            rc, _out, err = self.cli.run('lxc-stop', '-n', self.name, '-P', self.lxcpath, '-t', timeout)
            if rc != 0 and self.read()['state'] == 'running':
                rc, _out, err = self.cli.run('lxc-stop', '-n', self.name, '-P', self.lxcpath, '-k')
        if rc != 0 and self.read()['state'] == 'running':
            raise LxcError('lxc-stop -n %s failed (rc=%s): %s' % (self.name, rc, err.strip()))

    def start(self, managed):
        timeout = self.p.get('start_timeout', 30)
        self._act('started')
        if self.check_mode:
            return
        if os.path.exists(self.log_path):
            os.unlink(self.log_path)
        rc, _out, err = self.cli.run('lxc-start', '-n', self.name, '-d', '-P', self.lxcpath,
                                     '-l', 'ERROR', '-o', self.log_path)
        if rc != 0:
            raise LxcError(self._start_failure(rc, err, managed))
        deadline = self.clock() + timeout
        rc, _out, err = self.cli.run('lxc-wait', '-n', self.name, '-P', self.lxcpath, '-s', 'RUNNING',
                                     '-t', timeout)
        if rc != 0:
            raise LxcError('container %s did not reach RUNNING within start_timeout=%ss (lxc-wait rc=%s %s); '
                           'raise start_timeout or look at the log %s:\n%s'
                           % (self.name, timeout, rc, err.strip(), self.log_path, self._log_tail()))
        if (self.p.get('template') or 'busybox') == 'none':
            return  # no known binary to attach to in a rootfs we did not build
        # RUNNING comes before init has run; wait until lxc-attach works so callers can attach at once
        while True:
            rc, _out, err = self.cli.run('lxc-attach', '-n', self.name, '-P', self.lxcpath, '--', '/bin/true')
            if rc == 0:
                return
            if self.clock() >= deadline:
                raise LxcError('container %s is RUNNING but lxc-attach -- /bin/true still fails after '
                               'start_timeout=%ss (rc=%s): %s; raise start_timeout or check the rootfs'
                               % (self.name, timeout, rc, err.strip()))
            self.sleep(0.2)

    def _start_failure(self, rc, err, managed):
        log = self._log_tail() or err.strip()
        key = self._rejected_key(log + '\n' + err, managed)
        where = 'log %s' % self.log_path
        if key:
            return ('lxc-start -n %s failed (rc=%s): LXC rejected config key %s (value %s); fix or remove it '
                    'in config. Last lines of the %s:\n%s'
                    % (self.name, rc, key[0], _fmt(key[1]), where, log))
        return ('lxc-start -n %s failed (rc=%s). Last lines of the %s:\n%s'
                % (self.name, rc, where, log))

    def _unreadable(self, error, managed, consequence):
        key = self._rejected_key(error or '', managed)
        what = 'config key %s (value %s) is rejected' % (key[0], _fmt(key[1])) if key else 'LXC cannot load it'
        fix = ('fix the value in config, or remove the key with config: {%s: []}' % key[0] if key
               else 'fix %s' % self.config_path)
        return ('the config of container %s cannot be loaded by LXC, %s: %s; %s. lxc-info said:\n%s'
                % (self.name, consequence, what, fix, (error or '').strip()))

    @staticmethod
    def _rejected_key(text, managed):
        """(key, value) that LXC complained about, from its log, or None."""
        values = dict(managed)
        patterns = [r'Unsupported config key "(lxc\.[^"]+)"', r'at line "\s*(lxc\.[^\s=]+)\s*=']
        for pattern in patterns:
            match = re.search(pattern, text)
            if match:
                key = match.group(1)
                return key, values.get(key, config_value_from_line(text, key))
        match = re.search(r'Failed to set "([^"]+)" to "([^"]*)"', text)
        if match:  # cgroup limits: "cpuset.cpus" -> lxc.cgroup.cpuset.cpus / lxc.cgroup2.cpuset.cpus
            for key, value in managed:
                if key.endswith('.' + match.group(1)):
                    return key, value
            return 'lxc.cgroup.%s' % match.group(1), [match.group(2)]
        for key, value in managed:  # a value LXC quotes back, e.g. a bridge that does not exist
            for item in value:
                if item and '"%s"' % item in text:
                    return key, value
        return None

    # ------------------------------------------------------------------ converge
    def validate(self):
        if not _NAME_RE.match(self.name or '') or len(self.name) > 64:
            raise LxcError('name=%r is not a usable container name; use letters, digits, "-", "_" and "." '
                           '(at most 64, starting with a letter or digit)' % (self.name,))
        if self.p.get('start_timeout', 30) < 1:
            raise LxcError('start_timeout=%s must be at least 1 second' % self.p['start_timeout'])
        if self.p.get('stop_timeout', 10) < 0:
            raise LxcError('stop_timeout=%s must be 0 (kill at once) or more seconds' % self.p['stop_timeout'])
        if not os.path.isabs(self.lxcpath):
            raise LxcError('lxcpath=%s must be an absolute path' % self.lxcpath)

    def ensure(self):
        self.validate()
        state = self.p.get('state') or 'started'
        managed = normalize_config(self.p.get('config'))
        keys = [k for k, _v in managed]
        before = self.read()
        text = _read(self.config_path) or ''
        diff_before = {'state': self._public_state(before['state']),
                       'config': self._shown(config_values(text, keys)) if before['exists'] else {}}
        restarted = False

        if state == 'absent':
            if before['exists']:
                if before['state'] == 'unreadable':
                    raise LxcError(self._unreadable(before['error'], managed, 'so it cannot stop or destroy it'))
                if before['state'] != 'stopped':
                    self.stop(kill=True)
                self._act('destroyed')
                if not self.check_mode:
                    rc, _out, err = self.cli.run('lxc-destroy', '-n', self.name, '-P', self.lxcpath)
                    if rc != 0:
                        raise LxcError('lxc-destroy -n %s -P %s failed (rc=%s): %s'
                                       % (self.name, self.lxcpath, rc, err.strip()))
            after = {'exists': False, 'state': 'absent', 'pid': None, 'ips': [], 'error': None}
            return self._result(after, diff_before, {'state': 'absent', 'config': {}}, restarted)

        created = False
        if not before['exists']:
            self.create()
            created = True
        if created and self.check_mode:
            file_changed = values_changed = bool(managed)
        else:
            self.static_network(self.rootfs())
            file_changed, values_changed = self.apply_config(managed)

        current = before['state']
        if created:
            current = 'stopped'
        elif before['state'] == 'unreadable' and not self.check_mode:
            now = self.read() if file_changed else before
            current = now['state']
            if current == 'unreadable':
                raise LxcError(self._unreadable(now['error'], managed, 'so it cannot be managed'))

        if state == 'started':
            if current == 'running' and values_changed:
                self.stop()
                self.start(managed)
                restarted = True
            elif current != 'running':
                self.start(managed)
        elif state == 'stopped' and current not in ('stopped', 'unreadable'):
            self.stop()

        if self.check_mode:
            after = {'exists': True, 'state': 'running' if state == 'started' else 'stopped',
                     'pid': before['pid'] if state == 'started' and not restarted else None,
                     'ips': before['ips'], 'error': None}
        else:
            after = self.read()
        diff_after = {'state': state, 'config': self._shown(dict(managed))}
        if not self.check_mode:
            diff_after['state'] = self._public_state(after['state'])
        return self._result(after, diff_before, diff_after, restarted)

    @staticmethod
    def _shown(values):
        """Config values for the diff: one value as a string, several as a list, none as null."""
        out = {}
        for key, items in values.items():
            out[key] = None if not items else (items[0] if len(items) == 1 else list(items))
        return out

    def _result(self, after, diff_before, diff_after, restarted):
        container = {'name': self.name, 'state': after['state'], 'config_path': self.config_path,
                     'rootfs': None, 'pid': after['pid'], 'ips': after['ips']}
        if after['exists']:
            container['rootfs'] = self.rootfs()
        return {
            'changed': bool(self.actions),
            'restarted': restarted,
            'container': container,
            'actions': self.actions,
            'diff': {'before': diff_before, 'after': diff_after},
        }
