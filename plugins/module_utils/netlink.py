# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Desired-state management of one network link over netlink (pyroute2).

The module ``kbypass.testbed.link`` is a thin wrapper around :class:`LinkManager`.
The manager only uses calls that exist on pyroute2's ``IPRoute`` in 0.7.x and 0.9.x:
``link_lookup(ifname=...)``, ``get_links(index)``, ``link('add'|'set'|'del', ...)``,
so any object with those methods (``IPRoute``, ``NetNS``, a test double) can be passed in.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import errno
import re

# device: an existing NIC (physical or any kind), never created nor deleted: its up, mtu, master
# and address are managed (a bridge's uplink, a macvlans' parent)
KINDS = ('bridge', 'veth', 'macvlan', 'device')
MACVLAN_MODES = ('bridge', 'private', 'vepa', 'passthru')
# kernel values of IFLA_MACVLAN_MODE (pyroute2 0.7 may hand back the number)
MACVLAN_MODE_NAMES = {1: 'private', 2: 'vepa', 4: 'bridge', 8: 'passthru', 16: 'source'}
IFF_UP = 0x1
IFNAMSIZ = 16

STATE_KEYS = ('kind', 'mtu', 'up', 'master', 'address', 'peer', 'parent', 'macvlan_mode')

_MAC_RE = re.compile(r'^[0-9a-f]{2}(:[0-9a-f]{2}){5}$')


class LinkError(Exception):
    """A refusal or failure, with a message that names the bad input and the fix."""


def validate_ifname(value, option='name'):
    """Raise LinkError unless ``value`` is a name the kernel accepts for a link (dev_valid_name)."""
    if not isinstance(value, str) or not value:
        raise LinkError('%s must be a non-empty interface name' % option)
    if len(value) > IFNAMSIZ - 1:
        raise LinkError('%s=%r is %d characters long; Linux interface names have at most %d, '
                        'pick a shorter name' % (option, value, len(value), IFNAMSIZ - 1))
    if value in ('.', '..') or any(c in value for c in '/:') or any(c.isspace() for c in value):
        raise LinkError("%s=%r is not a valid interface name: it must not be '.' or '..' nor contain "
                        "'/', ':' or whitespace" % (option, value))
    return value


def normalize_mac(value, option='address'):
    """Return ``value`` as lower-case aa:bb:cc:dd:ee:ff or raise LinkError."""
    mac = str(value).strip().lower().replace('-', ':')
    if not _MAC_RE.match(mac):
        raise LinkError('%s=%r is not a MAC address; write it as six hex pairs, e.g. 02:00:00:00:00:01'
                        % (option, value))
    if int(mac[:2], 16) & 1:
        raise LinkError('%s=%r is a multicast MAC address (lowest bit of the first octet set); use a '
                        'unicast one, e.g. 02:00:00:00:00:01' % (option, value))
    return mac


def _attr(msg, name):
    if msg is None:
        return None
    return msg.get_attr(name)


def _is_netlink_errno(exc, code):
    return getattr(exc, 'code', None) == code


class LinkManager(object):
    """Read, compare and converge one link.

    ``ipr`` is an IPRoute-like object; nothing is changed on it when ``check_mode`` is true.
    """

    def __init__(self, ipr, check_mode=False):
        self.ipr = ipr
        self.check_mode = check_mode
        self.actions = []

    # ----------------------------------------------------------------- reading
    def _lookup(self, name):
        found = self.ipr.link_lookup(ifname=name)
        return found[0] if found else None

    def _get(self, index):
        msgs = self.ipr.get_links(index)
        return msgs[0] if msgs else None

    def _name_of(self, index):
        if not index:
            return None
        try:
            msg = self._get(index)
        except Exception:  # index gone or in another namespace
            return None
        return _attr(msg, 'IFLA_IFNAME') if msg is not None else None

    def read(self, name):
        """Return the current state of link ``name`` (dict of STATE_KEYS plus private keys) or None."""
        index = self._lookup(name)
        if index is None:
            return None
        msg = self._get(index)
        if msg is None:
            return None
        linkinfo = _attr(msg, 'IFLA_LINKINFO')
        kind = _attr(linkinfo, 'IFLA_INFO_KIND')
        data = _attr(linkinfo, 'IFLA_INFO_DATA')
        address = _attr(msg, 'IFLA_ADDRESS')
        state = {
            'kind': kind,
            'mtu': _attr(msg, 'IFLA_MTU'),
            'up': bool(msg['flags'] & IFF_UP),
            'master': self._name_of(_attr(msg, 'IFLA_MASTER')),
            'address': address.lower() if address else None,
            'peer': None,
            'parent': None,
            'macvlan_mode': None,
            '_index': index,
            '_peer_index': None,
        }
        link = _attr(msg, 'IFLA_LINK')
        # IFLA_LINK_NETNSID set: the other end lives in another namespace, its index means nothing here
        local = _attr(msg, 'IFLA_LINK_NETNSID') is None
        if kind == 'veth' and link and local:
            state['peer'] = self._name_of(link)
            state['_peer_index'] = link if state['peer'] else None
        elif kind == 'macvlan':
            if link and local:
                state['parent'] = self._name_of(link)
            mode = _attr(data, 'IFLA_MACVLAN_MODE')
            state['macvlan_mode'] = MACVLAN_MODE_NAMES.get(mode, mode) if isinstance(mode, int) else mode
        return state

    @staticmethod
    def public(state):
        """The part of a state dict that is reported (diff, return value)."""
        if state is None:
            return {}
        return dict((k, state.get(k)) for k in STATE_KEYS)

    # ----------------------------------------------------------------- writing
    def _call(self, command, **kwargs):
        self.actions.append(dict(command=command, **kwargs))
        if self.check_mode:
            return None
        try:
            return self.ipr.link(command, **kwargs)
        except Exception as exc:  # pyroute2 NetlinkError and friends
            raise LinkError(self._explain(command, kwargs, exc))

    @staticmethod
    def _explain(command, kwargs, exc):
        args = ', '.join('%s=%r' % kv for kv in sorted(kwargs.items()))
        hint = ''
        if command == 'add' and kwargs.get('kind') == 'macvlan' and _is_netlink_errno(exc, errno.EBUSY):
            hint = ('; the parent is probably a bridge port (a link cannot be both a bridge port and '
                    'a macvlan parent): use the other end of the veth pair or a link outside the bridge')
        elif _is_netlink_errno(exc, errno.EPERM):
            hint = '; this needs root (CAP_NET_ADMIN)'
        return 'netlink %s failed (%s): %s%s' % (command, args, exc, hint)

    # ----------------------------------------------------------------- converge
    def ensure(self, params):
        """Converge to ``params`` (the module's options). Return the module result dict."""
        name = validate_ifname(params['name'])
        state = params.get('state') or 'present'
        before = self.read(name)
        peer_address = state != 'absent' and params.get('peer_address')
        before_peer_address = self._peer_address(before) if peer_address else None
        if state == 'absent':
            after = self._ensure_absent(name, before, params.get('kind'))
        else:
            after = self._ensure_present(name, before, params)
        changed = bool(self.actions)
        diff = {'before': self.public(before), 'after': self.public(after)}
        if peer_address:
            # the peer's MAC is only shown when it is managed (peer_address given)
            if before is not None:
                diff['before']['peer_address'] = before_peer_address
            if after is not None:
                if self.check_mode and (before is None or before['_peer_index']):
                    diff['after']['peer_address'] = normalize_mac(peer_address, 'peer_address')
                else:
                    diff['after']['peer_address'] = self._peer_address(after)
        return {
            'changed': changed,
            'link': self.public(after),
            'diff': diff,
            'actions': self.actions,
        }

    def _peer_address(self, state):
        """MAC address of the other end of a veth in this namespace, else None."""
        if not state or not state.get('_peer_index') or not state.get('peer'):
            return None
        peer = self.read(state['peer'])
        return peer['address'] if peer else None

    def _ensure_absent(self, name, before, kind):
        if kind == 'device':
            raise LinkError('kind=device names an existing NIC, which this module never deletes; to release %s '
                            'from its bridge use state=present with master=""' % name)
        if before is None:
            return None
        if kind and before['kind'] != kind:
            raise LinkError("link %s exists with kind %s, not %s; refusing to delete it: fix kind "
                            "or leave kind out to delete whatever is named %s"
                            % (name, before['kind'] or 'none (physical device)', kind, name))
        # for a veth, deleting one end deletes both
        self._call('del', index=before['_index'])
        return None

    def _check_params(self, name, params):
        kind = params.get('kind')
        if kind not in KINDS:
            raise LinkError('kind is required with state=present; choose one of %s' % ', '.join(KINDS))
        peer, parent = params.get('peer'), params.get('parent')
        if kind == 'veth':
            if not peer:
                raise LinkError('peer is required for kind=veth: name the other end of the pair')
            validate_ifname(peer, 'peer')
            if peer == name:
                raise LinkError('peer=%s is the same as name; give the other end of the veth its own name' % peer)
        elif peer:
            raise LinkError('peer only applies to kind=veth (kind is %s); remove peer' % kind)
        if params.get('peer_address'):
            if kind != 'veth':
                raise LinkError('peer_address only applies to kind=veth (kind is %s); remove peer_address' % kind)
            normalize_mac(params['peer_address'], 'peer_address')
        if kind == 'macvlan':
            if not parent:
                raise LinkError('parent is required for kind=macvlan: name the lower link (e.g. one end of a veth pair)')
            validate_ifname(parent, 'parent')
        elif parent:
            raise LinkError('parent only applies to kind=macvlan (kind is %s); remove parent' % kind)
        if params.get('master'):
            validate_ifname(params['master'], 'master')
            if params['master'] == name:
                raise LinkError('master=%s is the link itself; name a bridge' % name)
        mtu = params.get('mtu')
        if mtu is not None and not 68 <= mtu <= 65535:
            raise LinkError('mtu=%s is out of range; Linux links take 68 to 65535' % mtu)
        address = params.get('address')
        return normalize_mac(address) if address else None

    def _require(self, name, option, what):
        index = self._lookup(name)
        if index is None:
            raise LinkError('%s=%s does not exist; %s' % (option, name, what))
        return index

    def _ensure_present(self, name, before, params):
        address = self._check_params(name, params)
        kind, peer, parent = params['kind'], params.get('peer'), params.get('parent')
        mode = params.get('macvlan_mode') or 'bridge'
        master = params.get('master')
        up = params.get('up', True)
        up = True if up is None else up

        if kind == 'device':
            if before is None:
                raise LinkError('link %s does not exist; kind=device manages an existing NIC and never creates '
                                'one: fix the name (see ip link)' % name)
        elif before is not None and before['kind'] != kind:
            raise LinkError('a link named %s already exists with kind %s, not %s; delete it first '
                            '(state=absent) or pick another name'
                            % (name, before['kind'] or 'none (physical device)', kind))

        master_index = None
        if master:
            master_index = self._require(master, 'master', 'create the bridge first (kind=bridge) or '
                                                           'fix the name; master="" releases the link')
        parent_index = None
        if kind == 'macvlan':
            parent_index = self._require(parent, 'parent', 'a macvlan needs an existing lower link; create it '
                                                           'first (for example one end of a veth pair)')

        if before is None:
            if kind == 'veth':
                taken = self.read(peer)
                if taken is not None:
                    raise LinkError('peer=%s is already taken by a link of kind %s; pick another peer name or '
                                    'delete that link first' % (peer, taken['kind'] or 'none (physical device)'))
            create = dict(ifname=name, kind=kind)
            if kind == 'veth':
                create['peer'] = peer
            elif kind == 'macvlan':
                create['link'] = parent_index
                create['macvlan_mode'] = mode
            self._call('add', **create)
            if self.check_mode:
                return self._predicted(name, params, address, mode)
            current = self.read(name)
            if current is None:
                raise LinkError('link %s was created but cannot be found afterwards' % name)
        else:
            current = before
            if kind == 'veth' and current['peer'] is not None and current['peer'] != peer:
                raise LinkError('veth %s exists with peer %s, not %s; set peer=%s or delete the pair '
                                '(state=absent) and create it again' % (name, current['peer'], peer, current['peer']))
            if kind == 'macvlan' and current['parent'] != parent:
                raise LinkError('macvlan %s exists on parent %s, not %s; the parent of a macvlan cannot be '
                                'changed: delete it (state=absent) and create it again'
                                % (name, current['parent'], parent))

        changes = {}
        if params.get('mtu') is not None and current['mtu'] != params['mtu']:
            changes['mtu'] = params['mtu']
        if address and current['address'] != address:
            changes['address'] = address
        if master is not None:
            if master and current['master'] != master:
                changes['master'] = master_index
            elif not master and current['master']:
                changes['master'] = 0
        if current['up'] != up:
            changes['state'] = 'up' if up else 'down'
        if kind == 'macvlan' and current['macvlan_mode'] != mode:
            changes['kind'] = 'macvlan'
            changes['macvlan_mode'] = mode
        if changes:
            self._call('set', index=current['_index'], **changes)

        # the other end of a veth follows mtu and up
        if kind == 'veth' and current['_peer_index']:
            peer_state = self.read(current['peer'])
            peer_changes = {}
            if peer_state is not None:
                if params.get('mtu') is not None and peer_state['mtu'] != params['mtu']:
                    peer_changes['mtu'] = params['mtu']
                if peer_state['up'] != up:
                    peer_changes['state'] = 'up' if up else 'down'
                if params.get('peer_address'):
                    peer_address = normalize_mac(params['peer_address'], 'peer_address')
                    if peer_state['address'] != peer_address:
                        peer_changes['address'] = peer_address
            if peer_changes:
                self._call('set', index=current['_peer_index'], **peer_changes)

        if not self.actions or self.check_mode:
            return self._apply(current, changes, params, master)
        return self.read(name)

    @staticmethod
    def _apply(current, changes, params, master):
        """Predict the state after ``changes`` without reading it back (check mode, no-op)."""
        after = dict(current)
        if 'mtu' in changes:
            after['mtu'] = changes['mtu']
        if 'address' in changes:
            after['address'] = changes['address']
        if 'master' in changes:
            after['master'] = master or None
        if 'state' in changes:
            after['up'] = changes['state'] == 'up'
        if 'macvlan_mode' in changes:
            after['macvlan_mode'] = changes['macvlan_mode']
        return after

    @staticmethod
    def _predicted(name, params, address, mode):
        """The state a link would have right after creation (check mode); unknown values are None."""
        kind = params['kind']
        up = params.get('up', True)
        return {
            'kind': kind,
            'mtu': params.get('mtu'),
            'up': True if up is None else up,
            'master': params.get('master') or None,
            'address': address,
            'peer': params.get('peer') if kind == 'veth' else None,
            'parent': params.get('parent') if kind == 'macvlan' else None,
            'macvlan_mode': mode if kind == 'macvlan' else None,
        }
