"""One typed path for new rows: a pipeline trained on a typed table predicts the same rows identically whether they
come as that table, a CSV, a Parquet file or an HTTP request (CSV and JSON), for HPO and AutoGluon pipelines alike;
dates are read with the format learned at training, whatever batch they come in."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from autopilot import AutoPilot
from autopilot.deploy.batch import batch_predict
from autopilot.deploy.serve import InferenceApp, Model
from tests.deploy.test_serve import _call

ROWS = 240


def _typed_table(seed: int = 0) -> pd.DataFrame:
    """Integers, floats with gaps, a category, a boolean and day-first dates (13/04 only reads one way)."""
    rng = np.random.default_rng(seed)
    day = rng.integers(1, 29, ROWS)
    month = rng.integers(1, 13, ROWS)
    frame = pd.DataFrame(
        {
            "count": rng.integers(0, 50, ROWS),
            "amount": np.where(rng.random(ROWS) < 0.1, np.nan, rng.normal(100, 30, ROWS).round(2)),
            "colour": rng.choice(["red", "green", "blue"], ROWS),
            "member": rng.random(ROWS) < 0.4,
            "joined": [f"{d:02d}/{m:02d}/2020" for d, m in zip(day, month, strict=True)],
        }
    )
    score = frame["count"] / 10 + (frame["colour"] == "red") * 2 + month / 4 - 3 + rng.normal(0, 1, ROWS)
    return frame.assign(label=np.where(score > 0, "yes", "no"))


@pytest.fixture(scope="module")
def typed_jobs(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("typed")
    data = _typed_table()
    hpo = {"mode": "hpo", "strategy": "defaults", "algorithms": ["xgboost"]}
    ensembling = {"mode": "ensembling", "algorithms": ["lightgbm"], "time_limit": 60}
    return {
        name: AutoPilot(target="label", output=root / name, seed=0, verbose=False, **options).fit(data)
        for name, options in (("hpo", hpo), ("ensembling", ensembling))
    }


@pytest.mark.parametrize("name", ["hpo", "ensembling"])
def test_a_table_a_csv_a_parquet_and_a_request_predict_alike(typed_jobs: dict, name: str, tmp_path: Path) -> None:
    job = typed_jobs[name]
    rows = _typed_table(seed=1).drop(columns="label").head(60)
    typed = rows.assign(joined=pd.to_datetime(rows["joined"], format="%d/%m/%Y"))  # as a user's typed table
    expected = job.predict(typed).reset_index(drop=True)
    pd.testing.assert_frame_equal(job.predict(rows).reset_index(drop=True), expected)
    rows.to_csv(tmp_path / "rows.csv", index=False)
    typed.to_parquet(tmp_path / "rows.parquet", index=False)
    for source in ("rows.csv", "rows.parquet"):
        batch_predict(job.path, tmp_path / source, tmp_path / "out.csv")
        answered = pd.read_csv(tmp_path / "out.csv", float_precision="round_trip")
        pd.testing.assert_frame_equal(answered, expected, check_dtype=False, obj=source)
    app = InferenceApp(Model(job.path, "predicted_label,probabilities"), 6 << 20)
    for body, content_type in (
        (rows.to_csv(index=False, header=False).encode(), "text/csv"),
        (
            json.dumps(rows.astype(object).where(rows.notna(), None).to_dict(orient="records")).encode(),
            "application/json",
        ),
    ):
        status, _, answer = _call(
            app, "POST", "/invocations", body, content_type=content_type, accept="application/json"
        )
        predictions = json.loads(answer)["predictions"]
        assert status == 200 and [p["predicted_label"] for p in predictions] == expected["predicted_label"].tolist()
        proba = np.array([p["probabilities"] for p in predictions])
        np.testing.assert_array_equal(proba, expected[["proba_no", "proba_yes"]].to_numpy(), err_msg=content_type)


@pytest.mark.parametrize("name", ["hpo", "ensembling"])
def test_dates_read_the_same_whatever_batch_they_come_in(typed_jobs: dict, name: str) -> None:
    """'03/04/2020' is 3 April in this job (its dates are day-first), alone, first or after an unambiguous date."""
    job = typed_jobs[name]
    assert job.profile["column_profiles"][4]["date_format"] == "%d/%m/%Y"
    rows = _typed_table(seed=2).drop(columns="label").head(2).assign(joined=["03/04/2020", "25/12/2020"])
    cast = job.best.coercer if name == "ensembling" else job.best.preprocessor.named_steps["coerce"]
    for batch in (rows, rows.iloc[::-1], rows.iloc[[0]]):
        assert cast.transform(batch)["joined"].loc[0] == pd.Timestamp("2020-04-03"), batch
    both = job.predict(rows)["proba_yes"].tolist()
    reversed_order = job.predict(rows.iloc[::-1])["proba_yes"].tolist()[::-1]
    alone = [job.predict(rows.iloc[[i]])["proba_yes"].iloc[0] for i in range(2)]
    assert both == reversed_order == alone
    april = rows.assign(joined=pd.Timestamp("2020-04-03"))
    assert job.predict(april)["proba_yes"].iloc[0] == both[0]


@pytest.mark.parametrize("name", ["hpo", "ensembling"])
def test_infinities_predict_as_missing_values_on_every_path(typed_jobs: dict, name: str, tmp_path: Path) -> None:
    job = typed_jobs[name]
    rows = _typed_table(seed=3).drop(columns="label").head(3)
    missing = job.predict(rows.assign(amount=np.nan)).reset_index(drop=True)
    infinite = rows.assign(amount=[np.inf, -np.inf, float("1e400")])
    pd.testing.assert_frame_equal(job.predict(infinite).reset_index(drop=True), missing)
    text = rows.assign(amount=["inf", "-Infinity", "1e400"])
    text.to_csv(tmp_path / "rows.csv", index=False)
    batch_predict(job.path, tmp_path / "rows.csv", tmp_path / "out.csv")
    answered = pd.read_csv(tmp_path / "out.csv", float_precision="round_trip")
    pd.testing.assert_frame_equal(answered, missing, check_dtype=False)
    app = InferenceApp(Model(job.path, "predicted_label"), 6 << 20)
    status, _, answer = _call(
        app, "POST", "/invocations", text.to_csv(index=False, header=False).encode(), content_type="text/csv"
    )
    assert status == 200 and answer.split() == missing["predicted_label"].tolist()


def test_a_job_trains_on_infinities_as_missing_values_and_says_so(tmp_path: Path) -> None:
    data = _typed_table().assign(amount=lambda f: f["amount"].where(f.index % 7 != 0, np.inf))
    data["count"] = data["count"].astype(float)
    data.loc[3, "count"] = -np.inf
    job = AutoPilot(target="label", output=tmp_path / "job", mode="hpo", strategy="defaults", verbose=False).fit(data)
    assert (job.leaderboard["status"] == "succeeded").all()
    said = {w["column"]: w["message"] for w in job.profile["warnings"] if w["kind"] == "infinite"}
    assert said == {
        "amount": "'amount' had 35 infinite values; read as missing",
        "count": "'count' had 1 infinite value; read as missing",
    }
    train = pd.read_parquet(job.path / "data" / "train.parquet")
    assert np.isfinite(train["amount"].dropna()).all() and np.isfinite(train["count"].dropna()).all()
