# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Constants of the results schema (docs/results-schema.md is the prose of this file)."""

from __future__ import annotations

SCHEMA_VERSION = 1

# Ethernet (14) + IPv4 (20) + UDP (8): a frame of `size` bytes carries size - 42 payload bytes.
HEADER_BYTES = 42
MIN_FRAME = 64

# tput: a sends, b (or, in a loop, a itself) counts what arrives; lat: round trip; tx: a sends
# alone, nothing is counted on arrival (the sender's capacity through the path)
# search: one case that finds the NDR and PDR by trials of tput (and lat at loads of the PDR)
MODES = ('tput', 'lat', 'tx', 'search')
TOOLS = ('icperf', 'sockperf', 'testpmd')
TOPOLOGIES = ('pair', 'loop', 'direct')
# a case's status: measured; ran but is not a measurement (traffic stopped, nothing moved: the
# error says why); did not run to its end
STATUSES = ('ok', 'invalid', 'failed')

# metric name -> unit
METRICS = {
    'tx_pps': 'pps',
    'rx_pps': 'pps',
    'rx_pps_std': 'pps',
    'rx_bps': 'bps',
    'loss_ratio': 'ratio',
    'lost': 'packets',
    'reordered': 'packets',
    'duplicated': 'packets',
    'tx_dropped': 'packets',
    'rx_invalid': 'packets',
    'sched_slips': 'count',
    'window_s': 's',
    'window_start_s': 's',
    'rtt_min_us': 'us',
    'rtt_mean_us': 'us',
    'rtt_p50_us': 'us',
    'rtt_p90_us': 'us',
    'rtt_p99_us': 'us',
    'rtt_p999_us': 'us',
    'rtt_max_us': 'us',
    'cpu_a_pct': 'percent',
    'cpu_b_pct': 'percent',
    # CPU cost (docs/results-schema.md): icperf's CPU time inside its window, the switch's share,
    # cycles per packet at the CPU clock cpu_mhz
    'cpu_a_s': 's',
    'cpu_b_s': 's',
    'cpu_switch_pct': 'percent',
    'cpu_mhz': 'MHz',
    'cycles_a_per_pkt': 'cycles',
    'cycles_b_per_pkt': 'cycles',
    'cycles_switch_per_pkt': 'cycles',
    # a paced trial: what the sender achieved over what was offered; 1 when it fell short by more
    # than the case's offered_tolerance
    'offered_ratio': 'ratio',
    'offered_short': 'flag',
    # a search (docs/method.md): the rates found for each loss goal, what the sender achieved in
    # the confirming trial and its loss, the unpaced trial's rates (the generator's maximum and
    # the maximum received rate, MRR), how many tput trials it took, its seconds and the seconds
    # inside trial windows
    'ndr_pps': 'pps',
    'ndr_bps': 'bps',
    'ndr_tx_pps': 'pps',
    'ndr_loss_ratio': 'ratio',
    'pdr_pps': 'pps',
    'pdr_bps': 'bps',
    'pdr_tx_pps': 'pps',
    'pdr_loss_ratio': 'ratio',
    'max_tx_pps': 'pps',
    'mrr_pps': 'pps',
    'search_trials': 'count',
    'search_s': 's',
    'measured_s': 's',
}

# percentile keys of an icperf rtt summary -> metric name
RTT_KEYS = ('min', 'mean', 'p50', 'p90', 'p99', 'p999', 'max')

# latency under load: a search's round trip at these percentages of the PDR it found
LATENCY_LOADS = (10, 50, 90)
# what each latency-under-load trial records, with the load as suffix (load_metric)
LOAD_METRICS = ('tx_pps', 'loss_ratio', 'offered_ratio') + tuple('rtt_%s_us' % k for k in RTT_KEYS)


def load_metric(name, load):
    """The name of metric ``name`` measured at ``load`` % of the PDR: rtt_p99_us -> rtt_p99_us_pdr90."""
    return '%s_pdr%d' % (name, int(load))


for _load in LATENCY_LOADS:
    for _name in LOAD_METRICS:
        METRICS[load_metric(_name, _load)] = METRICS[_name]

# the soak (benchmark_search_soak_s): one long trial at this percentage of the PDR found; its
# figures are metrics soak_<name>, its per-second trace is in search.json (parsers.loss_trace)
SOAK_LOAD = 90
SOAK_METRICS = ('tx_pps', 'rx_pps', 'loss_ratio', 'lost', 'window_s', 'offered_ratio')
for _name in SOAK_METRICS:
    METRICS['soak_' + _name] = METRICS[_name]
METRICS.update({
    'soak_pps': 'pps',              # the rate offered: SOAK_LOAD % of pdr_pps
    'soak_s': 's',                  # the soak trial's planned length (present also when it was invalid)
    'soak_loss_seconds': 'count',   # seconds of its window in which a frame was lost
    'soak_worst_loss_ratio': 'ratio',  # the loss of its worst second
})


CONDITION_COLUMNS = (
    'path', 'tool', 'backend', 'mode', 'size', 'rate_pps', 'burst', 'duration_s', 'warmup_s',
    'touch', 'topology', 'cores_shared', 'oversubscribed', 'repeat', 'peer_host',
)

CSV_COLUMNS = (('run_id', 'host', 'case_id') + CONDITION_COLUMNS
               + ('status', 'metric', 'value', 'unit'))

CASE_FILE = 'case.json'
SEARCH_FILE = 'search.json'     # a search case's options, goals and every trial
HOST_FILE = 'host.json'
PLAN_FILE = 'plan.json'
RUN_FILE = 'run.json'


def case_id(path, tool, backend, mode, size, rate_pps, burst, touch=False, repeat=None, peer_host=None):
    """Stable, readable id of a case, derived from its parameters only (repeat: the round of a
    case run several times, 1..N, None when it runs once; peer_host: the inventory name of the
    host whose container receives, for a two-host case)."""
    rate = 'max' if not rate_pps else str(int(rate_pps))
    cid = '%s.%s.%s.%s.s%d.r%s.b%d' % (path, tool, backend, mode, int(size), rate, int(burst))
    if touch:
        cid += '.touch'
    if peer_host:
        cid += '.to-%s' % peer_host
    return cid + ('.rep%d' % int(repeat) if repeat else '')


def bits_per_second(pps, size):
    """Whole-frame bit rate, as the reference study counted it."""
    return float(pps) * int(size) * 8
