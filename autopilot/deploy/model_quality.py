"""Model Monitor's model-quality files: metrics of predictions against ground truth, each ``{"value",
"standard_deviation"}`` (the deviation over five random 80% samples, when there are at least 200 rows), and
constraints on them, compared with comparison operators.

The baseline (``monitor/model_quality_statistics.json``) is the best model's quality on the rows it was scored on out
of sample: its holdout or out-of-fold predictions, as the leaderboard scored it. Our choice for the suggested
thresholds (``model_quality_constraints.json``): the baseline's value less three standard errors of the difference
between it and new data of at least the baseline's size (3 x sqrt(2) x the baseline's standard error, from 200
bootstrap resamples; a share's never below that of one more miss), error metrics the other way. A small validation
set gives a wide margin: its own score is uncertain, and the best of several candidates on it flatters the model.
Labels are encoded as the job encodes them: class i is ``problem.json``'s ``classes[i]``; for binary problems class
1 is the positive label.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn import metrics as skm

from autopilot.deploy.bootstrap import bootstrap_scores, resample_counts
from autopilot.io import read_json, write_json
from autopilot.predictions import PREDICTIONS_FILE, read_predictions

MIN_ROWS_FOR_DEVIATION = 200
BOOTSTRAP = 200
MARGIN = 3.0 * np.sqrt(2)  # three standard errors of a difference from new data at least the baseline's size
CURVE_POINTS = 100
SECTIONS = {"binary": "binary_classification", "multiclass": "multiclass_classification", "regression": "regression"}
CONSTRAINED = {
    "binary": ("accuracy", "precision", "recall", "f1", "auc"),
    "multiclass": ("accuracy", "weighted_precision", "weighted_recall", "weighted_f1"),
    "regression": ("mae", "mse", "rmse", "r2"),
}
ERRORS = {"mae", "mse", "rmse"}


def _fbeta(beta: float, average: str) -> object:
    return lambda y, p: skm.fbeta_score(y, p, beta=beta, average=average, zero_division=0)


def _label_metrics(problem_type: str) -> dict:
    if problem_type == "binary":
        return {
            "recall": lambda y, p: skm.recall_score(y, p, zero_division=0),
            "precision": lambda y, p: skm.precision_score(y, p, zero_division=0),
            "accuracy": skm.accuracy_score,
            "f0_5": _fbeta(0.5, "binary"),
            "f1": _fbeta(1.0, "binary"),
            "f2": _fbeta(2.0, "binary"),
        }
    return {
        "accuracy": skm.accuracy_score,
        "weighted_recall": lambda y, p: skm.recall_score(y, p, average="weighted", zero_division=0),
        "weighted_precision": lambda y, p: skm.precision_score(y, p, average="weighted", zero_division=0),
        "weighted_f0_5": _fbeta(0.5, "weighted"),
        "weighted_f1": _fbeta(1.0, "weighted"),
        "weighted_f2": _fbeta(2.0, "weighted"),
    }


def _regression_metrics() -> dict:
    return {
        "mae": skm.mean_absolute_error,
        "mse": skm.mean_squared_error,
        "rmse": lambda y, p: float(np.sqrt(skm.mean_squared_error(y, p))),
        "r2": skm.r2_score,
    }


def quality_metrics(
    problem: dict, truth: np.ndarray, predicted: np.ndarray, proba: np.ndarray | None, seed: int = 0
) -> dict:
    """The problem type's metrics in Model Monitor's model-quality shape."""
    kind = problem["problem_type"]
    scores = _scores(kind, truth, predicted, proba)
    samples = _samples(len(truth), seed)
    out = {}
    for name, score in scores.items():
        value = float(score(np.arange(len(truth))))
        spread = float(np.std([score(idx) for idx in samples])) if samples else None
        out[name] = {"value": value, "standard_deviation": spread}
    if kind != "regression":
        scalar = _label_metrics(kind)
        out |= _classification_extras(kind, problem["classes"], truth, predicted, proba, scalar)
    return {SECTIONS[kind] + "_metrics": out}


def _scores(kind: str, truth: np.ndarray, predicted: np.ndarray, proba: np.ndarray | None) -> dict:
    """Each scalar metric as a function of the rows (indices) it is computed on."""
    scalar = _regression_metrics() if kind == "regression" else _label_metrics(kind)
    scores = {name: (lambda idx, fn=fn: fn(truth[idx], predicted[idx])) for name, fn in scalar.items()}
    if kind == "binary" and proba is not None and len(np.unique(truth)) == 2:
        scores["auc"] = lambda idx: (
            skm.roc_auc_score(truth[idx], proba[idx, 1]) if len(np.unique(truth[idx])) == 2 else np.nan
        )
    return scores


def standard_errors(
    kind: str, truth: np.ndarray, predicted: np.ndarray, proba: np.ndarray | None, seed: int = 0
) -> dict:
    """Each constrained metric's standard error, from 200 bootstrap resamples of the rows."""
    scores, n = _scores(kind, truth, predicted, proba), len(truth)
    resampled = bootstrap_scores(kind, truth, predicted, proba, resample_counts(n, BOOTSTRAP, seed))
    errors = {}
    for name in (m for m in CONSTRAINED[kind] if m in scores):
        error = float(np.nanstd(resampled[name]))
        if name not in ERRORS and name != "r2":  # a share: never less certain than one more miss would make it
            value = float(scores[name](np.arange(n)))
            shrunk = (value * n + 1) / (n + 2)
            error = max(error, float(np.sqrt(shrunk * (1 - shrunk) / n)))
        errors[name] = error
    return errors


def _samples(rows: int, seed: int) -> list[np.ndarray]:
    if rows < MIN_ROWS_FOR_DEVIATION:
        return []
    rng = np.random.default_rng(seed)
    return [np.sort(rng.choice(rows, int(0.8 * rows), replace=False)) for _ in range(5)]


def _classification_extras(
    kind: str, classes: list, truth: np.ndarray, predicted: np.ndarray, proba: np.ndarray | None, scalar: dict
) -> dict:
    codes = list(range(len(classes)))
    matrix = skm.confusion_matrix(truth, predicted, labels=codes)
    names = [str(c) for c in classes]
    out: dict = {
        "confusion_matrix": {a: {p: int(matrix[i, j]) for j, p in enumerate(names)} for i, a in enumerate(names)}
    }
    for name, fn in scalar.items():  # the best a classifier that always answers one class scores
        if name != "auc":
            best = max(fn(truth, np.full(len(truth), c)) for c in codes)
            out[f"{name}_best_constant_classifier"] = {"value": float(best), "standard_deviation": None}
    if kind == "binary":
        tn, fp, fn_, tp = matrix.ravel()
        rate = lambda a, b: float(a / (a + b)) if a + b else 0.0  # noqa: E731
        for name, value in [
            ("true_positive_rate", rate(tp, fn_)),
            ("true_negative_rate", rate(tn, fp)),
            ("false_positive_rate", rate(fp, tn)),
            ("false_negative_rate", rate(fn_, tp)),
        ]:
            out[name] = {"value": value, "standard_deviation": None}
        if proba is not None and len(np.unique(truth)) == 2:
            fpr, tpr, _ = skm.roc_curve(truth, proba[:, 1])
            precision, recall, _ = skm.precision_recall_curve(truth, proba[:, 1])
            out["receiver_operating_characteristic_curve"] = {
                "false_positive_rates": _thin(fpr),
                "true_positive_rates": _thin(tpr),
            }
            out["precision_recall_curve"] = {"precisions": _thin(precision), "recalls": _thin(recall)}
    return out


def _thin(values: np.ndarray) -> list[float]:
    idx = np.unique(np.linspace(0, len(values) - 1, min(len(values), CURVE_POINTS)).round().astype(int))
    return [float(v) for v in values[idx]]


def suggest_quality_constraints(problem_type: str, statistics: dict, errors: dict[str, float]) -> dict:
    """A threshold per constrained metric: the baseline's value less ``MARGIN`` standard errors (``errors``), or
    more for error metrics."""
    metrics = statistics[SECTIONS[problem_type] + "_metrics"]
    rules = {}
    for name in CONSTRAINED[problem_type]:
        if name not in metrics or name not in errors:
            continue
        value, margin, error = metrics[name]["value"], MARGIN * errors[name], name in ERRORS
        rules[name] = {
            "threshold": value + margin if error else value - margin,
            "comparison_operator": "GreaterThanThreshold" if error else "LessThanThreshold",
        }
    return {"version": 0.0, SECTIONS[problem_type] + "_constraints": rules}


def quality_violations(constraints: dict, statistics: dict) -> list[dict]:
    """Model Monitor's violations: a metric past its threshold by the constraint's comparison operator."""
    found = []
    for section, rules in constraints.items():
        if not section.endswith("_constraints"):
            continue
        metrics = statistics.get(section.replace("_constraints", "_metrics"), {})
        for name, rule in rules.items():
            if name not in metrics:
                continue
            value, threshold, op = metrics[name]["value"], rule["threshold"], rule["comparison_operator"]
            if (op == "LessThanThreshold" and value < threshold) or (
                op == "GreaterThanThreshold" and value > threshold
            ):
                side = "below" if op == "LessThanThreshold" else "above"
                text = f"Metric {name} with {value:.4g} is {side} the threshold {threshold:.4g}."
                found.append({"constraint_check_type": op, "description": text, "metric_name": name})
    return found


def scored_predictions(job_dir: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The best trial's out-of-sample predictions (encoded truth, predictions, probabilities): its saved holdout or
    out-of-fold predictions, else its scored pipeline on the validation rows."""
    import pandas as pd

    from autopilot.pipeline import AutopilotPipeline
    from autopilot.search.runner import MODEL_FILE

    trial = job_dir / "trials" / read_json(job_dir / "best" / "manifest.json")["trial"]
    if (trial / PREDICTIONS_FILE).exists():
        return read_predictions(trial / PREDICTIONS_FILE)
    pipeline = AutopilotPipeline.load(trial / MODEL_FILE)
    validation = pd.read_parquet(job_dir / "data" / "validation.parquet")
    codes, proba = pipeline.predict_encoded(validation)
    return pipeline.encode_target(validation[pipeline.problem.target]), codes, proba


def write_quality_baseline(job_dir: Path) -> list[Path]:
    """monitor/model_quality_statistics.json and model_quality_constraints.json; none for a job without a best."""
    if not (job_dir / "best" / "manifest.json").exists():
        return []
    problem = read_json(job_dir / "problem.json")
    truth, predicted, proba = scored_predictions(job_dir)
    statistics = {"version": 0.0, "dataset": {"item_count": len(truth)}} | quality_metrics(
        problem, truth, predicted, proba
    )
    errors = standard_errors(problem["problem_type"], truth, predicted, proba)
    constraints = suggest_quality_constraints(problem["problem_type"], statistics, errors)
    folder = job_dir / "monitor"
    write_json(folder / "model_quality_statistics.json", statistics)
    write_json(folder / "model_quality_constraints.json", constraints)
    return [folder / "model_quality_statistics.json", folder / "model_quality_constraints.json"]
