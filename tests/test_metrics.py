"""Every objective metric against scikit-learn, the direction flags, lookup and score_all."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn import metrics as skm

from autopilot.errors import ConfigError
from autopilot.metrics import (
    DEFAULT_METRIC,
    METRICS,
    Metric,
    get_metric,
    metrics_for,
    score_all,
)

N = 120


def _classification(k: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, size=N)
    y[:k] = np.arange(k)  # every class present
    logits = rng.normal(size=(N, k))
    logits[np.arange(N), y] += 1.0  # better than chance, not perfect
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    pred = proba.argmax(axis=1)
    return y, pred, proba


def _regression(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.normal(3.0, 2.0, size=N)
    pred = y + rng.normal(0.0, 1.0, size=N)
    return y, pred


BINARY_REFERENCE = {
    "Accuracy": lambda y, p, pr: skm.accuracy_score(y, p),
    "BalancedAccuracy": lambda y, p, pr: skm.balanced_accuracy_score(y, p),
    "AUC": lambda y, p, pr: skm.roc_auc_score(y, pr[:, 1]),
    "F1": lambda y, p, pr: skm.f1_score(y, p, pos_label=1),
    "F1macro": lambda y, p, pr: skm.f1_score(y, p, average="macro"),
    "LogLoss": lambda y, p, pr: skm.log_loss(y, pr),
    "Precision": lambda y, p, pr: skm.precision_score(y, p, pos_label=1),
    "PrecisionMacro": lambda y, p, pr: skm.precision_score(y, p, average="macro"),
    "Recall": lambda y, p, pr: skm.recall_score(y, p, pos_label=1),
    "RecallMacro": lambda y, p, pr: skm.recall_score(y, p, average="macro"),
}

MULTICLASS_REFERENCE = {
    "Accuracy": lambda y, p, pr: skm.accuracy_score(y, p),
    "BalancedAccuracy": lambda y, p, pr: skm.balanced_accuracy_score(y, p),
    "AUC": lambda y, p, pr: skm.roc_auc_score(y, pr, multi_class="ovr", average="macro"),
    "F1macro": lambda y, p, pr: skm.f1_score(y, p, average="macro"),
    "LogLoss": lambda y, p, pr: skm.log_loss(y, pr),
    "PrecisionMacro": lambda y, p, pr: skm.precision_score(y, p, average="macro"),
    "RecallMacro": lambda y, p, pr: skm.recall_score(y, p, average="macro"),
}

REGRESSION_REFERENCE = {
    "MAE": lambda y, p: skm.mean_absolute_error(y, p),
    "MSE": lambda y, p: skm.mean_squared_error(y, p),
    "RMSE": lambda y, p: math.sqrt(skm.mean_squared_error(y, p)),
    "R2": lambda y, p: skm.r2_score(y, p),
}


def test_every_metric_has_a_reference() -> None:
    covered = set(BINARY_REFERENCE) | set(MULTICLASS_REFERENCE) | set(REGRESSION_REFERENCE)
    assert covered == set(METRICS)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("name", sorted(BINARY_REFERENCE))
def test_binary_metric_matches_sklearn(name: str, seed: int) -> None:
    y, pred, proba = _classification(2, seed)
    got = METRICS[name].score(y, pred, proba)
    assert isinstance(got, float)
    assert got == pytest.approx(BINARY_REFERENCE[name](y, pred, proba), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("name", sorted(MULTICLASS_REFERENCE))
def test_multiclass_metric_matches_sklearn(name: str, seed: int) -> None:
    y, pred, proba = _classification(4, seed)
    got = METRICS[name].score(y, pred, proba)
    assert got == pytest.approx(MULTICLASS_REFERENCE[name](y, pred, proba), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("name", sorted(REGRESSION_REFERENCE))
def test_regression_metric_matches_sklearn(name: str, seed: int) -> None:
    y, pred = _regression(seed)
    got = METRICS[name].score(y, pred)
    assert got == pytest.approx(REGRESSION_REFERENCE[name](y, pred), rel=1e-12, abs=1e-12)


def test_binary_label_metrics_score_class_one() -> None:
    """F1/Precision/Recall score class 1; swapping the labels changes them."""
    y = np.array([1, 1, 1, 0, 0, 0, 0, 0, 0, 0])
    pred = np.array([1, 0, 0, 1, 0, 0, 0, 0, 0, 0])
    assert METRICS["Precision"].score(y, pred) == pytest.approx(0.5)
    assert METRICS["Recall"].score(y, pred) == pytest.approx(1 / 3)
    assert METRICS["F1"].score(y, pred) == pytest.approx(0.4)
    assert METRICS["Precision"].score(1 - y, 1 - pred) == pytest.approx(6 / 8)


def test_binary_metric_from_lists() -> None:
    assert METRICS["Accuracy"].score([0, 1, 1, 0], [0, 1, 0, 0]) == pytest.approx(0.75)


def test_multiclass_logloss_with_absent_class() -> None:
    """LogLoss takes the class count from the probability columns, so a class missing from y is fine."""
    rng = np.random.default_rng(3)
    proba = rng.dirichlet(np.ones(3), size=30)
    y = rng.integers(0, 2, size=30)  # class 2 never occurs
    got = METRICS["LogLoss"].score(y, proba.argmax(1), proba)
    assert got == pytest.approx(skm.log_loss(y, proba, labels=[0, 1, 2]))


def test_multiclass_auc_with_absent_prediction_class() -> None:
    rng = np.random.default_rng(4)
    y = np.array([0, 1, 2] * 20)
    proba = rng.dirichlet(np.ones(3), size=60)
    got = METRICS["AUC"].score(y, np.zeros(60, dtype=int), proba)
    assert got == pytest.approx(skm.roc_auc_score(y, proba, multi_class="ovr", average="macro"))


@pytest.mark.parametrize("name", ["AUC", "LogLoss"])
def test_probability_metrics_need_proba(name: str) -> None:
    y, pred, _ = _classification(2, 0)
    with pytest.raises(ValueError):
        METRICS[name].score(y, pred, None)


def test_perfect_scores() -> None:
    y = np.array([0, 1, 0, 1, 1, 0])
    proba = np.column_stack([1 - y, y]).astype(float) * 0.98 + 0.01
    for name in ("Accuracy", "BalancedAccuracy", "AUC", "F1", "F1macro", "Precision", "Recall"):
        assert METRICS[name].score(y, y, proba) == pytest.approx(1.0), name
    r = np.array([1.0, 2.0, 3.5])
    for name in ("MAE", "MSE", "RMSE"):
        assert METRICS[name].score(r, r) == 0.0
    assert METRICS["R2"].score(r, r) == 1.0


# ---------------------------------------------------------------- direction


@pytest.mark.parametrize(
    ("name", "greater"),
    [
        ("Accuracy", True),
        ("BalancedAccuracy", True),
        ("AUC", True),
        ("F1", True),
        ("F1macro", True),
        ("Precision", True),
        ("PrecisionMacro", True),
        ("Recall", True),
        ("RecallMacro", True),
        ("R2", True),
        ("LogLoss", False),
        ("MAE", False),
        ("MSE", False),
        ("RMSE", False),
    ],
)
def test_greater_is_better(name: str, greater: bool) -> None:
    assert METRICS[name].greater_is_better is greater


def test_better_higher_is_better() -> None:
    acc = METRICS["Accuracy"]
    assert acc.better(0.9, 0.8)
    assert not acc.better(0.8, 0.9)
    assert not acc.better(0.8, 0.8)


def test_better_lower_is_better() -> None:
    for name in ("LogLoss", "MAE", "MSE", "RMSE"):
        metric = METRICS[name]
        assert metric.better(0.1, 0.2), name
        assert not metric.better(0.2, 0.1), name
        assert not metric.better(0.2, 0.2), name


def test_better_on_a_custom_metric() -> None:
    m = Metric("Custom", False, ("regression",), lambda y, p, _: 0.0)
    assert m.better(-1.0, 0.0)


def test_worse_predictions_score_worse() -> None:
    y, pred = _regression(5)
    worse = pred + 3.0
    for name in REGRESSION_REFERENCE:
        metric = METRICS[name]
        assert metric.better(metric.score(y, pred), metric.score(y, worse)), name


# ---------------------------------------------------------------- lookup


def test_metrics_for_membership() -> None:
    binary = {m.name for m in metrics_for("binary")}
    multi = {m.name for m in metrics_for("multiclass")}
    reg = {m.name for m in metrics_for("regression")}
    assert binary == {
        "Accuracy",
        "BalancedAccuracy",
        "AUC",
        "F1",
        "F1macro",
        "LogLoss",
        "Precision",
        "PrecisionMacro",
        "Recall",
        "RecallMacro",
    }
    assert multi == binary - {"F1", "Precision", "Recall"}
    assert "F1" not in multi
    assert reg == {"MAE", "MSE", "RMSE", "R2"}
    assert not (reg & binary)


def test_metrics_for_order_is_fixed() -> None:
    assert [m.name for m in metrics_for("binary")] == [m.name for m in metrics_for("binary")]
    assert [m.name for m in metrics_for("regression")] == ["MAE", "MSE", "RMSE", "R2"]


def test_metrics_for_unknown_type_is_empty() -> None:
    assert metrics_for("clustering") == []


def test_get_metric_default() -> None:
    assert DEFAULT_METRIC == {"binary": "F1", "multiclass": "Accuracy", "regression": "MSE"}
    for problem_type, name in DEFAULT_METRIC.items():
        assert get_metric(None, problem_type).name == name


def test_get_metric_any_case() -> None:
    assert get_metric("auc", "binary") is METRICS["AUC"]
    assert get_metric("LOGLOSS", "multiclass") is METRICS["LogLoss"]
    assert get_metric("r2", "regression") is METRICS["R2"]


def test_get_metric_refuses_wrong_type_and_unknown() -> None:
    with pytest.raises(ConfigError, match="multiclass"):
        get_metric("F1", "multiclass")
    with pytest.raises(ConfigError, match="unknown metric"):
        get_metric("gini", "binary")


# ---------------------------------------------------------------- score_all


def test_score_all_binary_matches_each_metric() -> None:
    y, pred, proba = _classification(2, 6)
    scores = score_all("binary", y, pred, proba)
    assert list(scores) == [m.name for m in metrics_for("binary")]
    for name, value in scores.items():
        assert value == pytest.approx(METRICS[name].score(y, pred, proba)), name


def test_score_all_regression() -> None:
    y, pred = _regression(7)
    scores = score_all("regression", y, pred, None)
    assert set(scores) == set(REGRESSION_REFERENCE)
    assert scores["RMSE"] == pytest.approx(math.sqrt(scores["MSE"]))


@pytest.mark.filterwarnings("ignore")
def test_score_all_auc_nan_with_one_class() -> None:
    y = np.ones(10, dtype=int)
    proba = np.column_stack([np.linspace(0.1, 0.9, 10), 1 - np.linspace(0.1, 0.9, 10)])
    pred = proba.argmax(axis=1)
    scores = score_all("binary", y, pred, proba)
    assert math.isnan(scores["AUC"])
    assert scores["Accuracy"] == pytest.approx(np.mean(pred == 1))
    assert not math.isnan(scores["LogLoss"])


@pytest.mark.filterwarnings("ignore")
def test_score_all_nan_without_proba() -> None:
    y, pred, _ = _classification(3, 8)
    scores = score_all("multiclass", y, pred, None)
    assert math.isnan(scores["AUC"])
    assert math.isnan(scores["LogLoss"])
    assert scores["Accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
