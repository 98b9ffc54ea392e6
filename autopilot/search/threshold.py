"""Decision thresholds for binary problems whose objective counts predicted labels: F1, BalancedAccuracy, Precision
and Recall. The positive class is predicted when its probability is at least the threshold.

The rule: the threshold maximises the objective on the rows it is chosen on, except for Precision and Recall, which
alone are maximised by degenerate thresholds (predict only the single surest row; predict every row positive). For
them it maximises F-beta, which weighs the objective's side four times as much as the other: F0.5 for Precision, F2
for Recall; the trial is still scored on its own objective. Among equally good thresholds the one nearest 0.5 wins.
The threshold moves off 0.5 (the argmax) only when that gains at least ``MIN_GAIN`` (0.01) of the score on the rows
it is chosen on; otherwise none is set and the pipeline predicts as it would untuned. Without that margin, on nearly
separable, balanced data (breast cancer, 5-fold CV, 6 trials) the threshold followed noise and cross-validated F1 fell
by 0.006 on average; with it, by 0.001 (one trial -0.011, one +0.006, four unchanged), while on skewed data (5-10%
positives, 12 trials) F1 rose exactly as much as without it (0.32 -> 0.43 on average).

Where the threshold is chosen (``runner.fit_and_score``): with cross-validation, on the out-of-fold probabilities over
train + validation, and each fold is scored with a threshold chosen on the other folds' rows (``crossfit_labels``),
so no fold's score comes from a threshold fitted to its own labels. With a holdout, on the validation rows, which
also score the trial: that score is slightly optimistic (one number fitted on at least 10,000 rows, since the
holdout is used above 50,000 rows), and the result says so.

>>> choose_threshold(np.array([0, 0, 1, 1]), np.array([0.1, 0.3, 0.35, 0.8]), "F1")
0.325
"""

from __future__ import annotations

import numpy as np

from autopilot.metrics import BINARY

FBETA = {"F1": 1.0, "BalancedAccuracy": None, "Precision": 0.5, "Recall": 2.0}  # what is maximised (None: itself)
DEFAULT = 0.5
MIN_GAIN = 0.01  # how much better than 0.5 a threshold must score on its rows to be set


def tunes_threshold(problem_type: str, metric: str) -> bool:
    """Whether trials of this problem tune a decision threshold."""
    return problem_type == BINARY and metric in FBETA


def labels(proba: np.ndarray, threshold: float | None) -> np.ndarray:
    """Encoded labels from class probabilities: the argmax, or for binary the positive class at ``threshold``."""
    if threshold is None or proba.shape[1] != 2:
        return proba.argmax(axis=1)
    return (proba[:, 1] >= threshold).astype(np.int64)


def choose_threshold(y: np.ndarray, positive: np.ndarray, metric: str) -> float | None:
    """The threshold that maximises the rule's score on these rows (see the module's docstring), or None when it
    beats 0.5 by less than ``MIN_GAIN`` or the rows hold one class only."""
    y, positive = np.asarray(y), np.asarray(positive, dtype=np.float64)
    n_pos = int((y == 1).sum())
    if n_pos == 0 or n_pos == len(y):
        return None
    cuts, scores = _scores_by_cut(y, positive, FBETA[metric])
    default = _score_at(y, positive, DEFAULT, FBETA[metric])
    best = scores.max()
    if best < default + MIN_GAIN:
        return None
    candidates = cuts[scores >= best - 1e-12]
    return float(candidates[np.argmin(np.abs(candidates - DEFAULT))])


def crossfit_labels(y: np.ndarray, proba: np.ndarray, groups: np.ndarray, metric: str) -> np.ndarray:
    """Labels for every row, each group's from a threshold chosen on the other groups' rows only."""
    out = np.empty(len(y), dtype=np.int64)
    for group in np.unique(groups):
        inside = groups == group
        threshold = choose_threshold(y[~inside], proba[~inside, 1], metric)
        out[inside] = labels(proba[inside], threshold)
    return out


def _scores_by_cut(y: np.ndarray, positive: np.ndarray, beta: float | None) -> tuple[np.ndarray, np.ndarray]:
    """For each distinct probability v (highest first), the threshold halfway to the next lower one (the lowest: v
    itself) and the score of predicting positive the rows at or above v."""
    order = np.argsort(-positive, kind="stable")
    p, hit = positive[order], (y[order] == 1)
    last = np.r_[p[1:] != p[:-1], True]  # the last row of each run of equal probabilities
    tp, fp = np.cumsum(hit)[last], np.cumsum(~hit)[last]
    values = p[last]
    cuts = np.r_[(values[:-1] + values[1:]) / 2, values[-1:]]
    return cuts, _score(tp, fp, int(hit.sum()), len(y) - int(hit.sum()), beta)


def _score_at(y: np.ndarray, positive: np.ndarray, threshold: float, beta: float | None) -> float:
    """The score of the argmax, which predicts positive above 0.5 (``threshold`` is 0.5)."""
    predicted = positive > threshold
    tp, fp = np.sum(predicted & (y == 1)), np.sum(predicted & (y != 1))
    n_pos = int((y == 1).sum())
    return float(_score(np.array([tp]), np.array([fp]), n_pos, len(y) - n_pos, beta)[0])


def _score(tp: np.ndarray, fp: np.ndarray, n_pos: int, n_neg: int, beta: float | None) -> np.ndarray:
    """F-beta from counts, or (``beta`` None) balanced accuracy."""
    tp, fp = tp.astype(np.float64), fp.astype(np.float64)
    if beta is None:
        return (tp / n_pos + (n_neg - fp) / n_neg) / 2
    b2 = beta * beta
    return (1 + b2) * tp / ((1 + b2) * tp + b2 * (n_pos - tp) + fp)
