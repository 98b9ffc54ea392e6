"""Model insights as Autopilot reports them, on the validation rows: confusion matrix, ROC and precision-recall curves,
per-class scores and a threshold table for classification; predicted against actual and residuals for regression.

>>> insights = model_insights(pipeline, validation)  # doctest: +SKIP
>>> insights["tables"]["per_class"]  # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn import metrics as skm

from autopilot.metrics import METRICS, Metric

MAX_CONFUSION_LABELS = 15
BOOTSTRAP_DRAWS = 200
THRESHOLDS = np.round(np.arange(0.05, 1.0, 0.05), 2)


def model_insights(pipeline: object, validation: pd.DataFrame, predictions: tuple | None = None) -> dict:
    """Numbers (``scores``), tables (DataFrames) and figures (matplotlib) for the pipeline on ``validation``, or for
    ``predictions`` made out of sample earlier (encoded truth, predictions and probabilities) when given."""
    problem = pipeline.problem
    if predictions is not None:
        y, codes, proba = predictions
    else:
        y = pipeline.encode_target(validation[problem.target])
        codes, proba = pipeline.predict_encoded(validation)
    if problem.problem_type == "regression":
        insights = _regression(np.asarray(y, dtype=float), np.asarray(codes, dtype=float), problem.target)
    else:
        insights = _classification(y, codes, proba, [str(c) for c in pipeline.classes])
    return {**insights, "interval": bootstrap_interval(METRICS[problem.metric], y, codes, proba)}


def bootstrap_interval(
    metric: Metric, y: np.ndarray, pred: np.ndarray, proba: np.ndarray | None, draws: int = BOOTSTRAP_DRAWS
) -> dict:
    """The objective's 95% bootstrap interval on these rows (at most 10,000 of them, seeded): how far the headline
    score could move on other rows like them."""
    y, pred = np.asarray(y), np.asarray(pred)
    rng = np.random.default_rng(0)
    n = len(y)
    scores = []
    for _ in range(draws):
        rows = rng.integers(0, n, size=min(n, 10_000))
        try:
            scores.append(metric.score(y[rows], pred[rows], None if proba is None else proba[rows]))
        except ValueError:  # a draw with one class (AUC)
            continue
    low, high = np.nanpercentile(scores, [2.5, 97.5]) if scores else (np.nan, np.nan)
    return {"metric": metric.name, "low": float(low), "high": float(high), "rows": n, "draws": draws}


def _classification(y: np.ndarray, codes: np.ndarray, proba: np.ndarray, labels: list[str]) -> dict:
    import matplotlib.pyplot as plt

    k = len(labels)
    precision, recall, f1, support = skm.precision_recall_fscore_support(y, codes, labels=range(k), zero_division=0)
    per_class = pd.DataFrame(
        {"label": labels, "precision": precision, "recall": recall, "f1": f1, "support": support}
    ).round(4)
    figures, tables = {}, {"per_class": per_class}
    scores = {"accuracy": float(skm.accuracy_score(y, codes))}
    if k <= MAX_CONFUSION_LABELS:
        matrix = skm.confusion_matrix(y, codes, labels=range(k))
        tables["confusion_matrix"] = pd.DataFrame(matrix, index=labels, columns=labels).rename_axis(
            "actual \\ predicted"
        )
        fig, ax = plt.subplots(figsize=(1.2 + 0.6 * k, 1.0 + 0.6 * k))
        skm.ConfusionMatrixDisplay(matrix, display_labels=labels).plot(ax=ax, colorbar=False, xticks_rotation=45)
        ax.set_title("confusion matrix (validation rows)")
        figures["confusion_matrix"] = fig
    shown = [k - 1] if k == 2 else range(k)  # binary: the positive class (last); else one curve per class
    roc, pr = plt.subplots(figsize=(5, 4)), plt.subplots(figsize=(5, 4))
    for i in shown:
        truth = (y == i).astype(int)
        if truth.min() == truth.max():
            continue
        fpr, tpr, _ = skm.roc_curve(truth, proba[:, i])
        area = skm.auc(fpr, tpr)
        roc[1].plot(fpr, tpr, label=f"{labels[i]} (AUC {area:.3f})")
        prec, rec, _ = skm.precision_recall_curve(truth, proba[:, i])
        ap = skm.average_precision_score(truth, proba[:, i])
        pr[1].plot(rec, prec, label=f"{labels[i]} (AP {ap:.3f})")
        scores[f"roc_auc_{labels[i]}"], scores[f"average_precision_{labels[i]}"] = float(area), float(ap)
    roc[1].plot([0, 1], [0, 1], linestyle=":", color="grey")
    roc[1].set(xlabel="false positive rate", ylabel="true positive rate", title="ROC curve")
    pr[1].set(xlabel="recall", ylabel="precision", title="precision-recall curve")
    for fig, ax in (roc, pr):
        ax.legend(fontsize=8)
        fig.tight_layout()
    figures["roc"], figures["precision_recall"] = roc[0], pr[0]
    if k == 2:
        tables["thresholds"] = _threshold_table(y, proba[:, 1])
    figures["calibration"], scores["expected_calibration_error"] = _calibration(y, proba)
    return {"kind": "classification", "scores": scores, "tables": tables, "figures": figures}


def _calibration(y: np.ndarray, proba: np.ndarray, bins: int = 10) -> tuple[object, float]:
    """The reliability diagram (how often the model is right against how sure it was, in 10 equal-width bins) and the
    expected calibration error: binary, the positive class's probability; multiclass, the predicted class's."""
    import matplotlib.pyplot as plt

    if proba.shape[1] == 2:
        sure, right, what = proba[:, 1], (np.asarray(y) == 1), ("positive class", "share of rows that are positive")
    else:
        sure, right = proba.max(axis=1), (proba.argmax(axis=1) == np.asarray(y))
        what = ("predicted class", "share of rows where it is right")
    which = np.minimum((sure * bins).astype(int), bins - 1)
    counts = np.bincount(which, minlength=bins)
    seen = counts > 0
    mean_sure = np.bincount(which, weights=sure, minlength=bins)[seen] / counts[seen]
    share_right = np.bincount(which, weights=right.astype(float), minlength=bins)[seen] / counts[seen]
    error = float(np.sum(counts[seen] * np.abs(mean_sure - share_right)) / len(sure))
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.plot([0, 1], [0, 1], linestyle=":", color="grey", label="perfectly calibrated")
    ax.plot(mean_sure, share_right, linewidth=1, label=f"model (ECE {error:.3f}; dot size: rows in the bin)")
    ax.scatter(mean_sure, share_right, s=12 + 150 * counts[seen] / counts.max(), zorder=3)
    ax.set(xlabel=f"predicted probability of the {what[0]}", ylabel=what[1])
    ax.set(title="calibration (reliability diagram)", xlim=(0, 1), ylim=(0, 1.02))
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig, error


def _threshold_table(y: np.ndarray, positive: np.ndarray) -> pd.DataFrame:
    """Precision, recall, F1 and accuracy if the positive class were predicted at probability >= each threshold."""
    out = []
    for threshold in THRESHOLDS:
        predicted = (positive >= threshold).astype(int)
        out.append(
            {
                "threshold": threshold,
                "predicted_positive": int(predicted.sum()),
                "precision": skm.precision_score(y, predicted, zero_division=0),
                "recall": skm.recall_score(y, predicted, zero_division=0),
                "f1": skm.f1_score(y, predicted, zero_division=0),
                "accuracy": skm.accuracy_score(y, predicted),
            }
        )
    return pd.DataFrame(out).round(4)


def _regression(y: np.ndarray, predicted: np.ndarray, target: str) -> dict:
    import matplotlib.pyplot as plt

    scores = {
        "RMSE": float(np.sqrt(skm.mean_squared_error(y, predicted))),
        "MAE": float(skm.mean_absolute_error(y, predicted)),
        "R2": float(skm.r2_score(y, predicted)),
    }
    fig, ax = plt.subplots(figsize=(5, 4.5))
    ax.scatter(y, predicted, s=8, alpha=0.6)
    low, high = float(min(y.min(), predicted.min())), float(max(y.max(), predicted.max()))
    ax.plot([low, high], [low, high], linestyle=":", color="grey")
    ax.set(
        xlabel=f"actual {target}", ylabel=f"predicted {target}", title=f"predicted vs actual (R2 {scores['R2']:.3f})"
    )
    fig.tight_layout()
    residual_fig, residual_ax = plt.subplots(figsize=(5, 4))
    residual_ax.scatter(predicted, y - predicted, s=8, alpha=0.6)
    residual_ax.axhline(0, linestyle=":", color="grey")
    residual_ax.set(
        xlabel=f"predicted {target}", ylabel="actual - predicted", title=f"residuals (RMSE {scores['RMSE']:.4g})"
    )
    residual_fig.tight_layout()
    return {
        "kind": "regression",
        "scores": scores,
        "tables": {},
        "figures": {"predicted_vs_actual": fig, "residuals": residual_fig},
    }
