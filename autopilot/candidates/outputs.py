"""Class probabilities from raw model outputs, in numpy (no torch needed to predict)."""

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
