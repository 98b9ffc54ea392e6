"""The constant baseline: its scores, the leaderboard's flag on a trial no better than it, the terminal's line and the
report's lift."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

from autopilot.console import ConsoleReporter
from autopilot.constant_baseline import constant_scores
from autopilot.leaderboard import build_leaderboard
from autopilot.problem import Problem
from autopilot.search.spec import TrialResult, TrialSpec

PENGUINS = Path(__file__).resolve().parents[1] / "datasets" / "penguins.csv"
SPECIES = Problem("species", "multiclass", "Accuracy", "three labels", classes=["Adelie", "Chinstrap", "Gentoo"])


def test_constant_scores_are_the_majority_class_and_the_class_shares() -> None:
    y = pd.read_csv(PENGUINS)["species"]
    scores = constant_scores(SPECIES, y, y)
    shares = y.value_counts(normalize=True)
    assert scores["Accuracy"] == pytest.approx(shares.max())  # always the majority class
    assert scores["BalancedAccuracy"] == pytest.approx(1 / 3) and scores["AUC"] == pytest.approx(0.5)
    assert scores["LogLoss"] == pytest.approx(-sum(shares * np.log(shares)))  # the class shares' entropy
    regression = Problem("y", "regression", "MSE", "numbers")
    values = pd.Series([1.0, 2.0, 3.0, 6.0])
    scores = constant_scores(regression, values.head(3), values)
    assert scores["MAE"] == pytest.approx((1 + 0 + 1 + 4) / 4) and scores["R2"] < 0  # the train mean, 2.0


def _result(trial: str, accuracy: float) -> TrialResult:
    metrics = {"Accuracy": accuracy, "AUC": 0.15 if accuracy < 0.5 else 0.99, "predict_seconds": 0.01}
    return TrialResult(TrialSpec(trial, "mlp", {}, 1.0, 0), "succeeded", metrics, 1.0)


def test_a_collapsed_trial_is_flagged_on_the_leaderboard_and_the_terminal() -> None:
    y = pd.read_csv(PENGUINS)["species"]
    baseline = {"scores": constant_scores(SPECIES, y, y)}
    collapsed = _result("002-mlp", 0.198)  # worse than always answering Adelie (0.4419)
    at_baseline = _result("003-mlp", baseline["scores"]["Accuracy"])  # no better either
    board = build_leaderboard([_result("001-mlp", 0.97), collapsed, at_baseline], SPECIES, "holdout", baseline)
    notes = dict(zip(board["trial"], board["note"], strict=True))
    assert notes["001-mlp"] == ""
    assert notes["002-mlp"] == notes["003-mlp"] == "no better than the constant baseline (Accuracy 0.4419)"
    assert board["status"].eq("succeeded").all() and board["trial"].iloc[0] == "001-mlp"
    console = Console(record=True, width=200)
    ConsoleReporter(console).finished(Path("job"), board, SPECIES)
    shown = console.export_text()
    assert "002-mlp: no better than the constant baseline (Accuracy 0.4419)" in shown and "001-mlp:" not in shown
    assert build_leaderboard([collapsed], SPECIES)["note"].iloc[0] == ""  # no baseline, no flag


def test_the_bootstrap_interval_holds_the_score_and_narrows_with_more_rows() -> None:
    from autopilot.evaluation import bootstrap_interval
    from autopilot.metrics import METRICS

    rng = np.random.default_rng(1)
    widths = []
    for n in (60, 6000):
        y = rng.integers(0, 2, n)
        pred = np.where(rng.random(n) < 0.9, y, 1 - y)  # 90% right
        interval = bootstrap_interval(METRICS["Accuracy"], y, pred, None)
        assert interval["low"] < 0.9 < interval["high"] and interval["rows"] == n
        widths.append(interval["high"] - interval["low"])
    assert widths[1] < widths[0] / 5  # about sqrt(100) = 10 times narrower
