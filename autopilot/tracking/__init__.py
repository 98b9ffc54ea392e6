"""MLflow tracking (``--tracking-uri``, or ``MLFLOW_TRACKING_URI``): each job a run in an experiment, each trial a
nested run logged as it finishes, and best/ an MLflow pyfunc model. MLflow is optional: ``pip install -c
constraints.txt -e ".[mlflow]"``. A tracking failure during a job is one warning; ``autopilot track`` logs a
finished job afterwards.

>>> track_job("autopilot-output/penguins", "sqlite:///mlflow.db")  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

from autopilot.errors import ConfigError

INSTALL = 'pip install -c constraints.txt -e ".[mlflow]"'
URI_ENV = "MLFLOW_TRACKING_URI"
SCHEMES = {"file", "http", "https", "sqlite", "postgresql", "mysql", "mssql", "databricks", "databricks-uc", "uc"}
FAST_FAILURE = {  # an unreachable server is a warning within seconds, not MLflow's minutes of retries
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "10",
}


def tracking_uri(given: str | None) -> str | None:
    """The tracking URI asked for: ``given``, else ``MLFLOW_TRACKING_URI``; None when tracking is off. A folder
    (MLflow's file store) is made absolute, so a job resumed from elsewhere logs to the same place."""
    uri = given or os.environ.get(URI_ENV) or None
    if uri and urlparse(uri).scheme == "":
        return Path(uri).expanduser().resolve().as_uri()
    return uri


def check_tracking(given: str | None) -> str | None:
    """Refuse tracking that cannot work, before anything runs: MLflow not installed, or a URI it cannot use. Returns
    the URI (None when tracking is off); a folder is MLflow's file store."""
    uri = tracking_uri(given)
    if uri is None:
        return None
    source = "--tracking-uri" if given else URI_ENV
    try:
        import mlflow  # noqa: F401
    except ImportError:
        raise ConfigError(f"{source} needs MLflow, which is not installed: {INSTALL}") from None
    scheme = urlparse(uri).scheme.split("+")[0]  # a database URL may name its driver: postgresql+psycopg2://
    if scheme not in SCHEMES:
        raise ConfigError(
            f"{source} {uri}: MLflow cannot track there; give a server (http://HOST:PORT), sqlite:///FILE.db, "
            "a database URL or a folder"
        )
    for name, value in FAST_FAILURE.items():
        os.environ.setdefault(name, value)
    if scheme == "file":  # a folder, asked for by name: MLflow 3 keeps that store, deprecated, behind this switch
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    from mlflow.tracking import MlflowClient

    try:
        with quiet():
            MlflowClient(uri)
    except Exception as exc:  # a store MLflow cannot open
        first = (str(exc).strip() or type(exc).__name__).splitlines()[0]
        raise ConfigError(f"{source} {uri}: MLflow cannot use it ({first[:200]})") from None
    return uri


def track_job(
    job_dir: str | Path, uri: str | None = None, experiment: str | None = None, register_model: str | None = None
) -> str:
    """Log a finished (or stopped) job folder to MLflow: the run, its trials, artifacts and best/ as a model. A job
    logged before to the same place continues its own run, and no trial is logged twice. Returns where it went, in
    one line."""
    from autopilot.tracking.tracker import Tracker

    uri = check_tracking(uri)
    if uri is None:
        raise ConfigError(f"autopilot track needs --tracking-uri or {URI_ENV}")
    tracker = Tracker(uri, Path(job_dir), experiment, register_model, strict=True)
    logged = tracker.log_finished_job()
    return tracker.summary("Logged" if logged else "Already logged")


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """MLflow's own log lines, warnings, prints and progress bars stay off the job's terminal."""
    logger = logging.getLogger("mlflow")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()) as out:
            warnings.simplefilter("ignore")
            with contextlib.redirect_stderr(out):
                yield
    finally:
        logger.setLevel(level)
