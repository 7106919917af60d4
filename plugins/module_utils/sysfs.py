# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Access to sysfs/procfs/config files under a root prefix (a fake tree in unit tests). Commands
are run through the ``run_command`` given (commands.command_runner in the modules)."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os


def write_file(path, text):
    """Write ``text`` to ``path`` (a sysfs attribute: in one write(2)) or a configuration file."""
    with open(path, 'w') as handle:
        handle.write(text)


class RootedFiles(object):
    """Base of the managers that read and write kernel files: every path is taken under ``root``.

    ``writer`` replaces write_file (tests simulate the kernel with it); ``error`` is the exception
    class raised when a command cannot be run.
    """

    error = RuntimeError

    def __init__(self, root='', run_command=None, writer=None):
        self.root = root
        self.run_command = run_command
        self.writer = writer

    def path(self, path):
        return self.root + path

    def _read(self, path, default=None):
        try:
            with open(self.path(path)) as handle:
                return handle.read()
        except (IOError, OSError):
            return default

    def _list(self, path):
        """Sorted names in a directory; [] when it cannot be read."""
        try:
            return sorted(os.listdir(self.path(path)))
        except OSError:
            return []

    def _read_int(self, path, default=None):
        text = self._read(path)
        try:
            return int(text.strip())
        except (AttributeError, ValueError):
            return default

    def _write_raw(self, path, text):
        (self.writer or write_file)(self.path(path), text)

    def _settle_udev(self):
        """Wait for udev to finish with new devices (it renames new network interfaces right after
        they appear), so the names read next are the final ones. Nothing without a command runner,
        and nothing without udev (commands.OPTIONAL: the runner answers rc 127, which is ignored)."""
        if self.run_command is not None:
            self._run(['udevadm', 'settle', '--timeout=10'])

    def _run(self, argv):
        if self.run_command is None:
            raise self.error('cannot run %s: no command runner given' % ' '.join(argv))
        return self.run_command(argv)
