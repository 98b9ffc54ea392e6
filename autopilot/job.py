"""Runs a job's stages in order. Everything the input can get wrong is checked before the job folder exists."""

from __future__ import annotations

import json
import platform
import shutil
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from autopilot.candidates import resolve_algorithms
from autopilot.data import SourceInfo, profile_table, read_table, split_train_validation, table_from_pandas
from autopilot.device import check_device, resolve_device
from autopilot.ensemble import BAG_FOLDS, STACK_LEVELS, resolve_families, run_ensembling
from autopilot.errors import NoSuccessfulTrialError
from autopilot.io import atomic_path, write_json
from autopilot.job_folder import check_folder, create_folder, job_dir_for
from autopilot.leaderboard import build_leaderboard, load_results, write_leaderboard
from autopilot.metrics import get_metric
from autopilot.notebooks import write_notebooks
from autopilot.preprocess import feature_kinds
from autopilot.problem import Problem, check_target, infer_problem
from autopilot.report import write_report
from autopilot.reporting import Reporter
from autopilot.search import TrialData, TrialProcessExecutor, run_search
from autopilot.search.cluster import check_cluster, cluster_executor
from autopilot.search.cv import CV_FOLDS, CV_MAX_ROWS
from autopilot.search.plan import choose_mode, choose_strategy, default_parallel, make_strategy
from autopilot.search.runner import MODEL_FILE, record_failure
from autopilot.search.spec import TrialSpec

ENSEMBLING_GRACE_SECONDS = 60  # AutoGluon's own time limit is approximate; past it by this much it is stopped


@dataclass
class JobConfig:
    """What the user asked for; job.json keeps it beside what was resolved from the data."""

    target: str
    problem_type: str | None = None
    metric: str | None = None
    algorithms: list[str] | None = None
    positive_label: object = None
    seed: int = 0
    validation_fraction: float = 0.2
    parallel_trials: int | None = None
    strategy: str = "auto"
    max_trials: int = 100
    time_limit: float | None = None
    trial_time_limit: float | None = None
    mode: str = "auto"
    ensembling_max_bytes: int | None = None
    cluster: str | None = None
    device: str = "auto"
    output: str | None = None
    job_name: str | None = None
    overwrite: bool = False
    candidates_only: bool = False  # pilot mode: profile, split and write the notebooks; train nothing
    extra: dict = field(default_factory=dict)


@dataclass
class Prepared:
    """The checked input of a job, before anything is written."""

    table: pa.Table
    source: SourceInfo
    profile: dict
    problem: Problem
    candidates: list[str]
    train_rows: object
    validation_rows: object
    job_dir: Path
    resume: bool
    strategy: str
    mode: str = "hpo"
    mode_reason: str = ""


def prepare(data: str | Path | pd.DataFrame, config: JobConfig) -> Prepared:
    """Load, profile, infer the problem, pick candidates and split; raises an AutopilotError on bad input."""
    check_device(config.device)
    if config.cluster:
        check_cluster(config.cluster)
    if isinstance(data, pd.DataFrame):
        table, source = (
            table_from_pandas(data),
            SourceInfo("<DataFrame>", "dataframe", int(data.memory_usage().sum())),
        )
    else:
        table, source = read_table(data)
    check_target(table, config.target)
    profile = profile_table(table, config.target, source.bytes)
    problem = infer_problem(table, config.target, config.problem_type, config.metric, config.positive_label)
    mode, why = choose_mode(config.mode, config.strategy, source.bytes, config.ensembling_max_bytes)
    if mode == "ensembling":
        candidates = resolve_families(config.algorithms)
    else:
        candidates = resolve_algorithms(config.algorithms, problem.problem_type)
    table = table.filter(pc.is_valid(table.column(config.target)))
    y = table.column(config.target).to_pandas().rename(config.target)
    train, val = split_train_validation(y, problem.is_classification, config.validation_fraction, config.seed)
    job_dir = job_dir_for(config.output, config.job_name, source)
    resume = check_folder(job_dir, asdict(config))
    feature_kinds(profile, config.target)  # refuses data with no usable feature
    strategy = "ensembling" if mode == "ensembling" else choose_strategy(config.strategy, source.bytes)
    return Prepared(table, source, profile, problem, candidates, train, val, job_dir, resume, strategy, mode, why)


def run_job(data: str | Path | pd.DataFrame, config: JobConfig, reporter: Reporter) -> Path:
    """Run a whole job (or resume an unfinished one) and return its folder."""
    prepared = prepare(data, config)
    reporter.detected(prepared.source, prepared.profile, prepared.problem)
    job_dir = prepared.job_dir
    create_folder(job_dir, prepared.resume)
    finished = {r.spec.id: r for r in load_results(job_dir)} if prepared.resume else {}
    started = time.time()
    job = {
        "name": job_dir.name,
        "status": "running",
        "started": _now(),
        "config": asdict(config),
        "resolved": _resolved(prepared, config),
        "source": prepared.source.to_dict(),
        "versions": versions(),
    }
    write_json(job_dir / "job.json", job)
    trial_data = _write_inputs(job_dir, prepared, config)
    if config.candidates_only:
        write_json(job_dir / "job.json", {**job, "status": "candidates"})
        notebook = write_notebooks(job_dir, train_now=True)[-1]
        reporter.plan(f"Candidates only (pilot mode): nothing was trained. Run {notebook} to train them.")
        return job_dir
    _search(prepared, config, trial_data, finished, reporter)
    results = load_results(job_dir)  # the files are the record, resumed runs' trials included
    board = build_leaderboard(results, prepared.problem)
    write_leaderboard(job_dir, board)
    job.update(finished=_now(), seconds=round(time.time() - started, 3))
    if not any(r.ok for r in results):
        write_json(job_dir / "job.json", {**job, "status": "failed"})
        if config.time_limit and all("time limit" in (r.error or "") for r in results):
            raise NoSuccessfulTrialError(
                f"no trial finished within the time limit of {config.time_limit:g} s; give a longer --time-limit"
            )
        first = results[0].error if results else "none ran"
        raise NoSuccessfulTrialError(f"every trial failed (first: {first}); see {job_dir}/trials/*/error.txt")
    write_best(job_dir, board, prepared)
    write_notebooks(job_dir)
    reporter.plan("Explaining the best model (SHAP) and writing report.html")
    write_report(job_dir)
    write_json(job_dir / "job.json", {**job, "status": "completed", "best_trial": board.iloc[0]["trial"]})
    reporter.finished(job_dir, board, prepared.problem)
    return job_dir


def _search(prepared: Prepared, config: JobConfig, data: TrialData, finished: dict, reporter: Reporter) -> None:
    reporter.plan(f"Mode: {prepared.mode} ({prepared.mode_reason})")
    if prepared.mode == "ensembling":
        _ensemble(prepared, config, data, finished, reporter)
        return
    deadline = time.monotonic() + config.time_limit if config.time_limit else None
    wall_deadline = time.time() + config.time_limit if config.time_limit else None  # for trials in other processes
    data = replace(data, deadline=wall_deadline, trial_time_limit=config.trial_time_limit)
    strategy = make_strategy(
        prepared.strategy,
        prepared.candidates,
        prepared.profile,
        prepared.problem,
        config.max_trials,
        config.seed,
        prepared.job_dir,
        finished,
        deadline,
    )
    parallel = config.parallel_trials or default_parallel()
    gpus = _gpu_count() if data.device == "cuda" else 0
    objective = get_metric(prepared.problem.metric, prepared.problem.problem_type)
    total = min(config.max_trials, len(prepared.candidates)) if prepared.strategy == "defaults" else config.max_trials
    reporter.training_started(total, data.device, parallel, len(finished), config.time_limit, objective)
    hooks = {"on_result": reporter.trial_finished, "on_start": reporter.trial_started}
    limits = {"deadline": deadline, "trial_time_limit": config.trial_time_limit}
    if config.cluster:
        with cluster_executor(config.cluster, data) as (executor, frames, threads):
            run_search(strategy, executor, data, config.parallel_trials or threads, remote=frames, **hooks, **limits)
        return
    with TrialProcessExecutor(config.trial_time_limit, deadline, gpus) as executor:
        run_search(strategy, executor, data, parallel, **hooks, **limits)


def _ensemble(prepared: Prepared, config: JobConfig, data: TrialData, finished: dict, reporter: Reporter) -> None:
    """AutoGluon in one trial process; its time limit is passed through, and the process is stopped past it."""
    if finished:  # AutoGluon finished before the job was stopped: its trials are all there
        return
    families = ", ".join(prepared.candidates)
    reporter.plan(f"Ensembling with AutoGluon: {families}; {BAG_FOLDS}-fold bagging, {STACK_LEVELS} stack level")
    gpus = _gpu_count() if data.device == "cuda" else 0
    limit = config.time_limit
    deadline = time.monotonic() + limit + ENSEMBLING_GRACE_SECONDS if limit else None
    with TrialProcessExecutor(deadline=deadline) as executor:
        future = executor.submit(run_ensembling, data, prepared.candidates, limit, config.seed, gpus)
        try:
            results = future.result()
        except Exception as exc:  # recorded like a failed trial, so the job says what happened
            spec = TrialSpec("001-autogluon", "autogluon", {}, 1.0, config.seed)
            results = [record_failure(spec, data, exc, 0.0)]
    for result in results:
        reporter.trial_finished(result)


def _gpu_count() -> int:
    import torch

    return torch.cuda.device_count()


def write_best(job_dir: Path, board: pd.DataFrame, prepared: Prepared) -> None:
    """Copy the top trial's pipeline into best/ with a manifest saying what it is and what it needs."""
    top = board.iloc[0]
    problem = prepared.problem
    with atomic_path(job_dir / "best" / MODEL_FILE) as tmp:
        shutil.copyfile(job_dir / "trials" / top["trial"] / MODEL_FILE, tmp)
    manifest = {
        "trial": top["trial"],
        "candidate": top["candidate"],
        "params": json.loads(top["params"]),
        "objective": {"metric": problem.metric, "validation_score": top[problem.metric]},
        "problem": problem.to_dict(),
        "required_columns": feature_kinds(prepared.profile, problem.target),
        "pipeline_file": MODEL_FILE,
        "versions": versions(),
        "created": _now(),
    }
    write_json(job_dir / "best" / "manifest.json", manifest)


def _write_inputs(job_dir: Path, prepared: Prepared, config: JobConfig) -> TrialData:
    write_json(job_dir / "profile.json", prepared.profile)
    write_json(job_dir / "problem.json", prepared.problem.to_dict())
    paths = {}
    for name, rows in (("train", prepared.train_rows), ("validation", prepared.validation_rows)):
        paths[name] = job_dir / "data" / f"{name}.parquet"
        with atomic_path(paths[name]) as tmp:
            pq.write_table(prepared.table.take(pa.array(rows)), tmp)
    return TrialData(
        str(paths["train"]),
        str(paths["validation"]),
        str(job_dir / "trials"),
        prepared.problem.to_dict(),
        prepared.profile,
        resolve_device(config.device),
        _cv_folds(prepared),
    )


def _cv_folds(prepared: Prepared) -> int:
    """k-fold cross-validation in HPO with up to CV_MAX_ROWS rows, as Autopilot does; the holdout otherwise."""
    rows = len(prepared.train_rows) + len(prepared.validation_rows)
    return CV_FOLDS if prepared.strategy != "defaults" and rows <= CV_MAX_ROWS else 0


def _resolved(prepared: Prepared, config: JobConfig) -> dict:
    return {
        "mode": prepared.mode,
        "mode_reason": prepared.mode_reason,
        "strategy": prepared.strategy,
        "problem_type": prepared.problem.problem_type,
        "metric": prepared.problem.metric,
        "candidates": prepared.candidates,
        "seed": config.seed,
        "device": resolve_device(config.device),
        "scored_by": f"{CV_FOLDS}-fold cross-validation" if _cv_folds(prepared) else "holdout validation",
        "train_rows": len(prepared.train_rows),
        "validation_rows": len(prepared.validation_rows),
        "dropped_rows": prepared.problem.dropped_rows,
    }


def versions() -> dict:
    import numpy
    import sklearn
    import xgboost

    from autopilot import __version__

    return {
        "autopilot": __version__,
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "pandas": pd.__version__,
        "pyarrow": pa.__version__,
        "scikit-learn": sklearn.__version__,
        "xgboost": xgboost.__version__,
    }


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
