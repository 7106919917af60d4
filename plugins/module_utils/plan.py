# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plan stage: validate the benchmark's inputs against one host, expand the case matrix,
plan the CPUs. Pure functions: no I/O except in read_online_cpus()."""

from __future__ import annotations

from ansible_collections.kbypass.testbed.plugins.module_utils.results_schema import (
    HEADER_BYTES, MIN_FRAME, case_id,
)

# Every data path the collection knows, in a fixed order (the order gives each path its
# address block, so it must only ever be appended to).
# short: container name part; kind: kernel (sockets in the container) or dpdk (bypass).
DATA_PATHS = {
    'linux_bridge': {'short': 'br', 'kind': 'kernel', 'index': 1},
    'macvlan': {'short': 'mv', 'kind': 'kernel', 'index': 2},
}
KERNEL_BACKENDS = ('udp', 'udp-mmsg', 'raw', 'raw-mmsg')
REFERENCE_TOOLS = ('sockperf',)
MAX_BURST = 1024
MAX_FRAME = 9014
CONTAINER_PREFIX = 'kbp-'
# RFC 2544 / RFC 5737-style benchmarking range (198.18.0.0/15): never routed anywhere.
ADDRESS_BLOCK = '198.18'


class PlanError(ValueError):
    """A bad input: the message names the variable, the value and the allowed values."""


def parse_cpu_list(text):
    """'0-3,6' -> [0, 1, 2, 3, 6]. Raises PlanError on bad syntax."""
    cpus = []
    text = str(text).strip()
    if not text:
        return cpus
    for part in text.split(','):
        part = part.strip()
        try:
            if '-' in part:
                lo, hi = part.split('-', 1)
                lo, hi = int(lo), int(hi)
                if hi < lo:
                    raise ValueError(part)
                cpus.extend(range(lo, hi + 1))
            else:
                cpus.append(int(part))
        except ValueError:
            raise PlanError("bad CPU list %r: use the kernel's syntax, e.g. '0-3,6'" % text)
    return sorted(set(cpus))


def format_cpu_list(cpus):
    """[0, 1, 2, 5] -> '0-2,5'."""
    ranges = []
    for cpu in sorted(set(cpus)):
        if ranges and cpu == ranges[-1][1] + 1:
            ranges[-1][1] = cpu
        else:
            ranges.append([cpu, cpu])
    return ','.join(str(lo) if lo == hi else '%d-%d' % (lo, hi) for lo, hi in ranges)


def read_online_cpus(path='/sys/devices/system/cpu/online'):
    with open(path) as handle:
        return parse_cpu_list(handle.read())


def _rate(value, var):
    if isinstance(value, str) and value.strip().lower() in ('max', '0'):
        return 0
    try:
        rate = float(value)
    except (TypeError, ValueError):
        raise PlanError("%s: %r is not a rate: give packets per second (> 0) or 'max'" % (var, value))
    if rate <= 0:
        raise PlanError("%s: %r must be > 0 packets per second, or 'max' for unpaced" % (var, value))
    return int(rate) if rate == int(rate) else rate


def _positive_ints(values, var, upper=None):
    if not isinstance(values, (list, tuple)) or not values:
        raise PlanError('%s must be a non-empty list' % var)
    out = []
    for value in values:
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise PlanError('%s: %r is not a whole number' % (var, value))
        if number <= 0 or (upper is not None and number > upper):
            raise PlanError('%s: %r must be between 1 and %s' % (var, value, upper or 'any'))
        out.append(number)
    return out


def _sizes(values, var, mtu, path):
    top = min(MAX_FRAME, mtu + 14)
    sizes = _positive_ints(values, var)
    for size in sizes:
        if size < MIN_FRAME or size > top:
            raise PlanError('%s: frame size %d is outside %d..%d for path %s (MTU %d + 14 bytes of Ethernet '
                            'header); pick sizes in that range or raise the MTU'
                            % (var, size, MIN_FRAME, top, path, mtu))
    return sizes


def _choices(values, var, allowed):
    if not isinstance(values, (list, tuple)) or not values:
        raise PlanError('%s must be a non-empty list; allowed values: %s' % (var, ', '.join(allowed)))
    for value in values:
        if value not in allowed:
            raise PlanError('%s: unknown value %r; allowed values: %s' % (var, value, ', '.join(allowed)))
    return list(values)


def plan_cpus(host_cpus, wanted_cpus, peers, cpus_per_peer, reserve_housekeeping=True):
    """Give each peer its own CPUs when the host has enough, else share and say so.

    host_cpus: CPUs online on the host. wanted_cpus: the CPUs the user allows (subset), or None.
    Returns a dict: cpus (peer -> cpu list string), cores_shared, oversubscribed, housekeeping, note.
    """
    if wanted_cpus is None:
        pool = list(host_cpus)
    else:
        missing = [c for c in wanted_cpus if c not in host_cpus]
        if missing:
            raise PlanError('benchmark_cpus: CPU(s) %s do not exist on this host (online: %s); pick from the '
                            'online list' % (format_cpu_list(missing), format_cpu_list(host_cpus)))
        pool = list(wanted_cpus)
    need = len(peers) * cpus_per_peer
    housekeeping = []
    if reserve_housekeeping and len(pool) > need:
        housekeeping = [pool[0]]
        pool = pool[1:]
    if len(pool) >= need:
        cpus = {}
        for i, peer in enumerate(peers):
            cpus[peer] = format_cpu_list(pool[i * cpus_per_peer:(i + 1) * cpus_per_peer])
        note = 'each peer on its own CPUs'
        if not housekeeping:
            note += '; no CPU left for housekeeping'
        return {'cpus': cpus, 'cores_shared': False, 'oversubscribed': False,
                'housekeeping': format_cpu_list(housekeeping), 'note': note}
    shared = format_cpu_list(pool)
    return {'cpus': dict((peer, shared) for peer in peers), 'cores_shared': True, 'oversubscribed': True,
            'housekeeping': format_cpu_list(housekeeping),
            'note': 'needs %d CPUs, host offers %d: peers share CPUs %s' % (need, len(pool), shared)}


def path_network(path):
    """Addresses and MACs of the two containers of a path (deterministic)."""
    index = DATA_PATHS[path]['index']
    short = DATA_PATHS[path]['short']
    return {
        'a': {'name': '%s%s-a' % (CONTAINER_PREFIX, short), 'ip': '%s.%d.1' % (ADDRESS_BLOCK, index),
              'mac': '02:6b:62:%02x:00:01' % index},
        'b': {'name': '%s%s-b' % (CONTAINER_PREFIX, short), 'ip': '%s.%d.2' % (ADDRESS_BLOCK, index),
              'mac': '02:6b:62:%02x:00:02' % index},
        'prefix': 24,
    }


# The busybox template bind-mounts the host's library folders so that dynamically linked
# programs run in its containers. The containers' lxc.mount.entry key is managed as a whole
# (kbypass.testbed.lxc_container), so these lines are kept by listing them here.
BUSYBOX_MOUNTS = [
    '/lib lib none ro,bind,optional 0 0',
    '/usr/lib usr/lib none ro,bind,optional 0 0',
    '/lib64 lib64 none ro,bind,optional 0 0',
    '/usr/lib64 usr/lib64 none ro,bind,optional 0 0',
    '/sys/kernel/security sys/kernel/security none ro,bind,optional 0 0',
]


def path_containers(path, cpus, container_config=None, template='busybox', template_options=None):
    """The two containers of a path, in the form the path roles' attach entry point takes."""
    net = path_network(path)
    out = []
    for peer in ('a', 'b'):
        config = dict(container_config or {})
        if template == 'busybox':
            config['lxc.mount.entry'] = BUSYBOX_MOUNTS + list(config.get('lxc.mount.entry') or [])
        if cpus and cpus.get(peer):
            config['lxc.cgroup.cpuset.cpus'] = cpus[peer]
        out.append({'name': net[peer]['name'], 'ip': net[peer]['ip'], 'prefix': net['prefix'],
                    'mac': net[peer]['mac'], 'template': template,
                    'template_options': list(template_options or []), 'config': config})
    return out


def check_parents(parents, paths, host_links):
    """A lower link named for a path (e.g. macvlan_parent) must exist on the host."""
    for path, parent in sorted((parents or {}).items()):
        if path in paths and parent and parent not in host_links:
            raise PlanError("%s_parent: link %r does not exist on this host; set %s_parent to one of: %s, "
                            "or leave it empty to let the role create a veth pair"
                            % (path, parent, path, ', '.join(sorted(host_links)) or 'none'))


def make_plan(params, host_cpus, mtus=None, host_links=None):
    """Validate params (the benchmark_* variables without their prefix) and expand the matrix.

    Raises PlanError with a message naming the variable before anything is changed.
    host_links: names of the host's network links (None: not checked).
    """
    mtus = mtus or {}
    paths = _choices(params.get('paths'), 'benchmark_paths', tuple(DATA_PATHS))
    backends = _choices(params.get('backends') or ['udp'], 'benchmark_backends', KERNEL_BACKENDS)
    modes = _choices(params.get('modes') or ['tput', 'lat'], 'benchmark_modes', ('tput', 'lat'))
    rates = [_rate(r, 'benchmark_rates') for r in (params.get('rates') or ['max'])]
    bursts = _positive_ints(params.get('bursts') or [32], 'benchmark_bursts', MAX_BURST)
    lat_rates = [_rate(r, 'benchmark_lat_rates') for r in (params.get('lat_rates') or [1000])]
    lat_bursts = _positive_ints(params.get('lat_bursts') or [4], 'benchmark_lat_bursts', MAX_BURST)
    duration = _positive_ints([params.get('duration', 10)], 'benchmark_duration')[0]
    warmup = params.get('warmup', 2)
    if not isinstance(warmup, int) or warmup < 0 or warmup >= duration:
        raise PlanError('benchmark_warmup: %r must be a whole number of seconds, >= 0 and below '
                        'benchmark_duration (%d)' % (warmup, duration))
    cpp = _positive_ints([params.get('cpus_per_container', 1)], 'benchmark_cpus_per_container')[0]
    cpus_text = params.get('cpus')
    wanted = parse_cpu_list(cpus_text) if cpus_text not in (None, '') else None
    tools = _choices(params.get('reference_tools') or [], 'benchmark_reference_tools',
                     REFERENCE_TOOLS) if params.get('reference_tools') else []
    ref_paths = params.get('reference_paths') or []
    for path in ref_paths:
        if path not in paths:
            raise PlanError('benchmark_reference_paths: %r is not in benchmark_paths (%s)' % (path, ', '.join(paths)))
    touch = bool(params.get('touch', False))
    if host_links is not None:
        check_parents(params.get('parents'), paths, host_links)
    cpu = plan_cpus(host_cpus, wanted, ('a', 'b'), cpp, params.get('reserve_housekeeping', True))

    cases = []
    for path in paths:
        mtu = int(mtus.get(path, 1500))
        sizes = _sizes(params.get('sizes') or [64], 'benchmark_sizes', mtu, path)
        lat_sizes = _sizes(params.get('lat_sizes') or [64], 'benchmark_lat_sizes', mtu, path)
        net = path_network(path)
        common = {'path': path, 'duration_s': duration, 'warmup_s': warmup, 'touch': touch,
                  'topology': 'pair', 'cpus': cpu['cpus'], 'cores_shared': cpu['cores_shared'],
                  'oversubscribed': cpu['oversubscribed'], 'network': net}
        runs = []
        if 'tput' in modes:
            runs += [('icperf', b, 'tput', s, r, u) for b in backends for s in sizes for r in rates for u in bursts]
        if 'lat' in modes:
            runs += [('icperf', b, 'lat', s, r, u) for b in backends for s in lat_sizes for r in lat_rates
                     for u in lat_bursts]
        if path in ref_paths:
            for tool in tools:
                # sockperf has no bursts nor pacing in its throughput test: burst 1, unpaced.
                if 'tput' in modes:
                    runs += [(tool, 'udp', 'tput', s, 0, 1) for s in sizes]
                if 'lat' in modes:
                    runs += [(tool, 'udp', 'lat', s, r, 1) for s in lat_sizes for r in lat_rates]
        for tool, backend, mode, size, rate, burst in runs:
            case = dict(common, tool=tool, backend=backend, mode=mode, size=size, rate_pps=rate, burst=burst)
            case['case_id'] = case_id(path, tool, backend, mode, size, rate, burst, touch and tool == 'icperf')
            case['touch'] = touch and tool == 'icperf'
            cases.append(case)
    seen = set()
    unique = []
    for case in cases:
        if case['case_id'] not in seen:
            seen.add(case['case_id'])
            unique.append(case)
    containers = dict((p, path_containers(p, cpu['cpus'], params.get('container_config'),
                                          params.get('template') or 'busybox', params.get('template_options')))
                      for p in paths)
    return {'cases': unique, 'cpu_plan': cpu, 'paths': paths, 'containers': containers,
            'all_containers': dict((p, path_containers(p, None)) for p in DATA_PATHS),
            'payload_bytes_min': MIN_FRAME - HEADER_BYTES}
