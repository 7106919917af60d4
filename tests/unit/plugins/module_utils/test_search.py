# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""search.Search against model paths whose true NDR and PDR are known: what it finds must meet
its goals (a full-length passing trial at the rate, a failing one within the precision above)."""

from __future__ import annotations

import pytest

from ansible_collections.kbypass.testbed.plugins.module_utils.search import (
    Search, SearchError, SearchTimeout, offered, passes,
)

FULL, SHORT = 10, 3


class ModelPath(object):
    """A path that forwards up to ``ndr`` pps without loss, loses a little more above it (``pdr``:
    where loss reaches 0.5 %), and everything above ``capacity``; the generator sends at most
    ``generator`` pps and its pacer falls ``shortfall`` short. ``long_only``: a rate above which
    only full-length trials lose (a buffer that fills slowly)."""

    def __init__(self, ndr, pdr, capacity, generator, shortfall=0.0, long_only=None, invalid_at=None):
        self.ndr, self.pdr, self.capacity, self.generator = ndr, pdr, capacity, generator
        self.shortfall, self.long_only, self.invalid_at = shortfall, long_only, invalid_at
        self.seconds = 0.0
        self.calls = []

    def loss(self, tx, duration):
        if self.long_only is not None and duration == FULL and tx > self.long_only:
            return 0.01
        if tx <= self.ndr:
            return 0.0
        if tx <= self.pdr:
            return 0.005 * (tx - self.ndr) / (self.pdr - self.ndr)
        rx = min(tx, self.capacity)
        return max(0.006, (tx - rx) / tx)

    def __call__(self, rate, duration, phase):
        self.calls.append((rate, duration, phase))
        self.seconds += duration + 1
        tx = self.generator if not rate else min(rate * (1 - self.shortfall), self.generator)
        loss = self.loss(tx, duration)
        invalid = 'traffic stopped' if self.invalid_at and rate and rate >= self.invalid_at else None
        return {'tx_pps': tx, 'rx_pps': tx * (1 - loss), 'loss_ratio': loss, 'invalid': invalid,
                'offered': offered(rate, tx, 0.05)}


def search(model, precision=0.005, precision_pps=1000, max_s=600):
    return Search(model, {'ndr': 0.0, 'pdr': 0.005}, precision, precision_pps, SHORT, FULL, max_s,
                  clock=lambda: model.seconds)


def check_goal(srch, found, loss):
    """The goal's rate has a full-length trial that passed it; the lowest failing rate is within
    the precision above it."""
    trial = found['trial']
    assert trial['duration_s'] == FULL and passes(trial, loss)
    assert srch.rate_of(trial) == found['rate_pps']
    assert found['upper_pps'] - found['rate_pps'] <= srch.width(found['upper_pps'])
    assert found['upper_pps'] == srch.upper(loss)


MODELS = {
    'kernel (NDR far below PDR)': ModelPath(55000, 225000, 230000, 1200000),
    'dpdk (NDR near PDR)': ModelPath(5390000, 5850000, 5900000, 9000000),
    'pacer 3 % short': ModelPath(400000, 500000, 520000, 2000000, shortfall=0.03),
    'loses only over full length above 300 kpps': ModelPath(400000, 500000, 520000, 2000000, long_only=300000),
}


@pytest.mark.parametrize('name', sorted(MODELS))
def test_search_finds_each_goal_within_its_precision(name):
    model = MODELS[name]
    srch = search(model)
    out = srch.run()
    assert out['ceiling_pps'] == model.generator
    for goal, loss, true in (('ndr', 0.0, model.ndr), ('pdr', 0.005, model.pdr)):
        found = out['goals'][goal]
        assert found['bound'] == 'search'
        check_goal(srch, found, loss)
        if model.long_only is None:
            # the true rate (in what the pacer sends) lies in the final interval
            assert found['trial']['tx_pps'] <= true <= found['upper_pps'] * (1 - model.shortfall) + 1
    assert out['goals']['ndr']['rate_pps'] <= out['goals']['pdr']['rate_pps']
    # short trials narrow, full ones only confirm: few full-length trials, and few trials in all
    phases = [c[2] for c in model.calls]
    assert phases[0] == 'max' and set(phases) <= {'max', 'narrow', 'confirm'}
    # narrowing trials are short until a full-length trial contradicts one, full-length after
    contradicted = False
    for _rate, duration, phase in model.calls:
        assert duration == (SHORT if phase == 'narrow' and not contradicted else FULL)
        contradicted = contradicted or (phase == 'confirm' and _rate > (model.long_only or float('inf')))
    assert contradicted == (model.long_only is not None)
    assert phases.count('confirm') <= 4 + (2 if model.long_only else 0)
    assert len(model.calls) <= (40 if model.long_only else 30)


def test_a_generator_that_cannot_overload_the_path_bounds_the_goals():
    model = ModelPath(3000000, 3100000, 3200000, 1000000)
    out = search(model).run()
    assert [c[2] for c in model.calls] == ['max']
    for goal in ('ndr', 'pdr'):
        assert out['goals'][goal]['bound'] == 'generator' and out['goals'][goal]['rate_pps'] == 1000000


def test_a_path_that_loses_at_every_rate_is_reported_below_the_floor():
    model = ModelPath(-1, 500, 100000, 1000000)
    out = search(model, precision_pps=10000).run()
    assert out['goals']['ndr'] == {'rate_pps': 0, 'upper_pps': 10000, 'trial': None, 'bound': 'floor'}
    assert min(c[0] for c in model.calls if c[0]) == 10000


def test_a_search_out_of_time_stops_with_what_it_did():
    model = ModelPath(55000, 225000, 230000, 1200000)
    srch = search(model, max_s=30)
    with pytest.raises(SearchTimeout, match='time budget of 30 s spent after'):
        srch.run()
    assert srch.trials and model.seconds <= 30 + FULL + 1


def test_invalid_trials_are_upper_bounds_never_results():
    model = ModelPath(400000, 500000, 520000, 2000000, invalid_at=450000)
    srch = search(model)
    out = srch.run()
    assert out['goals']['pdr']['rate_pps'] < 450000 < out['goals']['pdr']['upper_pps'] + srch.width(450000)
    assert not any(t.get('invalid') for t in (out['goals'][g]['trial'] for g in ('ndr', 'pdr')))


def test_an_unpaced_trial_that_moved_nothing_stops_the_search():
    def nothing(rate, duration, phase):
        return {'tx_pps': 0.0, 'rx_pps': 0.0, 'loss_ratio': None, 'invalid': 'moved nothing', 'offered': True}
    with pytest.raises(SearchError, match='moved nothing'):
        Search(nothing, {'ndr': 0.0}, 0.005, 1000, SHORT, FULL, 60, clock=lambda: 0).run()


@pytest.mark.parametrize('rate, tx, tolerance, expected', [
    (0, 5.0, 0.05, True),
    (1000000, 950000, 0.05, True),
    (1000000, 949999, 0.05, False),
    (1000000, None, 0.05, False),
    (5590000, 5350000, 0.01, False),
])
def test_offered_within_tolerance(rate, tx, tolerance, expected):
    assert offered(rate, tx, tolerance) is expected
