"""best/: the pipeline of the leaderboard's top trial (the one refit on every labelled row, when it was refit) and
manifest.json, which says what it is, what it learned from, how it was scored and what it needs."""

from __future__ import annotations

import json
import platform
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import pyarrow as pa

from autopilot.ensemble import REFIT_FILE, REFIT_SUMMARY
from autopilot.io import atomic_path, read_json, write_json
from autopilot.preprocess import feature_kinds
from autopilot.problem import Problem
from autopilot.search.runner import MODEL_FILE


def write_best(
    job_dir: Path, board: pd.DataFrame, problem: Problem, profile: dict, rows: tuple[int, int], bagged: bool
) -> None:
    """Copy the top trial's pipeline into best/ with its manifest. ``rows`` are the train rows and all labelled
    rows; ``bagged``: the model's folds together learned from every labelled row."""
    top = board.iloc[0]
    trial = job_dir / "trials" / top["trial"]
    refit = (trial / REFIT_FILE).exists()
    with atomic_path(job_dir / "best" / MODEL_FILE) as tmp:
        shutil.copyfile(trial / (REFIT_FILE if refit else MODEL_FILE), tmp)
    every_row = refit or bagged
    manifest = {
        "trial": top["trial"],
        "candidate": top["candidate"],
        "params": json.loads(top["params"]),
        "objective": {"metric": problem.metric, "validation_score": top[problem.metric]},
        "scored_by": top["scored_by"],
        "trained_on": f"every labelled row ({rows[1]:,})" if every_row else f"the train rows ({rows[0]:,})",
        "refit": read_json(trial / REFIT_SUMMARY) if refit else None,
        "problem": problem.to_dict(),
        "required_columns": feature_kinds(profile, problem.target),
        "pipeline_file": MODEL_FILE,
        "versions": versions(),
        "created": now(),
    }
    write_json(job_dir / "best" / "manifest.json", manifest)


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


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
