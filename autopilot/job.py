"""Runs a job's stages in order once its input is checked (``prepare.py``), in its held folder, within its limit."""

from __future__ import annotations

import json
import os
import shutil
import time
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import asdict, replace
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from autopilot.best import now, versions, write_best
from autopilot.bias import write_bias
from autopilot.bias.descriptions import summary_lines
from autopilot.budget import QUICK_REFIT_SHARE, REFIT_SHARE, JobBudget, default_time_limit
from autopilot.config import JobConfig
from autopilot.console import Reporter
from autopilot.constant_baseline import write_constant_baseline
from autopilot.deploy.baseline import write_baseline
from autopilot.device import resolve_device
from autopilot.ensemble import (
    AG_DIR,
    DATE_PARTS,
    REFIT_SUMMARY,
    EnsembleRun,
    run_in_trial_process,
    scored_completely,
)
from autopilot.ensemble_families import untrained_families
from autopilot.ensemble_plan import plan_ensembling
from autopilot.errors import NoSuccessfulTrialError
from autopilot.io import atomic_path, read_json, write_json
from autopilot.job_folder import hold_folder
from autopilot.leaderboard import build_leaderboard, load_results, write_leaderboard
from autopilot.metrics import Metric, get_metric
from autopilot.notebooks import write_notebooks
from autopilot.prepare import Prepared, prepare, validation_fraction
from autopilot.preprocess import feature_kinds
from autopilot.refit import refit_best
from autopilot.report import import_ahead, modules_ahead, write_report
from autopilot.search.cluster import cluster_executor
from autopilot.search.cv import CV_FOLDS, CV_MAX_ROWS
from autopilot.search.executors import run_search
from autopilot.search.plan import default_parallel, make_strategy
from autopilot.search.processes import TrialProcessExecutor, warm_up
from autopilot.search.runner import TrialData, record_failure
from autopilot.search.spec import TrialSpec
from autopilot.tracking import tracking_uri
from autopilot.tracking.tracker import TrackedReporter, job_tracker

PROGRESS_FILE = "progress.jsonl"  # in autogluon/: a line per model AutoGluon has trained, shown as it comes


def run_job(
    data: str | Path | pd.DataFrame, config: JobConfig, reporter: Reporter, started: float | None = None
) -> Path:
    """Run a whole job (or resume an unfinished one) within its time limit, counted from ``started`` (a
    ``time.monotonic()`` value; default now), and return its folder."""
    budget = JobBudget(config.time_limit, started=started)
    if config.cluster is None and not config.candidates_only:
        warm_up()  # trials run in local processes: their server imports its libraries while the data loads
    with budget.stage("load_and_profile"):
        prepared = prepare(data, config)
    reporter.detected(prepared.source, prepared.profile, prepared.problem)
    plan_budget(prepared, config, budget, reporter)
    with hold_folder(prepared.job_dir, prepared.resume, config.overwrite):  # locked until the job ends
        return _run_in_folder(prepared, config, reporter, budget)


def _run_in_folder(prepared: Prepared, config: JobConfig, reporter: Reporter, budget: JobBudget) -> Path:
    """The job's stages once its folder is held, logged to MLflow when it is tracked (``autopilot.tracking``)."""
    job_dir = prepared.job_dir
    finished = {r.spec.id: r for r in load_results(job_dir)} if prepared.resume else {}
    job = {
        "name": job_dir.name,
        "status": "running",
        "started": now(),
        "config": asdict(config),
        "resolved": _resolved(prepared, config),
        "source": prepared.source.to_dict(),
        "data": prepared.data,
        "versions": versions(),
        "budget": budget.to_dict(),
    }
    write_json(job_dir / "job.json", job)
    tracker = job_tracker(config, job_dir, reporter)
    tracker.start(job, finished.values())
    try:
        _stages(prepared, config, TrackedReporter(reporter, tracker), budget, job, finished)
    except BaseException as exc:
        tracker.end(exc)
        raise
    tracker.finish()
    return job_dir


def _stages(
    prepared: Prepared, config: JobConfig, reporter: Reporter, budget: JobBudget, job: dict, finished: dict
) -> None:
    """Search, leaderboard, best/, notebooks, explanations and report, each written to the folder as it ends."""
    job_dir = prepared.job_dir
    trial_data = _write_inputs(job_dir, prepared, config)
    if config.candidates_only:
        write_json(job_dir / "job.json", {**job, "status": "candidates"})
        notebook = write_notebooks(job_dir, train_now=True)[-1]
        reporter.plan(f"Candidates only (pilot mode): nothing was trained. Run {notebook} to train them.")
        return
    import_ahead(modules_ahead(prepared.candidates))  # the report's imports, while the search's processes work
    with budget.stage("search"):
        _search(prepared, config, trial_data, finished, reporter, budget)
    results = load_results(job_dir)  # the files are the record, resumed runs' trials included
    baseline = write_constant_baseline(job_dir, prepared.problem, _every_row_scored(prepared)) if results else None
    board = build_leaderboard(results, prepared.problem, _scored_by(prepared), baseline)
    write_leaderboard(job_dir, board)
    job.update(finished=now(), seconds=round(budget.elapsed(), 3), budget=budget.to_dict())
    if not any(r.ok for r in results):
        write_json(job_dir / "job.json", {**job, "status": "failed"})
        _refuse_failed(results, config, job_dir)
    if prepared.mode != "ensembling":  # ensembling refits in its own trial process
        _refit(job_dir, board, trial_data, budget, reporter)
    rows = (len(prepared.train_rows), prepared.labelled_rows)
    write_best(job_dir, board, prepared.problem, prepared.profile, rows, prepared.bagged)
    with budget.stage("notebooks"):
        write_notebooks(job_dir)
    reporter.plan("Explaining the best model (SHAP) and writing report.html")
    with budget.stage("explain_and_report"):
        bias = config.bias()
        if bias is not None:
            reporter.plan(f"Measuring bias for {', '.join(f.text() for f in bias.facets)} (explain/bias.json)")
            for line in summary_lines(read_json(write_bias(job_dir, bias))):
                reporter.plan(f"  {line}")
        for note in write_report(job_dir, budget.allowance("explain")):
            budget.shrink(note)
        write_baseline(job_dir)  # monitor/: Model Monitor's baseline of the rows the best model learned from
    for note in budget.shrunk:
        reporter.plan(f"  shrunk to fit the time limit: {note}")
    job.update(finished=now(), seconds=round(budget.elapsed(), 3), budget=budget.to_dict())
    write_json(job_dir / "job.json", {**job, "status": "completed", "best_trial": board.iloc[0]["trial"]})
    reporter.finished(job_dir, board, prepared.problem)


def _refuse_failed(results: list, config: JobConfig, job_dir: Path) -> None:
    """Raise the error that says why no trial succeeded."""
    if config.time_limit and all("time limit" in (r.error or "") for r in results):
        raise NoSuccessfulTrialError(
            f"no trial finished within the time limit of {config.time_limit:g} s; give a longer --time-limit"
        )
    first = results[0].error if results else "none ran"
    raise NoSuccessfulTrialError(f"every trial failed (first: {first}); see {job_dir}/trials/*/error.txt")


def _refit(job_dir: Path, board: pd.DataFrame, data: TrialData, budget: JobBudget, reporter: Reporter) -> None:
    """HPO: the best trial retrained on every labelled row for best/, if the refit's share of the limit allows."""
    reporter.plan(f"Retraining {board.iloc[0]['trial']} on every labelled row for best/")
    with budget.stage("refit"):
        notes = refit_best(job_dir, board, data, budget.allowance("refit"))
    for note in notes:
        budget.shrink(note)


DATE_FEATURES = len(DATE_PARTS) + 1  # a date's parts and the date as a number


def plan_budget(prepared: Prepared, config: JobConfig, budget: JobBudget, reporter: Reporter) -> None:
    """Give ensembling a limit that fits the data when none was given, share the limit out between the stages,
    and make the ensembling plan for the search's share; say all of it on the terminal."""
    reporter.plan(f"Mode: {prepared.mode} ({prepared.mode_reason})")
    kinds = feature_kinds(prepared.profile, prepared.problem.target).values()
    columns = sum(DATE_FEATURES if kind == "datetime" else 1 for kind in kinds)  # the columns the models see
    rows = prepared.labelled_rows
    if prepared.mode == "ensembling" and budget.limit is None:
        budget.limit, budget.given = default_time_limit(rows, columns), False
        reporter.plan(
            f"Time limit: {budget.limit:.0f} s, picked for {rows:,} rows x {columns} columns (--time-limit sets it)"
        )
    tracked = tracking_uri(config.tracking_uri) is not None
    stages = budget.plan_stages(REFIT_SHARE, tracking=tracked)
    if prepared.mode != "ensembling":
        return
    classes = len(prepared.problem.classes or [])
    cores = os.cpu_count() or 1
    gpus = _gpu_count() if resolve_device(config.device) == "cuda" else 0
    search = stages.get("search")
    plan = plan_ensembling(rows, columns, classes, search, cores, prepared.candidates, gpus, portfolio=budget.given)
    if not plan.refit:  # bagging needs none; a holdout plan that keeps no time for one keeps a little
        stages = budget.plan_stages(QUICK_REFIT_SHARE if plan.scheme == "holdout" else 0.0, tracking=tracked)
    prepared.plan = plan
    reporter.plan(f"Plan: {plan.describe()} ({'; '.join(plan.reasons)})")
    if stages:
        shares = ", ".join(f"{name} {seconds:.{0 if seconds >= 10 else 1}f} s" for name, seconds in stages.items())
        reporter.plan(f"Budget: {budget.limit:.0f} s in all: {shares}")


def _search(
    prepared: Prepared, config: JobConfig, data: TrialData, finished: dict, reporter: Reporter, budget: JobBudget
) -> None:
    if prepared.mode == "ensembling":
        _ensemble(prepared, data, finished, reporter, budget, config.seed)
        return
    deadline = budget.search_deadline()
    wall_deadline = None if deadline is None else time.time() + deadline - time.monotonic()  # for other processes
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


def _ensemble(
    prepared: Prepared, data: TrialData, finished: dict, reporter: Reporter, budget: JobBudget, seed: int
) -> None:
    """AutoGluon in one trial process, to the plan: it stops fitting at the search's deadline, refits by the refit's,
    and is killed only past the point that would leave the later stages too little of the limit."""
    if finished and scored_completely(prepared.job_dir):  # AutoGluon finished before the job was stopped
        return
    for folder in (prepared.job_dir / "trials", prepared.job_dir / AG_DIR):  # a partial or failed run: start afresh
        shutil.rmtree(folder, ignore_errors=True)
    progress = prepared.job_dir / AG_DIR / PROGRESS_FILE
    progress.parent.mkdir(parents=True, exist_ok=True)
    progress.unlink(missing_ok=True)
    fit_until = budget.search_deadline()
    refit_until = None if fit_until is None else fit_until + budget.planned.get("refit", 0.0)
    kill_at = None if budget.limit is None else budget.hard_end() - budget.post_reserve()
    gpus = _gpu_count() if data.device == "cuda" else 0
    run = EnsembleRun(prepared.plan, seed, gpus, fit_until, refit_until, str(progress))
    with TrialProcessExecutor(deadline=kill_at) as executor:
        future = executor.submit(run_in_trial_process, data, run)
        outcome = _follow(
            future, progress, reporter, get_metric(prepared.problem.metric, prepared.problem.problem_type)
        )
    notes, error = (outcome, None) if isinstance(outcome, list) else ([], outcome)
    for note in notes:
        budget.shrink(note)
    results = load_results(prepared.job_dir)
    if error is not None and results:  # stopped after its models were scored, while refitting: keep them
        budget.shrink(f"the refit was stopped ({error}); best/ keeps the model trained on the train rows")
    elif error is not None:  # recorded like a failed trial, so the job says what happened
        spec = TrialSpec("001-autogluon", "autogluon", {}, 1.0, seed)
        results = [record_failure(spec, data, error, 0.0)]
    missing = untrained_families(prepared.plan.families, [r.spec.params.get("model", "") for r in results if r.ok])
    if missing:
        budget.shrink(f"no model of {', '.join(missing)} finished within the search's time")
    for result in results:
        reporter.trial_finished(result)
    scored = [r for r in results if r.ok]
    if scored:
        reporter.plan(f"  scored {len(scored)} models, {scored[0].scored_by}")
    for refit in (prepared.job_dir / "trials").glob(f"*/{REFIT_SUMMARY}"):
        done = read_json(refit)
        rows = f"every labelled row ({done['rows']:,})"
        reporter.plan(f"  refit {refit.parent.name} on {rows} as {done['model']} in {done['seconds']:.1f} s, for best/")


def _follow(future: Future, progress: Path, reporter: Reporter, objective: Metric) -> list[str] | BaseException:
    """Show each model AutoGluon trains as it finishes (its score on the objective: AutoGluon's validation score,
    higher-is-better, turned back for a loss); the run's notes when it ends, or its exception."""
    seen = 0
    while True:
        try:
            outcome = future.result(timeout=0.5)
        except FutureTimeout:
            outcome = None
        except Exception as exc:
            outcome = exc
        text = progress.read_text(encoding="utf-8") if progress.exists() else ""
        lines = text.split("\n")[:-1]  # whole lines only: the last may still be being written
        for line in lines[seen:]:
            model = json.loads(line)
            score = model.get("score_val")
            value = None if score is None else (score if objective.greater_is_better else -score)
            shown = "" if value is None else f", {objective.name} {value:.4f}"
            reporter.plan(f"  trained {model['model']} in {model['fit_seconds']:.1f} s{shown}")
        seen = len(lines)
        if outcome is not None:
            return outcome


def _gpu_count() -> int:
    import torch

    return torch.cuda.device_count()


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
    return CV_FOLDS if prepared.strategy != "defaults" and prepared.labelled_rows <= CV_MAX_ROWS else 0


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
        "scored_by": _scored_by(prepared),
        "ensemble_plan": prepared.plan.to_dict() if prepared.plan else None,
        "validation_fraction": validation_fraction(config, prepared.labelled_rows, prepared.mode),
        "train_rows": len(prepared.train_rows),
        "validation_rows": len(prepared.validation_rows),
        "dropped_rows": prepared.problem.dropped_rows,
    }


def _every_row_scored(prepared: Prepared) -> bool:
    """Whether the trials are scored on every labelled row (out of fold, or cross-validated), not a holdout."""
    return prepared.bagged or (prepared.mode != "ensembling" and bool(_cv_folds(prepared)))


def _scored_by(prepared: Prepared) -> str:
    rows = prepared.labelled_rows
    if prepared.bagged:
        return f"{prepared.plan.folds}-fold out-of-fold predictions over every labelled row ({rows:,})"
    if _every_row_scored(prepared):
        return f"{CV_FOLDS}-fold cross-validation over every labelled row ({rows:,})"
    return f"holdout validation ({len(prepared.validation_rows):,} rows)"
