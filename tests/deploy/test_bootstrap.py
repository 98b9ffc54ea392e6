"""The bootstrap of Model Monitor's constrained metrics equals scikit-learn's values on the same resamples."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from autopilot.deploy.bootstrap import CHUNK_CELLS, bootstrap_scores, resample_counts


def _rows(counts: np.ndarray) -> np.ndarray:
    """The drawn row indices of a resample given as a count per row."""
    return np.repeat(np.arange(len(counts)), counts)


def _sklearn(kind: str, truth: np.ndarray, predicted: np.ndarray, proba: np.ndarray | None, idx: np.ndarray) -> dict:
    y, p = truth[idx], predicted[idx]
    if kind == "regression":
        mse = skm.mean_squared_error(y, p)
        return {"mae": skm.mean_absolute_error(y, p), "mse": mse, "rmse": np.sqrt(mse), "r2": skm.r2_score(y, p)}
    scores = {"accuracy": skm.accuracy_score(y, p)}
    average, prefix = ("binary", "") if kind == "binary" else ("weighted", "weighted_")
    scores[prefix + "precision"] = skm.precision_score(y, p, average=average, zero_division=0)
    scores[prefix + "recall"] = skm.recall_score(y, p, average=average, zero_division=0)
    scores[prefix + "f1"] = skm.f1_score(y, p, average=average, zero_division=0)
    if proba is not None:
        scores["auc"] = skm.roc_auc_score(y, proba[idx, 1]) if len(np.unique(y)) == 2 else np.nan
    return scores


@pytest.mark.parametrize("kind", ["binary", "multiclass", "regression"])
def test_bootstrap_equals_sklearn_on_the_same_resamples(kind: str) -> None:
    rng = np.random.default_rng(3)
    n = 60
    if kind == "regression":
        truth = rng.normal(size=n)
        predicted, proba = truth + rng.normal(scale=0.5, size=n), None
    else:
        k = 2 if kind == "binary" else 4
        truth = rng.integers(0, k, n)
        predicted = np.where(rng.random(n) < 0.7, truth, rng.integers(0, k, n))
        predicted[:3] = 0  # some resamples call a class no row truly has, or miss one
        score = np.round(np.clip(0.6 * (truth == 1) + rng.normal(0.2, 0.3, n), 0, 1), 1)  # ties
        proba = np.column_stack([1 - score, score]) if kind == "binary" else None
    counts = resample_counts(n, 30, seed=5)
    if kind != "regression":  # one row drawn n times: one class, AUC undefined
        counts.append(np.bincount(np.full(n, 7), minlength=n))
    got = bootstrap_scores(kind, truth, predicted, proba, counts)
    for i, drawn in enumerate(counts):
        want = _sklearn(kind, truth, predicted, proba, _rows(drawn))
        assert set(got) == set(want)
        for name, value in want.items():
            assert got[name][i] == pytest.approx(value, nan_ok=True), (name, i)


def test_resamples_are_handled_in_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    truth = np.array([0, 1, 1, 0, 1, 0, 0, 1])
    predicted = np.array([0, 1, 0, 0, 1, 1, 0, 1])
    counts = resample_counts(len(truth), 9, seed=0)
    whole = bootstrap_scores("binary", truth, predicted, None, counts)
    monkeypatch.setattr("autopilot.deploy.bootstrap.CHUNK_CELLS", 2 * len(truth))  # two resamples at a time
    chunked = bootstrap_scores("binary", truth, predicted, None, counts)
    assert 2 * len(truth) < CHUNK_CELLS
    for name, values in whole.items():
        assert len(chunked[name]) == 9
        np.testing.assert_allclose(chunked[name], values)


def test_r2_of_a_resample_with_one_truth_value_is_finite() -> None:
    """scikit-learn's r2 is 0 for a constant truth predicted imperfectly (1 if perfectly); on a repeated value its
    two-pass float sum can leave a residue that makes it -1e32. The bootstrap keeps the defined answer."""
    truth, predicted = np.array([0.1, 2.0, 0.7]), np.array([0.3, 2.0, 0.7])
    one_row = [np.array([3, 0, 0]), np.array([0, 3, 0])]
    r2 = bootstrap_scores("regression", truth, predicted, None, one_row)["r2"]
    np.testing.assert_array_equal(r2, [0.0, 1.0])
