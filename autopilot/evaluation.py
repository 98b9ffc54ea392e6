"""Model insights as Autopilot reports them, on the validation rows: confusion matrix, ROC and precision-recall curves,
per-class scores and a threshold table for classification; predicted against actual and residuals for regression.

>>> insights = model_insights(pipeline, validation)  # doctest: +SKIP
>>> insights["tables"]["per_class"]  # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn import metrics as skm

MAX_CONFUSION_LABELS = 15
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
        return _regression(np.asarray(y, dtype=float), np.asarray(codes, dtype=float), problem.target)
    return _classification(y, codes, proba, [str(c) for c in pipeline.classes])


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
    return {"kind": "classification", "scores": scores, "tables": tables, "figures": figures}


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
