"""The job's wall clock: stage shares, shrinking to fit, the ensembling plan by budget, and what job.json says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import autopilot.budget as budget_module
from autopilot import AutoPilot
from autopilot.budget import JobBudget, default_time_limit
from autopilot.ensemble_plan import plan_ensembling

PENGUINS = Path(__file__).resolve().parents[1] / "datasets" / "penguins.csv"


class FakeClock:
    """``time.monotonic`` that a stub can move forward, as if a stage had been slow."""

    def __init__(self) -> None:
        import time

        self.real, self.offset = time.monotonic, 0.0

    def __call__(self) -> float:
        return self.real() + self.offset


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(budget_module, "_clock", fake)
    return fake


def test_stages_share_the_limit_and_the_search_gets_the_rest(clock: FakeClock) -> None:
    budget = JobBudget(60.0)
    clock.offset += 2.0  # loading and profiling
    plan = budget.plan_stages()
    assert set(plan) == {"explain", "report", "notebooks", "refit", "search"}
    assert sum(plan.values()) == pytest.approx(58.0, abs=0.05)
    assert plan["explain"] <= 0.1 * 60 and plan["search"] > 0.6 * 60
    assert budget.search_deadline() == pytest.approx(budget.started + 60 - budget.post_reserve() - plan["refit"])
    assert budget.hard_end() == pytest.approx(budget.started + 66.0)
    assert budget.plan_stages(0.0)["search"] > plan["search"]  # no refit: its share goes to the search


def test_a_stage_shrinks_when_an_earlier_one_overran(clock: FakeClock) -> None:
    budget = JobBudget(30.0)
    planned = budget.plan_stages(0.0)
    assert budget.allowance("explain") == pytest.approx(planned["explain"])
    clock.offset += 28.5  # the search ran long: 1.5 s left for explain, report and notebooks
    left_for_explain = budget.allowance("explain")
    assert 0 <= left_for_explain < planned["explain"]
    assert left_for_explain == pytest.approx(max(0.0, 1.5 - planned["report"] - planned["notebooks"]), abs=0.05)
    clock.offset += 10
    assert budget.remaining() == 0 and budget.allowance("report") == 0


@pytest.mark.parametrize("given", [True, False])
def test_the_explanation_gets_what_the_refit_left_of_a_limit_the_user_gave(clock: FakeClock, given: bool) -> None:
    budget = JobBudget(60.0, given=given)
    planned = budget.plan_stages()
    clock.offset += 60.0 - budget.post_reserve() - planned["refit"]  # the search ends on time; the refit is skipped
    extra = planned["refit"] if given else 0.0  # a picked limit: the job ends sooner instead
    assert budget.allowance("explain") == pytest.approx(planned["explain"] + extra, abs=0.05)
    clock.offset += planned["refit"]  # a refit that took its whole share leaves the explanation its own
    assert budget.allowance("explain") == pytest.approx(planned["explain"], abs=0.05)


def test_autogluon_stops_early_enough_to_ensemble_and_score_its_models_by_the_deadline() -> None:
    """What follows AutoGluon's last model (the weighted ensemble, scoring and writing every model) is taken off its
    time limit: about 4% of it, 1 to 3 s."""
    import time

    from autopilot.ensemble import _fit_seconds

    assert _fit_seconds(None) is None
    for seconds, expected in [(10.0, 9.0), (50.0, 48.0), (300.0, 297.0), (0.5, 1.0)]:
        assert _fit_seconds(time.monotonic() + seconds) == pytest.approx(expected, abs=0.05)


def test_no_limit_plans_nothing_and_the_default_limit_fits_the_data() -> None:
    budget = JobBudget(None)
    assert budget.plan_stages() == {} and budget.search_deadline() is None and budget.allowance("x") is None
    assert default_time_limit(344, 7) == 20.0  # the README's example
    assert default_time_limit(4_500, 20) == pytest.approx(60.0)
    assert default_time_limit(10**7, 100) == 3600.0


def test_the_plan_bags_small_data_and_holds_out_on_a_tight_budget() -> None:
    small = plan_ensembling(rows=344, columns=7, classes=3, search_seconds=45, cores=2)
    assert (small.scheme, small.folds, small.refit) == ("bagging", 5, False)
    assert plan_ensembling(rows=344, columns=7, classes=3, search_seconds=600, cores=2).stack_levels == 1
    tight = plan_ensembling(rows=50_000, columns=50, classes=2, search_seconds=45, cores=2)
    assert (tight.scheme, tight.folds, tight.stack_levels, tight.refit) == ("holdout", 0, 0, False)  # no reserve
    medium = plan_ensembling(rows=5_000, columns=8, classes=2, search_seconds=45, cores=2)
    assert (medium.scheme, medium.refit) == ("holdout", True)
    assert tight.reasons and "50,000 rows" in tight.reasons[0]
    more_cores = plan_ensembling(rows=50_000, columns=50, classes=2, search_seconds=45, cores=64)
    assert more_cores.pass_seconds < tight.pass_seconds
    assert small.families[0] == "lightgbm" and small.families[-1] == "nn-torch"  # strongest first


def test_bagging_without_a_stack_is_chosen_once_its_estimate_fits_four_fifths_of_the_search() -> None:
    bags = 4 * plan_ensembling(rows=455, columns=30, classes=2, search_seconds=None, cores=2).pass_seconds
    fits = plan_ensembling(rows=455, columns=30, classes=2, search_seconds=1.3 * bags, cores=2)
    assert (fits.scheme, fits.stack_levels) == ("bagging", 0)
    assert plan_ensembling(rows=455, columns=30, classes=2, search_seconds=1.2 * bags, cores=2).scheme == "holdout"


def test_a_refit_is_skipped_when_it_does_not_fit_unless_it_takes_under_a_second() -> None:
    from autopilot.budget import refit_skipped

    assert refit_skipped("m", 30.0, None) is None  # no limit
    assert refit_skipped("m", 4.0, 5.0) is None
    assert refit_skipped("m", 0.1, -2.0) is None  # a search that overran still leaves room for a tiny refit
    assert refit_skipped("m", 8.0, 5.0) == "refit skipped: retraining m on every row would take ~8.0 s, 5 s left"
    assert refit_skipped("m", 3.0, 0.2).endswith("no time left")


@pytest.mark.parametrize(("limit", "scheme", "refit"), [(10.0, "holdout", 0.05 * 10), (60.0, "bagging", None)])
def test_a_holdout_that_keeps_no_refit_time_still_keeps_some_for_a_quick_refit(
    tmp_path: Path, limit: float, scheme: str, refit: float | None
) -> None:
    """A holdout plan too tight to keep the refit's share keeps a small one, so a cheap refit is not skipped for
    want of time; bagging needs none."""
    from autopilot.config import JobConfig
    from autopilot.job import plan_budget
    from autopilot.prepare import prepare

    lines: list[str] = []
    config = JobConfig(target="species", time_limit=limit, output=str(tmp_path / "job"))
    prepared, budget = prepare(PENGUINS, config), JobBudget(limit)
    plan_budget(prepared, config, budget, type("Reporter", (), {"plan": lambda self, line: lines.append(line)})())
    assert prepared.plan.scheme == scheme and not prepared.plan.refit
    assert budget.planned.get("refit") == (None if refit is None else pytest.approx(refit, abs=0.01))
    assert any(line.startswith("Budget:") for line in lines)


def test_a_given_time_limit_spends_what_the_defaults_leave_on_the_portfolio() -> None:
    from autopilot.ensemble_families import DEFAULT_TIME_SHARE, PORTFOLIO_TIME_SHARE, hyperparameters

    given = plan_ensembling(rows=344, columns=7, classes=3, search_seconds=45, cores=2, portfolio=True)
    picked = plan_ensembling(rows=344, columns=7, classes=3, search_seconds=45, cores=2)
    assert given.portfolio and "zero-shot portfolio" in given.describe()
    assert not picked.portfolio and "portfolio" not in picked.describe()
    defaults, more = hyperparameters(["catboost", "xgboost"]), hyperparameters(["catboost", "xgboost"], True)
    assert set(more) == set(defaults) == {"CAT", "XGB"}  # only the families asked for
    for key, settings in defaults.items():
        extra = more[key][len(settings) :]
        assert more[key][: len(settings)] == settings and extra  # the defaults first, unchanged
        lowest = min(s["ag_args"]["priority"] for s in settings)
        assert all(s["ag_args"]["priority"] < min(lowest, 0) for s in extra)  # and trained after every default
        assert all(s["ag_args_fit"]["max_time_limit_ratio"] == PORTFOLIO_TIME_SHARE for s in extra)  # held to a share
        assert all(s["ag_args_fit"]["max_time_limit_ratio"] == DEFAULT_TIME_SHARE for s in settings)


def test_a_slow_stage_makes_explain_shrink_and_job_json_says_so(
    clock: FakeClock, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import autopilot.job as job_module

    real_notebooks = job_module.write_notebooks

    def slow_notebooks(job_dir: Path, **kwargs: object) -> list:
        clock.offset += 38.0  # as if writing the notebooks had taken 38 of the job's 40 s
        return real_notebooks(job_dir, **kwargs)

    monkeypatch.setattr(job_module, "write_notebooks", slow_notebooks)
    options = {"mode": "hpo", "strategy": "defaults", "algorithms": ["linear-learner"], "time_limit": 40}
    job = AutoPilot(target="species", output=tmp_path / "job", verbose=False, **options).fit(PENGUINS)
    info = json.loads((job.path / "job.json").read_text())
    assert info["status"] == "completed"
    shrunk = info["budget"]["shrunk"]
    assert any(note.startswith("explained ") for note in shrunk), shrunk
    summary = json.loads((job.path / "explain" / "summary.json").read_text())
    assert summary["rows"] < info["resolved"]["validation_rows"] and summary["shrunk"] == shrunk[0]
    assert set(info["budget"]["spent_seconds"]) >= {"load_and_profile", "search", "notebooks", "explain_and_report"}
    assert "Shrunk to fit" in (job.path / "report.html").read_text()


def test_a_tiny_limit_still_gives_the_search_half(clock: FakeClock) -> None:
    plan = JobBudget(4.0).plan_stages()
    assert plan["search"] == pytest.approx(2.0, abs=0.05) and sum(plan.values()) == pytest.approx(4.0, abs=0.05)
