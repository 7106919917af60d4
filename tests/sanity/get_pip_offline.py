# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stand-in for the get-pip.py bootstrap ansible-test downloads from a host we cannot reach.

ansible-test runs it as `python get_pip_X.py [pip options] pip==X [--no-setuptools] [--no-wheel]`
inside a fresh virtual environment: install the interpreter's bundled pip with ensurepip, then
let that pip install what was asked for from the package index.
"""

import ensurepip
import os
import subprocess
import sys


def main():
    args = [arg for arg in sys.argv[1:] if arg not in ('--no-setuptools', '--no-wheel')]
    env = dict(os.environ)
    # ensurepip sets PIP_CONFIG_FILE=/dev/null in this process: the install below must see the
    # machine's pip configuration (index, certificates) again.
    ensurepip.bootstrap(upgrade=True)
    return subprocess.call([sys.executable, '-m', 'pip', 'install'] + args, env=env)


if __name__ == '__main__':
    sys.exit(main())
