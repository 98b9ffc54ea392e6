"""k-fold cross-validation of one trial, as Autopilot scores candidates in HPO mode on small data."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from sklearn.model_selection import KFold, StratifiedKFold

from autopilot.data import split_train_validation
from autopilot.metrics import score_all
from autopilot.pipeline import AutopilotPipeline
from autopilot.problem import Problem

CV_FOLDS = 5
CV_MAX_ROWS = 50_000  # as Autopilot: cross-validation up to this many rows, the holdout above
EARLY_STOPPING_SHARE = 0.1  # of each fold's training rows, held out for early stopping


def cross_validate(
    make_pipeline: Callable[[], AutopilotPipeline], rows: pd.DataFrame, problem: Problem, folds: int, seed: int
) -> dict[str, float]:
    """Mean of every metric over ``folds`` folds (stratified for classification), plus the objective's standard
    deviation and per-fold values. Each fold's model stops early on a slice of its own training rows, never on the
    fold it is scored on."""
    y = rows[problem.target]
    splitter = StratifiedKFold if problem.is_classification else KFold
    per_fold: list[dict[str, float]] = []
    for fit_idx, test_idx in splitter(folds, shuffle=True, random_state=seed).split(rows, y):
        fit_rows = rows.iloc[fit_idx]
        train_idx, stop_idx = split_train_validation(
            fit_rows[problem.target], problem.is_classification, EARLY_STOPPING_SHARE, seed
        )
        pipeline = make_pipeline().fit(fit_rows.iloc[train_idx], fit_rows.iloc[stop_idx])
        test = rows.iloc[test_idx]
        codes, proba = pipeline.predict_encoded(test)
        per_fold.append(score_all(problem.problem_type, pipeline.encode_target(test[problem.target]), codes, proba))
    means = {name: float(np.mean([f[name] for f in per_fold])) for name in per_fold[0]}
    objective = [f[problem.metric] for f in per_fold]
    return {**means, f"{problem.metric}_cv_std": float(np.std(objective)), f"{problem.metric}_folds": objective}
