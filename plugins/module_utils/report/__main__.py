# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""python -m ansible_collections.kbypass.testbed.plugins.module_utils.report RESULTS_RUN_DIR"""

from __future__ import annotations

from ansible_collections.kbypass.testbed.plugins.module_utils.report.write import main

if __name__ == '__main__':
    raise SystemExit(main())
