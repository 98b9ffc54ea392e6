"""HPO's best trial retrained on every labelled row for best/, its leaderboard scores left as they were."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from autopilot import AutoPilot
from autopilot.metrics import METRICS
from autopilot.pipeline import AutopilotPipeline
from autopilot.refit import refit_best
from autopilot.search.runner import TrialData

DIABETES = Path(__file__).resolve().parents[1] / "datasets" / "diabetes.csv"


@pytest.fixture(scope="module")
def job(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("refit") / "diabetes"
    options = {"mode": "hpo", "strategy": "defaults", "algorithms": ["linear-learner"], "verbose": False}
    return AutoPilot(target="progression", output=out, seed=0, **options).fit(DIABETES)


def test_best_learns_from_every_labelled_row(job) -> None:
    train, validation = (pd.read_parquet(job.path / "data" / f"{n}.parquet") for n in ("train", "validation"))
    trial = job.path / "trials" / job.leaderboard.loc[0, "trial"]
    best = AutopilotPipeline.load(job.path / "best" / "pipeline.joblib")
    scored = AutopilotPipeline.load(trial / "pipeline.joblib")
    every = pd.concat([train, validation])["progression"]
    assert best.model.y_mean_ == pytest.approx(every.mean())  # the label scaling saw validation rows too
    assert scored.model.y_mean_ == pytest.approx(train["progression"].mean())  # the scored one did not
    refit = json.loads((trial / "refit.json").read_text())
    assert refit["rows"] == len(every) and refit["changed"] == {"num_models": 1, **scored.model.settings_}
    manifest = json.loads((job.path / "best" / "manifest.json").read_text())
    assert manifest["trained_on"] == f"every labelled row ({len(every):,})" and manifest["refit"] == refit


def test_the_leaderboard_keeps_the_scored_models_out_of_sample_score(job) -> None:
    validation = pd.read_parquet(job.path / "data" / "validation.parquet")
    trial = job.path / "trials" / job.leaderboard.loc[0, "trial"]
    scored = AutopilotPipeline.load(trial / "pipeline.joblib")
    y = validation["progression"].to_numpy(float)
    rmse = METRICS["RMSE"].score(y, scored.predict(validation), None)
    assert job.leaderboard.loc[0, "RMSE"] == pytest.approx(rmse)
    assert job.leaderboard.loc[0, "scored_by"] == job.info["resolved"]["scored_by"]


def test_no_time_for_the_refit_skips_it_and_says_so(job, tmp_path: Path) -> None:
    board = job.leaderboard.assign(fit_seconds=30.0)
    data = TrialData(
        str(job.path / "data" / "train.parquet"),
        str(job.path / "data" / "validation.parquet"),
        str(tmp_path / "trials"),  # nothing may be written: the refit does not start
        json.loads((job.path / "problem.json").read_text()),
        json.loads((job.path / "profile.json").read_text()),
    )
    notes = refit_best(tmp_path, board, data, seconds=5.0)
    rows = (
        job.info["resolved"]["train_rows"],
        len(pd.read_parquet(data.train_path)) + len(pd.read_parquet(data.validation_path)),
    )
    estimate = 30.0 * rows[1] / rows[0]  # one fit (no cross-validation here), grown to every row
    assert notes == [
        f"refit skipped: retraining {board.loc[0, 'trial']} on every row would take ~{estimate:.1f} s, 5 s left"
    ]
    assert not (tmp_path / "trials").exists()
