"""The Python API for notebooks and scripts: ``AutoPilot(...).fit(data) -> Job``, ``load_job(path)``."""

from __future__ import annotations

import html
import sys
from functools import cached_property
from pathlib import Path

import pandas as pd

from autopilot.config import JobConfig
from autopilot.console import ConsoleReporter, SilentReporter
from autopilot.errors import ConfigError, JobError
from autopilot.io import read_json
from autopilot.job import run_job
from autopilot.pipeline import AutopilotPipeline
from autopilot.preprocess import require_columns
from autopilot.problem import Problem


class AutoPilot:
    """Configure a job; ``fit`` runs it and returns the finished :class:`Job`.

    >>> job = AutoPilot(target="species", seed=1).fit("datasets/penguins.csv")  # doctest: +SKIP
    >>> job.leaderboard.head()  # doctest: +SKIP
    >>> job.predict(new_rows)  # doctest: +SKIP
    """

    def __init__(
        self,
        target: str,
        problem_type: str | None = None,
        metric: str | None = None,
        algorithms: list[str] | None = None,
        positive_label: object = None,
        seed: int = 0,
        validation_fraction: float | None = None,
        parallel_trials: int | None = None,
        strategy: str = "auto",
        max_trials: int = 100,
        time_limit: float | None = None,
        trial_time_limit: float | None = None,
        cluster: str | None = None,
        mode: str = "auto",
        ensembling_max_bytes: int | None = None,
        device: str = "auto",
        output: str | Path | None = None,
        job_name: str | None = None,
        overwrite: bool = False,
        candidates_only: bool = False,
        facets: list[str] | None = None,
        group_variable: str | None = None,
        label_values: list[str] | None = None,
        label_threshold: float | None = None,
        tracking_uri: str | None = None,
        experiment: str | None = None,
        register_model: str | None = None,
        verbose: bool = True,
    ) -> None:
        self.config = JobConfig(
            target=target,
            problem_type=problem_type,
            metric=metric,
            algorithms=algorithms,
            positive_label=positive_label,
            seed=seed,
            validation_fraction=validation_fraction,
            parallel_trials=parallel_trials,
            strategy=strategy,
            max_trials=max_trials,
            time_limit=time_limit,
            trial_time_limit=trial_time_limit,
            cluster=cluster,
            mode=mode,
            ensembling_max_bytes=ensembling_max_bytes,
            device=device,
            output=str(output) if output else None,
            job_name=job_name,
            overwrite=overwrite,
            candidates_only=candidates_only,
            facets=list(facets) if facets else None,
            group_variable=group_variable,
            label_values=list(label_values) if label_values else None,
            label_threshold=label_threshold,
            tracking_uri=tracking_uri,
            experiment=experiment,
            register_model=register_model,
        )
        self.verbose = verbose

    def fit(self, data: str | Path | pd.DataFrame) -> Job:
        if _imported_by_a_trial_process():
            raise ConfigError(
                "AutoPilot.fit ran again while a trial process imported your script: put the call under "
                '`if __name__ == "__main__":`, as multiprocessing needs'
            )
        reporter = ConsoleReporter() if self.verbose else SilentReporter()
        return Job(run_job(data, self.config, reporter))


def _imported_by_a_trial_process() -> bool:
    """Whether the caller's script is being imported (as ``__mp_main__``) by a process multiprocessing started."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_globals.get("__name__") == "__mp_main__":
            return True
        frame = frame.f_back
    return False


class Job:
    """A finished job folder: its leaderboard, problem, profile and best pipeline."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not (self.path / "job.json").exists():
            raise JobError(f"{self.path} is not an autopilot job folder (no job.json); give the folder `run` wrote")
        self.info = read_json(self.path / "job.json")

    @cached_property
    def problem(self) -> Problem:
        return Problem.from_dict(read_json(self.path / "problem.json"))

    @cached_property
    def profile(self) -> dict:
        return read_json(self.path / "profile.json")

    @property
    def leaderboard(self) -> pd.DataFrame:
        return pd.read_csv(self.path / "leaderboard.csv")

    @cached_property
    def best(self) -> AutopilotPipeline:
        return AutopilotPipeline.load(self._best_path())

    def _best_path(self) -> Path:
        path = self.path / "best" / "pipeline.joblib"
        if not path.exists():
            raise JobError(f"{self.path} has no best pipeline (job status: {self.info.get('status')}); run it again")
        return path

    def predict(self, data: str | Path | pd.DataFrame) -> pd.DataFrame:
        """``predicted_label``, plus ``probability`` and ``proba_<label>`` columns for classification."""
        return self.best.predict_frame(_rows(data))

    def explain(self, data: str | Path | pd.DataFrame) -> pd.DataFrame:
        """SHAP attributions of the best pipeline's output to the original columns, one row per input row, with
        ``base_value`` and ``output`` columns: base_value + the row's attributions = output. ``.attrs`` says what
        output is explained (log-odds, probability or the prediction) and how.

        >>> load_job("autopilot-output/penguins").explain(new_rows).head()  # doctest: +SKIP
        """
        from autopilot.explain import explain

        rows = _rows(data)
        require_columns(rows, self.best.required_columns)
        background = pd.read_parquet(self.path / "data" / "train.parquet")
        explanation = explain(self.best, rows, background)
        table = explanation.table()
        table.attrs.update(explained=explanation.output_name, method=explanation.method)
        return table

    def bias(
        self,
        facets: list[str] | str | None = None,
        group_variable: str | None = None,
        label_values: list[str] | str | None = None,
        label_threshold: float | None = None,
        data: str | Path | pd.DataFrame | None = None,
        output: str | Path | None = None,
    ) -> tuple[dict, Path]:
        """Clarify's bias metrics for ``facets`` (default: the job's own), no retraining: of the job's rows, written
        to explain/bias.json (which the monitor's bias drift then compares with) and report.html's Bias section, or
        of ``data``'s labelled rows (a file, a folder or a DataFrame). Returns the analysis (analysis.json's shape) and
        where it was written.

        >>> analysis, path = load_job("autopilot-output/adult").bias(["sex=Female"])  # doctest: +SKIP
        """
        from autopilot.bias import job_bias_config, write_bias
        from autopilot.report import write_bias_section

        self._best_path()  # a job without a best pipeline says so
        config = job_bias_config(self.path, facets, group_variable, label_values, label_threshold)
        path = write_bias(self.path, config, data, output)
        if data is None and output is None:
            write_bias_section(self.path)
        return read_json(path), path

    def track(
        self, tracking_uri: str | None = None, experiment: str | None = None, register_model: str | None = None
    ) -> str:
        """Log this job to MLflow (default ``MLFLOW_TRACKING_URI``) as ``autopilot track`` does; says where.

        >>> load_job("autopilot-output/penguins").track("sqlite:///mlflow.db")  # doctest: +SKIP
        """
        from autopilot.tracking import track_job

        return track_job(self.path, tracking_uri, experiment, register_model)

    def predict_proba(self, data: str | Path | pd.DataFrame) -> pd.DataFrame:
        return self.best.predict_proba(_rows(data))

    def __repr__(self) -> str:
        p = self.problem
        top = self.leaderboard.head(1) if (self.path / "leaderboard.csv").exists() else pd.DataFrame()
        best = f"{top['candidate'][0]} {p.metric}={top[p.metric][0]:.4f}" if len(top) else "none"
        return f"Job({self.path}, {p.problem_type}, target={p.target!r}, status={self.info['status']}, best: {best})"

    def _repr_html_(self) -> str:
        p = self.problem
        head = (
            f"<b>autopilot job</b> <code>{html.escape(str(self.path))}</code> — {p.problem_type}, "
            f"target <code>{html.escape(p.target)}</code>, objective {p.metric}, status {self.info['status']}"
        )
        if not (self.path / "leaderboard.csv").exists():
            return head + "<p>not trained yet: run notebooks/candidate_definitions.ipynb</p>"
        return head + self.leaderboard.head(10).to_html(index=False)


def load_job(path: str | Path) -> Job:
    """Open a job folder written by ``autopilot run`` or ``AutoPilot.fit``."""
    return Job(path)


def _rows(data: str | Path | pd.DataFrame) -> pd.DataFrame:
    """New rows: a DataFrame as it is, a file or folder read as ``autopilot predict`` reads it."""
    from autopilot.deploy.batch import read_rows

    return data if isinstance(data, pd.DataFrame) else read_rows(data)
