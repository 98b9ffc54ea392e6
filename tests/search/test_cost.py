"""The cost-aware rule with made-up timings and a fake clock (no wall clock): expected seconds, what fits in the time
left, the portfolio's order, the algorithm the search may pick, and each fit's share of a trial's time."""

from __future__ import annotations

from pathlib import Path

import pytest

from autopilot.candidates import REGISTRY
from autopilot.candidates.base import portfolio_params
from autopilot.metrics import get_metric
from autopilot.search.cost import FitClock, TrialCosts, affordable, cheapest_first, trial_end
from autopilot.search.optuna_strategy import OptunaStrategy
from autopilot.search.spec import FAILED, SUCCEEDED, TrialResult, TrialSpec

CANDIDATES = ["linear-learner", "mlp", "xgboost"]
ACCURACY = get_metric("Accuracy", "binary")
SECONDS = {"linear-learner": 1.0, "mlp": 30.0, "xgboost": 2.0}  # made-up trial times
SCORES = {"linear-learner": 0.7, "mlp": 0.95, "xgboost": 0.8}  # and scores


def _result(spec: TrialSpec, seconds: float, score: float = 0.8, ok: bool = True) -> TrialResult:
    if not ok:
        return TrialResult(spec, FAILED, {}, seconds, "TrialTimeout: stopped at its time limit")
    return TrialResult(spec, SUCCEEDED, {"Accuracy": score}, seconds)


def test_expected_seconds_are_the_median_per_unit_of_budget() -> None:
    costs = TrialCosts()
    assert costs.expected("mlp") == 0.0  # never seen: tried anyway
    for seconds, budget in ((10.0, 1.0), (30.0, 1.0), (2.0, 1 / 9)):  # 10, 30 and 18 per unit
        costs.record(_result(TrialSpec("x", "mlp", {}, budget), seconds))
    costs.record(_result(TrialSpec("y", "mlp"), 100.0, ok=False))  # stopped at a limit: at least that long
    assert costs.expected("mlp") == pytest.approx(24.0)  # median of 10, 18, 30, 100
    assert costs.expected("mlp", budget=1 / 3) == pytest.approx(8.0)


def test_a_trial_fits_when_its_expected_seconds_are_within_the_time_left() -> None:
    assert affordable(30.0, None)  # no time limit: everything fits
    assert affordable(30.0, 30.0) and not affordable(30.1, 30.0)
    assert affordable(0.0, 0.5)


def test_portfolio_order_is_by_rank_then_cheapest_candidate() -> None:
    costs = TrialCosts()
    for key, seconds in SECONDS.items():
        costs.record(_result(TrialSpec("d", key), seconds))
    entries = [(0, "linear-learner"), (1, "linear-learner"), (0, "mlp"), (0, "xgboost"), (1, "xgboost")]
    assert cheapest_first(entries, costs) == [
        (0, "linear-learner"),
        (0, "xgboost"),
        (0, "mlp"),
        (1, "linear-learner"),
        (1, "xgboost"),
    ]
    assert cheapest_first(entries, TrialCosts()) == sorted(entries, key=lambda e: e[0])  # no timings: as given


def test_each_remaining_fit_gets_an_equal_share_of_the_time_left() -> None:
    now = [100.0]
    clock = FitClock(end=160.0, fits=6, clock=lambda: now[0])
    assert clock.share() == pytest.approx(0.9 * 60 / 6)
    now[0] = 150.0  # the first fit took 50 s: five fits share the last 10 s
    assert clock.share() == pytest.approx(0.9 * 10 / 5)
    now[0] = 170.0
    assert clock.share() == 0.0
    assert FitClock(end=None, fits=6).share() is None
    assert trial_end(10.0, deadline=100.0, trial_time_limit=30.0) == 40.0
    assert trial_end(10.0, deadline=25.0, trial_time_limit=30.0) == 25.0
    assert trial_end(10.0, deadline=None, trial_time_limit=None) is None


def _timed_strategy(tmp_path: Path, now: list[float], deadline: float) -> OptunaStrategy:
    """A strategy whose defaults have finished with ``SECONDS``; the fake clock reads ``now[0]``."""
    strategy = OptunaStrategy(
        CANDIDATES, {}, ACCURACY, 40, seed=0, journal=tmp_path / "j", deadline=deadline, clock=lambda: now[0]
    )
    for _ in CANDIDATES:
        spec = strategy.ask()
        strategy.tell(_result(spec, SECONDS[spec.candidate], SCORES[spec.candidate]))
    return strategy


def test_with_a_time_limit_the_portfolio_runs_cheapest_first_and_skips_what_does_not_fit(tmp_path: Path) -> None:
    now = [0.0]
    strategy = _timed_strategy(tmp_path, now, deadline=20.0)  # 20 s left: the MLP (30 s) does not fit
    portfolio = {key: portfolio_params(REGISTRY[key], {}) for key in CANDIDATES}
    asked = [strategy.ask() for _ in range(5)]
    assert [(s.candidate, s.params) for s in asked] == [
        ("linear-learner", portfolio["linear-learner"][0]),
        ("xgboost", portfolio["xgboost"][0]),
        ("linear-learner", portfolio["linear-learner"][1]),
        ("xgboost", portfolio["xgboost"][1]),
        ("xgboost", portfolio["xgboost"][2]),
    ]
    for spec in asked:
        strategy.tell(_result(spec, SECONDS[spec.candidate], SCORES[spec.candidate]))
    later = [strategy.ask() for _ in range(4)]  # the search's own picks: never the MLP, which would not finish
    assert all(s.candidate != "mlp" for s in later)
    assert {s.candidate for s in later} == {"xgboost"}  # the affordable one with the best score (the MLP's is better)
    now[0] = 19.5  # half a second left: nothing fits, so nothing starts
    assert strategy.ask() is None


def test_without_a_time_limit_the_portfolio_goes_in_candidate_order(tmp_path: Path) -> None:
    strategy = OptunaStrategy(CANDIDATES, {}, ACCURACY, 40, seed=0, journal=tmp_path / "j")
    for _ in CANDIDATES:
        spec = strategy.ask()
        strategy.tell(_result(spec, SECONDS[spec.candidate]))
    asked = [strategy.ask().candidate for _ in range(7)]
    assert asked == ["linear-learner", "mlp", "xgboost", "linear-learner", "mlp", "xgboost", "xgboost"]
