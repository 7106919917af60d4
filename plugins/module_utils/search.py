# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""RFC 2544 throughput by search: the highest offered rate whose loss stays within a goal (NDR:
no loss; PDR: at most a given ratio), each to a stated precision, the way FD.io CSIT's MLRsearch
goes about it (docs/method.md):

- one unpaced trial at full length first: the generator's maximum through the path (the
  ceiling, an upper bound for every goal) and the maximum received rate (MRR, the study's figure);
- short trials narrow the interval: down from the best guess in steps that double, then by
  bisection until it is as narrow as the precision asks;
- full-length trials only confirm a lower bound; one that fails is a new upper bound, and since
  short trials proved too optimistic on this path, the narrowing goes on below it with
  full-length trials;
- every trial serves every goal (a rate that fails the PDR fails the NDR, a trial that passes the
  NDR passes the PDR): goals are searched from the loosest, the later ones start from what the
  earlier ones found.

Pure: the trials are run by a callable, time is read from a clock callable. No I/O.
"""

from __future__ import annotations

# at most this many trials in one search, whatever the time budget (a guard against a loop)
MAX_TRIALS = 200


class SearchTimeout(Exception):
    """The search ran out of its time budget (benchmark_search_max_s) before every goal was found."""


class SearchError(Exception):
    """The search cannot start: the unpaced trial moved nothing to search below."""


def passes(trial, loss):
    """Whether a trial meets a loss goal: it is a measurement, it offered what it claims, and its
    loss ratio (in its measurement window) is at most ``loss``."""
    return (not trial.get('invalid') and trial.get('offered', True) and trial.get('loss_ratio') is not None
            and trial['loss_ratio'] <= loss)


def offered(rate_pps, tx_pps, tolerance):
    """Whether a paced trial sent what it was asked to: its achieved rate is at most ``tolerance``
    (a ratio) below the intended one. An unpaced trial (rate 0) always did."""
    if not rate_pps:
        return True
    return tx_pps is not None and tx_pps >= rate_pps * (1.0 - tolerance)


class Search(object):
    """One search over several loss goals.

    run_trial(rate_pps, duration_s, phase) -> trial dict with at least tx_pps, rx_pps, loss_ratio,
    invalid (reason or None) and offered (bool); rate 0 is unpaced. goals: {name: loss ratio}.
    precision: the interval's relative width goal; precision_pps: its absolute one (the wider of the
    two is enough). short_s / full_s: durations of the narrowing and confirming trials. max_s: the
    time budget (SearchTimeout when spent). floor_pps: the lowest rate tried; a goal that fails
    there is reported below it.
    """

    # the phases of its trials: the unpaced one, the short ones that narrow, the full-length ones
    PHASES = ('max', 'narrow', 'confirm')

    def __init__(self, run_trial, goals, precision, precision_pps, short_s, full_s, max_s, clock,
                 floor_pps=None):
        self.run_trial = run_trial
        self.goals = dict(goals)
        self.precision = float(precision)
        self.precision_pps = float(precision_pps)
        self.short_s, self.full_s = short_s, full_s
        self.max_s = float(max_s)
        self.clock = clock
        self.floor = max(1, int(floor_pps if floor_pps is not None else precision_pps))
        self.trials = []
        self.t0 = None
        # the duration of the narrowing trials: short until a full-length trial contradicts one
        self.narrow_s = short_s

    # -- trials ------------------------------------------------------------------------------
    def _trial(self, rate, duration, phase):
        rate = int(round(rate))
        for trial in self.trials:
            if trial['rate_pps'] == rate and trial['duration_s'] == duration:
                raise RuntimeError('search: trial at %d pps for %s s asked twice (a bug of the search)'
                                   % (rate, duration))
        if self.clock() - self.t0 > self.max_s:
            raise SearchTimeout('search time budget of %g s spent after %d trials' % (self.max_s, len(self.trials)))
        if len(self.trials) >= MAX_TRIALS:
            raise SearchTimeout('search stopped after %d trials' % MAX_TRIALS)
        trial = self.run_trial(rate, duration, phase)
        trial.update(rate_pps=rate, duration_s=duration, phase=phase)
        self.trials.append(trial)
        return trial

    def rate_of(self, trial):
        """The rate a trial stands for: the intended one, or for the unpaced trial what it sent."""
        return trial['rate_pps'] or int(trial.get('tx_pps') or 0)

    def width(self, rate):
        """The interval width that is precise enough at ``rate``."""
        return max(self.precision * rate, self.precision_pps)

    def upper(self, loss):
        """The lowest rate of any trial (of any duration) that failed the goal, or None."""
        rates = [self.rate_of(t) for t in self.trials if not passes(t, loss)]
        return min(rates) if rates else None

    def lower(self, loss, below, duration):
        """The trial of the highest rate under ``below`` that passed the goal at ``duration``."""
        best = None
        for trial in self.trials:
            if trial['duration_s'] == duration and passes(trial, loss) and self.rate_of(trial) < below:
                if best is None or self.rate_of(trial) > self.rate_of(best):
                    best = trial
        return best

    def lower_rate(self, loss):
        """The highest rate a full-length trial passed the goal at, under its upper bound (None: none)."""
        hi = self.upper(loss)
        trial = self.lower(loss, float('inf') if hi is None else hi, self.full_s)
        return self.rate_of(trial) if trial else None

    # -- the search --------------------------------------------------------------------------
    def run(self):
        """-> {ceiling_pps, mrr_pps, goals: {name: {rate_pps, upper_pps, trial, bound}}}; raises
        SearchTimeout (self.trials holds what was done) or SearchError."""
        self.t0 = self.clock()
        top = self._trial(0, self.full_s, 'max')
        ceiling = int(top.get('tx_pps') or 0)
        if top.get('invalid') or ceiling <= 0:
            raise SearchError('the unpaced trial is not a measurement, nothing to search below: %s'
                              % (top.get('invalid') or 'it sent nothing'))
        out = {'ceiling_pps': ceiling, 'mrr_pps': top.get('rx_pps'), 'goals': {}}
        for name, loss in sorted(self.goals.items(), key=lambda item: -item[1]):
            out['goals'][name] = self._goal(loss, top)
        return out

    def _goal(self, loss, top):
        if passes(top, loss):
            # the generator's maximum meets the goal: the path may carry more than it offers
            return {'rate_pps': self.rate_of(top), 'upper_pps': None, 'trial': top, 'bound': 'generator'}
        step = None
        while True:
            hi = self.upper(loss)
            width = self.width(hi)
            lo = self.lower(loss, hi, self.full_s)
            if lo is not None and hi - self.rate_of(lo) <= width:
                return {'rate_pps': self.rate_of(lo), 'upper_pps': hi, 'trial': lo, 'bound': 'search'}
            short = self.lower(loss, hi, self.narrow_s) if self.narrow_s != self.full_s else None
            known = [self.rate_of(t) for t in (lo, short) if t is not None]
            if short is not None and self.rate_of(short) > (self.rate_of(lo) if lo else -1) \
                    and hi - self.rate_of(short) <= width:
                if not passes(self._trial(self.rate_of(short), self.full_s, 'confirm'), loss):
                    # short trials pass where full-length ones lose (a queue that fills slowly):
                    # from now on the search narrows with full-length trials only
                    self.narrow_s, step = self.full_s, None
                continue
            if known:
                rate = (max(known) + hi) / 2.0     # bisect
            else:
                if step is None:                   # first probe: the MRR, or just under hi
                    guess = min(top.get('rx_pps') or hi, hi - width)
                    step = max(hi - guess, width)
                else:
                    step *= 2
                rate = hi - step
                if rate < self.floor:
                    if hi <= self.floor:           # failed at the floor itself: below it
                        return {'rate_pps': 0, 'upper_pps': hi, 'trial': None, 'bound': 'floor'}
                    rate = self.floor
            self._trial(rate, self.narrow_s, 'narrow')
