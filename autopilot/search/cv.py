"""k-fold cross-validation of one trial, as Autopilot scores candidates in HPO mode on small data."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from sklearn.model_selection import KFold, StratifiedKFold

from autopilot.data.split import stopping_split
from autopilot.metrics import score_all
from autopilot.pipeline import AutopilotPipeline
from autopilot.problem import Problem
from autopilot.search.threshold import choose_threshold, crossfit_labels, tunes_threshold

CV_FOLDS = 5
CV_MAX_ROWS = 50_000  # as Autopilot: cross-validation up to this many rows, the holdout above
EARLY_STOPPING_SHARE = 0.1  # of each fold's training rows, held out for early stopping


def cross_validate(
    make_pipeline: Callable[[], AutopilotPipeline], rows: pd.DataFrame, problem: Problem, folds: int, seed: int
) -> dict[str, float]:
    """Mean of every metric over ``folds`` folds (stratified for classification), plus the objective's standard
    deviation and per-fold values. Each fold's model stops early on a slice of its own training rows, never on the
    fold it is scored on. Where the objective tunes a decision threshold, each fold is scored with one chosen on the
    other folds' out-of-fold probabilities, and ``threshold`` is the one chosen on all of them (the pipeline's)."""
    y = rows[problem.target]
    splitter = StratifiedKFold if problem.is_classification else KFold
    predictions: list[tuple[np.ndarray, np.ndarray, np.ndarray | None]] = []
    for fit_idx, test_idx in splitter(folds, shuffle=True, random_state=seed).split(rows, y):
        fit_rows = rows.iloc[fit_idx]
        train_idx, stop_idx = stopping_split(
            fit_rows[problem.target], problem.is_classification, EARLY_STOPPING_SHARE, seed
        )
        pipeline = make_pipeline().fit(fit_rows.iloc[train_idx], fit_rows.iloc[stop_idx])
        test = rows.iloc[test_idx]
        codes, proba = pipeline.predict_encoded(test)
        predictions.append((pipeline.encode_target(test[problem.target]), codes, proba))
    tuned = tunes_threshold(problem.problem_type, problem.metric)
    if tuned:
        predictions, threshold = _thresholded(predictions, problem.metric)
    per_fold = [score_all(problem.problem_type, y_k, codes, proba) for y_k, codes, proba in predictions]
    means = {name: float(np.mean([f[name] for f in per_fold])) for name in per_fold[0]}
    objective = [f[problem.metric] for f in per_fold]
    out = {**means, f"{problem.metric}_cv_std": float(np.std(objective)), f"{problem.metric}_folds": objective}
    return {**out, "threshold": threshold} if tuned else out


def _thresholded(predictions: list[tuple], metric: str) -> tuple[list[tuple], float | None]:
    """Each fold's labels from a threshold chosen on the other folds; and the threshold chosen on every fold."""
    y = np.concatenate([p[0] for p in predictions])
    proba = np.concatenate([p[2] for p in predictions])
    groups = np.repeat(np.arange(len(predictions)), [len(p[0]) for p in predictions])
    codes = crossfit_labels(y, proba, groups, metric)
    out = [(p[0], codes[groups == k], p[2]) for k, p in enumerate(predictions)]
    return out, choose_threshold(y, proba[:, 1], metric)
