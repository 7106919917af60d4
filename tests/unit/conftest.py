# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared pytest set-up for the unit tests.

Markers for tests that touch the real machine; each one skips itself when the machine cannot
run it. Add a marker by adding one entry to MACHINE_MARKERS. The strict command harness
(harness.py) checks every recorded command was used; ``run_module`` runs a module's main().
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os
import shutil

import pytest

from . import harness
# the harness's end-of-test check of every Commands, and the report it needs
from .harness import pytest_runtest_makereport, strict_commands  # noqa: F401  pylint: disable=unused-import


def _is_root():
    return hasattr(os, 'geteuid') and os.geteuid() == 0


def _has_lxc():
    return all(shutil.which(tool) for tool in ('lxc-create', 'lxc-start', 'lxc-info', 'lxc-attach'))


# marker -> (description, predicate that says the machine can run it, skip reason)
MACHINE_MARKERS = {
    'netns': ('creates links in a fresh network namespace on this machine',
              _is_root, 'needs root and CAP_NET_ADMIN'),
    'lxc': ('creates, starts and destroys real LXC containers on this machine',
            lambda: _is_root() and _has_lxc(), 'needs root and lxc'),
    'hugepages': ('changes the 2M huge page reservation of this machine (and puts it back)',
                  lambda: _is_root() and os.path.isdir('/sys/kernel/mm/hugepages/hugepages-2048kB'),
                  'needs root and /sys/kernel/mm/hugepages (Linux with hugetlbfs)'),
    'sysfs': ('reads the real /sys/bus/pci and /proc/net/route of this machine (changes nothing)',
              lambda: os.path.isdir('/sys/bus/pci/devices') and os.path.isfile('/proc/net/route'),
              'needs /sys/bus/pci and /proc/net/route (Linux with PCI)'),
}


def pytest_configure(config):
    for name, (description, _ok, _reason) in MACHINE_MARKERS.items():
        config.addinivalue_line('markers', '%s: %s' % (name, description))


def pytest_runtest_setup(item):
    for name, (_description, ok, reason) in MACHINE_MARKERS.items():
        if item.get_closest_marker(name) is not None and not ok():
            pytest.skip(reason)


@pytest.fixture
def declare_path():
    """declare_path(name, index, short, kind, **spec): a data path declared in the registry for one
    test (plugins/module_utils/paths.py), forgotten afterwards."""
    from ansible_collections.kbypass.testbed.plugins.module_utils import paths
    declared = []

    def declare(name, index, short, kind, **spec):
        declared.append(name)
        return paths.register(name, index, short, kind, **spec)

    yield declare
    for name in declared:
        paths.unregister(name)


@pytest.fixture
def run_module():
    """harness.run_module: a module's main() with arguments, its JSON result."""
    return harness.run_module
