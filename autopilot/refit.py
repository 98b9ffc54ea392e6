"""The best HPO trial retrained on every labelled row (train and validation) for best/.

The trial keeps its scored pipeline and its leaderboard scores (the holdout's or the cross-validation's: honest
out-of-sample); the retrained pipeline goes beside it as ``trials/<id>/refit.joblib``, with ``refit.json`` saying
what it learned from, the settings that changed and the seconds it took. With no rows held out there is nothing to
stop early on, so each candidate says how long to train from its scored fit (``Candidate.refit_params``: XGBoost's
best round count, the MLP's best epoch, the Linear Learner's chosen model). A decision threshold the trial tuned is
kept. AutoGluon's models are refit in ensembling's own trial process (``ensemble.py``).
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import pandas as pd

from autopilot.budget import refit_skipped
from autopilot.ensemble import CANDIDATE as AUTOGLUON
from autopilot.ensemble import REFIT_FILE, REFIT_SUMMARY
from autopilot.io import read_json, write_json
from autopilot.pipeline import AutopilotPipeline
from autopilot.preprocess import build_preprocessor
from autopilot.problem import Problem
from autopilot.search.runner import MODEL_FILE, TrialData, make_model, read_frame
from autopilot.search.spec import TrialSpec


def refit_best(job_dir: Path, board: pd.DataFrame, data: TrialData, seconds: float | None) -> list[str]:
    """Retrain the leaderboard's top HPO trial on every labelled row if its estimated cost fits ``seconds`` (no
    limit: always); returns notes on what was skipped. The estimate is one of the trial's fits, grown by the rows."""
    top = board.iloc[0]
    if top["candidate"] == AUTOGLUON:
        return []
    folder = job_dir / "trials" / top["trial"]
    train, validation = read_frame(data.train_path), read_frame(data.validation_path)
    every_row = pd.concat([train, validation], ignore_index=True)
    fits = 1 + (data.cv_folds if data.cv_folds > 1 else 0)  # a cross-validated trial's seconds count every fold
    estimate = float(top["fit_seconds"]) / fits * len(every_row) / max(len(train), 1)
    skipped = refit_skipped(top["trial"], estimate, seconds)
    if skipped:
        return [skipped]
    start = time.perf_counter()
    scored = AutopilotPipeline.load(folder / MODEL_FILE)
    changed = scored.model.refit_params()
    spec = TrialSpec.from_dict(read_json(folder / "spec.json"))
    problem = Problem.from_dict(data.problem)
    model = make_model(replace(spec, params={**spec.params, **changed}), problem, data.device)
    if seconds is not None and "max_seconds" in model.get_params():
        model.set_params(max_seconds=seconds)
    preprocessor = build_preprocessor(data.profile, problem.target, categorical_encoding=model.categorical_encoding)
    pipeline = AutopilotPipeline(preprocessor, model, problem).fit(every_row)
    pipeline.threshold = scored.threshold
    pipeline.save(folder / REFIT_FILE)
    took = round(time.perf_counter() - start, 3)
    write_json(folder / REFIT_SUMMARY, {"rows": len(every_row), "changed": changed, "seconds": took})
    return []
