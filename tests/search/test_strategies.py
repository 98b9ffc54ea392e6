"""Search strategies driven by hand (no training): Bayesian / random over the union space, successive halving,
resuming from the journal, the strategy choice by data size."""

from __future__ import annotations

from pathlib import Path

import pytest

from autopilot.candidates import REGISTRY
from autopilot.candidates.base import portfolio_params
from autopilot.errors import ConfigError
from autopilot.metrics import get_metric
from autopilot.search.halving import BUDGETS, SuccessiveHalvingStrategy
from autopilot.search.optuna_strategy import OptunaStrategy, fixed_params
from autopilot.search.plan import choose_strategy
from autopilot.search.spec import FAILED, SUCCEEDED, TrialResult, TrialSpec

CANDIDATES = ["linear-learner", "mlp", "xgboost"]
ACCURACY = get_metric("Accuracy", "binary")


def _result(spec: TrialSpec, score: float | None) -> TrialResult:
    if score is None:
        return TrialResult(spec, FAILED, {}, 0.1, "ValueError: broken")
    return TrialResult(spec, SUCCEEDED, {"Accuracy": score}, 0.1)


def _score(spec: TrialSpec) -> float:
    """A made-up objective: xgboost with a small eta is best; more budget helps a little."""
    if spec.candidate == "xgboost":
        return 0.9 - abs(spec.params.get("eta", 0.1) - 0.02) + 0.01 * spec.budget
    return 0.6 + 0.01 * spec.budget


def _run_all(strategy: object) -> list[TrialSpec]:
    """Ask until the strategy has nothing more, telling each trial its made-up score; the specs asked."""
    specs = []
    while (spec := strategy.ask()) is not None:
        specs.append(spec)
        strategy.tell(_result(spec, _score(spec)))
    return specs


def test_defaults_first_then_suggestions_inside_each_space(tmp_path: Path) -> None:
    strategy = OptunaStrategy(CANDIDATES, {}, ACCURACY, max_trials=12, seed=0, journal=tmp_path / "j")
    specs = _run_all(strategy)
    assert len(specs) == 12
    assert [(s.id, s.params) for s in specs[:3]] == [(f"00{i + 1}-{k}", {}) for i, k in enumerate(CANDIDATES)]
    assert len({s.id for s in specs}) == 12
    for spec in specs[3:]:
        space = REGISTRY[spec.candidate].search_space({})
        assert set(spec.params) == set(space)
        for name, value in spec.params.items():
            assert space[name]._contains(space[name].to_internal_repr(value)), (name, value)


def test_same_seed_same_suggestions(tmp_path: Path) -> None:
    runs = []
    for i in range(2):
        strategy = OptunaStrategy(CANDIDATES, {}, ACCURACY, max_trials=8, seed=4, journal=tmp_path / f"j{i}")
        specs = _run_all(strategy)
        runs.append(specs)
    assert runs[0] == runs[1]


def test_failed_trials_are_told_and_the_search_goes_on(tmp_path: Path) -> None:
    strategy = OptunaStrategy(CANDIDATES, {}, ACCURACY, max_trials=9, seed=0, journal=tmp_path / "j", sampler="random")
    seen = 0
    while (spec := strategy.ask()) is not None:
        seen += 1
        strategy.tell(_result(spec, None if seen % 2 else _score(spec)))
    assert seen == 9
    states = [t.state.name for t in strategy.study.get_trials()]
    assert states.count("FAIL") == 3 and states.count("COMPLETE") == 3


def test_resume_repeats_no_finished_trial_and_reruns_the_unfinished(tmp_path: Path) -> None:
    journal = tmp_path / "j"
    first = OptunaStrategy(CANDIDATES, {}, ACCURACY, max_trials=10, seed=0, journal=journal)
    finished: dict[str, TrialResult] = {}
    asked = [first.ask() for _ in range(7)]
    for spec in asked[:5]:  # 001-005 finish; 006 and 007 were running when the job was killed
        finished[spec.id] = _result(spec, _score(spec))
        first.tell(finished[spec.id])
    again = OptunaStrategy(CANDIDATES, {}, ACCURACY, max_trials=10, seed=0, journal=journal, finished=finished)
    rest = _run_all(again)
    assert rest[:2] == asked[5:7]  # the same specs again
    assert [s.id for s in rest[2:]] == [
        "008-" + rest[2].candidate,
        "009-" + rest[3].candidate,
        "010-" + rest[4].candidate,
    ]
    assert not {s.id for s in rest} & set(finished)


def test_resume_when_a_default_finished_after_the_kill(tmp_path: Path) -> None:
    first = OptunaStrategy(CANDIDATES, {}, ACCURACY, max_trials=5, seed=0, journal=tmp_path / "j")
    spec = first.ask()
    finished = {spec.id: _result(spec, 0.5)}
    again = OptunaStrategy(CANDIDATES, {}, ACCURACY, max_trials=5, seed=0, journal=tmp_path / "j", finished=finished)
    assert again.ask().id == "002-mlp"


def _portfolio_in_order() -> list[tuple[str, dict]]:
    """Every candidate's portfolio, first configurations first (candidate order within a rank)."""
    portfolio = {key: portfolio_params(REGISTRY[key], {}) for key in CANDIDATES}
    return [(key, portfolio[key][rank]) for rank in range(4) for key in CANDIDATES if rank < len(portfolio[key])]


def test_portfolio_runs_after_the_defaults_and_the_search_learns_from_it(tmp_path: Path) -> None:
    strategy = OptunaStrategy(CANDIDATES, {}, ACCURACY, max_trials=14, seed=0, journal=tmp_path / "j")
    specs = _run_all(strategy)
    portfolio = _portfolio_in_order()
    assert len(portfolio) == 7
    assert [(s.candidate, s.params) for s in specs[3:10]] == portfolio
    told = strategy.study.get_trials()
    assert [t.params for t in told[:7]] == [fixed_params(key, params) for key, params in portfolio]
    assert all(t.state.name == "COMPLETE" for t in told)  # TPE's history starts with the portfolio
    assert all((s.candidate, s.params) not in portfolio for s in specs[10:])


def test_resume_never_repeats_a_finished_portfolio_trial(tmp_path: Path) -> None:
    journal = tmp_path / "j"
    first = OptunaStrategy(CANDIDATES, {}, ACCURACY, max_trials=14, seed=0, journal=journal)
    asked = [first.ask() for _ in range(7)]  # the defaults and four portfolio trials
    finished = {spec.id: _result(spec, _score(spec)) for spec in asked[:5]}  # 006 and 007 were running
    for spec in asked[:5]:
        first.tell(finished[spec.id])
    again = OptunaStrategy(CANDIDATES, {}, ACCURACY, max_trials=14, seed=0, journal=journal, finished=finished)
    rest = _run_all(again)
    assert rest[:2] == asked[5:7]  # the unfinished ones again, with the same spec
    runs = [(s.candidate, s.params) for s in asked[:5] + rest]
    assert len(runs) == 14 and all(runs.count(entry) == 1 for entry in _portfolio_in_order())
    assert [t.params for t in again.study.get_trials()[:7]] == [fixed_params(k, p) for k, p in _portfolio_in_order()]


def test_successive_halving_promotes_the_best_and_stops_the_rest(tmp_path: Path) -> None:
    strategy = SuccessiveHalvingStrategy(["xgboost"], {}, ACCURACY, max_trials=40, seed=0, journal=tmp_path / "j")
    specs = _run_all(strategy)
    budgets = [s.budget for s in specs]
    assert budgets[0] == 1.0  # the defaults run in full
    assert budgets.count(BUDGETS[0]) > budgets.count(BUDGETS[1]) > budgets.count(BUDGETS[2]) - 1 > 0
    for spec in specs:
        if spec.budget > BUDGETS[0] and spec.params:  # a promotion: the same config ran on the budget below
            below = BUDGETS[BUDGETS.index(spec.budget) - 1]
            assert any(s.params == spec.params and s.budget == below for s in specs)
    best_low = max((s for s in specs if s.budget == BUDGETS[0]), key=_score)
    assert any(s.params == best_low.params and s.budget == 1.0 for s in specs)


def test_strategy_by_data_size() -> None:
    assert choose_strategy("auto", 50 * 1000**2) == "bayesian"
    assert choose_strategy("auto", 101 * 1000**2) == "multi-fidelity"
    assert choose_strategy("random", 10**12) == "random"
    with pytest.raises(ConfigError, match="--strategy must be one of"):
        choose_strategy("grid", 1)


def test_budget_rows_keep_every_class_and_are_seeded() -> None:
    import pandas as pd

    from autopilot.problem import Problem
    from autopilot.search.runner import budget_rows

    train = pd.DataFrame({"x": range(900), "y": ["rare"] * 3 + ["a"] * 597 + ["b"] * 300})
    problem = Problem("y", "multiclass", "Accuracy", "test", classes=["a", "b", "rare"])
    ninth = budget_rows(train, problem, 1 / 9, seed=0)
    assert 95 <= len(ninth) <= 105 and set(ninth["y"]) == {"a", "b", "rare"}
    assert ninth.equals(budget_rows(train, problem, 1 / 9, seed=0))
    assert len(budget_rows(train.head(40), problem, 1 / 9, seed=0)) == 40  # never below 50 rows (here: all)


def test_multi_fidelity_resume_never_hands_out_an_id_twice(tmp_path: Path) -> None:
    journal = tmp_path / "j"
    first = SuccessiveHalvingStrategy(["xgboost"], {}, ACCURACY, max_trials=40, seed=0, journal=journal)
    finished: dict[str, TrialResult] = {}
    for _ in range(20):  # promotions and new trials interleave
        spec = first.ask()
        finished[spec.id] = _result(spec, _score(spec))
        first.tell(finished[spec.id])
    running = [first.ask() for _ in range(4)]  # asked, then the job was killed
    assert any(s.spec.budget > BUDGETS[0] and s.spec.params for s in finished.values())  # promotions among them
    again = SuccessiveHalvingStrategy(
        ["xgboost"], {}, ACCURACY, max_trials=40, seed=0, journal=journal, finished=finished
    )
    rest = _run_all(again)
    ids = [s.id for s in rest]
    assert len(ids) == len(set(ids)) and not set(ids) & set(finished)  # no trial folder is written twice
    requeued = {s.id: s for s in rest if s.id in {r.id for r in running}}
    assert all(requeued[r.id] == r for r in running if r.id in requeued)  # an unfinished trial reruns as it was
    assert not [t for t in again.study.get_trials() if t.state.name == "RUNNING"]  # every study trial is told


class _ScrambledExecutor:
    """Finishes each trial after a random delay (seeded), so parallel trials land in a different order per seed."""

    def __init__(self, seed: int) -> None:
        import random

        self.random = random.Random(seed)

    def submit(self, fn: object, spec: TrialSpec, data: object) -> object:
        import threading
        from concurrent.futures import Future

        future: Future = Future()
        delay = self.random.uniform(0.0, 0.05)
        threading.Timer(delay, future.set_result, [_result(spec, _score(spec))]).start()
        return future


def test_parallel_trials_finishing_in_any_order_give_the_same_search(tmp_path: Path) -> None:
    from autopilot.search.executors import run_search

    searches = []
    for run in range(3):
        strategy = OptunaStrategy(CANDIDATES, {}, ACCURACY, max_trials=16, seed=0, journal=tmp_path / f"j{run}")
        results = run_search(strategy, _ScrambledExecutor(seed=run), data=None, parallel_trials=3)
        assert len(results) == 16
        searches.append([(r.spec.id, r.spec.params) for r in sorted(results, key=lambda r: r.spec.id)])
    assert searches[0] == searches[1] == searches[2]
