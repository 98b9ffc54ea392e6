"""SHAP explanations (additivity, folding derived features into their columns), model insights, report.html and the
explain command / API."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb

from autopilot import AutoPilot
from autopilot.cli import main
from autopilot.explain import explain, feature_sources, fold, permutation_shap
from autopilot.pipeline import AutopilotPipeline
from autopilot.preprocess import DATE_PARTS, build_preprocessor

DATASETS = Path(__file__).resolve().parents[1] / "datasets"
JOBS = {
    "binary": (DATASETS / "breast_cancer.csv", "diagnosis"),
    "multiclass": (DATASETS / "penguins_raw.csv", "Species"),  # text, dates, categories, missing values
    "regression": (DATASETS / "diabetes.csv", "progression"),
}


@pytest.fixture(scope="module")
def jobs(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("explain")
    quick = {"mode": "hpo", "strategy": "defaults", "algorithms": ["xgboost", "linear-learner"], "verbose": False}
    return {kind: AutoPilot(target=t, output=root / kind, **quick).fit(data) for kind, (data, t) in JOBS.items()}


def _model_output(pipeline: AutopilotPipeline, rows: pd.DataFrame) -> np.ndarray:
    """What the explanation should add up to: XGBoost's margin, else the explained probability or prediction."""
    codes, proba = pipeline.predict_encoded(rows)
    model = pipeline.model
    if getattr(model, "booster_", None) is not None:
        margin = model.booster_.predict(
            xgb.DMatrix(pipeline.transform(rows)), iteration_range=(0, model.best_iteration_ + 1), output_margin=True
        )
        return margin[np.arange(len(rows)), codes] if margin.ndim == 2 else margin
    if proba is None:
        return codes
    return proba[:, 1] if proba.shape[1] == 2 else proba[np.arange(len(rows)), codes]


@pytest.mark.parametrize("kind", list(JOBS))
@pytest.mark.parametrize("candidate", ["xgboost", "linear-learner"])
def test_attributions_add_up_to_the_model_output(jobs: dict, kind: str, candidate: str) -> None:
    job = jobs[kind]
    trial = next(t for t in job.leaderboard["trial"] if t.endswith(candidate))
    pipeline = AutopilotPipeline.load(job.path / "trials" / trial / "pipeline.joblib")
    rows = pd.read_parquet(job.path / "data" / "validation.parquet").head(40)
    train = pd.read_parquet(job.path / "data" / "train.parquet")
    explanation = explain(pipeline, rows, train)
    assert list(explanation.values.columns) == pipeline.required_columns  # original columns, folded
    total = explanation.base_values + explanation.values.to_numpy().sum(axis=1)
    np.testing.assert_allclose(total, explanation.outputs)
    np.testing.assert_allclose(explanation.outputs, _model_output(pipeline, rows), rtol=1e-5, atol=1e-5)
    stated = {"binary": "log-odds", "multiclass": "margin"} if candidate == "xgboost" else {}
    expected = "predicted" if kind == "regression" else stated.get(kind, "probability")
    assert expected in explanation.output_name


def test_derived_features_fold_back_into_their_column() -> None:
    frame = pd.DataFrame(
        {
            "colour": ["red", "blue", "green", None] * 25,
            "size": [1.0, np.nan, 3.0, 4.0] * 25,
            "when": pd.to_datetime(["2024-01-01", "2024-02-03", None, "2024-05-06"] * 25),
            "note": ["big red box", "small blue ball", "green thing here", "old box"] * 25,
            "y": [0, 1] * 50,
        }
    )
    kinds = {"colour": "categorical", "size": "numeric", "when": "datetime", "note": "text", "y": "numeric"}
    profile = {
        "column_profiles": [
            {"name": n, "kind": k, "constant": False, "true_value": None, "missing_pct": 0} for n, k in kinds.items()
        ]
    }
    pre = build_preprocessor(profile, "y").fit(frame, frame["y"])
    sources = feature_sources(pre)
    width = pre.transform(frame.head(3)).shape[1]
    assert len(sources) == width
    assert sources.count("colour") == 4  # three colours and the missing-value category, one-hot
    assert sources.count("size") == 2  # the value and its missing-value indicator
    assert sources.count("when") == 2 * len(DATE_PARTS)  # each date part and its indicator
    assert sources.count("note") == width - 4 - 2 - 2 * len(DATE_PARTS)  # TF-IDF terms
    folded = fold(np.ones((2, width)), sources, ["size", "colour", "when", "note"])
    assert folded.loc[0].to_dict() == {
        "size": 2.0,
        "colour": 4.0,
        "when": 2.0 * len(DATE_PARTS),
        "note": float(sources.count("note")),
    }


def test_permutation_shap_is_exact_for_a_linear_function() -> None:
    rng = np.random.default_rng(3)
    weights = np.array([2.0, -1.0, 0.5])
    X, background = rng.normal(size=(20, 3)), rng.normal(size=(30, 3))
    values, base = permutation_shap(lambda Z: (Z @ weights)[:, None], X, background, np.random.default_rng(0))
    expected = (X - background.mean(axis=0)) * weights  # Shapley values of a linear model, independent features
    np.testing.assert_allclose(values[:, :, 0], expected, atol=1e-12)
    assert base[0] == pytest.approx(float((background @ weights).mean()))


def test_a_cautious_estimate_leaves_time_that_explains_more_rows(jobs: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    """The explanation is sized by an estimate of the model's cost; when the first pass takes less, a second one
    explains more rows in the time left, and every row still adds up."""
    job = jobs["regression"]
    trial = next(t for t in job.leaderboard["trial"] if t.endswith("linear-learner"))
    pipeline = AutopilotPipeline.load(job.path / "trials" / trial / "pipeline.joblib")
    rows = pd.read_parquet(job.path / "data" / "validation.parquet").head(40)
    train = pd.read_parquet(job.path / "data" / "train.parquet")
    monkeypatch.setattr("autopilot.explain._call_cost", lambda pipeline, background: (40.0, 0.0))  # 40 s a call
    explanation = explain(pipeline, rows, train, seconds=30.0)
    assert explanation.shrunk == "explained 40 of 40 rows against 10 background rows to fit its 30.0 s"
    assert list(explanation.values.index) == list(rows.index)
    output = explanation.base_values + explanation.values.to_numpy().sum(axis=1)
    np.testing.assert_allclose(output, _model_output(pipeline, rows), rtol=1e-5, atol=1e-6)


def test_job_writes_explanations_insights_and_the_report(jobs: dict) -> None:
    binary = jobs["binary"].path
    for name in [
        "shap_values.csv",
        "importance.csv",
        "importance.png",
        "beeswarm.png",
        "summary.json",
        "confusion_matrix.png",
        "roc.png",
        "precision_recall.png",
        "per_class.csv",
        "thresholds.csv",
    ]:
        assert (binary / "explain" / name).stat().st_size > 0, name
    summary = json.loads((binary / "explain" / "summary.json").read_text())
    assert summary["rows"] == len(pd.read_parquet(binary / "data" / "validation.parquet"))
    thresholds = pd.read_csv(binary / "explain" / "thresholds.csv")
    assert thresholds["threshold"].iloc[0] == 0.05 and thresholds["recall"].is_monotonic_decreasing
    regression = jobs["regression"].path / "explain"
    assert (regression / "predicted_vs_actual.png").exists() and (regression / "residuals.png").exists()
    scores = json.loads((regression / "insights.json").read_text())["scores"]
    assert set(scores) == {"RMSE", "MAE", "R2"}


def test_report_shows_the_data_leaderboard_insights_and_explanations(jobs: dict) -> None:
    job = jobs["multiclass"]
    page = (job.path / "report.html").read_text()
    best = job.leaderboard.iloc[0]
    assert best["trial"] in page and f"Accuracy {best['Accuracy']:.4f}" in page
    assert all(w["message"].split("'")[1] in page for w in job.profile["warnings"] if w["column"])
    assert page.count("data:image/png;base64,") >= 5  # confusion, ROC, PR, importance, beeswarm
    assert 'href="notebooks/data_exploration.ipynb"' in page and 'href="notebooks/candidate_definitions.ipynb"' in page
    assert "http" not in page.replace("http-equiv", "")  # nothing fetched from the network
    constant = json.loads((job.path / "explain" / "constant_baseline.json").read_text())["scores"]["Accuracy"]
    lift = best["Accuracy"] - constant
    assert f"Accuracy {constant:.4f}; the best model's lift over it: {lift:+.4f}" in page
    interval = json.loads((job.path / "explain" / "insights.json").read_text())["interval"]
    assert interval["metric"] == "Accuracy" and 0 <= interval["low"] <= interval["high"] <= 1
    assert f"95% bootstrap interval {interval['low']:.4f}–{interval['high']:.4f}" in page
    assert 'alt="calibration"' in page and (job.path / "explain" / "calibration.png").is_file()
    for chart in ("search_progress", "fit_seconds"):  # objective by trial with the best so far; time per model
        assert f'alt="{chart}"' in page and (job.path / "explain" / f"{chart}.png").is_file()
    importance = pd.read_csv(job.path / "explain" / "importance.csv")
    assert f"<td>{importance['column'][0]}</td>" in page  # the importance table names its columns
    missing = sorted((c for c in job.profile["column_profiles"] if c["missing"]), key=lambda c: -c["missing"])
    assert missing and f"<td>{missing[0]['name']}</td>" in page.split("Missing values")[1].split("</table>")[0]
    assert f"{missing[0]['missing_pct']:.1f}%" in page and "None: every column is complete" not in page


def test_the_model_card_says_what_the_best_model_is_and_how_its_rows_are_prepared(jobs: dict) -> None:
    job = jobs["multiclass"]  # penguins_raw: numbers, categories, text and dates
    card = json.loads((job.path / "explain" / "model_card.json").read_text())
    best = job.leaderboard.iloc[0]
    assert card["model"] == best["candidate"] and card["members"] == []
    searched = json.loads(best["params"])
    assert all(card["hyperparameters"][k] == pytest.approx(v) for k, v in searched.items())  # the trial's values
    assert card["hyperparameters"]["seed"] == job.info["resolved"]["seed"]
    kinds = {line.split(" columns")[0]: line for line in card["preprocessing"]}
    assert {"numeric", "categorical", "datetime"} <= set(kinds)
    assert "Island" in kinds["categorical"] and "Culmen Length (mm)" in kinds["numeric"]
    page = (job.path / "report.html").read_text()
    assert f"The best model: {card['model']}" in page and "missing values to the median" in page


def test_explain_api_and_command(jobs: dict, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    job = jobs["regression"]
    rows = pd.read_csv(JOBS["regression"][0]).drop(columns=["progression"]).head(7)
    table = job.explain(rows)
    features = [c for c in table.columns if c not in ("base_value", "output")]
    np.testing.assert_allclose(table["base_value"] + table[features].sum(axis=1), table["output"])
    assert table.attrs["explained"].startswith("predicted progression") or "progression" in table.attrs["explained"]
    path = tmp_path / "rows.csv"
    rows.to_csv(path, index=False)
    assert main(["explain", str(job.path), str(path), "--output", str(tmp_path / "a.csv")]) == 0
    written = pd.read_csv(tmp_path / "a.csv")
    np.testing.assert_allclose(written["output"], table["output"], rtol=1e-6)
    assert "base_value + a row's attributions = output" in capsys.readouterr().out
    rows.drop(columns=["bmi"]).to_csv(path, index=False)
    assert main(["explain", str(job.path), str(path), "--output", str(tmp_path / "b.csv")]) == 2
    assert "bmi" in capsys.readouterr().err


@pytest.mark.slow
def test_report_renders_in_headless_chromium(jobs: dict, tmp_path: Path) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    assert browser, "this check needs Debian's chromium package: apt-get install chromium"
    page = jobs["binary"].path / "report.html"
    headless = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--window-size=1200,3000"]
    dom = subprocess.run([*headless, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120).stdout
    assert "autopilot report" in dom and "Decision thresholds" in dom and "What drives the predictions" in dom
    shot = tmp_path / "report.png"
    subprocess.run([*headless, f"--screenshot={shot}", page.as_uri()], capture_output=True, timeout=120)
    assert shot.stat().st_size > 50_000  # a page with its plots, not a blank one
    print(f"screenshot: {shot}")  # for a person to look at (pytest -s)
