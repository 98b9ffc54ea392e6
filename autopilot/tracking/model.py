"""best/ as an MLflow pyfunc model, so ``mlflow.pyfunc.load_model`` and ``mlflow models serve`` use it: the pipeline
(and, for an AutoGluon pipeline, the job's predictor) as its artifact, autopilot's code beside it, the signature and
an input example from the training rows. Its ``predict`` returns what ``autopilot predict`` writes."""

from __future__ import annotations

import os
import shutil
import tempfile
from importlib import metadata
from pathlib import Path

import pandas as pd

from autopilot.ensemble import AG_DIR, AutoGluonPipeline

ENTRY = Path(__file__).with_name("pyfunc_entry.py")  # MLflow's "models from code" file, copied into the model
EXAMPLE_ROWS = 5


def log_best_model(uri: str, run_id: str, job_dir: Path, register_model: str | None = None) -> tuple[str, int | None]:
    """Log ``job_dir/best`` to the run as the model ``model`` (registered under ``register_model`` when given);
    returns the model's URI and its registered version."""
    import mlflow
    from mlflow.models import infer_signature

    from autopilot.pipeline import AutopilotPipeline

    pipeline = AutopilotPipeline.load(job_dir / "best" / "pipeline.joblib")
    example = input_example(job_dir, pipeline.required_columns)
    signature = infer_signature(example, pipeline.predict_frame(example))
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)
    try:
        with tempfile.TemporaryDirectory(dir=job_dir) as tmp, mlflow.start_run(run_id=run_id, nested=True):
            info = mlflow.pyfunc.log_model(
                name="model",
                python_model=str(ENTRY),
                artifacts={"job": str(_staged(job_dir, Path(tmp), isinstance(pipeline, AutoGluonPipeline)))},
                code_paths=[str(Path(__file__).parents[1])],  # the autopilot package, as it was when trained
                pip_requirements=requirements(),
                signature=signature,
                input_example=example,
                registered_model_name=register_model,
            )
    finally:
        mlflow.set_tracking_uri(previous)
    return info.model_uri, info.registered_model_version


def input_example(job_dir: Path, columns: list[str]) -> pd.DataFrame:
    """A few training rows, their feature columns as the model learned from them (the signature's types)."""
    return pd.read_parquet(job_dir / "data" / "train.parquet", columns=columns).head(EXAMPLE_ROWS)


def requirements() -> list[str]:
    """autopilot's own dependencies at the versions installed here (autopilot's code travels with the model)."""
    from packaging.requirements import Requirement

    pinned = []
    for line in metadata.requires("autopilot") or []:
        requirement = Requirement(line)
        if requirement.marker is not None and "extra" in str(requirement.marker):
            continue
        try:
            version = metadata.version(requirement.name)
        except metadata.PackageNotFoundError:
            continue
        extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
        pinned.append(f"{requirement.name}{extras}=={version}")
    return [*pinned, f"mlflow=={metadata.version('mlflow')}"]


def _staged(job_dir: Path, tmp: Path, autogluon: bool) -> Path:
    """A folder shaped like the job as the pipeline needs it: job.json and best/, and the AutoGluon predictor for an
    AutoGluon pipeline (hard-linked where it can be; MLflow copies the files into the model)."""
    staged = tmp / "job"
    (staged / "best").mkdir(parents=True)
    shutil.copyfile(job_dir / "job.json", staged / "job.json")
    for file in (job_dir / "best").iterdir():
        shutil.copyfile(file, staged / "best" / file.name)
    if autogluon:
        shutil.copytree(job_dir / AG_DIR, staged / AG_DIR, copy_function=_linked)
    return staged


def _linked(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:  # another filesystem, or links not allowed
        shutil.copy2(source, target)
