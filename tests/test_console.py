"""What the terminal shows at the end of a job and while ensembling: no column that says nothing, the score ties
break on when the top models tie, each AutoGluon model once."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from autopilot.console import ConsoleReporter
from autopilot.leaderboard import build_leaderboard
from autopilot.problem import Problem
from autopilot.search.spec import TrialResult, TrialSpec

SPECIES = Problem("species", "multiclass", "Accuracy", "three labels", classes=["Adelie", "Chinstrap", "Gentoo"])


def _result(trial: str, candidate: str, accuracy: float, logloss: float) -> TrialResult:
    metrics = {"Accuracy": accuracy, "LogLoss": logloss, "predict_seconds": 0.01}
    return TrialResult(TrialSpec(trial, candidate, {}, 1.0, 0), "succeeded", metrics, 1.0)


def _table(results: list[TrialResult]) -> str:
    console = Console(record=True, width=200)
    ConsoleReporter(console).finished(Path("job"), build_leaderboard(results, SPECIES), SPECIES)
    return console.export_text().splitlines()[2]  # the header row


def test_the_leaderboard_shows_the_tie_break_score_when_the_top_models_tie() -> None:
    tied = [_result("001-XGBoost", "autogluon", 0.98, 0.2), _result("002-CatBoost", "autogluon", 0.98, 0.1)]
    header = _table(tied)
    assert "LogLoss" in header and "candidate" not in header  # every model is AutoGluon's: no candidate column
    apart = [_result("001-xgboost", "xgboost", 0.98, 0.2), _result("002-mlp", "mlp", 0.95, 0.1)]
    header = _table(apart)
    assert "candidate" in header and "LogLoss" not in header


def test_ensembling_shows_a_model_once_as_it_trains_and_the_scoring_only_for_failures() -> None:
    console = Console(record=True, width=200)
    reporter = ConsoleReporter(console)  # no search under way: ensembling
    reporter.trial_finished(_result("001-XGBoost", "autogluon", 0.98, 0.2))
    failed = TrialResult(TrialSpec("002-CatBoost", "autogluon", {}, 1.0, 0), "failed", {}, 0.0, "out of memory")
    reporter.trial_finished(failed)
    shown = console.export_text()
    assert "001-XGBoost" not in shown and "failed 002-CatBoost: out of memory" in shown
