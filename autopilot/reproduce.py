"""Redo a job's steps from its folder and its data file: what the candidate-definition notebook runs.

>>> from autopilot.reproduce import retrain_trial
>>> pipeline, metrics = retrain_trial("autopilot-output/penguins")  # doctest: +SKIP
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from autopilot.data import read_table, split_train_validation
from autopilot.data.values import tidy_values
from autopilot.ensemble import AG_DIR, EnsembleRun, run_ensembling
from autopilot.ensemble import CANDIDATE as AUTOGLUON
from autopilot.ensemble_plan import EnsemblePlan
from autopilot.errors import ConfigError
from autopilot.io import read_json
from autopilot.leaderboard import load_results
from autopilot.pipeline import AutopilotPipeline
from autopilot.preprocess import build_preprocessor
from autopilot.problem import Problem
from autopilot.search.cv import CV_FOLDS
from autopilot.search.runner import TrialData, fit_and_score, make_model
from autopilot.search.spec import TrialSpec


@dataclass(frozen=True)
class JobFiles:
    """The parts of a job folder that define its candidates."""

    path: Path
    job: dict
    profile: dict
    problem: Problem

    @classmethod
    def read(cls, job_dir: str | Path) -> JobFiles:
        path = Path(job_dir)
        if not (path / "job.json").exists():
            raise ConfigError(f"{path} is not an autopilot job folder (no job.json); give the folder a run wrote")
        problem = Problem.from_dict(read_json(path / "problem.json"))
        return cls(path, read_json(path / "job.json"), read_json(path / "profile.json"), problem)

    @property
    def best_trial(self) -> str:
        board = pd.read_csv(self.path / "leaderboard.csv")
        return str(board["trial"].iloc[0])

    def spec(self, trial: str) -> TrialSpec:
        return TrialSpec.from_dict(read_json(self.path / "trials" / trial / "spec.json"))


def split_frames(job_dir: str | Path, data: str | Path | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The job's train and validation rows, split again from the data file (``data`` or the one job.json names) with
    the job's seed and validation fraction. A job that was given a DataFrame has no file: its saved split is used."""
    files = JobFiles.read(job_dir)
    source = data or files.job["source"]["path"]
    if files.job["source"]["format"] == "dataframe" and str(source) == files.job["source"]["path"]:
        return pd.read_parquet(files.path / "data" / "train.parquet"), pd.read_parquet(
            files.path / "data" / "validation.parquet"
        )
    config, target = files.job["config"], files.problem.target
    table, _ = tidy_values(read_table(source)[0])  # as the job read it
    table = table.filter(pc.is_valid(table.column(target)))
    y = table.column(target).to_pandas().rename(target)
    train, validation = split_train_validation(y, files.problem.is_classification, _fraction(files.job), config["seed"])
    return table.take(pa.array(train)).to_pandas(), table.take(pa.array(validation)).to_pandas()


def _fraction(job: dict) -> float:
    """The share the job held out: job.json's resolved one (jobs before it: the configured one, then always set)."""
    return job["resolved"].get("validation_fraction") or job["config"]["validation_fraction"]


def trial_data(job_dir: str | Path, device: str = "cpu") -> TrialData:
    """How the job's trials were trained and scored (the saved split's paths, problem, profile, folds)."""
    files = JobFiles.read(job_dir)
    cv = files.job["resolved"].get("scored_by", "").startswith(f"{CV_FOLDS}-fold")
    return TrialData(
        str(files.path / "data" / "train.parquet"),
        str(files.path / "data" / "validation.parquet"),
        str(files.path / "trials"),
        files.problem.to_dict(),
        files.profile,
        device,
        CV_FOLDS if cv else 0,
    )


def rebuild_pipeline(job_dir: str | Path, trial: str, device: str = "cpu") -> AutopilotPipeline:
    """A trial's pipeline (preprocessing + model with the trial's hyperparameters and seed), not yet fitted."""
    files = JobFiles.read(job_dir)
    return _pipeline(files, files.spec(trial), device)


def candidate_pipeline(
    job_dir: str | Path, candidate: str, params: dict | None = None, device: str = "cpu"
) -> AutopilotPipeline:
    """A candidate's pipeline for this job (its defaults, or ``params``; the job's seed), not yet fitted."""
    files = JobFiles.read(job_dir)
    spec = TrialSpec("notebook", candidate, dict(params or {}), 1.0, files.job["resolved"]["seed"])
    return _pipeline(files, spec, device)


def _pipeline(files: JobFiles, spec: TrialSpec, device: str) -> AutopilotPipeline:
    model = make_model(spec, files.problem, device)
    encoding = model.categorical_encoding
    preprocessor = build_preprocessor(files.profile, files.problem.target, categorical_encoding=encoding)
    return AutopilotPipeline(preprocessor, model, files.problem)


def retrain_trial(
    job_dir: str | Path, trial: str | None = None, data: str | Path | None = None, device: str = "cpu"
) -> tuple[AutopilotPipeline, dict]:
    """Retrain a trial (the best when none is named) from the data file, scored as the job scored it; returns the
    fitted pipeline and its metrics, which match the leaderboard's on the CPU (same seed, same split)."""
    files = JobFiles.read(job_dir)
    trial = trial or files.best_trial
    spec = files.spec(trial)
    if spec.candidate == AUTOGLUON:
        raise ConfigError(f"trial {trial} is an AutoGluon model: retrain it with retrain_autogluon(job_dir, trial)")
    train, validation = split_frames(job_dir, data)
    metrics, pipeline = fit_and_score(spec, trial_data(job_dir, device), train, validation)
    return pipeline, metrics


def retrain_autogluon(job_dir: str | Path, trial: str | None = None, data: str | Path | None = None) -> dict:
    """Retrain an ensembling job's AutoGluon model (the best when none is named) from the data file and score it
    as the job did; returns its metrics. The same split, plan (holdout or bagging, stack levels), settings and seed,
    but only the models it needs (itself, or an ensemble and its members), with no time limit and in a scratch
    folder that is removed. Its score matches the leaderboard's where no model of it was cut short by the job's
    time limit (AutoGluon stops a model's boosting rounds or epochs early to meet it)."""
    from autogluon.tabular import TabularPredictor

    files = JobFiles.read(job_dir)
    trial = trial or files.best_trial
    spec = files.spec(trial)
    model = spec.params.get("model")
    if spec.candidate != AUTOGLUON:
        raise ConfigError(f"trial {trial} is not an AutoGluon model: retrain it with retrain_trial(job_dir, trial)")
    saved = TabularPredictor.load(str(files.path / AG_DIR), verbosity=0)
    members = tuple(saved._trainer.get_minimum_model_set(model))
    plan = EnsemblePlan(**files.job["resolved"]["ensemble_plan"])
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        (folder / "data").mkdir()
        for name, rows in zip(("train", "validation"), split_frames(job_dir, data), strict=True):
            rows.to_parquet(folder / "data" / f"{name}.parquet", index=False)
        paths = [str(folder / "data" / f"{name}.parquet") for name in ("train", "validation")]
        trial_data = TrialData(*paths, str(folder / "trials"), files.problem.to_dict(), files.profile)
        run_ensembling(trial_data, EnsembleRun(plan, files.job["resolved"]["seed"], models=members))
        remade = {r.spec.params.get("model"): r for r in load_results(folder)}
    if model not in remade or not remade[model].ok:
        raise ConfigError(f"retraining did not remake {model} (AutoGluon made {', '.join(remade) or 'nothing'})")
    return remade[model].metrics
