"""Linear Learner and MLP specifics: agreement with scikit-learn, beating baselines, embeddings, device selection."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import accuracy_score, r2_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import autopilot.device
from autopilot.candidates.linear_learner import LinearLearnerCandidate
from autopilot.candidates.mlp import MLPCandidate
from autopilot.candidates.xgboost import XGBoostCandidate
from autopilot.errors import ConfigError
from autopilot.preprocess import CategoryCodes

DATASETS = Path(__file__).resolve().parents[1] / "datasets"


def _split(name: str, target: str, classify: bool) -> tuple:
    df = pd.read_csv(DATASETS / name)
    X = df.drop(columns=[target]).to_numpy(dtype=float)
    y = pd.factorize(df[target], sort=True)[0] if classify else df[target].to_numpy(dtype=float)
    X_fit, X_test, y_fit, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    X_train, X_val, y_train, y_val = train_test_split(X_fit, y_fit, test_size=0.2, random_state=0)
    scaler = StandardScaler().fit(X_train)
    return X_train, y_train, X_val, y_val, X_test, y_test, scaler


def test_linear_learner_matches_logistic_regression_on_breast_cancer() -> None:
    X, y, X_val, y_val, X_test, y_test, scaler = _split("breast_cancer.csv", "diagnosis", classify=True)
    ours = LinearLearnerCandidate("binary", metric="AUC", device="cpu").fit(X, y, X_val, y_val)
    ref = LogisticRegression(max_iter=5000).fit(scaler.transform(X), y)
    auc = roc_auc_score(y_test, ours.predict_proba(X_test)[:, 1])
    ref_auc = roc_auc_score(y_test, ref.predict_proba(scaler.transform(X_test))[:, 1])
    assert auc > ref_auc - 0.01
    assert (
        accuracy_score(y_test, ours.predict(X_test))
        > accuracy_score(y_test, ref.predict(scaler.transform(X_test))) - 0.03
    )


def test_linear_learner_matches_ridge_on_diabetes() -> None:
    X, y, X_val, y_val, X_test, y_test, scaler = _split("diabetes.csv", "progression", classify=False)
    ours = LinearLearnerCandidate("regression", metric="MSE", device="cpu").fit(X, y, X_val, y_val)
    ref = Ridge(alpha=1.0).fit(scaler.transform(X), y)
    assert r2_score(y_test, ours.predict(X_test)) > r2_score(y_test, ref.predict(scaler.transform(X_test))) - 0.02


def test_linear_learner_trains_many_models_and_keeps_the_best_for_the_objective() -> None:
    X, y, X_val, y_val, *_ = _split("breast_cancer.csv", "diagnosis", classify=True)
    model = LinearLearnerCandidate("binary", metric="F1", num_models=8, device="cpu").fit(X, y, X_val, y_val)
    assert model.validation_scores_.shape == (8,)
    assert model.model_index_ == int(np.argmax(model.validation_scores_))
    settings = model.model_settings()
    assert len(set(settings["learning_rate"])) == 8  # auto: each model its own learning rate
    fixed = LinearLearnerCandidate("binary", num_models=4, learning_rate=0.05, l1=0.0, wd=0.01).model_settings()
    assert set(fixed["learning_rate"]) == {0.05} and set(fixed["wd"]) == {0.01}


def test_linear_learner_positive_weight_raises_recall_on_imbalanced_data() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 4))
    y = (X[:, 0] + 0.8 * rng.normal(size=3000) > 1.6).astype(int)  # about 8% positives
    kw = {"problem_type": "binary", "metric": "Accuracy", "device": "cpu", "num_models": 4, "learning_rate": 0.05}
    plain = LinearLearnerCandidate(positive_example_weight_mult=1.0, **kw).fit(X[:2000], y[:2000])
    weighted = LinearLearnerCandidate(positive_example_weight_mult="auto", **kw).fit(X[:2000], y[:2000])
    positives = y[2000:] == 1
    assert weighted.predict(X[2000:])[positives].mean() > plain.predict(X[2000:])[positives].mean() + 0.2


def test_mlp_clearly_beats_a_constant_on_diabetes() -> None:
    X, y, X_val, y_val, X_test, y_test, _ = _split("diabetes.csv", "progression", classify=False)
    model = MLPCandidate("regression", device="cpu").fit(X, y, X_val, y_val)
    assert r2_score(y_test, model.predict(X_test)) > 0.25  # a constant scores about 0
    assert model.best_epoch_ >= 1


def test_mlp_uses_an_embedding_per_categorical_column() -> None:
    rng = np.random.default_rng(1)
    codes = rng.integers(0, 6, 600)  # the class is the category's parity, learnable only from the codes
    X = np.column_stack([rng.normal(size=600), codes + 1.0])
    y = codes % 2
    model = MLPCandidate("binary", device="cpu", max_epochs=60).fit(
        X[:400], y[:400], X[400:500], y[400:500], categorical_cardinalities=[7]
    )
    assert [e.num_embeddings for e in model.network_.embeddings] == [7]
    assert accuracy_score(y[500:], model.predict(X[500:])) > 0.9


def test_category_codes_map_missing_unseen_and_rare_to_zero() -> None:
    train = pd.DataFrame({"c": ["a"] * 50 + ["b"] * 49 + ["rare"] + [None] * 5})
    codes = CategoryCodes(min_frequency=0.05).fit(train)
    assert codes.cardinalities_ == [3]
    out = codes.transform(pd.DataFrame({"c": ["a", "b", "rare", "never-seen", None]}))
    assert out[:, 0].tolist() == [1.0, 2.0, 0.0, 0.0, 0.0]


# ---------------------------------------------------------------- devices


def test_device_check_refuses_unknown_and_absent_cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="one of auto, cpu, cuda"):
        autopilot.device.check_device("gpu")
    monkeypatch.setattr(autopilot.device, "cuda_available", lambda: False)
    with pytest.raises(ConfigError, match="no CUDA GPU"):
        autopilot.device.check_device("cuda")
    assert autopilot.device.resolve_device("auto") == "cpu"


def test_no_gpu_driver_means_no_cuda_without_asking_torch(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Importing torch to ask costs every job 1-2 s before its first trial; without a driver the answer is known."""
    fake_torch = types.SimpleNamespace(cuda=types.SimpleNamespace(is_available=lambda: True))
    monkeypatch.setitem(sys.modules, "torch", fake_torch)
    ask = autopilot.device.cuda_available.__wrapped__  # uncached
    monkeypatch.setattr(autopilot.device.sys, "platform", "linux")
    monkeypatch.setattr(autopilot.device, "GPU_DRIVER_PATHS", (str(tmp_path / "absent"),))
    assert ask() is False  # torch (which would say yes) was not asked
    (tmp_path / "nvidiactl").touch()
    monkeypatch.setattr(autopilot.device, "GPU_DRIVER_PATHS", (str(tmp_path / "absent"), str(tmp_path / "nvidiactl")))
    assert ask() is True
    monkeypatch.setattr(autopilot.device, "GPU_DRIVER_PATHS", (str(tmp_path / "absent"),))
    monkeypatch.setattr(autopilot.device.sys, "platform", "darwin")  # no such check there: torch decides
    assert ask() is True


def test_auto_selects_the_gpu_path_when_torch_sees_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """No GPU is needed: what each candidate would hand its library is checked, not run."""
    from autopilot.candidates import torch_common

    monkeypatch.setattr(autopilot.device, "cuda_available", lambda: True)
    assert autopilot.device.resolve_device("auto") == "cuda"
    assert autopilot.device.resolve_device("cpu") == "cpu"
    y = np.array([0, 1, 1, 0])
    assert XGBoostCandidate("binary", device="auto")._params(2, y)["device"] == "cuda"
    assert XGBoostCandidate("binary", device="cpu")._params(2, y)["device"] == "cpu"
    assert torch_common.setup("auto", 0)[0].type == "cuda"
    assert torch_common.setup("cpu", 0)[0].type == "cpu"


def test_xgboost_without_cuda_support_falls_back_or_refuses(monkeypatch: pytest.MonkeyPatch) -> None:
    import xgboost

    monkeypatch.setattr(autopilot.device, "cuda_available", lambda: True)
    monkeypatch.setattr(xgboost, "build_info", lambda: {"USE_CUDA": False})
    assert XGBoostCandidate("binary", device="auto")._params(2, np.array([0, 1]))["device"] == "cpu"
    with pytest.raises(ConfigError, match="no CUDA support"):
        XGBoostCandidate("binary", device="cuda")._params(2, np.array([0, 1]))


def test_xgboost_trains_small_data_on_one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from autopilot.candidates import xgboost as xgboost_candidate

    assert xgboost_candidate.auto_threads(569 * 30) == 1
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    assert xgboost_candidate.auto_threads(4 << 20) == 4 and xgboost_candidate.auto_threads(100 << 20) == 8
    y = np.array([0, 1])
    assert XGBoostCandidate("binary", device="cpu")._params(2, y, cells=1000)["nthread"] == 1
    assert XGBoostCandidate("binary", device="cpu", n_jobs=3)._params(2, y, cells=1000)["nthread"] == 3


def test_xgboost_scale_pos_weight_auto() -> None:
    y = np.array([0, 0, 0, 1])
    assert XGBoostCandidate("binary", scale_pos_weight="auto", device="cpu")._params(2, y)["scale_pos_weight"] == 3.0


# ---------------------------------------------------------------- MLP speed: threads, patience, time cap


def test_small_data_trains_on_one_thread_and_torch_threads_are_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from autopilot.candidates import torch_common

    assert torch_common.train_threads(512 * 256) == 1  # the MLP's default batch x width
    assert torch_common.train_threads(32 * 1000 * 30) == 1  # Linear Learner: models x batch x features
    assert torch_common.train_threads(2048 * 1024) == 4
    seen = []
    monkeypatch.setattr(torch, "set_num_threads", lambda n, real=torch.set_num_threads: (seen.append(n), real(n)))
    before = torch.get_num_threads()
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(200, 3)), rng.integers(0, 2, 200)
    MLPCandidate("binary", device="cpu", max_epochs=2).fit(X, y)
    LinearLearnerCandidate("binary", device="cpu", epochs=2).fit(X, y)
    assert seen == [1, before, 1, before] and torch.get_num_threads() == before


def test_mlp_patience_is_sized_to_the_data() -> None:
    from autopilot.candidates.mlp_train import patience_epochs

    assert patience_epochs(steps_per_epoch=1, most=8) == 8  # small data: epochs are a step each
    assert patience_epochs(steps_per_epoch=9, most=8) == 6  # 5,000 rows in batches of 512
    assert patience_epochs(steps_per_epoch=200, most=8) == 3  # large data: never below 3 epochs
    assert patience_epochs(steps_per_epoch=200, most=2) == 2


def test_mlp_max_seconds_starts_no_epoch_that_would_end_past_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fake clock that moves one second per reading: each epoch 'takes' one second."""
    from types import SimpleNamespace

    from autopilot.candidates import mlp_train

    ticks = iter(range(1000))
    monkeypatch.setattr(mlp_train, "time", SimpleNamespace(monotonic=lambda: float(next(ticks))))
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(300, 3)), rng.integers(0, 2, 300)
    kw = {"device": "cpu", "max_epochs": 20, "patience": 50}
    capped = MLPCandidate("binary", max_seconds=2.5, **kw).fit(X[:200], y[:200], X[200:], y[200:])
    assert capped.epochs_trained_ == 2 and capped.stopped_by_time_  # a third epoch would have ended at 3 s
    free = MLPCandidate("binary", **kw).fit(X[:200], y[:200], X[200:], y[200:])
    assert free.epochs_trained_ == 20 and not free.stopped_by_time_


def test_mlp_early_stopping_watches_a_capped_seeded_validation_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from autopilot.candidates import mlp_train

    monkeypatch.setattr(mlp_train, "EVAL_MAX_ROWS", 100)
    X, y = torch.arange(1000.0).reshape(250, 4), torch.arange(250)
    a = mlp_train._capped((X, y), torch.Generator().manual_seed(0))
    b = mlp_train._capped((X, y), torch.Generator().manual_seed(0))
    assert len(a[1]) == 100 and torch.equal(a[1], b[1]) and torch.equal(a[0], X[a[1]])
    small = (X[:50], y[:50])
    assert mlp_train._capped(small, torch.Generator()) is small  # up to the cap: every row
