"""Model Monitor's constrained metrics over many bootstrap resamples of the rows at once.

A resample is a count per row (how often it was drawn), so every metric is a weighted sum: label metrics come from
each resample's confusion matrix, AUC from its weighted ranks (ties count half), regression errors from weighted
sums of the residuals. The values equal scikit-learn's on the same resamples (a test holds them to it), in numpy
instead of 1,000 scikit-learn calls (1.8 s of a 60 s job on 455 rows)."""

from __future__ import annotations

import numpy as np

CHUNK_CELLS = 4_000_000  # resamples x rows handled at once (32 MB of float64 weights)


def resample_counts(rows: int, draws: int, seed: int) -> list[np.ndarray]:
    """Each resample as a count per row, drawn as ``draws`` x ``rng.integers(0, rows, rows)``."""
    rng = np.random.default_rng(seed)
    return [np.bincount(rng.integers(0, rows, rows), minlength=rows) for _ in range(draws)]


def bootstrap_scores(
    kind: str, truth: np.ndarray, predicted: np.ndarray, proba: np.ndarray | None, counts: list[np.ndarray]
) -> dict[str, np.ndarray]:
    """Each metric's value on every resample (NaN where it is undefined, as AUC on one class)."""
    chunk = max(1, CHUNK_CELLS // max(len(truth), 1))
    parts = [_scores(kind, truth, predicted, proba, np.stack(counts[i : i + chunk]).astype(float))
             for i in range(0, len(counts), chunk)]  # fmt: skip
    return {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}


def _scores(kind: str, truth: np.ndarray, predicted: np.ndarray, proba: np.ndarray | None, w: np.ndarray) -> dict:
    if kind == "regression":
        return _regression(np.asarray(truth, float), np.asarray(predicted, float), w)
    k = max(2, int(max(truth.max(), predicted.max())) + 1)
    scores = _labels(kind, _confusions(truth.astype(int), predicted.astype(int), k, w))
    if kind == "binary" and proba is not None and len(np.unique(truth)) == 2:
        scores["auc"] = _auc(truth == 1, proba[:, 1], w)
    return scores


def _confusions(truth: np.ndarray, predicted: np.ndarray, k: int, w: np.ndarray) -> np.ndarray:
    """(resamples, true class, predicted class) weighted counts."""
    cells = truth * k + predicted
    out = np.zeros((len(w), k * k))
    for cell in np.unique(cells):
        out[:, cell] = w[:, cells == cell].sum(axis=1)
    return out.reshape(len(w), k, k)


def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a / b, 0 where b is 0 (scikit-learn's ``zero_division=0``)."""
    return np.divide(a, b, out=np.zeros_like(a, dtype=float), where=b > 0)


def _labels(kind: str, cm: np.ndarray) -> dict[str, np.ndarray]:
    tp = np.diagonal(cm, axis1=1, axis2=2)
    support, called = cm.sum(axis=2), cm.sum(axis=1)  # rows truly of each class, rows predicted as it
    precision, recall = _ratio(tp, called), _ratio(tp, support)
    f1 = _ratio(2 * tp, support + called)
    scores = {"accuracy": tp.sum(axis=1) / cm.sum(axis=(1, 2))}
    if kind == "binary":  # class 1 is the positive label
        return scores | {"precision": precision[:, 1], "recall": recall[:, 1], "f1": f1[:, 1]}
    weights = support / support.sum(axis=1, keepdims=True)
    for name, values in (("precision", precision), ("recall", recall), ("f1", f1)):
        scores[f"weighted_{name}"] = (weights * values).sum(axis=1)
    return scores


def _auc(positive: np.ndarray, score: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The chance a drawn positive outscores a drawn negative, ties counting half, per resample."""
    order = np.argsort(score, kind="stable")
    sorted_scores = score[order]
    starts = np.flatnonzero(np.r_[True, sorted_scores[1:] != sorted_scores[:-1]])  # groups of tied scores
    pos = np.add.reduceat(w[:, order] * positive[order], starts, axis=1)
    neg = np.add.reduceat(w[:, order] * ~positive[order], starts, axis=1)
    below = np.cumsum(neg, axis=1) - neg  # negatives scored below each group
    pairs = pos.sum(axis=1) * neg.sum(axis=1)
    wins = (pos * (below + 0.5 * neg)).sum(axis=1)
    return np.divide(wins, pairs, out=np.full(len(w), np.nan), where=pairs > 0)


def _regression(truth: np.ndarray, predicted: np.ndarray, w: np.ndarray) -> dict[str, np.ndarray]:
    n = w.sum(axis=1)
    residual = truth - predicted
    mse = w @ residual**2 / n
    mean = w @ truth / n
    total = (w * (truth[None, :] - mean[:, None]) ** 2).sum(axis=1)  # squares about each resample's own mean
    drawn = w > 0
    constant = np.where(drawn, truth, np.inf).min(axis=1) == np.where(drawn, truth, -np.inf).max(axis=1)
    r2 = np.where(constant, np.where(mse == 0, 1.0, 0.0), 1 - _ratio(mse * n, total))  # as scikit-learn's
    return {"mae": w @ np.abs(residual) / n, "mse": mse, "rmse": np.sqrt(mse), "r2": r2}
