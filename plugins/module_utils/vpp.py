# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""VPP through its binary API (vpp-papi): one client, the message versions it knows, the managers.

* :data:`MESSAGES` is the one place that knows which versions of VPP's API messages the collection
  speaks: each operation lists the messages it can use, newest first, with the CRC of the version
  written for (as CSIT pins them). The client uses the first one the running VPP offers with that
  CRC; when it offers none, the error names the operation, what VPP offers by that name and the
  VPP version (a CRC that differs is a message whose fields changed: it is not used).
* :class:`VppClient` makes every call with a timeout (the connect too: the socket transport of
  vpp-papi sets the read timeout on the socket before it connects) and turns a reply whose
  ``retval`` is not 0, which vpp-papi returns without raising, into :class:`VppError` with VPP's
  own text for the code (from VPP's ``vnet/error.h`` where it is installed).
* :class:`PapiTransport` is the only part that imports vpp_papi; it hands back plain dicts and
  lists (MACs as strings, enums as ints), so the unit tests replay recorded real replies through a
  transport of their own (tests/unit/plugins/module_utils/test_vpp.py).
* The managers (vhost-user, memif, bridge domain, cross-connect, interface, info) read the current
  state with the dumps, compute what to change, report ``changed``, honour check mode and return
  a diff (module_exit.run_and_exit).
"""

from __future__ import annotations

import os
import re
import traceback

try:
    import vpp_papi
    HAS_VPP_PAPI = True
    VPP_PAPI_IMPORT_ERROR = None
except ImportError:     # pragma: no cover - depends on the host
    vpp_papi = None
    HAS_VPP_PAPI = False
    VPP_PAPI_IMPORT_ERROR = traceback.format_exc()

# VPP's defaults (FD.io's packages): where the API socket and the API definitions are
API_SOCKET = '/run/vpp/api.sock'
API_DIR = '/usr/share/vpp/api'
TIMEOUT = 5.0
CLIENT_NAME = 'kbypass'
# interface "not set" in VPP's API
NO_INDEX = 0xffffffff

# operation -> the messages that do it, newest first: (message, CRC of the version this code
# was written for; VPP 26.06). A message of another CRC has other fields: it is not used.
MESSAGES = {
    'show_version': (('show_version', '0x51077d14'),),
    'api_versions': (('api_versions', '0x51077d14'),),
    'cli_inband': (('cli_inband', '0xf8377302'),),
    'show_threads': (('show_threads', '0x51077d14'),),
    'sw_interface_dump': (('sw_interface_dump', '0xaa610c27'),),
    'sw_interface_set_flags': (('sw_interface_set_flags', '0xf5aec1b8'),),
    'sw_interface_set_rx_mode': (('sw_interface_set_rx_mode', '0xb04d1cfe'),),
    'sw_interface_rx_placement_dump': (('sw_interface_rx_placement_dump', '0xf9e6675e'),),
    'create_vhost_user_if': (('create_vhost_user_if_v2', '0xdba1cc1d'),),
    'delete_vhost_user_if': (('delete_vhost_user_if', '0xf9e6675e'),),
    'sw_interface_vhost_user_dump': (('sw_interface_vhost_user_dump', '0xf9e6675e'),),
    'memif_socket_filename_add_del': (('memif_socket_filename_add_del_v2', '0x34223bdf'),
                                      ('memif_socket_filename_add_del', '0xa2ce1a10')),
    'memif_socket_filename_dump': (('memif_socket_filename_dump', '0x51077d14'),),
    'memif_create': (('memif_create_v2', '0x8c7de5f7'), ('memif_create', '0xb1b25061')),
    'memif_delete': (('memif_delete', '0xf9e6675e'),),
    'memif_dump': (('memif_dump', '0x51077d14'),),
    'bridge_domain_add_del': (('bridge_domain_add_del_v2', '0x600b7170'), ('bridge_domain_add_del', '0x600b7170')),
    'bridge_domain_dump': (('bridge_domain_dump', '0x74396a43'),),
    'sw_interface_set_l2_bridge': (('sw_interface_set_l2_bridge', '0xd0678b13'),),
    'sw_interface_set_l2_xconnect': (('sw_interface_set_l2_xconnect', '0x4fa28a85'),),
    'l2_xconnect_dump': (('l2_xconnect_dump', '0x51077d14'),),
}
# the plugin that brings an operation's messages (for the error when VPP lacks them)
PLUGIN_OF = {
    'create_vhost_user_if': 'vhost_plugin.so', 'delete_vhost_user_if': 'vhost_plugin.so',
    'sw_interface_vhost_user_dump': 'vhost_plugin.so',
    'memif_socket_filename_add_del': 'memif_plugin.so', 'memif_socket_filename_dump': 'memif_plugin.so',
    'memif_create': 'memif_plugin.so', 'memif_delete': 'memif_plugin.so', 'memif_dump': 'memif_plugin.so',
}
# operations whose reply is a list of details (a dump)
DUMPS = ('sw_interface_dump', 'sw_interface_rx_placement_dump', 'sw_interface_vhost_user_dump',
         'memif_socket_filename_dump', 'memif_dump', 'bridge_domain_dump', 'l2_xconnect_dump')

IF_ADMIN_UP = 1
IF_LINK_UP = 2
RX_MODES = {'polling': 1, 'interrupt': 2, 'adaptive': 3}
MEMIF_ROLES = {'master': 0, 'slave': 1}
MEMIF_MODE_ETHERNET = 0

# a line of VPP's vnet/error.h: _ (BD_ALREADY_EXISTS, -119, "Bridge domain already exists")
_ERROR_LINE = re.compile(r'_\s*\(\s*\w+\s*,\s*(-\d+)\s*,\s*"([^"]*)"\s*\)')
_PLUGIN_LINE = re.compile(r'^\s*\d+\.\s+(\S+\.so)\s+(\S+)?\s*(.*)$')


class VppError(Exception):
    """A refusal or failure, with a message that names the cause and the fix."""

    def __init__(self, msg, **result):
        super(VppError, self).__init__(msg)
        self.result = result


# ============================================================================ VPP's error texts
def parse_error_table(text):
    """VPP's ``vnet/error.h`` -> {code: text}."""
    return dict((int(code), msg) for code, msg in _ERROR_LINE.findall(text or ''))


def error_header_candidates(api_dir):
    """Where VPP's vnet/error.h is next to its API definitions: <prefix>/share/vpp/api ->
    <prefix>/include/vnet/error.h (FD.io's vpp-dev package: /usr/include/vnet/error.h)."""
    prefix = os.path.normpath(os.path.join(api_dir, '..', '..', '..'))
    return [os.path.join(prefix, 'include', 'vnet', 'error.h'), '/usr/include/vnet/error.h']


def load_error_table(paths):
    for path in paths:
        try:
            with open(path) as handle:
                table = parse_error_table(handle.read())
        except OSError:
            continue
        if table:
            return table
    return {}


# ============================================================================ the transport
def plain(value):
    """A vpp-papi reply (namedtuples, enums, MACAddress, addresses) -> dicts, lists, ints, strings."""
    if hasattr(value, '_asdict'):
        return dict((k, plain(v)) for k, v in value._asdict().items())
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return dict((k, plain(v)) for k, v in value.items())
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return value
    if isinstance(value, int):
        return int(value)       # IntEnum / IntFlag
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, str):
        return value
    return str(value)           # MACAddress, IP addresses


class PapiTransport(object):
    """vpp-papi's socket client: connect, the messages VPP offers, one call."""

    def __init__(self, api_socket=API_SOCKET, api_dir=API_DIR, timeout=TIMEOUT):
        self.api_socket = api_socket
        self.api_dir = api_dir
        self.timeout = float(timeout)
        self.client = None

    def connect(self):
        if not HAS_VPP_PAPI:
            raise VppError('vpp_papi is not installed in the Python the modules run with; install it from PyPI '
                           '(the vpp role does it in install)')
        if not os.path.isdir(self.api_dir):
            raise VppError('API definitions directory %s does not exist: set api_dir (vpp_api_dir) to where VPP '
                           'installed its *.api.json (<prefix>/share/vpp/api)' % self.api_dir)
        try:
            # read_timeout is set on the socket before connect(): the connect, the handshake and
            # every reply are bounded by it
            self.client = vpp_papi.VPPApiClient(apidir=self.api_dir, server_address=self.api_socket,
                                                read_timeout=self.timeout, use_socket=True)
            self.client.connect(CLIENT_NAME)
        except (OSError, IOError, vpp_papi.VPPApiError, vpp_papi.VPPValueError, vpp_papi.VPPRuntimeError) as exc:
            self.client = None
            raise VppError('cannot connect to VPP on %s within %ss: %s; is VPP running (the vpp role\'s start '
                           'entry point) and is this its api socket (socksvr socket-name)?'
                           % (self.api_socket, self.timeout, exc or type(exc).__name__))

    def disconnect(self):
        if self.client is not None:
            try:
                self.client.disconnect()
            except (OSError, IOError):
                pass
            self.client = None

    def offered(self):
        """{message name: CRC} of the messages the running VPP offers."""
        out = {}
        for name_crc in self.client.transport.message_table:
            name, _sep, crc = name_crc.rpartition('_')
            out[name] = '0x' + crc
        return out

    def call(self, message, args):
        func = getattr(self.client.api, message, None)
        if func is None:
            # VPP offers the message but our API definitions (api_dir) have another CRC for it
            raise VppError('%s is offered by VPP but its definition in %s differs (other CRC): api_dir must be '
                           'the API definitions of the running VPP' % (message, self.api_dir))
        try:
            reply = func(_timeout=self.timeout, **args)
        except (OSError, IOError) as exc:
            raise VppError('%s: no reply from VPP within %ss (%s)' % (message, self.timeout, exc))
        if isinstance(reply, tuple) and len(reply) == 2 and not hasattr(reply, '_asdict'):
            # a modern dump: (reply, details)
            return plain(reply[1])
        return plain(reply)


# ============================================================================ the client
class VppClient(object):
    """Calls by operation name (:data:`MESSAGES`), each reply checked."""

    def __init__(self, transport, errors=None):
        self.transport = transport
        self.errors = errors or {}
        self._offered = None
        self._version = None
        self.used = {}

    def __enter__(self):
        self.connect()
        return self

    def __exit__(self, *exc):
        self.transport.disconnect()

    def connect(self):
        self.transport.connect()
        self._offered = self.transport.offered()

    def version(self):
        if self._version is None:
            self._version = self.call('show_version')
        return self._version.get('version', '')

    def message(self, operation):
        """The newest message of ``operation`` that the running VPP offers with a CRC we know."""
        for name, crc in MESSAGES[operation]:
            if self._offered.get(name) == crc:
                return name
        offered = ['%s (CRC %s)' % (name, self._offered[name]) for name, _crc in MESSAGES[operation]
                   if name in self._offered]
        known = ', '.join('%s (CRC %s)' % pair for pair in MESSAGES[operation])
        plugin = PLUGIN_OF.get(operation)
        version = self.version() if operation != 'show_version' else 'unknown'
        raise VppError('VPP %s does not offer %s in a version this collection knows (%s); it offers %s. %s'
                       % (version, operation, known, ', '.join(offered) if offered else 'none by those names',
                          ('Is %s loaded (plugins in startup.conf)? ' % plugin if plugin and not offered else '')
                          + 'The versions known are in plugins/module_utils/vpp.py (MESSAGES)'),
                       operation=operation, vpp_version=version)

    def error_text(self, retval):
        return self.errors.get(retval) or 'VPP error %d; its text is in VPP\'s vnet/error.h' % retval

    def call(self, operation, **args):
        name = self.message(operation)
        self.used[operation] = name
        reply = self.transport.call(name, args)
        if operation in DUMPS:
            return reply
        retval = reply.get('retval', 0)
        if retval != 0:
            shown = ', '.join('%s=%r' % kv for kv in sorted(args.items()))
            raise VppError('%s(%s) failed: retval %d, %s' % (name, shown, retval, self.error_text(retval)),
                           retval=retval, message=name)
        return reply

    # ---------------------------------------------------------------- common reads
    def interfaces(self):
        """{name: {sw_if_index, admin_up, link_up, mac, dev_type, mtu}} of every interface."""
        out = {}
        for d in self.call('sw_interface_dump', sw_if_index=NO_INDEX, name_filter_valid=False, name_filter=''):
            out[d['interface_name']] = {'sw_if_index': d['sw_if_index'], 'admin_up': bool(d['flags'] & IF_ADMIN_UP),
                                        'link_up': bool(d['flags'] & IF_LINK_UP), 'mac': d['l2_address'],
                                        'dev_type': d['interface_dev_type'], 'mtu': d['link_mtu'], 'tag': d['tag']}
        return out

    def index_of(self, name, interfaces=None):
        interfaces = self.interfaces() if interfaces is None else interfaces
        if name not in interfaces:
            raise VppError('VPP has no interface %s (it has: %s)' % (name, ', '.join(sorted(interfaces)) or 'none'))
        return interfaces[name]['sw_if_index']


def _diff(header, before, after):
    return {'before_header': header, 'before': before, 'after_header': header, 'after': after}


def _mac_or_zero(mac):
    return mac or '00:00:00:00:00:00'


# ============================================================================ vhost-user
class VhostUserManager(object):
    """A vhost-user interface known by its socket; VPP in server mode creates the socket."""

    def __init__(self, client, socket, server=True, mac=None, tag='', state='present', check_mode=False):
        self.client = client
        self.socket = socket
        self.server = server
        self.mac = mac.lower() if mac else None
        self.tag = tag
        self.state = state
        self.check_mode = check_mode

    def read(self):
        for d in self.client.call('sw_interface_vhost_user_dump', sw_if_index=NO_INDEX):
            if d['sock_filename'] == self.socket:
                return {'name': d['interface_name'], 'sw_if_index': d['sw_if_index'], 'socket': d['sock_filename'],
                        'server': bool(d['is_server']), 'sock_errno': d['sock_errno']}
        return None

    def _create(self):
        reply = self.client.call('create_vhost_user_if', is_server=self.server, sock_filename=self.socket,
                                 use_custom_mac=bool(self.mac), mac_address=_mac_or_zero(self.mac), tag=self.tag)
        return reply['sw_if_index']

    def ensure(self):
        before = self.read()
        actions = []
        if self.state == 'absent':
            if before:
                actions.append('delete %s (%s)' % (before['name'], self.socket))
        elif before is None:
            actions.append('create vhost-user %s on %s' % ('server' if self.server else 'client', self.socket))
        elif before['server'] != self.server:
            actions += ['delete %s (%s)' % (before['name'], self.socket),
                        'create vhost-user %s on %s' % ('server' if self.server else 'client', self.socket)]
        after = before
        if actions and not self.check_mode:
            if before and (self.state == 'absent' or before['server'] != self.server):
                self.client.call('delete_vhost_user_if', sw_if_index=before['sw_if_index'])
            if self.state == 'present' and (before is None or before['server'] != self.server):
                self._create()
            after = self.read()
        elif actions:
            after = None if self.state == 'absent' else {'socket': self.socket, 'server': self.server}
        return {'changed': bool(actions), 'actions': actions, 'interface': after,
                'diff': _diff('vhost-user %s' % self.socket, _stable(before), _stable(after))}


def _stable(state):
    """A state without what changes by itself (errno of the socket, link)."""
    return dict((k, v) for k, v in (state or {}).items() if k not in ('sock_errno', 'link_up'))


# ============================================================================ memif
class MemifManager(object):
    """A memif socket (its id and file) and the interface (id on that socket) of one memif."""

    def __init__(self, client, socket, socket_id, memif_id=0, role='master', mac=None, ring_size=1024,
                 buffer_size=2048, state='present', check_mode=False):
        self.client = client
        self.socket = socket
        self.socket_id = socket_id
        self.memif_id = memif_id
        self.role = role
        self.mac = mac.lower() if mac else None
        self.ring_size = ring_size
        self.buffer_size = buffer_size
        self.state = state
        self.check_mode = check_mode

    def sockets(self):
        return dict((d['socket_id'], d['socket_filename']) for d in self.client.call('memif_socket_filename_dump'))

    def read(self):
        sockets = self.sockets()
        iface = None
        for d in self.client.call('memif_dump'):
            if d['socket_id'] == self.socket_id and d['id'] == self.memif_id:
                iface = {'name': d['if_name'], 'sw_if_index': d['sw_if_index'], 'id': d['id'],
                         'role': 'master' if d['role'] == MEMIF_ROLES['master'] else 'slave',
                         'mac': d['hw_addr'], 'ring_size': d['ring_size'], 'buffer_size': d['buffer_size']}
        return {'socket': sockets.get(self.socket_id), 'interface': iface}

    def _wanted_iface(self, iface):
        # ring and buffer size are given at creation; VPP's dump shows them only once a peer has
        # connected (ring_size 1, buffer_size 0 before): they are not compared
        return iface is not None and iface['role'] == self.role and (not self.mac or iface['mac'] == self.mac)

    def ensure(self):
        before = self.read()
        actions = []
        iface = before['interface']
        if self.state == 'absent':
            if iface:
                actions.append(('delete', 'delete memif %s' % iface['name']))
            if before['socket'] is not None:
                actions.append(('socket_del', 'delete socket %d (%s)' % (self.socket_id, before['socket'])))
        else:
            socket_ok = before['socket'] == self.socket
            if not socket_ok or (iface and not self._wanted_iface(iface)):
                if iface:
                    actions.append(('delete', 'delete memif %s' % iface['name']))
                iface = None
            if not socket_ok:
                if before['socket'] is not None:
                    actions.append(('socket_del', 'delete socket %d (%s)' % (self.socket_id, before['socket'])))
                actions.append(('socket_add', 'add socket %d %s' % (self.socket_id, self.socket)))
            if iface is None:
                actions.append(('create', 'create memif %s id %d on socket %d'
                                % (self.role, self.memif_id, self.socket_id)))
        after = before
        if actions and not self.check_mode:
            for what, _label in actions:
                if what == 'delete':
                    self.client.call('memif_delete', sw_if_index=before['interface']['sw_if_index'])
                elif what == 'socket_del':
                    self.client.call('memif_socket_filename_add_del', is_add=False, socket_id=self.socket_id,
                                     socket_filename='')
                elif what == 'socket_add':
                    self.client.call('memif_socket_filename_add_del', is_add=True, socket_id=self.socket_id,
                                     socket_filename=self.socket)
                else:
                    self.client.call('memif_create', role=MEMIF_ROLES[self.role], mode=MEMIF_MODE_ETHERNET,
                                     rx_queues=1, tx_queues=1, id=self.memif_id, socket_id=self.socket_id,
                                     ring_size=self.ring_size, buffer_size=self.buffer_size, no_zero_copy=False,
                                     hw_addr=_mac_or_zero(self.mac), secret='')
            after = self.read()
        elif actions:
            after = ({'socket': None, 'interface': None} if self.state == 'absent' else
                     {'socket': self.socket, 'interface': {'id': self.memif_id, 'role': self.role, 'mac': self.mac,
                                                           'ring_size': self.ring_size,
                                                           'buffer_size': self.buffer_size}})
        return {'changed': bool(actions), 'actions': [label for _what, label in actions], 'memif': after,
                'diff': _diff('memif socket %d id %d' % (self.socket_id, self.memif_id), before, after)}


# ============================================================================ bridge domain
class BridgeDomainManager(object):
    """A bridge domain and exactly its members (interfaces by name)."""

    def __init__(self, client, bd_id, members=(), learn=True, flood=True, uu_flood=True, forward=True,
                 state='present', check_mode=False):
        self.client = client
        self.bd_id = bd_id
        self.members = list(members)
        self.flags = {'learn': learn, 'flood': flood, 'uu_flood': uu_flood, 'forward': forward}
        self.state = state
        self.check_mode = check_mode

    def read(self, names):
        for d in self.client.call('bridge_domain_dump', bd_id=self.bd_id, sw_if_index=NO_INDEX):
            if d['bd_id'] == self.bd_id:
                members = sorted(names.get(m['sw_if_index'], str(m['sw_if_index'])) for m in d['sw_if_details'])
                return dict({'bd_id': d['bd_id'], 'members': members},
                            **dict((k, bool(d[k])) for k in self.flags))
        return None

    def ensure(self):
        interfaces = self.client.interfaces()
        names = dict((v['sw_if_index'], k) for k, v in interfaces.items())
        before = self.read(names)
        actions = []
        current = set(before['members']) if before else set()
        if self.state == 'absent':
            wanted = set()
        else:
            wanted = set(self.members)
            for name in self.members:
                self.client.index_of(name, interfaces)
        recreate = before is not None and self.state == 'present' and any(
            before[k] != v for k, v in self.flags.items())
        for name in sorted(current - wanted) if not recreate else sorted(current):
            actions.append(('leave', name))
        if before is not None and (self.state == 'absent' or recreate):
            actions.append(('del', None))
        if self.state == 'present' and (before is None or recreate):
            actions.append(('add', None))
        for name in sorted(wanted - current) if not recreate else sorted(wanted):
            actions.append(('join', name))
        after = before
        if actions and not self.check_mode:
            for what, name in actions:
                if what in ('leave', 'join'):
                    self.client.call('sw_interface_set_l2_bridge', rx_sw_if_index=interfaces[name]['sw_if_index'],
                                     bd_id=self.bd_id, port_type=0, shg=0, enable=what == 'join')
                else:
                    args = dict(self.flags, bd_id=self.bd_id, arp_term=False, arp_ufwd=False, mac_age=0, bd_tag='',
                                is_add=what == 'add')
                    self.client.call('bridge_domain_add_del', **args)
            after = self.read(names)
        elif actions:
            wanted_state = dict({'bd_id': self.bd_id, 'members': sorted(wanted)}, **self.flags)
            after = None if self.state == 'absent' else wanted_state
        labels = ['%s %s' % (what, name) if name else '%s bridge domain %d' % (what, self.bd_id)
                  for what, name in actions]
        return {'changed': bool(actions), 'actions': labels, 'bridge_domain': after,
                'diff': _diff('bridge domain %d' % self.bd_id, before or {}, after or {})}


# ============================================================================ L2 cross-connects
class XconnectManager(object):
    """L2 cross-connects rx -> tx of the named interfaces (an interface to itself: a loop).
    ``state=absent`` puts the rx interfaces back to L3 mode."""

    def __init__(self, client, pairs, state='present', check_mode=False):
        self.client = client
        self.pairs = [(p['rx'], p['tx']) for p in pairs]
        self.state = state
        self.check_mode = check_mode

    def ensure(self):
        interfaces = self.client.interfaces()
        names = dict((v['sw_if_index'], k) for k, v in interfaces.items())
        current = dict((names.get(d['rx_sw_if_index'], str(d['rx_sw_if_index'])),
                        names.get(d['tx_sw_if_index'], str(d['tx_sw_if_index'])))
                       for d in self.client.call('l2_xconnect_dump'))
        actions = []
        for rx, tx in self.pairs:
            if self.state == 'present':
                self.client.index_of(rx, interfaces)
                self.client.index_of(tx, interfaces)
                if current.get(rx) != tx:
                    actions.append((rx, tx, True))
            elif rx in current:
                actions.append((rx, current[rx], False))
        before = dict((rx, current.get(rx)) for rx, _tx in self.pairs)
        after = dict(before)
        for rx, tx, enable in actions:
            after[rx] = tx if enable else None
        if actions and not self.check_mode:
            for rx, tx, enable in actions:
                self.client.call('sw_interface_set_l2_xconnect', rx_sw_if_index=interfaces[rx]['sw_if_index'],
                                 tx_sw_if_index=interfaces[tx]['sw_if_index'], enable=enable)
        return {'changed': bool(actions), 'xconnects': after,
                'actions': ['%s %s -> %s' % ('connect' if e else 'disconnect', rx, tx) for rx, tx, e in actions],
                'diff': _diff('l2 xconnect', before, after)}


# ============================================================================ interface state
class InterfaceManager(object):
    """Admin state and rx-mode (of every rx queue) of one interface."""

    def __init__(self, client, name, admin_up=None, rx_mode=None, check_mode=False):
        self.client = client
        self.name = name
        self.admin_up = admin_up
        self.rx_mode = rx_mode
        self.check_mode = check_mode

    def read(self):
        interfaces = self.client.interfaces()
        index = self.client.index_of(self.name, interfaces)
        modes = sorted(set(_rx_mode_name(d['mode'])
                           for d in self.client.call('sw_interface_rx_placement_dump', sw_if_index=index)))
        state = {'name': self.name, 'sw_if_index': index, 'admin_up': interfaces[self.name]['admin_up'],
                 'rx_mode': modes[0] if len(modes) == 1 else (modes or None)}
        return state, interfaces[self.name]['link_up']

    def ensure(self):
        before, link_up = self.read()
        actions = []
        if self.admin_up is not None and before['admin_up'] != self.admin_up:
            actions.append(('flags', 'admin %s' % ('up' if self.admin_up else 'down')))
        if self.rx_mode and before['rx_mode'] != self.rx_mode:
            actions.append(('rx_mode', 'rx-mode %s' % self.rx_mode))
        after = dict(before)
        if self.admin_up is not None:
            after['admin_up'] = self.admin_up
        if self.rx_mode:
            after['rx_mode'] = self.rx_mode
        if actions and not self.check_mode:
            for what, _label in actions:
                if what == 'flags':
                    self.client.call('sw_interface_set_flags', sw_if_index=before['sw_if_index'],
                                     flags=IF_ADMIN_UP if self.admin_up else 0)
                else:
                    self.client.call('sw_interface_set_rx_mode', sw_if_index=before['sw_if_index'],
                                     queue_id_valid=False, queue_id=0, mode=RX_MODES[self.rx_mode])
            after, link_up = self.read()
        return {'changed': bool(actions), 'actions': [label for _w, label in actions],
                'interface': dict(after, link_up=link_up),
                'diff': _diff('interface %s' % self.name, before, after)}


def _rx_mode_name(mode):
    for name, value in RX_MODES.items():
        if value == mode:
            return name
    return 'unknown(%s)' % mode


# ============================================================================ info
def parse_show_plugins(text):
    """``show plugins`` -> [{name, version, description}] of the loaded plugins."""
    out = []
    for line in (text or '').splitlines():
        m = _PLUGIN_LINE.match(line)
        if m:
            out.append({'name': m.group(1), 'version': m.group(2) or '', 'description': m.group(3).strip()})
    return out


class InfoReader(object):
    """What the running VPP is: version, plugins, interfaces, threads, API modules and the messages
    chosen for each operation (None: not offered in a version we know)."""

    def __init__(self, client):
        self.client = client

    def ensure(self):
        version = self.client.call('show_version')
        modules = self.client.call('api_versions')
        plugins = parse_show_plugins(self.client.call('cli_inband', cmd='show plugins')['reply'])
        threads = self.client.call('show_threads')
        messages = {}
        for operation in sorted(MESSAGES):
            try:
                name = self.client.message(operation)
                messages[operation] = '%s_%s' % (name, dict(MESSAGES[operation])[name][2:])
            except VppError:
                messages[operation] = None
        interfaces = self.client.interfaces()
        return {'changed': False, 'version': version['version'], 'build_date': version['build_date'],
                'program': version['program'], 'plugins': plugins,
                'api_modules': dict((m['name'], '%d.%d.%d' % (m['major'], m['minor'], m['patch']))
                                    for m in modules['api_versions']),
                'messages': messages, 'interfaces': interfaces,
                'threads': [{'id': t['id'], 'name': t['name'], 'cpu_id': t['cpu_id']} for t in threads['thread_data']]}


# ============================================================================ modules' common part
CONNECTION_SPEC = dict(
    api_socket=dict(type='path', default=API_SOCKET),
    api_dir=dict(type='path', default=API_DIR),
    timeout=dict(type='float', default=TIMEOUT),
    error_header=dict(type='path'),
)


def client_from_params(params, transport=None):
    """The client of a module's connection options (CONNECTION_SPEC)."""
    headers = [params['error_header']] if params.get('error_header') else error_header_candidates(params['api_dir'])
    transport = transport or PapiTransport(params['api_socket'], params['api_dir'], params['timeout'])
    return VppClient(transport, load_error_table(headers))


def run_with_client(module, make_manager, transport=None):
    """Connect, run the manager made by ``make_manager(client)``, disconnect; fail or exit the module."""
    from ansible.module_utils.basic import missing_required_lib
    from ansible_collections.kbypass.testbed.plugins.module_utils.module_exit import run_and_exit

    if transport is None and not HAS_VPP_PAPI:
        module.fail_json(msg=missing_required_lib('vpp_papi'), exception=VPP_PAPI_IMPORT_ERROR)
    client = client_from_params(module.params, transport)

    def ensure():
        with client:
            result = make_manager(client).ensure()
            result['vpp_messages'] = dict(client.used)
            return result

    run_and_exit(module, ensure, VppError)
