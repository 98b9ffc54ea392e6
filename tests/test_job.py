"""End-to-end jobs through the Python API: the job folder, predictions, reproducibility, failures."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import autopilot.search.plan
from autopilot import AutoPilot, load_job
from autopilot.errors import ConfigError, NoSuccessfulTrialError
from autopilot.metrics import METRICS
from autopilot.pipeline import AutopilotPipeline
from autopilot.search.spec import TrialSpec
from autopilot.search.strategies import DefaultsStrategy

DATASETS = Path(__file__).resolve().parents[1] / "datasets"
PENGUINS = DATASETS / "penguins.csv"


@pytest.fixture(scope="module")
def penguin_job(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("jobs") / "penguins"
    return AutoPilot(target="species", seed=3, verbose=False, strategy="defaults", output=out).fit(PENGUINS)


def test_job_folder_has_every_artifact(penguin_job) -> None:
    root = penguin_job.path
    for name in [
        "job.json",
        "profile.json",
        "problem.json",
        "leaderboard.csv",
        "best/pipeline.joblib",
        "best/manifest.json",
        "data/train.parquet",
        "data/validation.parquet",
        "notebooks/data_exploration.ipynb",
        "notebooks/candidate_definitions.ipynb",
    ]:
        assert (root / name).is_file(), name
    trials = sorted(p.name for p in (root / "trials").iterdir())
    assert trials == ["001-linear-learner", "002-mlp", "003-xgboost"]  # every candidate, with its defaults
    for trial in trials:
        assert (root / "trials" / trial / "spec.json").is_file() and (root / "trials" / trial / "result.json").is_file()
    job = json.loads((root / "job.json").read_text())
    assert job["status"] == "completed"
    assert job["resolved"]["problem_type"] == "multiclass" and job["resolved"]["metric"] == "Accuracy"
    assert job["config"]["seed"] == 3
    assert not list(root.rglob("*.tmp")), "atomic writes leave no temporary files"


def test_leaderboard_columns_and_ranking(penguin_job) -> None:
    board = penguin_job.leaderboard
    for col in [
        "rank",
        "trial",
        "candidate",
        "Accuracy",
        "BalancedAccuracy",
        "F1macro",
        "LogLoss",
        "fit_seconds",
        "status",
        "params",
    ]:
        assert col in board.columns
    assert list(board.columns[:4]) == ["rank", "trial", "candidate", "Accuracy"]
    assert board.loc[0, "status"] == "succeeded"
    assert board.loc[0, "Accuracy"] > 0.9  # penguins species are nearly separable


def test_leaderboard_score_is_reproduced_from_files(penguin_job) -> None:
    """White box: the best trial's pipeline on data/validation.parquet gives the leaderboard's number (best/ holds
    it refit on every labelled row, validation rows included)."""
    trial = penguin_job.leaderboard.loc[0, "trial"]
    pipeline = AutopilotPipeline.load(penguin_job.path / "trials" / trial / "pipeline.joblib")
    validation = pd.read_parquet(penguin_job.path / "data" / "validation.parquet")
    codes, proba = pipeline.predict_encoded(validation)
    y = pipeline.encode_target(validation["species"])
    for name in ["Accuracy", "LogLoss"]:
        assert METRICS[name].score(y, codes, proba) == pytest.approx(penguin_job.leaderboard.loc[0, name])


def test_predict_new_rows_with_unseen_category_and_missing_values(penguin_job) -> None:
    rows = pd.read_csv(PENGUINS).drop(columns="species").head(6)
    rows.loc[0, "island"] = "Atlantis"
    rows.loc[1, ["bill_length_mm", "sex"]] = np.nan
    out = penguin_job.predict(rows)
    assert list(out.columns) == ["predicted_label", "probability", "proba_Adelie", "proba_Chinstrap", "proba_Gentoo"]
    proba = out[["proba_Adelie", "proba_Chinstrap", "proba_Gentoo"]].to_numpy()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(out["probability"], proba.max(axis=1))
    assert set(out["predicted_label"]) <= {"Adelie", "Chinstrap", "Gentoo"}
    assert penguin_job.predict_proba(rows).shape == (6, 3)


def test_predictions_are_mostly_right_on_training_file(penguin_job) -> None:
    data = pd.read_csv(PENGUINS)
    predicted = penguin_job.predict(PENGUINS)["predicted_label"]
    assert (predicted.to_numpy() == data["species"].to_numpy()).mean() > 0.95


def test_load_job_and_repr(penguin_job) -> None:
    again = load_job(penguin_job.path)
    assert again.problem.classes == ["Adelie", "Chinstrap", "Gentoo"]
    best = again.leaderboard.iloc[0]["candidate"]
    assert "multiclass" in repr(again) and f"best: {best}" in repr(again)
    assert "<table" in again._repr_html_()


def test_same_seed_same_results_other_seed_other_split(tmp_path: Path) -> None:
    runs = [
        AutoPilot(target="species", seed=s, verbose=False, strategy="defaults", output=tmp_path / f"r{i}").fit(PENGUINS)
        for i, s in enumerate([7, 7, 8])
    ]
    splits = [pd.read_parquet(r.path / "data" / "validation.parquet") for r in runs]
    pd.testing.assert_frame_equal(splits[0], splits[1])
    assert not splits[0].equals(splits[2])
    boards = [r.leaderboard for r in runs]
    assert boards[0]["LogLoss"].tolist() == boards[1]["LogLoss"].tolist()


def test_regression_from_dataframe_with_chosen_metric(tmp_path: Path) -> None:
    df = pd.read_csv(DATASETS / "diabetes.csv")
    job = AutoPilot(target="progression", metric="rmse", verbose=False, strategy="defaults", output=tmp_path / "d").fit(
        df
    )
    board = job.leaderboard
    assert job.problem.problem_type == "regression" and job.problem.metric == "RMSE"
    assert {"RMSE", "MAE", "MSE", "R2"} <= set(board.columns)
    assert board.loc[0, "RMSE"] < df["progression"].std()  # beats predicting the mean
    out = job.predict(df.drop(columns="progression").head(3))
    assert list(out.columns) == ["predicted_label"] and out["predicted_label"].dtype.kind == "f"


def test_binary_with_missing_targets_dropped(tmp_path: Path) -> None:
    job = AutoPilot(target="sex", verbose=False, strategy="defaults", output=tmp_path / "b").fit(PENGUINS)
    assert job.problem.problem_type == "binary" and job.problem.metric == "F1"
    assert job.problem.dropped_rows == 11
    resolved = job.info["resolved"]
    assert resolved["train_rows"] + resolved["validation_rows"] == 344 - 11


def test_existing_job_is_never_overwritten_silently(tmp_path: Path, penguin_job) -> None:
    out = tmp_path / "j"
    AutoPilot(target="species", verbose=False, strategy="defaults", output=out).fit(PENGUINS)
    with pytest.raises(ConfigError, match="holds a completed job"):
        AutoPilot(target="species", verbose=False, strategy="defaults", output=out).fit(PENGUINS)
    AutoPilot(target="species", verbose=False, strategy="defaults", output=out, overwrite=True, seed=5).fit(PENGUINS)
    assert json.loads((out / "job.json").read_text())["config"]["seed"] == 5
    other = tmp_path / "not-a-job"
    other.mkdir()
    (other / "keep.txt").write_text("precious")
    with pytest.raises(ConfigError, match="not an autopilot job"):
        AutoPilot(target="species", verbose=False, strategy="defaults", output=other, overwrite=True).fit(PENGUINS)
    assert (other / "keep.txt").read_text() == "precious"


def test_failed_trial_is_recorded_and_all_failed_job_says_so(tmp_path: Path, monkeypatch) -> None:
    class Broken(DefaultsStrategy):
        def __init__(self, candidates: list[str], seed: int = 0, done: set[str] = frozenset()) -> None:
            super().__init__(candidates, seed, done)
            self._pending = [TrialSpec("001-xgboost", "xgboost", {"max_depth": "deep"}, 1.0, seed)]

    monkeypatch.setattr(autopilot.search.plan, "DefaultsStrategy", Broken)
    out = tmp_path / "f"
    with pytest.raises(NoSuccessfulTrialError, match="every trial failed"):
        AutoPilot(target="species", verbose=False, strategy="defaults", output=out).fit(PENGUINS)
    assert json.loads((out / "job.json").read_text())["status"] == "failed"
    assert "Traceback" in (out / "trials" / "001-xgboost" / "error.txt").read_text()
    board = pd.read_csv(out / "leaderboard.csv")
    assert board.loc[0, "status"] == "failed" and board.loc[0, "error"]


SCRIPT = """
from autopilot import AutoPilot

options = dict(mode="hpo", strategy="defaults", algorithms=["linear-learner"], verbose=False)
{call}
"""


@pytest.mark.parametrize("guarded", [True, False])
def test_a_user_script_runs_with_the_main_guard_and_is_told_without_it(tmp_path: Path, guarded: bool) -> None:
    import subprocess
    import sys

    fit = f'job = AutoPilot(target="species", output={str(tmp_path / "job")!r}, **options).fit({str(PENGUINS)!r})'
    call = f'if __name__ == "__main__":\n    {fit}\n    print("rows", len(job.leaderboard))' if guarded else fit
    (tmp_path / "script.py").write_text(SCRIPT.format(call=call))
    done = subprocess.run([sys.executable, "script.py"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    if guarded:  # trial processes import the script again; the guard keeps the job to this one
        assert done.returncode == 0 and "rows 1" in done.stdout, done.stderr[-2000:]
    else:
        assert done.returncode != 0 and 'put the call under `if __name__ == "__main__":`' in done.stderr
