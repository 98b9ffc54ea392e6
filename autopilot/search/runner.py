"""``run_trial``: fit one candidate on the job's train split and score it on validation. Never raises.

``run_trial_remote`` does the same on a cluster worker and hands the files' contents back instead of writing them."""

from __future__ import annotations

import io
import time
import traceback
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import joblib
import numpy as np
import pandas as pd

from autopilot.candidates import Candidate, get_candidate
from autopilot.io import atomic_path, write_json, write_text
from autopilot.metrics import score_all
from autopilot.pipeline import AutopilotPipeline
from autopilot.preprocess import build_preprocessor
from autopilot.problem import Problem
from autopilot.search.cost import FitClock, trial_end
from autopilot.search.cv import cross_validate
from autopilot.search.spec import FAILED, SUCCEEDED, TrialResult, TrialSpec
from autopilot.search.threshold import choose_threshold, labels, tunes_threshold

MODEL_FILE = "pipeline.joblib"
MIN_BUDGET_ROWS = 50  # a trial on a small budget still trains on at least this many rows (or all of them)


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
    deadline: float | None = None  # time.time() at which the search is stopped (the job's time limit)
    trial_time_limit: float | None = None  # seconds


@lru_cache(maxsize=4)
def read_frame(path: str) -> pd.DataFrame:
    return pd.read_parquet(path)


def run_trial(spec: TrialSpec, data: TrialData) -> TrialResult:
    """Train, score and save one trial into ``trials/<id>/``; a failure becomes a result holding its error."""
    folder = Path(data.trials_dir) / spec.id
    write_json(folder / "spec.json", spec.to_dict())
    result, pipeline, error = _attempt(spec, data, read_frame(data.train_path), read_frame(data.validation_path))
    save_outcome(folder, result, pipeline, error)
    return result


def run_trial_remote(
    spec: TrialSpec, data: TrialData, train: pd.DataFrame, validation: pd.DataFrame
) -> tuple[TrialResult, bytes | None, str | None]:
    """``run_trial`` for a cluster worker, which may not share the job's disk: the data comes as (scattered)
    frames, and the result, the pickled pipeline and any traceback go back for the client to save."""
    result, pipeline, error = _attempt(spec, data, train, validation)
    if pipeline is None:
        return result, None, error
    buffer = io.BytesIO()
    joblib.dump(pipeline, buffer)
    return result, buffer.getvalue(), error


def save_outcome(folder: Path, result: TrialResult, pipeline: object, error: str | None) -> None:
    """A trial's files: spec.json, the pipeline (an object, or its pickled bytes), error.txt, then result.json last."""
    write_json(folder / "spec.json", result.spec.to_dict())
    if isinstance(pipeline, bytes):
        with atomic_path(folder / MODEL_FILE) as tmp:
            tmp.write_bytes(pipeline)
    elif pipeline is not None:
        pipeline.save(folder / MODEL_FILE)
    if error is not None:
        write_text(folder / "error.txt", error)
    write_json(folder / "result.json", result.to_dict())


def _attempt(
    spec: TrialSpec, data: TrialData, train: pd.DataFrame, validation: pd.DataFrame
) -> tuple[TrialResult, AutopilotPipeline | None, str | None]:
    start = time.perf_counter()
    try:
        metrics, pipeline = fit_and_score(spec, data, train, validation)
        return TrialResult(spec, SUCCEEDED, metrics, time.perf_counter() - start), pipeline, None
    except Exception as exc:  # a failing trial must never sink the job; its traceback is kept in error.txt
        error = f"{type(exc).__name__}: {exc}".splitlines()[0]
        return TrialResult(spec, FAILED, {}, time.perf_counter() - start, error), None, traceback.format_exc()


def record_failure(spec: TrialSpec, data: TrialData, exc: BaseException, seconds: float) -> TrialResult:
    """A trial that failed outside ``run_trial`` (stopped at its time limit, its process died) on disk as failed."""
    details = getattr(exc, "details", "") or "".join(traceback.format_exception(exc))
    result = TrialResult(spec, FAILED, {}, seconds, f"{type(exc).__name__}: {exc}".splitlines()[0])
    save_outcome(Path(data.trials_dir) / spec.id, result, None, details)
    return result


def make_model(spec: TrialSpec, problem: Problem, device: str) -> Candidate:
    """The trial's candidate, told the problem type, the job's objective metric, the seed and the device."""
    cls = get_candidate(spec.candidate)
    return cls(problem_type=problem.problem_type, metric=problem.metric, seed=spec.seed, device=device, **spec.params)


def budget_rows(train: pd.DataFrame, problem: Problem, budget: float, seed: int) -> pd.DataFrame:
    """A seeded ``budget`` share of the rows (at least ``MIN_BUDGET_ROWS``), by class for classification with at
    least one row of every class, so the model still knows them all."""
    share = max(budget, MIN_BUDGET_ROWS / max(len(train), 1))
    if share >= 1:
        return train
    if not problem.is_classification:
        return train.sample(frac=share, random_state=seed)
    by_class = train.groupby(problem.target, observed=True)
    keep = by_class.sample(frac=share, random_state=seed).index.union(by_class.head(1).index)
    return train.loc[keep]


def fit_and_score(
    spec: TrialSpec, data: TrialData, train: pd.DataFrame, validation: pd.DataFrame
) -> tuple[dict, AutopilotPipeline]:
    """Fit on train (early stopping on validation) and score on validation; with ``cv_folds``, the scores that rank
    the trial are the cross-validation means over train + validation, and the holdout's are kept as holdout_*.
    Binary objectives that count labels tune the pipeline's decision threshold (``autopilot.search.threshold``)."""
    problem = Problem.from_dict(data.problem)
    if spec.budget < 1:  # multi-fidelity: a seeded share of the training rows; validation stays whole
        train = budget_rows(train, problem, spec.budget, spec.seed)
    fits = 1 + (data.cv_folds if data.cv_folds > 1 else 0)
    clock = FitClock(trial_end(time.time(), data.deadline, data.trial_time_limit), fits)
    models: list[Candidate] = []

    def make_pipeline() -> AutopilotPipeline:
        model = make_model(spec, problem, data.device)
        if "max_seconds" in model.get_params():  # a model that can stop early on its own gets its share of time
            model.set_params(max_seconds=clock.share())
        models.append(model)
        encoding = model.categorical_encoding
        return AutopilotPipeline(
            build_preprocessor(data.profile, problem.target, categorical_encoding=encoding), model, problem
        )

    pipeline = make_pipeline().fit(train, validation)
    start = time.perf_counter()
    codes, proba = pipeline.predict_encoded(validation)
    predict_seconds = time.perf_counter() - start
    cv = None
    if data.cv_folds > 1:
        rows = pd.concat([train, validation], ignore_index=True)
        cv = cross_validate(make_pipeline, rows, problem, data.cv_folds, spec.seed)
    metrics = _scores(pipeline, validation, codes, proba, cv)
    if not np.isfinite(metrics[problem.metric]):
        raise ValueError(f"the objective {problem.metric} is not finite on validation")
    capped = sum(bool(getattr(m, "stopped_by_time_", False)) for m in models)
    return {**metrics, **({"time_capped_fits": capped} if capped else {}), "predict_seconds": predict_seconds}, pipeline


THRESHOLD_SOURCES = {
    True: "out-of-fold probabilities of the cross-validation; each fold was scored with one from the other folds",
    False: "validation rows, which also score this trial (slightly optimistic)",
}


def _scores(
    pipeline: AutopilotPipeline, validation: pd.DataFrame, codes: np.ndarray, proba: np.ndarray | None, cv: dict | None
) -> dict:
    """The trial's metrics: the cross-validation's (if any) with the validation's as holdout_*, else the
    validation's. Where the objective tunes a decision threshold, the pipeline's is set first: chosen on the
    cross-validation's out-of-fold probabilities, or on the validation rows (which then also score it)."""
    problem = pipeline.problem
    y = pipeline.encode_target(validation[problem.target])
    tuned = tunes_threshold(problem.problem_type, problem.metric)
    if tuned:
        chosen = cv.pop("threshold") if cv is not None else choose_threshold(y, proba[:, 1], problem.metric)
        pipeline.threshold = chosen
        codes = labels(proba, chosen)
    metrics = score_all(problem.problem_type, y, codes, proba)
    if cv is not None:  # holdout_*: with a threshold, these rows were among the out-of-fold rows that chose it
        metrics = {**cv, **{f"holdout_{k}": v for k, v in metrics.items()}}
    if tuned:
        threshold = 0.5 if pipeline.threshold is None else pipeline.threshold
        metrics.update(threshold=threshold, threshold_chosen_on=THRESHOLD_SOURCES[cv is not None])
    return metrics
