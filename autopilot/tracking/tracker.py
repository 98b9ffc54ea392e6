"""One job's MLflow run: created (or continued, for a resumed job) with the job's resolved settings as params, each
trial a nested run logged as it finishes, and at the end the best trial's metrics, the job's files and best/ as a
pyfunc model. Every MLflow call goes through ``_guarded``: during a job the first failure is one warning and tracking
stops there; ``autopilot track`` (``strict``) raises it instead."""

from __future__ import annotations

import contextlib
import json
import math
import re
import time
from collections.abc import Callable, Iterable
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from autopilot.errors import JobError
from autopilot.io import read_json, write_json
from autopilot.job_folder import data_stem
from autopilot.leaderboard import load_results
from autopilot.search.spec import TrialResult
from autopilot.tracking import quiet, tracking_uri

if TYPE_CHECKING:
    from autopilot.config import JobConfig
    from autopilot.console import Reporter

STATE_FILE = "tracking.json"  # in the job folder: each place the job is logged (a resumed job continues that run)
TRIAL_TAG = "autopilot.trial"  # on each nested run: the trial's id (a trial already logged is never logged again)
PARENT_TAG = "mlflow.parentRunId"
ARTIFACTS = ("leaderboard.csv", "report.html", "profile.json", "problem.json", "job.json")
RUN_STATUS = {"completed": "FINISHED", "candidates": "FINISHED", "failed": "FAILED"}  # else KILLED (stopped)
MAX_PARAM = 6000  # characters of a param's value MLflow keeps


class Tracker:
    """Logs one job folder to MLflow at ``uri`` (None: tracking is off and every method does nothing)."""

    def __init__(
        self,
        uri: str | None,
        job_dir: Path,
        experiment: str | None = None,
        register_model: str | None = None,
        say: Callable[[str], None] = print,
        strict: bool = False,
    ) -> None:
        self.uri, self.job_dir, self.experiment, self.register_model = uri, Path(job_dir), experiment, register_model
        self.say, self.strict = say, strict  # strict: a failure is raised (autopilot track), not a warning
        self.model_uri: str | None = None
        self.version: int | None = None  # of the registered model
        self.continued = False  # the run was the one this folder was logged to before
        self.client = None
        self.run_id: str | None = None
        self.experiment_id: str | None = None
        self.logged: set[str] = set()
        self.stopped = uri is None

    def start(self, job: dict, finished: Iterable[TrialResult] = ()) -> None:
        """Create the job's run (or continue the one this folder was logged to), log its params, and the trials that
        finished before (a resumed job's), each once."""
        self._guarded("starting the job's run", self._start, job, list(finished))

    def trial(self, result: TrialResult) -> None:
        """A finished trial as a nested run: its params, metrics, fit seconds and status."""
        self._guarded(f"logging trial {result.spec.id}", self._log_trial, result)

    def finish(self) -> None:
        """The best trial's metrics, the job's files, best/ as a model (registered when asked) and the run's end."""
        self._guarded("logging the job's results", self._finish)
        if not self.stopped and not self.strict:
            self.say(self.summary())

    def end(self, error: BaseException) -> None:
        """The job stopped (interrupted, or failed): the run says so."""
        status = "KILLED" if isinstance(error, KeyboardInterrupt) else "FAILED"
        self._guarded("ending the run", self._set_status, status, "stopped" if status == "KILLED" else "failed")

    def log_finished_job(self) -> bool:
        """``autopilot track``: log the job as it stands on disk. False when it was logged there whole before."""
        job = read_json(self.job_dir / "job.json")
        self.experiment = self.experiment or default_experiment(job)
        logged_before = self._place().get("logged_status") == job.get("status")
        self.start(job, load_results(self.job_dir))
        if logged_before and self.continued:
            return False
        self.finish()
        return True

    def _places(self) -> list[dict]:
        path = self.job_dir / STATE_FILE
        return read_json(path).get("runs", []) if path.exists() else []

    def _place(self) -> dict:
        """What this folder's record says of the job's run in this store and experiment (empty: none yet)."""
        here = [p for p in self._places() if (p["tracking_uri"], p["experiment"]) == (self.uri, self.experiment)]
        return here[0] if here else {}

    def _remember(self, **fields: object) -> None:
        place = {"tracking_uri": self.uri, "experiment": self.experiment, **self._place(), **fields}
        others = [p for p in self._places() if (p["tracking_uri"], p["experiment"]) != (self.uri, self.experiment)]
        write_json(self.job_dir / STATE_FILE, {"runs": [*others, place]})

    def _guarded(self, what: str, action: Callable, *args: object) -> None:
        if self.stopped:
            return
        try:
            with quiet():
                action(*args)
        except Exception as exc:
            self.stopped = True
            reason = _reason(exc)
            if self.strict:
                raise JobError(f"MLflow tracking at {self.uri} failed while {what}: {reason}") from None
            self.say(
                f"Warning: MLflow tracking at {self.uri} stopped while {what} ({reason}); the job goes on, and "
                f"`autopilot track {self.job_dir} --tracking-uri {self.uri}` logs it afterwards"
            )

    def _start(self, job: dict, finished: list[TrialResult]) -> None:
        from mlflow.tracking import MlflowClient

        self.client = MlflowClient(self.uri)
        self.experiment = self.experiment or default_experiment(job)
        self.experiment_id = self._experiment_id(self.experiment)
        run = self._continued_run()
        if run is None:
            run = self.client.create_run(self.experiment_id, run_name=job["name"], tags=_job_tags(job, self.job_dir))
        else:
            if job.get("status") == "running":  # a resumed job
                self.client.update_run(run.info.run_id, status="RUNNING")
            self.logged, self.continued = self._logged_trials(run.info.run_id), True
        self.run_id = run.info.run_id
        logged_status = self._place().get("logged_status") if self.continued else None  # a new run: nothing yet
        self._remember(experiment_id=self.experiment_id, run_id=self.run_id, logged_status=logged_status)
        params = {k: v for k, v in job_params(job).items() if k not in run.data.params}  # a param is set once
        self._log_batch(self.run_id, params=[_param(k, v) for k, v in params.items()])
        for result in finished:
            self._log_trial(result)

    def _log_batch(self, run_id: str, metrics: list | None = None, params: list | None = None) -> None:
        """In batches within MLflow's limits (1,000 metrics, 100 params a call)."""
        metrics, params = metrics or [], params or []
        for i in range(0, len(params), 100):
            self.client.log_batch(run_id, params=params[i : i + 100])
        for i in range(0, len(metrics), 1000):
            self.client.log_batch(run_id, metrics=metrics[i : i + 1000])

    def _experiment_id(self, name: str) -> str:
        from mlflow.exceptions import MlflowException

        found = self.client.get_experiment_by_name(name)
        if found is not None:
            return found.experiment_id
        try:
            return self.client.create_experiment(name)
        except MlflowException:  # made meanwhile by another job
            return self.client.get_experiment_by_name(name).experiment_id

    def _continued_run(self) -> object | None:
        """The run this folder was logged to before, when it is in the same store and experiment."""
        from mlflow.exceptions import MlflowException

        state = self._place()
        if not state or state.get("experiment_id") != self.experiment_id:  # none, or the experiment was made anew
            return None
        try:
            run = self.client.get_run(state["run_id"])
        except MlflowException:  # deleted since
            return None
        return run if run.info.lifecycle_stage == "active" else None

    def _logged_trials(self, run_id: str) -> set[str]:
        logged, token = set(), None
        while True:
            page = self.client.search_runs(
                [self.experiment_id], f"tags.`{PARENT_TAG}` = '{run_id}'", max_results=1000, page_token=token
            )
            logged |= {r.data.tags[TRIAL_TAG] for r in page if TRIAL_TAG in r.data.tags}
            token = page.token
            if not token:
                return logged

    def _log_trial(self, result: TrialResult) -> None:
        spec = result.spec
        if spec.id in self.logged:
            return
        end = int(time.time() * 1000)
        tags = {PARENT_TAG: self.run_id, TRIAL_TAG: spec.id, "candidate": spec.candidate, "status": result.status}
        if result.error:
            tags["error"] = result.error[:MAX_PARAM]
        child = self.client.create_run(
            self.experiment_id, start_time=end - int(result.seconds * 1000), tags=tags, run_name=spec.id
        )
        params = {**spec.params, "candidate": spec.candidate, "budget": spec.budget, "seed": spec.seed}
        metrics = {**result.metrics, "fit_seconds": result.seconds}
        self._log_batch(child.info.run_id, _metrics(metrics, end), [_param(k, v) for k, v in params.items()])
        self.client.set_terminated(child.info.run_id, "FINISHED" if result.ok else "FAILED", end_time=end)
        self.logged.add(spec.id)

    def _finish(self) -> None:
        from autopilot.tracking.model import log_best_model

        job = read_json(self.job_dir / "job.json")
        metrics = best_metrics(self.job_dir)
        if job.get("seconds") is not None:
            metrics["job_seconds"] = job["seconds"]
        self._log_batch(self.run_id, metrics=_metrics(metrics, int(time.time() * 1000)))
        if job.get("best_trial"):
            self.client.set_tag(self.run_id, "best_trial", job["best_trial"])
        for name in ARTIFACTS:
            if (self.job_dir / name).is_file():
                self.client.log_artifact(self.run_id, str(self.job_dir / name))
        if (self.job_dir / "notebooks").is_dir():
            self.client.log_artifacts(self.run_id, str(self.job_dir / "notebooks"), "notebooks")
        if (self.job_dir / "best" / "pipeline.joblib").is_file():
            self.model_uri, self.version = log_best_model(self.uri, self.run_id, self.job_dir, self.register_model)
        status = job.get("status", "running")
        self._set_status(RUN_STATUS.get(status, "KILLED"), status)
        self._remember(logged_status=status)

    def summary(self, verb: str = "Logged") -> str:
        """Where the job was logged, in one line."""
        model = f"; best/ as {self.model_uri}" if self.model_uri else ""
        registered = f" (registered: models:/{self.register_model}/{self.version})" if self.version else ""
        return f"{verb} to MLflow at {self.uri}: experiment {self.experiment}, run {self.run_id}{model}{registered}"

    def _set_status(self, run_status: str, job_status: str) -> None:
        if self.run_id is None:
            return
        self.client.set_tag(self.run_id, "autopilot.status", job_status)
        self.client.set_terminated(self.run_id, run_status)


def job_tracker(config: JobConfig, job_dir: Path, reporter: Reporter) -> Tracker:
    """The job's tracker: off unless --tracking-uri or MLFLOW_TRACKING_URI says where; warnings go to the terminal."""
    uri = tracking_uri(config.tracking_uri)
    return Tracker(uri, job_dir, config.experiment, config.register_model, say=reporter.plan)


class TrackedReporter:
    """The job's reporter, with every finished trial also logged to MLflow as it finishes."""

    def __init__(self, reporter: Reporter, tracker: Tracker) -> None:
        self.reporter, self.tracker = reporter, tracker

    def trial_finished(self, result: TrialResult) -> None:
        self.reporter.trial_finished(result)
        self.tracker.trial(result)

    def __getattr__(self, name: str) -> object:
        return getattr(self.reporter, name)


def default_experiment(job: dict) -> str:
    """The data file's stem (``penguins`` for penguins.csv), as the job folder's default name has it."""
    source = job.get("source") or {}
    return data_stem(source.get("path"), source.get("format", "dataframe"))


def job_params(job: dict) -> dict:
    """The job's settings as resolved (what was given, with what the data decided in its place), and its data."""
    given = {k: v for k, v in job.get("config", {}).items() if v is not None and v != {} and k != "extra"}
    resolved = {k: v for k, v in job.get("resolved", {}).items() if v is not None}
    data = {f"data.{k}": len(v) if k == "columns" else v for k, v in (job.get("data") or {}).items()}
    source = {f"data.{k}": v for k, v in (job.get("source") or {}).items() if k in ("path", "format", "bytes")}
    return {**given, **resolved, **data, **source}


def best_metrics(job_dir: Path) -> dict:
    """Every leaderboard metric of the top trial (its scores, fit and predict seconds)."""
    import pandas as pd

    path = job_dir / "leaderboard.csv"
    if not path.exists():
        return {}
    top = pd.read_csv(path).head(1)
    skip = {"rank", "budget"}
    return {k: v for k, v in top.iloc[0].items() if k not in skip and isinstance(v, int | float)} if len(top) else {}


def _job_tags(job: dict, job_dir: Path) -> dict:
    resolved = job.get("resolved", {})
    tags = {f"version.{k}": str(v) for k, v in job.get("versions", {}).items()}
    for package in ("autogluon.tabular", "torch", "mlflow"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            tags[f"version.{package.split('.')[0]}"] = metadata.version(package)
    tags.update({"autopilot.status": "running", "autopilot.job_dir": str(job_dir.resolve())})
    tags.update({k: str(resolved[k]) for k in ("device", "mode", "problem_type") if resolved.get(k) is not None})
    return tags


def _param(key: str, value: object) -> object:
    from mlflow.entities import Param

    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return Param(_key(key)[:250], text[:MAX_PARAM])


def _metrics(values: dict, timestamp: int) -> list:
    from mlflow.entities import Metric

    return [
        Metric(_key(k), float(v), timestamp, 0)
        for k, v in values.items()
        if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
    ]


def _key(name: object) -> str:
    """A param or metric name as MLflow allows it: letters, digits, _ - . / and spaces."""
    return re.sub(r"[^\w\-. /]", "_", str(name))


def _reason(exc: BaseException) -> str:
    """Why a tracking call failed, in a few words."""
    text = str(exc).strip()
    if "Max retries exceeded" in text or "Connection refused" in text:
        return "the server does not answer"
    first = text.splitlines()[0] if text else type(exc).__name__
    return first if len(first) <= 160 else first[:157] + "..."
