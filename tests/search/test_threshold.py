"""Decision thresholds: the rule on hand-made probabilities, then a skewed toy job whose tuned threshold raises F1
and is used by predict, batch predict and the serve app; old pipelines without one still predict."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import f1_score

from autopilot import AutoPilot
from autopilot.deploy.batch import batch_predict
from autopilot.deploy.serve import InferenceApp, Model
from autopilot.pipeline import AutopilotPipeline
from autopilot.search.threshold import choose_threshold, crossfit_labels, labels, tunes_threshold


def test_which_problems_tune_a_threshold() -> None:
    for metric in ("F1", "BalancedAccuracy", "Precision", "Recall"):
        assert tunes_threshold("binary", metric)
    assert not tunes_threshold("binary", "AUC") and not tunes_threshold("binary", "Accuracy")
    assert not tunes_threshold("multiclass", "F1") and not tunes_threshold("regression", "MSE")


def test_the_threshold_maximises_the_objective_and_prefers_none_when_half_does_as_well() -> None:
    y = np.array([0, 0, 0, 0, 1, 0, 1, 1])
    p = np.array([0.05, 0.1, 0.2, 0.3, 0.35, 0.4, 0.45, 0.9])
    threshold = choose_threshold(y, p, "F1")
    assert 0.3 < threshold <= 0.35  # every positive and one negative: F1 6/7, against 1/2 at 0.5
    assert f1_score(y, p >= threshold) == pytest.approx(6 / 7)
    separable = np.array([0.1, 0.2, 0.3, 0.4, 0.6, 0.45, 0.7, 0.9])
    assert choose_threshold(y, separable, "F1") is None  # 0.5 is already the best there is
    for sure, expected in ((50, None), (40, 0.45)):  # one positive at 0.45 among `sure` at 0.9: F1 1.0 if caught
        y_m = np.r_[np.ones(sure + 1), np.zeros(148)]
        p_m = np.r_[np.full(sure, 0.9), 0.45, np.full(148, 0.1)]
        threshold = choose_threshold(y_m, p_m, "F1")  # gains 1 - 100/101 (under MIN_GAIN: noise), then 1 - 80/81
        assert threshold == expected if expected is None else 0.1 < threshold <= 0.45
    assert choose_threshold(np.zeros(4), p[:4], "F1") is None  # one class: nothing to choose


def test_precision_and_recall_never_get_a_degenerate_threshold() -> None:
    rng = np.random.default_rng(0)
    y = (rng.random(2000) < 0.3).astype(int)
    p = np.clip(0.45 + 0.3 * (y - 0.3) + 0.15 * rng.normal(size=2000), 0.001, 0.999)
    precise = choose_threshold(y, p, "Precision")
    assert (p >= precise).sum() > 50  # not just the few surest rows
    recalled = choose_threshold(y, p, "Recall")
    assert (p < recalled).sum() > 200  # not every row positive
    assert precise > choose_threshold(y, p, "F1") > recalled


def test_crossfit_labels_take_each_groups_threshold_from_the_other_groups() -> None:
    y = np.array([0, 1, 1, 0, 1, 1])
    proba = np.column_stack([1 - np.array([0.2, 0.3, 0.9, 0.2, 0.3, 0.9]), [0.2, 0.3, 0.9, 0.2, 0.3, 0.9]])
    groups = np.array([0, 0, 0, 1, 1, 1])
    threshold = choose_threshold(y[3:], proba[3:, 1], "F1")
    assert 0.2 < threshold <= 0.3
    assert crossfit_labels(y, proba, groups, "F1")[:3].tolist() == labels(proba[:3], threshold).tolist() == [0, 1, 1]


# ---------------------------------------------------------------- a skewed job end to end


def _skewed(n: int, seed: int) -> pd.DataFrame:
    """About 10% positives, with label noise: a calibrated model's 0.5 predicts too few of them for F1."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    logit = 1.5 * X[:, 0] + X[:, 1] - 3.0
    y = np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), "yes", "no")
    return pd.DataFrame(X, columns=["a", "b", "c", "d"]).assign(label=y)


@pytest.fixture(scope="module")
def job(tmp_path_factory: pytest.TempPathFactory) -> object:
    out = tmp_path_factory.mktemp("threshold") / "job"
    kw = {"mode": "hpo", "algorithms": ["xgboost"], "max_trials": 1, "verbose": False, "seed": 0}
    return AutoPilot(target="label", output=out, **kw).fit(_skewed(1500, seed=0))


def test_a_tuned_threshold_raises_f1_on_skewed_data(job: object) -> None:
    result = json.loads((job.path / "trials" / "001-xgboost" / "result.json").read_text())["metrics"]
    pipeline = AutopilotPipeline.load(job.path / "best" / "pipeline.joblib")
    assert pipeline.threshold is not None and pipeline.threshold < 0.5
    assert result["threshold"] == pipeline.threshold and "out-of-fold" in result["threshold_chosen_on"]
    assert job.leaderboard.loc[0, "threshold"] == pytest.approx(pipeline.threshold)
    fresh = _skewed(4000, seed=1)
    y = (fresh["label"] == "yes").to_numpy()
    tuned = f1_score(y, pipeline.predict(fresh) == "yes")
    pipeline.threshold = None
    assert tuned > f1_score(y, pipeline.predict(fresh) == "yes") + 0.03


def _expected(job: object, rows: pd.DataFrame) -> list[str]:
    pipeline = AutopilotPipeline.load(job.path / "best" / "pipeline.joblib")
    positive = pipeline.model.predict_proba(pipeline.transform(rows))[:, 1]
    assert ((positive >= pipeline.threshold) & (positive < 0.5)).any()  # rows where the threshold decides
    return np.where(positive >= pipeline.threshold, "yes", "no").tolist()


def test_predict_batch_predict_and_serve_use_the_threshold(job: object, tmp_path: Path) -> None:
    rows = _skewed(400, seed=2).drop(columns=["label"])
    expected = _expected(job, rows)
    assert job.predict(rows)["predicted_label"].tolist() == expected
    rows.to_csv(tmp_path / "rows.csv", index=False)
    batch_predict(job.path, tmp_path / "rows.csv", tmp_path / "out.csv")
    assert pd.read_csv(tmp_path / "out.csv")["predicted_label"].tolist() == expected
    body = rows.to_csv(index=False, header=False).encode()
    assert _post(InferenceApp(Model(job.path), 6 << 20), body).splitlines() == expected


def _post(app: InferenceApp, body: bytes) -> str:
    """One text/csv request through the ASGI app, in process."""
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/invocations", "headers": [(b"content-type", b"text/csv")]}
    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 200
    return sent[1]["body"].decode()


def test_a_pipeline_saved_before_thresholds_existed_predicts_with_the_argmax(job: object, tmp_path: Path) -> None:
    pipeline = AutopilotPipeline.load(job.path / "best" / "pipeline.joblib")
    del pipeline.threshold  # as unpickled from an older version, which had no such attribute
    pipeline.save(tmp_path / "old.joblib")
    old = AutopilotPipeline.load(tmp_path / "old.joblib")
    assert not hasattr(old, "threshold")
    rows = _skewed(200, seed=3).drop(columns=["label"])
    proba = old.predict_proba(rows).to_numpy()
    assert old.predict(rows).tolist() == np.asarray(old.classes, dtype=object)[proba.argmax(axis=1)].tolist()
