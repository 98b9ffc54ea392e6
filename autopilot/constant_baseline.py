"""The constant baseline: what a model that ignores every feature scores (the majority class with the class shares as
its probabilities, or the mean), on the rows the trials were scored on. A trial no better than it learned nothing;
the leaderboard flags it, and the report shows the best score's lift over it.

>>> constant_scores(problem, train["species"], validation["species"])["Accuracy"]  # doctest: +SKIP
0.4348
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from autopilot.io import write_json
from autopilot.metrics import METRICS, score_all
from autopilot.problem import Problem

FILE = "constant_baseline.json"  # in explain/


def constant_scores(problem: Problem, learned_from: pd.Series, scored: pd.Series) -> dict[str, float]:
    """Every metric of the constant model fit on ``learned_from`` (target values) and scored on ``scored``."""
    if not problem.is_classification:
        y = scored.astype("float64").to_numpy()
        return score_all(problem.problem_type, y, np.full(len(y), float(learned_from.astype("float64").mean())), None)
    index = {c: i for i, c in enumerate(problem.classes)}
    shares = learned_from.map(index).value_counts(normalize=True).reindex(range(len(index)), fill_value=0.0)
    y = scored.map(index).dropna().astype("int64").to_numpy()  # a label outside the classes is not scored
    proba = np.tile(shares.to_numpy(dtype="float64"), (len(y), 1))
    return score_all(problem.problem_type, y, np.full(len(y), int(shares.to_numpy().argmax())), proba)


def write_constant_baseline(job_dir: Path, problem: Problem, every_row: bool) -> dict:
    """explain/constant_baseline.json: the constant model's scores on the validation rows (learned from the train
    rows), or on every labelled row when the trials were scored on all of them (cross-validation, out of fold)."""
    train = pd.read_parquet(job_dir / "data" / "train.parquet", columns=[problem.target])[problem.target]
    validation = pd.read_parquet(job_dir / "data" / "validation.parquet", columns=[problem.target])[problem.target]
    learned_from = pd.concat([train, validation]) if every_row else train
    scored = learned_from if every_row else validation
    model = "the mean" if not problem.is_classification else "the majority class, with the class shares"
    baseline = {
        "model": model,
        "scored_on": f"every labelled row ({len(scored):,})" if every_row else f"the validation rows ({len(scored):,})",
        "scores": constant_scores(problem, learned_from, scored),
    }
    write_json(job_dir / "explain" / FILE, baseline)
    return baseline


def no_better(problem: Problem, score: float | None, baseline: dict | None) -> str:
    """Why a trial's objective ``score`` is no better than the constant baseline's, or '' when it is better."""
    if baseline is None or score is None or pd.isna(score):
        return ""
    metric = METRICS[problem.metric]
    constant = baseline["scores"].get(metric.name)
    if constant is None or pd.isna(constant) or metric.better(score, constant):
        return ""
    return f"no better than the constant baseline ({metric.name} {constant:.4f})"
