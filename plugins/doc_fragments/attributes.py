# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type


class ModuleDocFragment(object):
    """The attributes of the collection's modules.

    A module extends ``kbypass.testbed.attributes`` and gives, under ``attributes``, only what is its
    own: the ``support`` of check_mode and diff_mode (full, partial or none) and their ``details``.
    """

    # Every module: what the attributes mean, and the platform (every module runs on Linux).
    DOCUMENTATION = r'''
options: {}
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
    details: Linux (sysfs, procfs, netlink, LXC); the other POSIX systems are not supported.
'''

    # Modules that return no diff (their result says what they did).
    NO_DIFF = r'''
options: {}
attributes:
  diff_mode:
    support: none
    details: Returns no diff; the result says what was done.
'''
