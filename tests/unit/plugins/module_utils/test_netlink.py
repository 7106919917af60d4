# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import errno
import os
import uuid

import pytest

from ansible_collections.kbypass.testbed.plugins.module_utils.netlink import (
    LinkError, LinkManager, normalize_mac, validate_ifname)


# --------------------------------------------------------------------------- fake IPRoute
class FakeNetlinkError(Exception):
    def __init__(self, code, msg):
        super(FakeNetlinkError, self).__init__(code, msg)
        self.code = code


class FakeNla(object):
    def __init__(self, attrs):
        self.attrs = attrs

    def get_attr(self, name):
        return self.attrs.get(name)


class FakeMsg(FakeNla):
    def __init__(self, flags, attrs):
        super(FakeMsg, self).__init__(attrs)
        self.fields = {'flags': flags}

    def __getitem__(self, key):
        return self.fields[key]


class FakeIPRoute(object):
    """A tiny in-memory kernel that records every call it receives."""

    MODES = {'private': 1, 'vepa': 2, 'bridge': 4, 'passthru': 8}

    def __init__(self, links=(), mode_as_int=False, fail=None):
        self.calls = []
        self.links = {}
        self.next_index = 10
        self.mode_as_int = mode_as_int
        self.fail = fail  # (command, errno) to raise on
        for spec in links:
            self._add(dict(spec))

    # helpers to build the initial state
    def _add(self, spec):
        index = spec.pop('index', None) or self.next_index
        self.next_index = max(self.next_index, index + 1)
        link = dict(ifname=None, kind=None, mtu=1500, up=False, master=None, link=None, netnsid=None,
                    address='02:00:00:00:%02x:%02x' % (index // 256, index % 256), mode=None)
        link.update(spec)
        self.links[index] = link
        return index

    def by_name(self, name):
        for index, link in self.links.items():
            if link['ifname'] == name:
                return index
        return None

    # the IPRoute API used by LinkManager
    def link_lookup(self, **kwargs):
        self.calls.append(('link_lookup', kwargs))
        index = self.by_name(kwargs['ifname'])
        return [] if index is None else [index]

    def get_links(self, *indexes):
        self.calls.append(('get_links', indexes))
        out = []
        for index in indexes:
            if index not in self.links:
                raise FakeNetlinkError(errno.ENODEV, 'No such device')
            link = self.links[index]
            mode = link['mode']
            if mode is not None and self.mode_as_int:
                mode = self.MODES[mode]
            data = FakeNla({'IFLA_MACVLAN_MODE': mode}) if link['kind'] == 'macvlan' else None
            info = FakeNla({'IFLA_INFO_KIND': link['kind'], 'IFLA_INFO_DATA': data}) if link['kind'] else None
            out.append(FakeMsg(0x1002 | (1 if link['up'] else 0), {
                'IFLA_IFNAME': link['ifname'], 'IFLA_MTU': link['mtu'], 'IFLA_MASTER': link['master'],
                'IFLA_LINK': link['link'], 'IFLA_LINK_NETNSID': link['netnsid'],
                'IFLA_ADDRESS': link['address'], 'IFLA_LINKINFO': info}))
        return out

    def link(self, command, **kwargs):
        self.calls.append(('link', command, kwargs))
        if self.fail and self.fail[0] == command:
            raise FakeNetlinkError(self.fail[1], os.strerror(self.fail[1]))
        if command == 'add':
            index = self._add(dict(ifname=kwargs['ifname'], kind=kwargs['kind']))
            if kwargs['kind'] == 'veth':
                peer = self._add(dict(ifname=kwargs['peer'], kind='veth', link=index))
                self.links[index]['link'] = peer
            if kwargs['kind'] == 'macvlan':
                self.links[index].update(link=kwargs['link'], mode=kwargs['macvlan_mode'])
        elif command == 'set':
            link = self.links[kwargs['index']]
            for key in ('mtu', 'address', 'master'):
                if key in kwargs:
                    link[key] = kwargs[key] or None
            if 'state' in kwargs:
                link['up'] = kwargs['state'] == 'up'
            if 'macvlan_mode' in kwargs:
                link['mode'] = kwargs['macvlan_mode']
        elif command == 'del':
            link = self.links.pop(kwargs['index'])
            if link['kind'] == 'veth' and link['link'] in self.links:
                del self.links[link['link']]
        return []

    def link_calls(self):
        return [(c[1], c[2]) for c in self.calls if c[0] == 'link']


def base_links():
    """br0 (index 1, up), veth v0 (2) / v0p (3) with v0 on br0, macvlan mv0 (4) on v0p, eth0 (5)."""
    return [
        dict(index=1, ifname='kbpt-br0', kind='bridge', up=True, address='02:00:00:00:00:01'),
        dict(index=2, ifname='kbpt-v0', kind='veth', up=True, master=1, link=3, address='02:00:00:00:00:02'),
        dict(index=3, ifname='kbpt-v0p', kind='veth', up=True, link=2, address='02:00:00:00:00:03'),
        dict(index=4, ifname='kbpt-mv0', kind='macvlan', up=True, link=3, mode='bridge',
             address='02:00:00:00:00:04'),
        dict(index=5, ifname='eth0', kind=None, up=True, address='02:fc:00:00:00:01'),
    ]


def params(**kwargs):
    out = dict(name=None, kind=None, state='present', peer=None, parent=None, macvlan_mode='bridge',
               mtu=None, up=True, master=None, address=None, peer_address=None)
    out.update(kwargs)
    return out


# --------------------------------------------------------------------------- cases
# id, params, expected link() calls, expected changed, expected after (subset)
CASES = [
    ('create-bridge',
     params(name='kbpt-br1', kind='bridge', mtu=9000),
     [('add', dict(ifname='kbpt-br1', kind='bridge')),
      ('set', dict(index=10, mtu=9000, state='up'))],
     True, dict(kind='bridge', mtu=9000, up=True)),
    ('create-veth-on-bridge',
     params(name='kbpt-v1', kind='veth', peer='kbpt-v1p', master='kbpt-br0', mtu=1400),
     [('add', dict(ifname='kbpt-v1', kind='veth', peer='kbpt-v1p')),
      ('set', dict(index=10, mtu=1400, master=1, state='up')),
      ('set', dict(index=11, mtu=1400, state='up'))],
     True, dict(kind='veth', peer='kbpt-v1p', master='kbpt-br0', mtu=1400, up=True)),
    ('create-macvlan',
     params(name='kbpt-mv1', kind='macvlan', parent='kbpt-v0p', macvlan_mode='private',
            address='02:AA:00:00:00:01'),
     [('add', dict(ifname='kbpt-mv1', kind='macvlan', link=3, macvlan_mode='private')),
      ('set', dict(index=10, address='02:aa:00:00:00:01', state='up'))],
     True, dict(kind='macvlan', parent='kbpt-v0p', macvlan_mode='private', address='02:aa:00:00:00:01')),
    ('noop-bridge',
     params(name='kbpt-br0', kind='bridge', mtu=1500), [], False, dict(kind='bridge', mtu=1500)),
    ('noop-veth',
     params(name='kbpt-v0', kind='veth', peer='kbpt-v0p', master='kbpt-br0'), [], False,
     dict(peer='kbpt-v0p', master='kbpt-br0')),
    ('noop-macvlan',
     params(name='kbpt-mv0', kind='macvlan', parent='kbpt-v0p', address='02:00:00:00:00:04'), [], False,
     dict(parent='kbpt-v0p', macvlan_mode='bridge')),
    ('modify-mtu-veth-both-ends',
     params(name='kbpt-v0', kind='veth', peer='kbpt-v0p', mtu=9000),
     [('set', dict(index=2, mtu=9000)), ('set', dict(index=3, mtu=9000))],
     True, dict(mtu=9000)),
    ('modify-down-veth-both-ends',
     params(name='kbpt-v0', kind='veth', peer='kbpt-v0p', up=False),
     [('set', dict(index=2, state='down')), ('set', dict(index=3, state='down'))],
     True, dict(up=False)),
    ('modify-release-master',
     params(name='kbpt-v0', kind='veth', peer='kbpt-v0p', master=''),
     [('set', dict(index=2, master=0))], True, dict(master=None)),
    ('modify-address-and-mode',
     params(name='kbpt-mv0', kind='macvlan', parent='kbpt-v0p', macvlan_mode='vepa', address='02:00:00:00:00:44'),
     [('set', dict(index=4, address='02:00:00:00:00:44', kind='macvlan', macvlan_mode='vepa'))],
     True, dict(address='02:00:00:00:00:44', macvlan_mode='vepa')),
    ('create-veth-both-macs',
     params(name='kbpt-v1', kind='veth', peer='kbpt-v1p', mtu=1500, address='02:6B:62:05:00:01',
            peer_address='02:6b:62:05:00:02'),
     [('add', dict(ifname='kbpt-v1', kind='veth', peer='kbpt-v1p')),
      ('set', dict(index=10, address='02:6b:62:05:00:01', state='up')),
      ('set', dict(index=11, state='up', address='02:6b:62:05:00:02'))],
     True, dict(kind='veth', peer='kbpt-v1p', address='02:6b:62:05:00:01', mtu=1500)),
    ('modify-peer-address',
     params(name='kbpt-v0', kind='veth', peer='kbpt-v0p', peer_address='02:00:00:00:00:33'),
     [('set', dict(index=3, address='02:00:00:00:00:33'))], True, dict(address='02:00:00:00:00:02')),
    ('noop-peer-address',
     params(name='kbpt-v0', kind='veth', peer='kbpt-v0p', peer_address='02:00:00:00:00:03'), [], False,
     dict(peer='kbpt-v0p')),
    ('device-uplink-on-bridge',
     params(name='eth0', kind='device', master='kbpt-br0'), [('set', dict(index=5, master=1))], True,
     dict(kind=None, master='kbpt-br0', up=True)),
    ('device-noop', params(name='eth0', kind='device'), [], False, dict(kind=None, up=True)),
    ('device-of-another-kind-mtu',
     params(name='kbpt-v0p', kind='device', mtu=9000), [('set', dict(index=3, mtu=9000))], True,
     dict(kind='veth', mtu=9000)),
    ('delete-veth',
     params(name='kbpt-v0p', state='absent'), [('del', dict(index=3))], True, {}),
    ('delete-with-kind',
     params(name='kbpt-br0', kind='bridge', state='absent'), [('del', dict(index=1))], True, {}),
    ('delete-missing-noop',
     params(name='kbpt-nope', kind='veth', state='absent'), [], False, {}),
]


@pytest.mark.parametrize('args, calls, changed, after', [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_converge(args, calls, changed, after):
    ipr = FakeIPRoute(base_links())
    result = LinkManager(ipr).ensure(args)
    assert ipr.link_calls() == calls
    assert result['changed'] is changed
    for key, value in after.items():
        assert result['link'][key] == value, key
    if not after:
        assert result['link'] == {}
    after_diff = dict(result['diff']['after'])
    if args.get('peer_address'):
        assert after_diff.pop('peer_address') == args['peer_address'].lower()
    assert after_diff == result['link']
    # converged: a second run changes nothing
    again = LinkManager(ipr).ensure(args)
    assert again['changed'] is False
    assert again['link'] == result['link']


ERROR_CASES = [
    ('kind-mismatch',
     params(name='kbpt-br0', kind='veth', peer='x'), None,
     ['kbpt-br0', 'kind bridge', 'delete it first', 'pick another name']),
    ('kind-mismatch-physical',
     params(name='eth0', kind='bridge'), None, ['eth0', 'none (physical device)']),
    ('missing-parent',
     params(name='kbpt-mv1', kind='macvlan', parent='kbpt-nope'), None,
     ['parent=kbpt-nope does not exist', 'create it']),
    ('parent-required',
     params(name='kbpt-mv1', kind='macvlan'), None, ['parent is required for kind=macvlan']),
    ('peer-required',
     params(name='kbpt-v1', kind='veth'), None, ['peer is required for kind=veth']),
    ('peer-for-bridge',
     params(name='kbpt-br1', kind='bridge', peer='x'), None, ['peer only applies to kind=veth']),
    ('peer-taken',
     params(name='kbpt-v1', kind='veth', peer='kbpt-br0'), None, ['peer=kbpt-br0 is already taken', 'bridge']),
    ('peer-differs',
     params(name='kbpt-v0', kind='veth', peer='kbpt-other'), None, ['exists with peer kbpt-v0p', 'peer=kbpt-v0p']),
    ('parent-differs',
     params(name='kbpt-mv0', kind='macvlan', parent='kbpt-v0'), None, ['on parent kbpt-v0p', 'cannot be changed']),
    ('missing-master',
     params(name='kbpt-v1', kind='veth', peer='kbpt-v1p', master='kbpt-nobr'), None,
     ['master=kbpt-nobr does not exist', 'create the bridge first']),
    ('name-too-long',
     params(name='kbpt-0123456789ab', kind='bridge'), None, ['17 characters', 'at most 15']),
    ('name-slash',
     params(name='kbpt/0', kind='bridge'), None, ["must not be '.' or '..' nor contain '/'"]),
    ('bad-mac',
     params(name='kbpt-br0', kind='bridge', address='zz'), None, ['address=', 'six hex pairs']),
    ('multicast-mac',
     params(name='kbpt-br0', kind='bridge', address='01:00:5e:00:00:01'), None, ['multicast']),
    ('peer-address-for-bridge',
     params(name='kbpt-br1', kind='bridge', peer_address='02:00:00:00:00:09'), None,
     ['peer_address only applies to kind=veth']),
    ('bad-peer-mac',
     params(name='kbpt-v0', kind='veth', peer='kbpt-v0p', peer_address='02:00'), None,
     ['peer_address=', 'six hex pairs']),
    ('bad-mtu',
     params(name='kbpt-br0', kind='bridge', mtu=10), None, ['mtu=10', '68 to 65535']),
    ('device-missing',
     params(name='kbpt-nope', kind='device'), None, ['kbpt-nope does not exist', 'never creates']),
    ('device-never-deleted',
     params(name='eth0', kind='device', state='absent'), None, ['never deletes', 'master=""']),
    ('absent-kind-mismatch',
     params(name='eth0', kind='bridge', state='absent'), None, ['refusing to delete', 'eth0']),
    ('macvlan-on-bridge-port',
     params(name='kbpt-mv1', kind='macvlan', parent='kbpt-v0'), ('add', errno.EBUSY),
     ['netlink add failed', 'bridge port']),
    ('not-root',
     params(name='kbpt-br1', kind='bridge'), ('add', errno.EPERM), ['needs root']),
]


@pytest.mark.parametrize('args, fail, words', [c[1:] for c in ERROR_CASES], ids=[c[0] for c in ERROR_CASES])
def test_refusals(args, fail, words):
    ipr = FakeIPRoute(base_links(), fail=fail)
    before = dict((i, dict(v)) for i, v in ipr.links.items())
    with pytest.raises(LinkError) as exc:
        LinkManager(ipr).ensure(args)
    for word in words:
        assert word in str(exc.value)
    if fail is None:
        assert ipr.link_calls() == []
    assert ipr.links == before


CHECK_CASES = [
    ('create', params(name='kbpt-br1', kind='bridge', mtu=9000), True,
     dict(kind='bridge', mtu=9000, up=True, master=None, address=None, peer=None, parent=None, macvlan_mode=None)),
    ('create-veth', params(name='kbpt-v1', kind='veth', peer='kbpt-v1p', master='kbpt-br0'), True,
     dict(kind='veth', mtu=None, up=True, master='kbpt-br0', address=None, peer='kbpt-v1p', parent=None,
          macvlan_mode=None)),
    ('modify', params(name='kbpt-v0', kind='veth', peer='kbpt-v0p', mtu=1400, up=False, master=''), True,
     dict(kind='veth', mtu=1400, up=False, master=None, address='02:00:00:00:00:02', peer='kbpt-v0p',
          parent=None, macvlan_mode=None)),
    ('noop', params(name='kbpt-br0', kind='bridge'), False,
     dict(kind='bridge', mtu=1500, up=True, master=None, address='02:00:00:00:00:01', peer=None, parent=None,
          macvlan_mode=None)),
    ('delete', params(name='kbpt-mv0', state='absent'), True, {}),
]


@pytest.mark.parametrize('args, changed, after', [c[1:] for c in CHECK_CASES], ids=[c[0] for c in CHECK_CASES])
def test_check_mode_touches_nothing(args, changed, after):
    ipr = FakeIPRoute(base_links())
    before = dict((i, dict(v)) for i, v in ipr.links.items())
    result = LinkManager(ipr, check_mode=True).ensure(args)
    assert [c for c in ipr.calls if c[0] == 'link'] == []
    assert ipr.links == before
    assert result['changed'] is changed
    assert result['link'] == after
    assert bool(result['actions']) is changed


def test_diff_before_after_keys():
    ipr = FakeIPRoute(base_links())
    result = LinkManager(ipr).ensure(params(name='kbpt-v0', kind='veth', peer='kbpt-v0p', mtu=1400))
    keys = {'kind', 'mtu', 'up', 'master', 'address', 'peer', 'parent', 'macvlan_mode'}
    assert set(result['diff']['before']) == keys
    assert set(result['diff']['after']) == keys
    assert result['diff']['before']['mtu'] == 1500
    assert result['diff']['after']['mtu'] == 1400


def test_macvlan_mode_as_number_pyroute2_07():
    ipr = FakeIPRoute(base_links(), mode_as_int=True)
    result = LinkManager(ipr).ensure(params(name='kbpt-mv0', kind='macvlan', parent='kbpt-v0p'))
    assert result['changed'] is False
    assert result['link']['macvlan_mode'] == 'bridge'


def test_peer_in_other_namespace_is_left_alone():
    links = base_links()
    links[1]['netnsid'] = 0  # kbpt-v0's peer moved away; index 3 means nothing here
    links[1]['link'] = 3
    ipr = FakeIPRoute(links)
    result = LinkManager(ipr).ensure(params(name='kbpt-v0', kind='veth', peer='kbpt-c1-eth0', mtu=1400))
    assert ipr.link_calls() == [('set', dict(index=2, mtu=1400))]
    assert result['link']['peer'] is None


def test_peer_address_diff():
    ipr = FakeIPRoute(base_links())
    args = params(name='kbpt-v0', kind='veth', peer='kbpt-v0p', peer_address='02:00:00:00:00:33')
    result = LinkManager(ipr).ensure(args)
    assert result['diff']['before']['peer_address'] == '02:00:00:00:00:03'
    assert result['diff']['after']['peer_address'] == '02:00:00:00:00:33'
    assert 'peer_address' not in result['link']
    # without peer_address the diff keeps its usual keys
    plain = LinkManager(ipr).ensure(params(name='kbpt-v0', kind='veth', peer='kbpt-v0p'))
    assert 'peer_address' not in plain['diff']['before']


def test_peer_address_check_mode():
    ipr = FakeIPRoute(base_links())
    for args, before in (
            (params(name='kbpt-v0', kind='veth', peer='kbpt-v0p', peer_address='02:00:00:00:00:33'),
             '02:00:00:00:00:03'),
            (params(name='kbpt-v9', kind='veth', peer='kbpt-v9p', peer_address='02:00:00:00:00:33'), None)):
        result = LinkManager(ipr, check_mode=True).ensure(args)
        assert result['changed'] is True
        assert ipr.link_calls() == []
        assert result['diff']['before'].get('peer_address') == before
        assert result['diff']['after']['peer_address'] == '02:00:00:00:00:33'


def test_peer_address_left_alone_when_peer_moved_away():
    links = base_links()
    links[1]['netnsid'] = 0  # kbpt-v0's peer is in a container
    ipr = FakeIPRoute(links)
    result = LinkManager(ipr).ensure(params(name='kbpt-v0', kind='veth', peer='kbpt-v0p',
                                            peer_address='02:00:00:00:00:33'))
    assert result['changed'] is False
    assert ipr.link_calls() == []
    assert result['diff']['after']['peer_address'] is None


def test_validators():
    assert validate_ifname('kbpt-0123456789') == 'kbpt-0123456789'
    for bad in ('', '.', '..', 'a b', 'a:b'):
        with pytest.raises(LinkError):
            validate_ifname(bad)
    assert normalize_mac('02-AB-00-00-00-01') == '02:ab:00:00:00:01'


# --------------------------------------------------------------------------- real netlink
@pytest.fixture
def fresh_netns():
    """A pyroute2 handle on a new network namespace, removed afterwards."""
    pytest.importorskip('pyroute2')
    from pyroute2 import NetNS, netns

    ns = 'kbpt-ns-%s' % uuid.uuid4().hex[:6]
    netns.create(ns)
    try:
        ipr = NetNS(ns)
        try:
            yield ipr
        finally:
            ipr.close()
    finally:
        netns.remove(ns)


@pytest.mark.netns
def test_real_bridge_veth_macvlan_in_fresh_netns(fresh_netns):
    ipr = fresh_netns
    steps = [
        params(name='kbpt-br0', kind='bridge', mtu=1500),
        params(name='kbpt-v0', kind='veth', peer='kbpt-v0p', master='kbpt-br0', mtu=1500),
        # the enslaved end cannot carry a macvlan (EBUSY): use the free end of the pair
        params(name='kbpt-mv0', kind='macvlan', parent='kbpt-v0p', macvlan_mode='bridge',
               address='02:00:00:00:00:10'),
    ]
    for step in steps:
        first = LinkManager(ipr).ensure(step)
        assert first['changed'] is True, step['name']
        second = LinkManager(ipr).ensure(step)
        assert second['changed'] is False, (step['name'], second['actions'])
        assert second['link'] == first['link']
    mgr = LinkManager(ipr)
    assert mgr.read('kbpt-v0')['master'] == 'kbpt-br0'
    assert mgr.read('kbpt-v0p')['up'] is True
    mv = mgr.read('kbpt-mv0')
    assert (mv['kind'], mv['parent'], mv['macvlan_mode'], mv['address'], mv['up']) == \
        ('macvlan', 'kbpt-v0p', 'bridge', '02:00:00:00:00:10', True)

    modified = LinkManager(ipr).ensure(dict(steps[1], mtu=1400))
    assert modified['changed'] is True
    assert LinkManager(ipr).read('kbpt-v0p')['mtu'] == 1400

    for name in ('kbpt-mv0', 'kbpt-v0p', 'kbpt-br0'):
        gone = LinkManager(ipr).ensure(params(name=name, state='absent'))
        assert gone['changed'] is True
    for name in ('kbpt-mv0', 'kbpt-v0', 'kbpt-v0p', 'kbpt-br0'):
        assert LinkManager(ipr).read(name) is None
        assert LinkManager(ipr).ensure(params(name=name, state='absent'))['changed'] is False


@pytest.mark.netns
def test_real_veth_with_both_macs_in_fresh_netns(fresh_netns):
    ipr = fresh_netns
    step = params(name='kbpt-xa', kind='veth', peer='kbpt-xb', mtu=1500,
                  address='02:6b:62:05:00:01', peer_address='02:6b:62:05:00:02')
    first = LinkManager(ipr).ensure(step)
    assert first['changed'] is True
    assert LinkManager(ipr).read('kbpt-xa')['address'] == '02:6b:62:05:00:01'
    assert LinkManager(ipr).read('kbpt-xb')['address'] == '02:6b:62:05:00:02'
    assert LinkManager(ipr).read('kbpt-xb')['up'] is True
    assert LinkManager(ipr).ensure(step)['changed'] is False
    assert LinkManager(ipr).ensure(params(name='kbpt-xb', state='absent'))['changed'] is True
    assert LinkManager(ipr).read('kbpt-xa') is None
