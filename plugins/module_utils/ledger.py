# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ledger: what the host had before the collection first changed it, kept until it is given back.

One directory, :data:`STATE_DIR`, holds one JSON object per owner (``<owner>.json``), key -> value:

- ``devbind``: PCI address -> ``{driver, netdevs}`` the device had before it was bound away from its
  kernel driver (``dpdk_devbind``; also the VFs ``sriov_vf`` binds); given back by ``driver: kernel``;
- ``sriov``: PF PCI address -> ``{pf, num_vfs, vfs}`` (``sriov_vf``); given back by ``state: restored``;
- ``openvswitch``: ``before`` (daemons, alternative) and ``users`` (``ovs_service``); given back when
  the last user releases OVS;
- ``hugepages``: page size -> ``{count}`` and ``bpffs``: mount point -> ``{mounted}`` (the dpdk role,
  through ``host_state``); given back by the dpdk role's teardown.

:meth:`Ledger.record` keeps the FIRST value of a key (a later run finds the host already changed,
and must not take that for what the host had); :meth:`Ledger.forget` drops a key once it is given
back, and the owner's file once it is empty. The directory stays: the benchmark's teardown looks
into it for what was not given back, then removes it when empty. Every write is atomic
(:func:`write_atomic`). ``root`` prefixes every path (a fake tree in unit tests).

Files of the previous versions are still read: devbind's record at :data:`LEGACY_DEVBIND`
(``/var/lib/kbypass``, which teardown deletes) is moved into the ledger the first time the devbind
owner is read, and the single-record hugepages.json and bpffs.json of the dpdk role are read in
their old shape (rewritten in the new one by the next write).
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import copy
import json
import os
import re
import tempfile

STATE_DIR = '/var/lib/kbypass-state'
LEGACY_DEVBIND = '/var/lib/kbypass/devbind.json'
# owner -> files of earlier versions whose records are moved into the owner's ledger file
LEGACY_FILES = {'devbind': (LEGACY_DEVBIND,)}
SUFFIX = '.json'
OWNER_RE = re.compile(r'^[A-Za-z0-9_-]+$')
WHAT = ('it records what the host had before kbypass changed it: delete it only once that is given '
        'back (or known to be gone)')


class LedgerError(Exception):
    """A ledger file that cannot be read or written; the message names it and the fix."""


def write_atomic(path, text, mode=0o644):
    """Replace ``path`` with ``text`` (str, or bytes) atomically: a temporary file in the same
    directory, flushed and fsynced, renamed over ``path``. An existing file keeps its mode, a new
    one gets ``mode``; the directory is created when missing. On any error the temporary file is
    removed and ``path`` is left as it was."""
    directory = os.path.dirname(path) or '.'
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o755)
    try:
        mode = os.stat(path).st_mode & 0o7777
    except OSError:
        pass
    fd, tmp = tempfile.mkstemp(dir=directory, prefix='.%s.' % os.path.basename(path), suffix='.tmp')
    try:
        with os.fdopen(fd, 'wb' if isinstance(text, bytes) else 'w') as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.rename(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _upgrade_hugepages(data):
    """hugepages.json of the dpdk role before the ledger: {size, count} -> {size: {count}}."""
    if isinstance(data.get('size'), str) and 'count' in data and not isinstance(data['count'], dict):
        return {data['size']: {'count': data['count']}}
    return data


def _upgrade_bpffs(data):
    """bpffs.json of the dpdk role before the ledger: {path, mounted_by_kbypass} -> {path: {mounted}}."""
    if isinstance(data.get('path'), str) and 'mounted_by_kbypass' in data:
        return {data['path']: {'mounted': not data['mounted_by_kbypass']}}
    return data


UPGRADES = {'hugepages': _upgrade_hugepages, 'bpffs': _upgrade_bpffs}


class Ledger(object):
    """The ledger in ``directory`` (default :data:`STATE_DIR`) under ``root``. With ``check_mode``
    nothing is written: records of earlier versions are read, not moved."""

    def __init__(self, root='', directory=STATE_DIR, check_mode=False):
        self.root = root or ''
        self.directory = directory
        self.check_mode = check_mode

    @classmethod
    def for_file(cls, state_file, root='', check_mode=False):
        """(ledger, owner) of a module's ``state_file`` option: the owner named by the file."""
        name = os.path.basename(state_file)
        owner = name[:-len(SUFFIX)] if name.endswith(SUFFIX) else name
        return cls(root, os.path.dirname(state_file) or '/', check_mode), owner

    # ------------------------------------------------------------------ paths
    def file(self, owner):
        """Path of the owner's file (without the root)."""
        return os.path.join(self.directory, owner + SUFFIX)

    def _p(self, path):
        return self.root + path

    # ------------------------------------------------------------------ reading
    def _read(self, path):
        """The JSON object in ``path`` (no root), None when there is no file."""
        try:
            with open(self._p(path)) as handle:
                text = handle.read()
        except (IOError, OSError):
            return None
        if not text.strip():
            return {}
        try:
            data = json.loads(text)
        except ValueError:
            raise LedgerError('%s is not valid JSON; fix it, or delete it (%s)' % (path, WHAT))
        if not isinstance(data, dict):
            raise LedgerError('%s holds %s, not a JSON object; fix it, or delete it (%s)'
                              % (path, type(data).__name__, WHAT))
        return data

    def load(self, owner):
        """{key: value} of ``owner`` (a copy; {} when nothing is recorded). Records an earlier version
        kept elsewhere are moved into the ledger here (read only, in check mode)."""
        data = self._read(self.file(owner))
        upgraded = UPGRADES.get(owner, lambda d: d)(data or {})
        moved = []
        for legacy in LEGACY_FILES.get(owner, ()):
            old = self._read(legacy)
            if old is None:
                continue
            moved.append(legacy)
            for key, value in old.items():
                upgraded.setdefault(key, value)
        if moved and not self.check_mode:
            self._save(owner, upgraded)
            for legacy in moved:
                try:
                    os.unlink(self._p(legacy))
                except OSError as exc:
                    raise LedgerError('the records of %s were moved into %s, but %s could not be removed: %s'
                                      % (legacy, self.file(owner), legacy, exc))
        return copy.deepcopy(upgraded)

    def recorded(self, owner, key, default=None):
        """The value recorded for ``key`` of ``owner``, ``default`` when there is none."""
        return self.load(owner).get(key, default)

    def owners(self):
        """Owners with a file in the ledger (or a record of an earlier version), sorted."""
        names = set(n[:-len(SUFFIX)] for n in self.files() if n.endswith(SUFFIX) and not n.startswith('.'))
        names.update(o for o, paths in LEGACY_FILES.items() if any(os.path.exists(self._p(p)) for p in paths))
        return sorted(names)

    def records(self, owners=None):
        """{owner: {key: value}} of every owner (or of ``owners``) that has records."""
        out = {}
        for owner in (self.owners() if owners is None else owners):
            data = self.load(owner)
            if data:
                out[owner] = data
        return out

    def files(self):
        """Every name in the ledger directory, sorted ([] when there is no directory)."""
        try:
            return sorted(os.listdir(self._p(self.directory)))
        except OSError:
            return []

    # ------------------------------------------------------------------ writing
    def _save(self, owner, data):
        path = self.file(owner)
        try:
            if data:
                write_atomic(self._p(path), json.dumps(data, indent=2, sort_keys=True) + '\n')
            elif os.path.exists(self._p(path)):
                os.unlink(self._p(path))
        except (IOError, OSError) as exc:
            raise LedgerError('cannot write %s: %s; run as root' % (path, exc))

    def record(self, owner, key, value):
        """Record ``value`` for ``key`` unless a value is recorded already (the first one wins).
        True when it was recorded now (or would be, in check mode)."""
        data = self.load(owner)
        if key in data:
            return False
        data[key] = value
        if not self.check_mode:
            self._save(owner, data)
        return True

    def store(self, owner, key, value):
        """Set ``key`` to ``value`` whatever was there: the collection's own bookkeeping next to the
        host's first state (the users of OVS). True when it changed."""
        data = self.load(owner)
        if key in data and data[key] == value:
            return False
        data[key] = value
        if not self.check_mode:
            self._save(owner, data)
        return True

    def forget(self, owner, key):
        """Drop ``key`` once what it recorded is given back; the file goes with its last key.
        True when there was something to drop."""
        data = self.load(owner)
        if key not in data:
            return False
        data.pop(key)
        if not self.check_mode:
            self._save(owner, data)
        return True


class LedgerTask(object):
    """What the host_state module does with its parameters (state recorded, forgotten or query,
    owner, key, value, state_dir): reads the records, changes them, returns the result with a diff
    of the records concerned."""

    def __init__(self, params, check_mode=False, root=''):
        self.params = params
        self.check_mode = check_mode
        self.root = root

    def ensure(self):
        params, root = self.params, self.root
        state, owner, key = params['state'], params['owner'], params['key']
        if owner is not None and not OWNER_RE.match(owner):
            raise ValueError('owner=%r is not an owner name: use letters, digits, _ and -, e.g. hugepages' % (owner,))
        book = Ledger(root, params['state_dir'], self.check_mode)
        owners = None if owner is None else [owner]
        legacy = [p for o in (owners or LEGACY_FILES) for p in LEGACY_FILES.get(o, ()) if os.path.exists(root + p)]
        before = copy.deepcopy(book.records(owners))
        result = {'changed': bool(legacy), 'directory': book.directory}
        if state == 'recorded':
            now = book.record(owner, key, params['value'])
            result['changed'] = now or result['changed']
            result['recorded'] = params['value'] if now else book.recorded(owner, key)
            after = dict(before, **{owner: dict(before.get(owner, {}), **{key: result['recorded']})})
        elif state == 'forgotten':
            result['recorded'] = book.recorded(owner, key)
            result['changed'] = book.forget(owner, key) or result['changed']
            after = copy.deepcopy(before)
            after.get(owner, {}).pop(key, None)
            after = dict((o, r) for o, r in after.items() if r)
        else:
            after = before
        result['records'] = after if self.check_mode else book.records(owners)
        result['files'] = book.files()
        result['diff'] = {'before': before, 'after': after}
        return result
