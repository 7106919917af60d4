# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The end of a thin module: run the work, fail with its error or exit with its result."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type


def run_and_exit(module, ensure, errors, failed=None):
    """Run ``ensure()`` (the manager's work, honouring module.check_mode), which returns the result:
    ``changed``, the module's return values, ``diff`` ({before, after}, with or without headers) and
    optionally ``warnings``.

    On one of ``errors`` the module fails with the error's message, what ``failed()`` returns (the
    object named) and the error's ``result`` dict when it has one. Otherwise the warnings go to
    module.warn, the diff is dropped unless the task runs in diff mode, and the module exits.
    """
    try:
        result = ensure()
    except errors as exc:
        extra = dict(failed() if failed else {})
        extra.update(getattr(exc, 'result', None) or {})
        module.fail_json(msg=str(exc), **extra)
    for warning in result.pop('warnings', None) or []:
        module.warn(warning)
    if not module._diff:
        result.pop('diff', None)
    module.exit_json(**result)
