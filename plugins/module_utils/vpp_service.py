# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The VPP process: started and stopped under systemd where there is one, by itself (a daemon known
by its pid file, module_utils/daemon.py) where there is not; the host's VPP state recorded in the
ledger before the first start and given back at release; the checks of the plan stage.

VPP leaves its API, CLI and stats sockets and the memif socket files behind after SIGTERM: stop
removes them, and start removes stale ones before VPP starts (the start waits for the API
socket to appear, with a timeout, so a stale file would end the wait too early).
"""

from __future__ import annotations

import os
import signal

from ansible_collections.kbypass.testbed.plugins.module_utils.daemon import Daemon, DaemonError, SystemOps
from ansible_collections.kbypass.testbed.plugins.module_utils.ledger import Ledger, LedgerError
from ansible_collections.kbypass.testbed.plugins.module_utils.plan import PlanError, format_cpu_list, parse_cpu_list

OWNER = 'vpp'
SYSTEMD_DIR = '/run/systemd/system'
# under systemd the unit runs our binary and startup.conf through a runtime drop-in (gone at reboot)
DROP_IN = SYSTEMD_DIR + '/%s.service.d/kbypass.conf'


def drop_in_text(binary, startup_conf):
    return '[Service]\nExecStart=\nExecStart=%s -c %s\n' % (binary, startup_conf)


class VppServiceError(Exception):
    def __init__(self, msg, **result):
        super(VppServiceError, self).__init__(msg)
        self.result = result


class VppService(object):
    """state: started, stopped (sockets removed), released (the host's VPP state given back)."""

    def __init__(self, params, run_command, check_mode=False, ops=None, root=''):
        self.p = params
        self.run_command = run_command
        self.check_mode = check_mode
        self.ops = ops or SystemOps()
        self.ledger = Ledger(root, params.get('state_dir') or Ledger().directory, check_mode)
        self.systemd = {'yes': True, 'no': False}.get(params['systemd'], self.ops.exists(SYSTEMD_DIR))
        self.actions = []
        self.daemon = Daemon([params['binary'], '-c', params['startup_conf']], params['pidfile'], params['log'],
                             wait_for=[params['api_socket']], timeout=params['timeout'], stop_signal=signal.SIGTERM,
                             stop_timeout=params['stop_timeout'], check_mode=check_mode, ops=self.ops,
                             program=params['binary'])

    # ---------------------------------------------------------------- reading
    def _systemctl(self, *args, **kw):
        rc, out, err = self.run_command(['systemctl'] + list(args))
        if rc not in kw.get('ok', (0,)):
            raise VppServiceError('systemctl %s failed (rc=%d): %s' % (' '.join(args), rc, (err or out).strip()))
        return rc, out.strip()

    def running(self):
        if self.systemd:
            rc, _out = self._systemctl('is-active', '--quiet', self.p['unit'], ok=(0, 3, 4))
            return rc == 0
        return self.daemon.running()[0] is not None

    def leftovers(self):
        return [path for path in self.p['sockets'] + [self.p['api_socket']] if self.ops.exists(path)]

    # ---------------------------------------------------------------- doing
    def _remove_sockets(self):
        for path in self.leftovers():
            self.actions.append('remove %s' % path)
            if not self.check_mode:
                self.ops.remove(path)

    def _wait_socket(self):
        deadline = self.ops.now() + self.p['timeout']
        while not self.ops.exists(self.p['api_socket']):
            if self.ops.now() > deadline:
                raise VppServiceError('VPP started but %s did not appear within %ss; see journalctl -u %s'
                                      % (self.p['api_socket'], self.p['timeout'], self.p['unit']))
            self.ops.sleep(0.2)

    def _record(self, running):
        try:
            if self.ledger.record(OWNER, 'service', {'running': running, 'systemd': self.systemd}):
                self.actions.append('record VPP %s in %s' % ('running' if running else 'stopped', self.ledger.file(OWNER)))
        except LedgerError as exc:
            raise VppServiceError(str(exc))

    def start(self, ours=True):
        """ours: with our binary and startup.conf (False: the host's own VPP again, at release)."""
        running = self.running()
        self._record(running)
        path = DROP_IN % self.p['unit']
        text = drop_in_text(self.p['binary'], self.p['startup_conf'])
        if self.systemd:
            current = not ours or self.ops.read(path) == text.encode()
        else:
            current = self.daemon.running()[1] == self.daemon.argv
        if running and current and not self.p['restart']:
            return
        if running:
            self.stop(remove=False)
        # a stale API socket would end the wait for VPP's before VPP is there
        self._remove_sockets()
        how = 'systemctl start %s' % self.p['unit'] if self.systemd else ' '.join(self.daemon.argv)
        self.actions.append('start VPP (%s)' % how)
        if self.check_mode:
            return
        for sock in (self.p['api_socket'],) + tuple(self.p['sockets']):
            self.ops.makedirs(os.path.dirname(sock))
        if self.systemd:
            if ours and self.ops.read(path) != text.encode():
                self.ops.makedirs(os.path.dirname(path))
                self.ops.write(path, text)
                self._systemctl('daemon-reload')
            self._systemctl('start', self.p['unit'])
            self._wait_socket()
        else:
            try:
                self.daemon.started()
            except DaemonError as exc:
                raise VppServiceError(str(exc), **exc.result)

    def stop(self, remove=True):
        if self.running():
            self.actions.append('stop VPP')
            if not self.check_mode:
                if self.systemd:
                    self._systemctl('stop', self.p['unit'])
                else:
                    try:
                        self.daemon.stopped()
                    except DaemonError as exc:
                        raise VppServiceError(str(exc), **exc.result)
        elif not self.systemd and self.ops.exists(self.p['pidfile']):
            self.actions.append('remove stale %s' % self.p['pidfile'])
            if not self.check_mode:
                self.ops.remove(self.p['pidfile'])
        if remove:
            self._remove_sockets()

    def _remove_drop_in(self):
        path = DROP_IN % self.p['unit']
        if self.ops.exists(path):
            self.actions.append('remove %s' % path)
            if not self.check_mode:
                self.ops.remove(path)
                self._systemctl('daemon-reload')

    def release(self):
        try:
            record = self.ledger.recorded(OWNER, 'service')
        except LedgerError as exc:
            raise VppServiceError(str(exc))
        if record is None:
            # not started by the collection: only what VPP left behind, when it is not running
            if not self.running():
                self.stop()
            return
        if self.systemd:
            self.stop(remove=False)
            self._remove_drop_in()
        if record.get('running'):
            self.start(ours=False)
        else:
            self.stop()
        self.actions.append('forget the VPP record')
        if not self.check_mode:
            self.ledger.forget(OWNER, 'service')

    def ensure(self):
        before = {'running': self.running(), 'sockets': self.leftovers()}
        {'started': self.start, 'stopped': self.stop, 'released': self.release}[self.p['state']]()
        after = {'running': self.running(), 'sockets': self.leftovers()} if not self.check_mode else None
        return {'changed': bool(self.actions), 'actions': self.actions, 'systemd': self.systemd,
                'before': before, 'after': after, 'diff': {'before': before, 'after': after or {'actions': self.actions}}}


# ============================================================================ plan-stage checks
class CheckOps(SystemOps):
    """SystemOps with listdir (the plan-stage checks read the plugin directory)."""

    def listdir(self, path):
        try:
            return os.listdir(path)
        except OSError:
            return []


def check_installation(binary, plugin_dir, api_dir, plugins, cpus, online, ops=None):
    """What a VPP that is already on the host (vpp_install: present) must offer: its binary, the
    plugins wanted in its plugin directory, its API definitions, and the CPUs of its threads.
    Returns a list of problems (empty: fine)."""
    ops = ops or CheckOps()
    problems = []
    how = ('install VPP from FD.io\'s packages (vpp_install: packages, with vpp_repo_url reachable or a local '
           'mirror) or point vpp_prefix (or vpp_binary, vpp_plugin_dir and vpp_api_dir) at a VPP on the host')
    missing = ['vpp_binary %s' % binary] if not ops.exists(binary) else []
    if not ops.exists(plugin_dir):
        missing.append('vpp_plugin_dir %s' % plugin_dir)
    else:
        have = sorted(n for n in ops.listdir(plugin_dir) if n.endswith('_plugin.so'))
        for plugin in plugins:
            if plugin not in have:
                problems.append('vpp_plugins: %s is not in %s (it has: %s)' % (plugin, plugin_dir, ', '.join(have) or 'none'))
    if not ops.exists(api_dir):
        missing.append('vpp_api_dir %s (the *.api.json of that VPP)' % api_dir)
    if missing:
        problems.insert(0, '%s do%s not exist: %s' % (', '.join(missing), 'es' if len(missing) == 1 else '', how))
    problems += check_cpus(cpus, online)
    return problems


def check_cpus(cpus, online):
    """{variable: CPU list} of VPP's threads must be online CPUs."""
    problems = []
    for var, text in sorted(cpus.items()):
        try:
            wanted = parse_cpu_list(text)
        except PlanError as exc:
            problems.append('%s: %s' % (var, exc))
            continue
        missing = [c for c in wanted if c not in online]
        if missing:
            problems.append('%s: CPU(s) %s do not exist on this host (online: %s)'
                            % (var, format_cpu_list(missing), format_cpu_list(online)))
    return problems


def check_host(p, online, reach, ops=None):
    """The plan-stage check (vpp_service state=checked) of the module's parameters ``p``: a VPP on the
    host (install present, or packages installed already) is checked whole; FD.io's packages not
    installed yet need their repository to answer (``reach(url)`` raises when it does not)."""
    ops = ops or CheckOps()
    if p['install'] == 'present' or ops.exists(p['binary']):
        problems = check_installation(p['binary'], p['plugin_dir'], p['api_dir'], p['plugins'], p['cpus'], online, ops)
    else:
        problems = check_cpus(p['cpus'], online)
        how = ('install VPP yourself and set vpp_install: present with vpp_prefix (or vpp_binary, vpp_plugin_dir and '
               'vpp_api_dir) naming it')
        if not p['repo_url']:
            problems.append('VPP is not installed (no %s) and vpp_repo_url is empty: set it to FD.io\'s repository or a '
                            'mirror, or %s' % (p['binary'], how))
        else:
            try:
                reach(p['repo_url'])
            except Exception as exc:  # pylint: disable=broad-except
                problems.append('VPP is not installed (no %s) and its package repository %s cannot be reached (%s): '
                                'set vpp_repo_url to a mirror you can reach, or %s' % (p['binary'], p['repo_url'], exc, how))
    if problems:
        raise VppServiceError('; '.join(problems), problems=problems)
    return {'changed': False, 'actions': [], 'systemd': False, 'before': {}, 'after': {}, 'problems': []}
