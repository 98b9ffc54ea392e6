"""``run_trial``: fit one candidate on the job's train split and score it on validation. Never raises."""

from __future__ import annotations

import inspect
import time
import traceback
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from autopilot.candidates import Candidate, get_candidate
from autopilot.io import write_json, write_text
from autopilot.metrics import score_all
from autopilot.pipeline import AutopilotPipeline
from autopilot.preprocess import build_preprocessor
from autopilot.problem import Problem
from autopilot.search.cv import cross_validate
from autopilot.search.spec import FAILED, SUCCEEDED, TrialResult, TrialSpec

MODEL_FILE = "pipeline.joblib"


@dataclass(frozen=True)
class TrialData:
    """What a trial needs, as paths and small dicts, so it travels cheaply to a worker process or a cluster."""

    train_path: str
    validation_path: str
    trials_dir: str
    problem: dict
    profile: dict
    device: str = "cpu"
    cv_folds: int = 0  # over 1: candidates are ranked by k-fold cross-validation over train + validation


@lru_cache(maxsize=4)
def _read(path: str) -> pd.DataFrame:
    return pd.read_parquet(path)


def run_trial(spec: TrialSpec, data: TrialData) -> TrialResult:
    """Train, score and save one trial into ``trials/<id>/``; a failure becomes a result holding its error."""
    folder = Path(data.trials_dir) / spec.id
    write_json(folder / "spec.json", spec.to_dict())
    start = time.perf_counter()
    try:
        metrics = _fit_and_score(spec, data, folder)
        result = TrialResult(spec, SUCCEEDED, metrics, time.perf_counter() - start)
    except Exception as exc:  # a failing trial must never sink the job; its traceback is kept in error.txt
        write_text(folder / "error.txt", traceback.format_exc())
        error = f"{type(exc).__name__}: {exc}".splitlines()[0]
        result = TrialResult(spec, FAILED, {}, time.perf_counter() - start, error)
    write_json(folder / "result.json", result.to_dict())
    return result


def record_failure(spec: TrialSpec, data: TrialData, exc: BaseException, seconds: float) -> TrialResult:
    """A trial that failed outside ``run_trial`` (stopped at its time limit, its process died) on disk as failed."""
    folder = Path(data.trials_dir) / spec.id
    write_json(folder / "spec.json", spec.to_dict())
    details = getattr(exc, "details", "") or "".join(traceback.format_exception(exc))
    write_text(folder / "error.txt", details)
    result = TrialResult(spec, FAILED, {}, seconds, f"{type(exc).__name__}: {exc}".splitlines()[0])
    write_json(folder / "result.json", result.to_dict())
    return result


def make_model(spec: TrialSpec, problem: Problem, device: str) -> Candidate:
    """The trial's candidate, told the problem type, the job's objective metric, the seed and the device."""
    cls = get_candidate(spec.candidate)
    params = dict(spec.params)
    if spec.budget < 1 and cls.budget_param:  # multi-fidelity: fewer rounds or epochs
        full = params.get(cls.budget_param, inspect.signature(cls).parameters[cls.budget_param].default)
        params[cls.budget_param] = max(1, round(full * spec.budget))
    return cls(problem_type=problem.problem_type, metric=problem.metric, seed=spec.seed, device=device, **params)


def _fit_and_score(spec: TrialSpec, data: TrialData, folder: Path) -> dict[str, float]:
    """Fit on train (early stopping on validation) and score on validation; with ``cv_folds``, the scores that rank
    the trial are the cross-validation means over train + validation, and the holdout's are kept as holdout_*."""
    problem = Problem.from_dict(data.problem)
    train, validation = _read(data.train_path), _read(data.validation_path)

    def make_pipeline() -> AutopilotPipeline:
        model = make_model(spec, problem, data.device)
        encoding = model.categorical_encoding
        return AutopilotPipeline(
            build_preprocessor(data.profile, problem.target, categorical_encoding=encoding), model, problem
        )

    pipeline = make_pipeline().fit(train, validation)
    codes, proba = pipeline.predict_encoded(validation)
    metrics = score_all(problem.problem_type, pipeline.encode_target(validation[problem.target]), codes, proba)
    if data.cv_folds > 1:
        rows = pd.concat([train, validation], ignore_index=True)
        holdout = {f"holdout_{k}": v for k, v in metrics.items()}
        metrics = {**cross_validate(make_pipeline, rows, problem, data.cv_folds, spec.seed), **holdout}
    if not np.isfinite(metrics[problem.metric]):
        raise ValueError(f"the objective {problem.metric} is not finite on validation")
    pipeline.save(folder / MODEL_FILE)
    return metrics
