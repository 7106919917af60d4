# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type


class ModuleDocFragment(object):
    """The options the modules that change the Open vSwitch database share (ovs_bridge, ovs_port)."""

    DOCUMENTATION = r'''
options:
  wait:
    description:
      - V(true) -- after a change, ovs-vsctl waits until ovs-vswitchd has applied it (at most 60 s, then the
        module fails naming the cause).
      - V(false) -- the change is made in the database only (C(--no-wait)), for a teardown after ovs-vswitchd
        died (nothing is there to apply it).
    type: bool
    default: true
'''
