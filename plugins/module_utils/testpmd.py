# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""DPDK testpmd (22.11): output parser, results-schema metrics and argv builders (pure functions).

Two uses of testpmd in the collection:

* the **switch** of the ``testpmd`` data path, on the host: one ``net_vhostN`` port per container,
  ``io`` forwarding, ``--stats-period 1``, no ``-i``; it runs until SIGINT (:func:`switch_argv`);
* the **reference traffic generator** inside a container (``txonly`` sender, ``rxonly``
  receiver, ``flowgen`` for the loop topology: it transmits and receives on the same port), whose
  rate is compared with icperf's (:func:`generator_argv`).

Output of ``--stats-period N`` (each block starts with the ANSI "clear screen" escapes)::

    Port statistics ====================================
      ######################## NIC statistics for port 0  ########################
      RX-packets: 35743744   RX-missed: 0          RX-bytes:  0
      ...
      Throughput (since last show)
      Rx-pps:     35176957          Rx-bps:            0
      Tx-pps:     35176957          Tx-bps:            0

and at SIGINT, per port and for all ports::

      ---------------------- Forward statistics for port 0  ----------------------
      RX-packets: 110899136      RX-dropped: 0             RX-total: 110899136
      TX-packets: 110899136      TX-dropped: 0             TX-total: 110899136
      +++++++++++++++ Accumulated forward statistics for all ports+++++++++++++++
      ...

The first block of a run always shows 0 pps ("since last show" has no previous show): it is the
baseline, sample ``t = 0``; the following blocks are samples ``t = 1, 2, ...`` (one per period).
"""

from __future__ import annotations

import math
import re

from ansible_collections.kbypass.testbed.plugins.module_utils.parsers import strip_ansi
from ansible_collections.kbypass.testbed.plugins.module_utils.results_schema import bits_per_second
from ansible_collections.kbypass.testbed.plugins.module_utils.vhost_switch import (
    SwitchError, check_ports, parse_cpulist, socket_paths, vhost_vdev)

_BLOCK = 'Port statistics ===================================='
_NIC_PORT = re.compile(r'#+ NIC statistics for port (\d+)\s+#+')
_FWD_PORT = re.compile(r'-+ Forward statistics for port (\d+)\s+-+')
_ACCUM = re.compile(r'\++ Accumulated forward statistics for all ports\s*\++')
_PAIR = re.compile(r'([A-Za-z][A-Za-z-]*):\s+(\d+)')
_MAC = re.compile(r'^Port (\d+): ([0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5})\s*$', re.MULTILINE)

# testpmd counter name -> key in the parsed output
_NIC_KEYS = {'RX-packets': 'rx_packets', 'RX-missed': 'rx_missed', 'RX-bytes': 'rx_bytes',
             'RX-errors': 'rx_errors', 'RX-nombuf': 'rx_nombuf', 'TX-packets': 'tx_packets',
             'TX-errors': 'tx_errors', 'TX-bytes': 'tx_bytes', 'Rx-pps': 'rx_pps', 'Rx-bps': 'rx_bps',
             'Tx-pps': 'tx_pps', 'Tx-bps': 'tx_bps'}
_FWD_KEYS = {'RX-packets': 'rx_packets', 'RX-dropped': 'rx_dropped', 'RX-total': 'rx_total',
             'TX-packets': 'tx_packets', 'TX-dropped': 'tx_dropped', 'TX-total': 'tx_total'}

FORWARD_MODES = ('io', 'mac', 'txonly', 'rxonly', 'flowgen', 'macswap')
TOPOLOGIES = {'pair': 'paired', 'loop': 'loop'}
DEFAULT_MBUFS = 16384
FLOWGEN_FCS = 4


class TestpmdError(SwitchError):
    """Bad input of an argv builder or output that cannot be parsed."""


def _counters(lines, names):
    out = {}
    for line in lines:
        for name, value in _PAIR.findall(line):
            if name in names:
                out[names[name]] = int(value)
    return out


def parse_testpmd(text):
    """testpmd's stdout -> dict.

    ``samples``: list of ``{'t': n, 'ports': {port: {rx_pps, tx_pps, rx_packets, ...}}}``, one per
    stats block (``t = 0`` is the baseline block); ``totals``: ``{port: {rx_packets, rx_dropped,
    rx_total, tx_packets, tx_dropped, tx_total}}`` from "Forward statistics" (empty when testpmd
    did not stop cleanly); ``accumulated``: the same for all ports, or None; ``macs``:
    ``{port: 'aa:bb:..'}``; ``forward_mode`` or None; ``complete``: whether the final statistics
    were printed.
    """
    text = strip_ansi(text).replace('\r', '')
    lines = text.split('\n')
    samples = []
    totals = {}
    accumulated = None
    section = None       # ('nic', port) / ('fwd', port) / ('acc', None)
    buf = []

    def flush():
        nonlocal accumulated
        if section is None:
            return
        kind, port = section
        if kind == 'nic' and samples:
            samples[-1]['ports'][port] = _counters(buf, _NIC_KEYS)
        elif kind == 'fwd':
            totals[port] = _counters(buf, _FWD_KEYS)
        elif kind == 'acc':
            accumulated = _counters(buf, _FWD_KEYS)

    for line in lines:
        stripped = line.strip()
        match_nic = _NIC_PORT.search(stripped)
        match_fwd = _FWD_PORT.search(stripped)
        if stripped.startswith(_BLOCK):
            flush()
            section, buf = None, []
            samples.append({'t': len(samples), 'ports': {}})
        elif match_nic:
            flush()
            section, buf = ('nic', int(match_nic.group(1))), []
        elif match_fwd:
            flush()
            section, buf = ('fwd', int(match_fwd.group(1))), []
        elif _ACCUM.search(stripped):
            flush()
            section, buf = ('acc', None), []
        elif section is not None and re.match(r'^[#+-]{10,}$', stripped):
            flush()
            section, buf = None, []
        elif section is not None:
            buf.append(stripped)
    flush()
    mode = re.search(r'^(\w+) packet forwarding - ports=', text, re.MULTILINE)
    return {'samples': samples, 'totals': totals, 'accumulated': accumulated,
            'macs': dict((int(p), m.lower()) for p, m in _MAC.findall(text)),
            'forward_mode': mode.group(1) if mode else None,
            'complete': accumulated is not None}


def port_series(parsed, port, key):
    """The per-second values of ``key`` ('rx_pps', 'tx_pps') of one port, baseline excluded."""
    return [(s['t'], s['ports'][port][key]) for s in parsed['samples']
            if s['t'] > 0 and port in s['ports'] and key in s['ports'][port]]


def steady_rates(series, warmup_s=0, trim_idle=True):
    """Values of ``series`` [(t, value)] used for a mean: from the first non-zero value (the
    traffic's start, like icperf's receiver measuring from the first packet) when ``trim_idle``,
    then without the ``warmup_s`` first seconds, and without the trailing zeros (the peer stopped
    first). When nothing is left after the warm-up, all non-idle values are used."""
    values = [v for _t, v in series]
    if trim_idle:
        while values and values[0] == 0:
            values.pop(0)
        while values and values[-1] == 0:
            values.pop()
    used = values[int(warmup_s):]
    return used if used else values


def mean_std(values):
    """(mean, sample standard deviation) of values; (0.0, 0.0) for none, std 0.0 for one."""
    if not values:
        return 0.0, 0.0
    mean = float(sum(values)) / len(values)
    if len(values) < 2:
        return mean, 0.0
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


def summary(parsed, port=0, warmup_s=0):
    """Per-peer summary of one testpmd run (what case.json keeps as a peer's summary)."""
    tx = steady_rates(port_series(parsed, port, 'tx_pps'), warmup_s)
    rx = steady_rates(port_series(parsed, port, 'rx_pps'), warmup_s)
    tx_mean, _tx_std = mean_std(tx)
    rx_mean, rx_std = mean_std(rx)
    totals = parsed['totals'].get(port, {})
    return {'tool': 'testpmd', 'forward_mode': parsed.get('forward_mode'), 'port': port,
            'tx_pps_mean': tx_mean, 'rx_pps_mean': rx_mean, 'rx_pps_std': rx_std,
            'samples_used': max(len(tx), len(rx)),
            'sent': totals.get('tx_packets'), 'received': totals.get('rx_packets'),
            'tx_dropped': totals.get('tx_dropped'), 'rx_dropped': totals.get('rx_dropped'),
            'complete': parsed.get('complete', False)}


def testpmd_metrics(mode, size, a, b, warmup_s=0, a_port=0, b_port=0):
    """Results-schema metrics of a testpmd case.

    ``a`` is the parsed output (:func:`parse_testpmd`) of the sender (txonly, or flowgen in the
    loop topology), ``b`` the receiver's (rxonly; in the loop topology the same output as ``a``;
    None in ``tx`` mode: txonly alone, only ``tx_pps``). tput and tx only: testpmd measures no
    latency, so a ``lat`` case has no metric. ``tx_pps``/``rx_pps``
    are means of the per-second Tx-pps/Rx-pps after the warm-up (:func:`steady_rates`);
    ``loss_ratio`` uses the final totals (a's TX-packets vs b's RX-packets) and is only given
    when both ran to their final statistics.
    """
    metrics = {}
    if mode not in ('tput', 'tx'):
        return metrics
    if a:
        metrics['tx_pps'] = mean_std(steady_rates(port_series(a, a_port, 'tx_pps'), warmup_s))[0]
    if b:
        rx_mean, rx_std = mean_std(steady_rates(port_series(b, b_port, 'rx_pps'), warmup_s))
        metrics['rx_pps'] = rx_mean
        metrics['rx_pps_std'] = rx_std
        metrics['rx_bps'] = bits_per_second(rx_mean, size)
    if a and b and a.get('complete') and b.get('complete'):
        sent = a['totals'].get(a_port, {}).get('tx_packets')
        received = b['totals'].get(b_port, {}).get('rx_packets')
        if sent and received is not None:
            metrics['loss_ratio'] = max(0.0, (sent - received) / float(sent))
    return metrics


# ---------------------------------------------------------------------------------- argv builders
def lcores_arg(main_cpus, cpus):
    """EAL --lcores value: lcore 0 (main) on main_cpus, lcores 1..n each on one CPU of cpus."""
    main = parse_cpulist(main_cpus)
    fwd = parse_cpulist(cpus)
    if not main:
        raise TestpmdError('main_cpus is empty: give the CPU(s) of testpmd main lcore, e.g. "0"')
    if not fwd:
        raise TestpmdError('cpus is empty: give the CPU(s) of the forwarding lcores, e.g. "1"')
    main_text = str(main[0]) if len(main) == 1 else '(%s)' % ','.join(str(c) for c in main)
    return '0@%s,%s' % (main_text, ','.join('%d@%d' % (i + 1, cpu) for i, cpu in enumerate(fwd))), len(fwd)


def _mbufs(total_num_mbufs):
    if not isinstance(total_num_mbufs, int) or total_num_mbufs < 2048:
        raise TestpmdError('total_num_mbufs=%r: give at least 2048 (testpmd needs a few per queue)'
                           % (total_num_mbufs,))
    return '--total-num-mbufs=%d' % total_num_mbufs


def switch_argv(ports, socket_dir, topology='pair', cpus='1', main_cpus='0',
                total_num_mbufs=DEFAULT_MBUFS, binary='dpdk-testpmd', eal_args=None, app_args=None):
    """argv of the host testpmd used as the switch between the containers ``ports`` (names).

    Port N is ``net_vhostN,iface=<socket_dir>/<name>.sock,queues=1``; ``pair`` forwards 0<->1,
    2<->3...; ``loop`` sends each port's frames back on it.
    """
    check_ports(ports, socket_dir, topology)
    lcores, nb_cores = lcores_arg(main_cpus, cpus)
    argv = [binary, '--lcores=%s' % lcores, '--in-memory', '--no-pci']
    for index, socket in enumerate(socket_paths(ports, socket_dir)):
        argv += ['--vdev', vhost_vdev(index, socket)]
    argv += list(eal_args or [])
    argv += ['--', '--forward-mode=io', '--port-topology=%s' % TOPOLOGIES[topology],
             '--nb-cores=%d' % nb_cores, _mbufs(total_num_mbufs), '--stats-period', '1']
    argv += list(app_args or [])
    return argv


_MAC_RE = re.compile(r'^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$')


# what a generator prints (on stdout) once it forwards: its first statistics block
READY_MARK = 'Port statistics'
GENERATOR_EAL = ('--in-memory', '--single-file-segments', '--no-pci')


def generator_argv(mode, vdev, mac, peer_mac=None, size=64, cpus='0', main_cpus=None,
                   total_num_mbufs=DEFAULT_MBUFS, burst=32, binary='dpdk-testpmd', ips=None,
                   eal_args=GENERATOR_EAL, app_args=None):
    """argv of testpmd as the traffic generator in a container of a DPDK path.

    ``mode``: ``txonly`` (sender, needs ``peer_mac``), ``rxonly`` (receiver) or ``flowgen`` (loop
    topology: one forwarding lcore transmits to ``peer_mac`` and receives, counts and frees what
    comes back on the same port). ``vdev`` is the container's DPDK device (plan.dpdk_device, e.g.
    ``net_virtio_user0,path=<socket>,queues=1,mac=<mac>``), ``mac`` its MAC; ``eal_args`` the EAL
    memory words. ``size`` is the frame length without FCS: ``--txpkts=size`` for txonly,
    ``size + 4`` for flowgen, which takes 4 bytes off for an FCS.
    When ``main_cpus`` is None the main lcore shares the forwarding CPU (it only sleeps and prints).
    """
    if mode not in ('txonly', 'rxonly', 'flowgen'):
        raise TestpmdError('mode=%r: use txonly, rxonly or flowgen' % (mode,))
    if not _MAC_RE.match(str(mac)):
        raise TestpmdError('mac=%r is not a MAC address (aa:bb:cc:dd:ee:ff)' % (mac,))
    if mode != 'rxonly' and not _MAC_RE.match(str(peer_mac)):
        raise TestpmdError('mode=%s sends frames: give peer_mac, the destination MAC (got %r)' % (mode, peer_mac))
    if not isinstance(size, int) or not 64 <= size <= 9014:
        raise TestpmdError('size=%r: frame length without FCS, 64..9014' % (size,))
    if not isinstance(burst, int) or not 1 <= burst <= 512:
        raise TestpmdError('burst=%r: 1..512' % (burst,))
    fwd = parse_cpulist(cpus)
    if len(fwd) != 1:
        raise TestpmdError('cpus=%r: a generator uses exactly one forwarding CPU' % (cpus,))
    lcores, _n = lcores_arg(main_cpus if main_cpus not in (None, '') else cpus, cpus)
    argv = [binary, '--lcores=%s' % lcores] + list(eal_args or []) + ['--vdev', vdev]
    argv += ['--', '--forward-mode=%s' % mode, '--port-topology=loop', '--nb-cores=1',
             _mbufs(total_num_mbufs), '--burst=%d' % burst, '--stats-period', '1']
    if mode != 'rxonly':
        # txonly sends --txpkts bytes; 22.11's flowgen sends 4 fewer ("Adjust FCS"): measured
        # with the receiver's Rx-bps / Rx-pps (64 -> 512 bits for txonly, 480 for flowgen)
        argv += ['--eth-peer=0,%s' % peer_mac, '--txpkts=%d' % (size + FLOWGEN_FCS if mode == 'flowgen' else size)]
        if ips:
            argv.append('--tx-ip=%s,%s' % tuple(ips))
    argv += list(app_args or [])
    return argv
