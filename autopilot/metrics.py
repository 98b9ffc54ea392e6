"""Objective metrics under SageMaker Autopilot's names, computed with scikit-learn."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sklearn import metrics as skm

from autopilot.errors import ConfigError

BINARY, MULTICLASS, REGRESSION = "binary", "multiclass", "regression"
CLASSIFICATION = (BINARY, MULTICLASS)


@dataclass(frozen=True)
class Metric:
    """One objective. ``score(y_true, y_pred, proba)`` takes encoded labels 0..K-1 and class probabilities."""

    name: str
    greater_is_better: bool
    problem_types: tuple[str, ...]
    fn: Callable[[np.ndarray, np.ndarray, np.ndarray | None], float]

    def score(self, y_true: np.ndarray, y_pred: np.ndarray, proba: np.ndarray | None = None) -> float:
        return float(self.fn(np.asarray(y_true), np.asarray(y_pred), proba))

    def better(self, a: float, b: float) -> bool:
        """Whether score ``a`` beats score ``b``."""
        return a > b if self.greater_is_better else a < b


def _auc(y: np.ndarray, _pred: np.ndarray, proba: np.ndarray | None) -> float:
    if proba is None:
        raise ValueError("AUC needs class probabilities")
    if proba.shape[1] == 2:
        return skm.roc_auc_score(y, proba[:, 1])
    return skm.roc_auc_score(y, proba, multi_class="ovr", average="macro", labels=np.arange(proba.shape[1]))


def _logloss(y: np.ndarray, _pred: np.ndarray, proba: np.ndarray | None) -> float:
    if proba is None:
        raise ValueError("LogLoss needs class probabilities")
    return skm.log_loss(y, proba, labels=np.arange(proba.shape[1]))


def _labels(fn: Callable, **kw: object) -> Callable:
    """A label metric of (y_true, y_pred); binary ones score class 1, the positive label."""
    return lambda y, pred, _proba: fn(y, pred, zero_division=0, **kw)


_ALL = [
    Metric("Accuracy", True, CLASSIFICATION, lambda y, p, _: skm.accuracy_score(y, p)),
    Metric("BalancedAccuracy", True, CLASSIFICATION, lambda y, p, _: skm.balanced_accuracy_score(y, p)),
    Metric("AUC", True, CLASSIFICATION, _auc),
    Metric("F1", True, (BINARY,), _labels(skm.f1_score, pos_label=1, average="binary")),
    Metric("F1macro", True, CLASSIFICATION, _labels(skm.f1_score, average="macro")),
    Metric("LogLoss", False, CLASSIFICATION, _logloss),
    Metric("Precision", True, (BINARY,), _labels(skm.precision_score, pos_label=1, average="binary")),
    Metric("PrecisionMacro", True, CLASSIFICATION, _labels(skm.precision_score, average="macro")),
    Metric("Recall", True, (BINARY,), _labels(skm.recall_score, pos_label=1, average="binary")),
    Metric("RecallMacro", True, CLASSIFICATION, _labels(skm.recall_score, average="macro")),
    Metric("MAE", False, (REGRESSION,), lambda y, p, _: skm.mean_absolute_error(y, p)),
    Metric("MSE", False, (REGRESSION,), lambda y, p, _: skm.mean_squared_error(y, p)),
    Metric("RMSE", False, (REGRESSION,), lambda y, p, _: skm.root_mean_squared_error(y, p)),
    Metric("R2", True, (REGRESSION,), lambda y, p, _: skm.r2_score(y, p)),
]
METRICS: dict[str, Metric] = {m.name: m for m in _ALL}
DEFAULT_METRIC = {BINARY: "F1", MULTICLASS: "Accuracy", REGRESSION: "MSE"}


def metrics_for(problem_type: str) -> list[Metric]:
    """Every metric that applies to a problem type, in a fixed order."""
    return [m for m in _ALL if problem_type in m.problem_types]


def get_metric(name: str | None, problem_type: str) -> Metric:
    """Look a metric up by Autopilot's name (any case); None gives Autopilot's default for the problem type."""
    if name is None:
        return METRICS[DEFAULT_METRIC[problem_type]]
    by_lower = {k.lower(): m for k, m in METRICS.items()}
    metric = by_lower.get(name.lower())
    if metric is None:
        raise ConfigError(f"unknown metric '{name}'; choose one of {', '.join(METRICS)}")
    if problem_type not in metric.problem_types:
        allowed = ", ".join(m.name for m in metrics_for(problem_type))
        raise ConfigError(f"metric {metric.name} does not apply to {problem_type} problems; choose one of {allowed}")
    return metric


def score_all(problem_type: str, y: np.ndarray, pred: np.ndarray, proba: np.ndarray | None) -> dict[str, float]:
    """Every applicable metric; one that cannot be computed on this data (AUC with one class) is NaN."""
    out = {}
    for metric in metrics_for(problem_type):
        try:
            out[metric.name] = metric.score(y, pred, proba)
        except ValueError:
            out[metric.name] = float("nan")
    return out
