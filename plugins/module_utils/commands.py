# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Running a program whose output is parsed: the one home of what every command needs.

As community.general's CmdRunner does, each command

* runs in the C locale (``LC_ALL``, ``LANG`` and ``LANGUAGE`` set to ``C``), so that what is parsed
  is the untranslated output, with one number and date format;
* has its program looked up before it runs (``PATH`` and the sbin directories, as
  AnsibleModule.get_bin_path does); a missing program is an error that names it and what installs it.

:func:`command_runner` gives the managers of a module their ``run_command``; :func:`run_program`
the same for code that runs without an AnsibleModule (bench.Spawner).
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os
import subprocess

from ansible.module_utils.common.process import get_bin_path

C_LOCALE = {'LC_ALL': 'C', 'LANG': 'C', 'LANGUAGE': 'C'}

_LXC = 'the package lxc (apt-get install --no-install-recommends lxc)'
_OVS = 'the package openvswitch-switch (the ovs and ovs_dpdk roles install it)'

# program -> what installs it, for the error when it is missing
PROVIDERS = {
    'ip': 'the package iproute2',
    'modprobe': 'the package kmod',
    'mount': 'the package mount',
    'umount': 'the package mount',
    'readlink': 'the package coreutils',
    'systemctl': 'the package systemd',
    'udevadm': 'the package udev',
    'update-alternatives': 'the package dpkg',
    'dpdk-testpmd': 'the package dpdk (the dpdk role installs it)',
    'ovs-vsctl': _OVS,
    'ovs-ofctl': _OVS,
    'ovs-ctl': _OVS,
}
PROVIDERS.update(dict((tool, _LXC) for tool in (
    'lxc-attach', 'lxc-cgroup', 'lxc-create', 'lxc-destroy', 'lxc-info', 'lxc-ls', 'lxc-start', 'lxc-stop',
    'lxc-wait')))

# programs whose absence the callers handle: the runner answers rc 127 instead of failing. Without udev
# nothing renames new interfaces, so there is nothing to wait for (sysfs.RootedFiles._settle_udev).
OPTIONAL = frozenset(['udevadm'])


class ProgramNotFound(OSError):
    """A program to run is not on the target; the message names it and what installs it."""

    def __init__(self, program):
        name = os.path.basename(program)
        where = 'at %s' % program if '/' in program else 'in PATH, /sbin, /usr/sbin or /usr/local/sbin'
        msg = '%s not found %s on the target' % (name, where)
        if name in PROVIDERS:
            msg += '; install %s' % PROVIDERS[name]
        super(ProgramNotFound, self).__init__(msg)
        self.program = program

    def __str__(self):
        return self.args[0]


def find_program(program, lookup=None):
    """Absolute path of ``program`` (a name, or a path that must exist); raises ProgramNotFound.

    ``lookup(program)`` returns a path or None, for a path too (AnsibleModule.get_bin_path takes both);
    without it a path must be an executable file and a name is searched as get_bin_path does.
    """
    if lookup is not None:
        path = lookup(program)
    elif '/' in program:
        path = program if os.path.isfile(program) and os.access(program, os.X_OK) else None
    else:
        try:
            path = get_bin_path(program)
        except ValueError:
            path = None
    if not path:
        raise ProgramNotFound(program)
    return path


def c_locale_environ(environ=None):
    """A copy of ``environ`` (default os.environ) in the C locale."""
    env = dict(os.environ if environ is None else environ)
    env.update(C_LOCALE)
    return env


def run_program(argv, timeout=30):
    """Run ``argv`` without an AnsibleModule: program looked up first, C locale; (rc, stdout, stderr)."""
    path = find_program(argv[0])
    proc = subprocess.run([path] + list(argv[1:]), capture_output=True, text=True, timeout=timeout,
                          check=False, env=c_locale_environ())
    return proc.returncode, proc.stdout, proc.stderr


def command_runner(module):
    """The ``run_command`` the managers of a module get: a :class:`CommandRunner`."""
    return CommandRunner(module)


class CommandRunner(object):
    """``run_command(argv, **kwargs) -> (rc, out, err)`` for the managers, through module.run_command.

    argv[0] is looked up once with module.get_bin_path (a path is taken as it is when it exists, or
    when this runner found it); a missing program fails the module with a message naming it and
    what installs it (the programs of OPTIONAL give rc 127 instead). Every command gets C_LOCALE in
    its environment; kwargs go to module.run_command.
    """

    def __init__(self, module):
        self.module = module
        self.paths = {}

    def find(self, program):
        """Path of ``program``, or None when it is missing."""
        if program not in self.paths:
            try:
                path = find_program(program, self.module.get_bin_path)
            except ProgramNotFound:
                return None
            self.paths[program] = self.paths[path] = path
        return self.paths[program]

    def require(self, program, argv=None):
        """Path of ``program``; the module fails, naming it and what installs it, when it is missing."""
        path = self.find(program)
        if path is None:
            self.module.fail_json(msg=str(ProgramNotFound(program)), cmd=list(argv or [program]))
        return path

    def __call__(self, argv, **kwargs):
        if self.find(argv[0]) is None and os.path.basename(argv[0]) in OPTIONAL:
            return 127, '', str(ProgramNotFound(argv[0]))
        path = self.require(argv[0], argv)
        environ = dict(C_LOCALE)
        environ.update(kwargs.pop('environ_update', None) or {})
        return self.module.run_command([path] + list(argv[1:]), environ_update=environ, **kwargs)
