"""What candidates share, in numpy (no torch needed): class weights, and probabilities from raw outputs."""

from __future__ import annotations

import numpy as np

from autopilot.metrics import BINARY


def proba_from_raw(raw: np.ndarray, problem_type: str) -> np.ndarray:
    """One logit per row (binary: the positive class) or one per class (multiclass) to probabilities per class.

    >>> proba_from_raw(np.array([[0.0]]), "binary").tolist()
    [[0.5, 0.5]]
    """
    if problem_type == BINARY:
        p = 1.0 / (1.0 + np.exp(-raw[:, 0]))
        return np.column_stack([1 - p, p])
    e = np.exp(raw - raw.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def class_weights(
    y: np.ndarray, n_classes: int, balanced: bool, positive_mult: float | str | None = None
) -> np.ndarray:
    """Per-class loss weights: balanced (n / (k * count)), or for binary the positive class times ``positive_mult``
    (``"auto"`` means negatives / positives)."""
    counts = np.bincount(y, minlength=n_classes).astype(np.float64)
    weights = np.ones(n_classes)
    if balanced:
        weights = len(y) / (n_classes * np.maximum(counts, 1))
    elif positive_mult is not None and n_classes == 2:
        weights[1] = counts[0] / max(counts[1], 1) if positive_mult == "auto" else float(positive_mult)
    return weights.astype(np.float32)
