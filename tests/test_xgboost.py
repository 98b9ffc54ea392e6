"""XGBoost's own behaviour: its regularisation, seed, rounds and early stopping, class count."""

from __future__ import annotations

import numpy as np
import pytest
from test_candidates import _data, _make

from autopilot.metrics import BINARY, MULTICLASS, REGRESSION


def test_xgboost_lambda_reaches_the_booster() -> None:
    X, y, X_test, _ = _data(REGRESSION)
    weak = _make("xgboost", REGRESSION, lambda_=1000.0, num_round=20).fit(X, y)
    strong = _make("xgboost", REGRESSION, lambda_=0.0, num_round=20).fit(X, y)
    # heavy L2 shrinks the leaf values, so predictions spread less
    assert np.std(weak.predict(X_test)) < np.std(strong.predict(X_test))


def test_xgboost_seed_changes_a_subsampled_model() -> None:
    X, y, X_test, _ = _data(REGRESSION)
    a = _make("xgboost", REGRESSION, seed=1, subsample=0.5, colsample_bytree=0.5).fit(X, y)
    b = _make("xgboost", REGRESSION, seed=2, subsample=0.5, colsample_bytree=0.5).fit(X, y)
    assert not np.allclose(a.predict(X_test), b.predict(X_test))


def test_xgboost_without_validation_uses_every_round() -> None:
    X, y, _, _ = _data(BINARY)
    model = _make("xgboost", BINARY, num_round=25).fit(X, y)
    assert model.best_iteration_ == 24


@pytest.mark.parametrize("problem_type", [BINARY, MULTICLASS, REGRESSION])
def test_xgboost_early_stopping_predicts_with_best_iteration(problem_type: str) -> None:
    X, y, X_val, y_val = _data(problem_type)
    stopped = _make("xgboost", problem_type, num_round=2000, early_stopping_rounds=5, eta=0.3)
    stopped.fit(X, y, X_val=X_val, y_val=y_val)
    rounds = stopped.best_iteration_ + 1
    assert rounds < 2000
    plain = _make("xgboost", problem_type, num_round=rounds, eta=0.3).fit(X, y)
    out = "predict" if problem_type == REGRESSION else "predict_proba"
    np.testing.assert_allclose(getattr(stopped, out)(X_val), getattr(plain, out)(X_val), rtol=1e-6, atol=1e-6)


def test_xgboost_multiclass_class_count_from_labels() -> None:
    X, y, X_test, _ = _data(MULTICLASS)
    model = _make("xgboost", MULTICLASS).fit(X, y)
    assert model.n_classes_ == 3
    assert model.predict_proba(X_test).shape[1] == 3
