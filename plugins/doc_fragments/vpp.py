# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type


class ModuleDocFragment(object):
    """How the VPP modules reach VPP (module_utils/vpp.py CONNECTION_SPEC: the same names and defaults)."""

    DOCUMENTATION = r'''
options:
  api_socket:
    description: VPP's binary API socket (C(socksvr { socket-name }) of its startup.conf).
    type: path
    default: /run/vpp/api.sock
  api_dir:
    description:
      - Directory of the running VPP's API definitions (C(*.api.json), searched recursively), C(<prefix>/share/vpp/api).
      - They must be those of the running VPP; a message whose CRC differs from the one the collection knows is not used.
    type: path
    default: /usr/share/vpp/api
  timeout:
    description: Seconds to wait for the connection and for each reply; no call waits longer.
    type: float
    default: 5.0
  error_header:
    description:
      - VPP's C(vnet/error.h), where the text of each error code is; by default C(<prefix>/include/vnet/error.h)
        next to O(api_dir), then C(/usr/include/vnet/error.h) (package vpp-dev).
      - Without it an error names the code only.
    type: path
requirements:
  - vpp_papi (PyPI) in the Python the module runs with
'''
