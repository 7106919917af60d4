# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The registry of data paths: every path the collection knows is declared here once, and the
plan, the run (bench), the report, the benchmark role and the tests read it from here.

Adding a path = one entry here + one role with the entry points of docs/data-paths.md.

Keys of an entry (register() fills the defaults):
- index: the path's number; gives it its address block 198.18.<index>.0/24 and its MACs, so an
  index is never reused or changed (append only).
- short: container name part (kbp-<short>-a, kbp-<short>-b).
- kind: 'kernel' (icperf's socket backends in the containers) or 'dpdk' (icperf's DPDK backend).
- role: the role that provisions the path (default kbypass.testbed.<name>); its variables carry
  the prefix <name>_.
- switch: a switch on the host busy-polls a CPU while the path is started (it needs its own, and
  the path can run the pair or the loop topology).
- sockets: the containers reach the host (or each other) through sockets in a shared folder,
  /run/kbypass/<name>, bind-mounted at the same place in the containers.
- device: the EAL --vdev of a container's DPDK peer, a format with the keys socket_dir, name,
  mac and role (memif: b is the server, a the client); None for kernel paths.
- listens: {peer: the Unix socket it creates as a server, a format with socket_dir and name}; the
  run removes a stale one (its server was killed) before that peer starts.
- ready: what the receiving DPDK peer prints once the other side may start, for peer a and b.
- uplink: the variable naming the host NIC the path is joined to (a macvlan's parent, an OVS
  bridge's uplink, the PF whose VFs the containers get); paths with one can join two hosts.
- nic_required: for paths that cannot run without their NIC: what that NIC must be.
- role_vars: what the path's role takes from the plan besides containers and mtu: {key: the plan's
  path variable (topology, cpus, main_cpus, socket_dir, cores_shared, record)} or {key: {'value': a fixed value}}
  (e.g. the benchmark reserves hugepages itself, so testpmd's role does not). A role that makes a
  choice the plan leaves open (OVS: the datapath; SR-IOV: the VFs it got) takes 'record': the file
  (JSON) where it writes what it chose; the run reads it into plan.json's provisioned.<path>.
- check: the role has a 'check' entry point, run (read-only) by the plan play before any host
  changes: what the path needs of the host beyond the plan's inputs (VPP: an installation, its
  plugins, its CPUs). A failing check stops the run there.
- process: the name (comm) of the host process that forwards the path's frames (its switch, or
  OVS's userspace datapath), whose CPU time a case measures; None when the kernel forwards.
- study: the reference study's row name for this path (report's comparison tables), or None.
- label: how the report names the path.
"""

from __future__ import annotations

ROLE_NAMESPACE = 'kbypass.testbed'
KINDS = ('kernel', 'dpdk')
# the plan's variables of a switch path, passed to its role as <prefix>_<key>
SWITCH_VARS = ('topology', 'cpus', 'main_cpus', 'socket_dir')
_VIRTIO_USER = 'net_virtio_user0,path={socket_dir}/{name}.sock,queues=1,mac={mac}'
# a DPDK switch on the host whose role the benchmark hands the plan's switch variables; the
# benchmark reserves the hugepages itself (the role's <prefix>_dpdk: false)
_HOST_SWITCH_VARS = dict([(k, k) for k in SWITCH_VARS], dpdk={'value': False})
_LINK_UP = {'a': 'link up', 'b': 'link up'}

DATA_PATHS = {}


def register(name, index, short, kind, **spec):
    """Declare a data path (see the module docstring for the keys). Returns its entry."""
    if name in DATA_PATHS:
        raise ValueError('data path %r is declared twice' % name)
    if kind not in KINDS:
        raise ValueError('data path %r: kind %r is not one of %s' % (name, kind, ', '.join(KINDS)))
    for other, entry in DATA_PATHS.items():
        if entry['index'] == index or entry['short'] == short:
            raise ValueError('data path %r: index %d or short name %r already belongs to %r' % (name, index, short, other))
    entry = {'name': name, 'index': index, 'short': short, 'kind': kind, 'role': '%s.%s' % (ROLE_NAMESPACE, name),
             'switch': False, 'sockets': False, 'device': None, 'listens': {}, 'ready': _LINK_UP if kind == 'dpdk' else None,
             'uplink': None, 'nic_required': None, 'role_vars': {}, 'check': False, 'process': None, 'study': None,
             'label': name}
    unknown = set(spec) - set(entry)
    if unknown:
        raise ValueError('data path %r: unknown key(s) %s' % (name, ', '.join(sorted(unknown))))
    entry.update(spec)
    DATA_PATHS[name] = entry
    return entry


def unregister(name):
    """Forget a path (tests that declare a fake one)."""
    DATA_PATHS.pop(name, None)


register('linux_bridge', 1, 'br', 'kernel', label='Linux bridge')
register('macvlan', 2, 'mv', 'kernel', uplink='macvlan_parent', label='macvlan')
register('ovs', 3, 'ovs', 'kernel', uplink='ovs_uplink', role_vars={'record': 'record'}, process='ovs-vswitchd',
         label='OVS (kernel or netdev datapath)')
register('ovs_dpdk', 4, 'od', 'dpdk', switch=True, sockets=True,
         device='net_virtio_user0,path={socket_dir}/{name}.sock,server=1,queues=1,mac={mac}',
         listens={'a': '{socket_dir}/{name}.sock', 'b': '{socket_dir}/{name}.sock'},
         role_vars=dict((k, k) for k in SWITCH_VARS), process='ovs-vswitchd', study='OVS-DPDK', label='OVS-DPDK')
register('testpmd', 5, 'tp', 'dpdk', switch=True, sockets=True, device=_VIRTIO_USER,
         role_vars=_HOST_SWITCH_VARS, process='dpdk-testpmd', study='testpmd', label='testpmd switch')
# socket-abstract=no: 22.11 puts the socket in the abstract namespace by default, which is per
# network namespace: the other container would never see it. A memif server's link comes up only
# when the client connects: b (the server) is ready once started.
register('memif', 6, 'mf', 'dpdk', sockets=True,
         device='net_memif0,role={role},socket={socket_dir}/memif.sock,socket-abstract=no,id=0,mac={mac}',
         listens={'b': '{socket_dir}/memif.sock'},
         ready={'a': 'link up', 'b': 'started'}, role_vars={'socket_dir': 'socket_dir'}, label='memif')
register('af_xdp', 7, 'xd', 'dpdk', device='net_af_xdp0,iface=eth0,start_queue=0,queue_count=1', label='AF_XDP')
# SR-IOV: a virtual function of a NIC (the PF, sriov_pf) moved into each container; the NIC
# switches between them. Kernel sockets on the VF's kernel driver.
register('sriov', 8, 'sv', 'kernel', uplink='sriov_pf', role_vars={'record': 'record'}, study='SR-IOV',
         label='SR-IOV (kernel VF)',
         nic_required='an SR-IOV capable NIC (a PF: /sys/class/net/<if>/device/sriov_totalvfs exists)')
# DPDK's skeleton forwarder (examples/skeleton/basicfwd.c) as the switch, net_vhost ports like
# testpmd's; in the loop each container's port is paired with a ring port (frames cross it twice).
register('basicfwd', 9, 'bf', 'dpdk', switch=True, sockets=True, device=_VIRTIO_USER,
         role_vars=_HOST_SWITCH_VARS, process='basicfwd', study='basicfwd', label='basicfwd switch')
# VPP as the switch (one role, kbypass.testbed.vpp; vpp_memif's role hands it its variables). VPP is
# the socket server of every port (vhost-user server, memif master): no container listens. It is told
# whether the plan shares its CPUs (then it polls from its main thread and sleeps between polls).
_VPP_VARS = dict([(k, k) for k in SWITCH_VARS], cores_shared='cores_shared')
register('vpp', 10, 'vp', 'dpdk', switch=True, sockets=True, device=_VIRTIO_USER, role_vars=_VPP_VARS, check=True,
         process='vpp', study='VPP', label='VPP (vhost-user)')
register('vpp_memif', 11, 'vm', 'dpdk', switch=True, sockets=True,
         device='net_memif0,role=client,socket={socket_dir}/{name}.sock,socket-abstract=no,id=0,mac={mac}',
         role_vars=_VPP_VARS, check=True, process='vpp', label='VPP (memif)')


def kind(name):
    return DATA_PATHS[name]['kind']


def names(kind_=None):
    """The paths' names in registry order (of one kind)."""
    return [n for n, e in DATA_PATHS.items() if kind_ is None or e['kind'] == kind_]


def uplink_vars():
    """{path: the variable naming its NIC} of the paths that can be joined to a host NIC."""
    return dict((n, e['uplink']) for n, e in DATA_PATHS.items() if e['uplink'])


def checked(names_):
    """The paths among ``names_`` whose role checks the host at the plan stage (its 'check' entry point)."""
    return [n for n in names_ if DATA_PATHS[n]['check']]


def study_row(name):
    """The reference study's row name of a path, or None."""
    entry = DATA_PATHS.get(name)
    return entry['study'] if entry else None


def role_vars(name, plan_vars):
    """What the benchmark passes to the path's role: <prefix>_<key> -> value, from the plan's
    variables of the path (containers, mtu and the keys the entry's role_vars names)."""
    entry = DATA_PATHS[name]
    out = {'%s_containers' % name: plan_vars['containers'], '%s_mtu' % name: plan_vars['mtu']}
    for key, source in entry['role_vars'].items():
        out['%s_%s' % (name, key)] = source['value'] if isinstance(source, dict) else plan_vars[source]
    return out
