"""The seeded, stratified train/validation split."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from autopilot.data.split import split_train_validation, stopping_split, validation_share
from autopilot.errors import TargetError


def _labels(seed: int = 0, n: int = 200) -> pd.Series:
    rng = np.random.default_rng(seed)
    return pd.Series(rng.choice(["a", "b", "c"], size=n, p=[0.6, 0.3, 0.1]), name="y")


def test_split_disjoint_and_covering() -> None:
    y = _labels()
    train, val = split_train_validation(y, classification=True, fraction=0.2, seed=0)
    assert len(np.intersect1d(train, val)) == 0
    assert np.array_equal(np.sort(np.concatenate([train, val])), np.arange(len(y)))
    assert len(val) == round(0.2 * len(y))


def test_split_regression_disjoint_and_covering() -> None:
    y = pd.Series(np.random.default_rng(1).normal(size=150), name="y")
    train, val = split_train_validation(y, classification=False, fraction=0.3, seed=3)
    assert len(np.intersect1d(train, val)) == 0
    assert np.array_equal(np.sort(np.concatenate([train, val])), np.arange(len(y)))
    assert len(val) == 45


def test_split_positions_not_index_labels() -> None:
    y = _labels(2, 100)
    y.index = np.arange(1000, 1100)
    train, val = split_train_validation(y, classification=True, fraction=0.25, seed=0)
    assert np.array_equal(np.sort(np.concatenate([train, val])), np.arange(100))


@pytest.mark.parametrize("fraction", [0.1, 0.2, 0.35])
def test_split_stratified(fraction: float) -> None:
    y = _labels(3, 300)
    train, val = split_train_validation(y, classification=True, fraction=fraction, seed=7)
    counts = y.value_counts()
    val_counts = y.iloc[val].value_counts()
    train_counts = y.iloc[train].value_counts()
    for cls, n in counts.items():
        expected_val = n * len(val) / len(y)
        assert abs(val_counts.get(cls, 0) - expected_val) <= 1
        assert abs(train_counts.get(cls, 0) - (n - expected_val)) <= 1


def test_split_same_seed_same_split() -> None:
    y = _labels()
    a = split_train_validation(y, classification=True, fraction=0.2, seed=11)
    b = split_train_validation(y, classification=True, fraction=0.2, seed=11)
    assert np.array_equal(a[0], b[0])
    assert np.array_equal(a[1], b[1])


def test_split_different_seed_different_split() -> None:
    y = _labels()
    _, val_a = split_train_validation(y, classification=True, fraction=0.2, seed=1)
    _, val_b = split_train_validation(y, classification=True, fraction=0.2, seed=2)
    assert not np.array_equal(val_a, val_b)


def test_split_single_row_class_refused() -> None:
    y = pd.Series(["a"] * 30 + ["b"] * 30 + ["lonely"], name="y")
    with pytest.raises(TargetError) as info:
        split_train_validation(y, classification=True, fraction=0.2, seed=0)
    assert "lonely" in str(info.value)


def test_split_single_row_value_fine_for_regression() -> None:
    y = pd.Series([1.0] * 30 + [2.0] * 30 + [99.0], name="y")
    train, val = split_train_validation(y, classification=False, fraction=0.2, seed=0)
    assert len(train) + len(val) == 61


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1, 1.5])
def test_split_bad_fraction(fraction: float) -> None:
    with pytest.raises(TargetError):
        split_train_validation(_labels(), classification=True, fraction=fraction, seed=0)


def test_split_too_few_rows() -> None:
    y = pd.Series(["a", "a", "b", "b", "c", "c"], name="y")
    with pytest.raises(TargetError):
        split_train_validation(y, classification=True, fraction=0.6, seed=0)


def test_the_share_held_out_by_default_shrinks_with_the_rows() -> None:
    assert validation_share(344, tuning=False) == validation_share(2_500, tuning=False) == 0.2  # small data as before
    assert validation_share(4_000, tuning=False) == pytest.approx(0.125)
    assert validation_share(20_000, tuning=False) == 0.1  # AutoGluon's rule: 2,000 rows of 20,000
    assert validation_share(1_000_000, tuning=False) == 0.01
    assert validation_share(20_000, tuning=True) == 0.2 and validation_share(1_000_000, tuning=True) == 0.02


def test_early_stopping_split_keeps_a_lone_class_row_in_train() -> None:
    y = pd.Series(["a"] * 20 + ["b"] * 20 + ["rare"])  # the rare class's other row is in the fold being scored
    train, stop = stopping_split(y, True, 0.2, seed=0)
    assert sorted(np.concatenate([train, stop])) == list(range(41))
    assert 40 in train and set(y.iloc[stop]) == {"a", "b"}
    assert (
        stopping_split(y.iloc[:40], True, 0.2, 0)[1].tolist()
        == split_train_validation(y.iloc[:40], True, 0.2, 0)[1].tolist()
    )


def test_a_class_with_two_rows_trains_in_cross_validated_trials(tmp_path) -> None:
    from autopilot import AutoPilot

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=200), "z": rng.normal(size=200)})
    frame["y"] = np.where(frame["x"] > 0, "up", "down")
    frame.loc[[5, 77], "y"] = "rare"
    options = {"mode": "hpo", "strategy": "random", "max_trials": 2, "algorithms": ["linear-learner"]}
    job = AutoPilot(target="y", output=tmp_path / "job", verbose=False, **options).fit(frame)
    assert job.info["resolved"]["scored_by"].startswith("5-fold")
    assert (job.leaderboard["status"] == "succeeded").all()
