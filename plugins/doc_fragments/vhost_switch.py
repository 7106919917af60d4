# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type


class ModuleDocFragment(object):
    """The options every DPDK switch module of the collection has alike (testpmd_switch,
    basicfwd_switch; module_utils/vhost_switch.py's argument_spec); each module documents the
    options whose meaning or default is its own."""

    DOCUMENTATION = r'''
options:
  state:
    description: V(started) or V(stopped).
    type: str
    choices: [started, stopped]
    default: started
  topology:
    description: V(pair) forwards port 0 to 1 and back (2<->3...), V(loop) sends what a container sends back to it (see the description).
    type: str
    choices: [pair, loop]
    default: pair
  eal_args:
    description: Extra EAL arguments (after the ports).
    type: list
    elements: str
    default: []
  timeout:
    description: Seconds to wait at start until the switch is ready.
    type: float
    default: 30
  stop_timeout:
    description: Seconds to wait after the stop signal (see the description) before SIGKILL.
    type: float
    default: 10
'''
