"""The Candidate contract, run against every registered algorithm, and resolve_algorithms."""

from __future__ import annotations

import inspect
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
from optuna.distributions import BaseDistribution
from sklearn.base import clone

import autopilot.candidates
from autopilot.candidates import REGISTRY, Candidate, get_candidate, resolve_algorithms
from autopilot.data import profile_table, table_from_pandas
from autopilot.errors import ConfigError
from autopilot.metrics import BINARY, MULTICLASS, REGRESSION
from autopilot.pipeline import AutopilotPipeline
from autopilot.preprocess import build_preprocessor
from autopilot.problem import infer_problem
from autopilot.search.runner import make_model
from autopilot.search.spec import TrialSpec

N_TRAIN, N_VAL, N_FEATURES = 240, 80, 5
# keeps boosted candidates quick, one thread so a busy machine does not stall OpenMP; ignored where not a parameter
FAST = {"num_round": 40, "n_jobs": 1, "max_epochs": 30, "device": "cpu"}

CASES = [
    (key, pt)
    for key in sorted(REGISTRY)
    for pt in (BINARY, MULTICLASS, REGRESSION)
    if pt in REGISTRY[key].problem_types
]
CASE_IDS = [f"{key}-{pt}" for key, pt in CASES]


def _init_params(cls: type) -> set[str]:
    return {n for n in inspect.signature(cls.__init__).parameters if n != "self"}


def _make(key: str, problem_type: str, **kw: object) -> Candidate:
    cls = REGISTRY[key]
    params = {k: v for k, v in {**FAST, **kw}.items() if k in _init_params(cls)}
    return cls(problem_type=problem_type, **params)


def _data(problem_type: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Learnable toy data: the label depends on the first two features."""
    rng = np.random.default_rng(seed)
    n = N_TRAIN + N_VAL
    X = rng.normal(size=(n, N_FEATURES))
    signal = 2.0 * X[:, 0] - 1.5 * X[:, 1]
    if problem_type == REGRESSION:
        y = signal + 0.1 * rng.normal(size=n)
    elif problem_type == BINARY:
        y = (signal > 0).astype(int)
    else:
        y = np.digitize(signal, [-1.0, 1.0]).astype(int)  # 3 classes
    return X[:N_TRAIN], y[:N_TRAIN], X[N_TRAIN:], y[N_TRAIN:]


def _n_classes(problem_type: str) -> int:
    return {BINARY: 2, MULTICLASS: 3}.get(problem_type, 0)


def test_registry_not_empty_and_keyed() -> None:
    assert "xgboost" in REGISTRY
    for key, cls in REGISTRY.items():
        assert issubclass(cls, Candidate)
        assert cls.key == key
        assert cls.problem_types
        assert set(cls.problem_types) <= {BINARY, MULTICLASS, REGRESSION}
        assert get_candidate(key) is cls
    assert autopilot.candidates.REGISTRY is REGISTRY


def test_get_candidate_unknown() -> None:
    with pytest.raises(ConfigError, match="registered"):
        get_candidate("no-such-model")


@pytest.mark.parametrize("key", sorted(REGISTRY))
def test_init_takes_problem_type_and_seed_with_defaults(key: str) -> None:
    cls = REGISTRY[key]
    params = inspect.signature(cls.__init__).parameters
    for required in ("problem_type", "metric", "seed", "device"):
        assert required in params, required
    for name, p in params.items():
        if name != "self":
            assert p.default is not inspect.Parameter.empty, name
    cls()  # every hyperparameter defaulted


@pytest.mark.parametrize(("key", "problem_type"), CASES, ids=CASE_IDS)
def test_fit_predict_shapes(key: str, problem_type: str) -> None:
    X, y, X_test, _ = _data(problem_type)
    model = _make(key, problem_type)
    assert model.fit(X, y) is model
    pred = np.asarray(model.predict(X_test))
    assert pred.shape == (len(X_test),)
    if problem_type != REGRESSION:
        assert set(np.unique(pred)) <= set(range(_n_classes(problem_type)))
    else:
        assert np.issubdtype(pred.dtype, np.floating)
        assert np.isfinite(pred).all()


@pytest.mark.parametrize(("key", "problem_type"), [c for c in CASES if c[1] != REGRESSION])
def test_predict_proba_rows_sum_to_one(key: str, problem_type: str) -> None:
    X, y, X_test, _ = _data(problem_type)
    model = _make(key, problem_type).fit(X, y)
    proba = np.asarray(model.predict_proba(X_test))
    k = _n_classes(problem_type)
    assert proba.shape == (len(X_test), k)
    assert (proba >= 0).all()
    assert (proba <= 1).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(np.asarray(model.predict(X_test)), proba.argmax(axis=1))


@pytest.mark.parametrize(("key", "problem_type"), CASES, ids=CASE_IDS)
def test_save_load_round_trip(key: str, problem_type: str, tmp_path: object) -> None:
    X, y, X_test, _ = _data(problem_type)
    model = _make(key, problem_type).fit(X, y)
    path = tmp_path / f"{key}.joblib"
    joblib.dump(model, path)
    loaded = joblib.load(path)
    assert type(loaded) is type(model)
    assert loaded.get_params() == model.get_params()
    np.testing.assert_array_equal(np.asarray(loaded.predict(X_test)), np.asarray(model.predict(X_test)))
    if problem_type != REGRESSION:
        np.testing.assert_array_equal(np.asarray(loaded.predict_proba(X_test)), np.asarray(model.predict_proba(X_test)))


@pytest.mark.parametrize(("key", "problem_type"), CASES, ids=CASE_IDS)
def test_same_seed_same_predictions(key: str, problem_type: str) -> None:
    X, y, X_test, _ = _data(problem_type)
    kw = {"subsample": 0.7, "colsample_bytree": 0.7}  # randomness that the seed must fix, where supported
    a = _make(key, problem_type, seed=3, **kw).fit(X, y)
    b = _make(key, problem_type, seed=3, **kw).fit(X, y)
    out = a.predict_proba if problem_type != REGRESSION else a.predict
    out_b = b.predict_proba if problem_type != REGRESSION else b.predict
    np.testing.assert_array_equal(np.asarray(out(X_test)), np.asarray(out_b(X_test)))


@pytest.mark.parametrize(("key", "problem_type"), CASES, ids=CASE_IDS)
def test_clone_and_get_params(key: str, problem_type: str) -> None:
    model = _make(key, problem_type, seed=7)
    params = model.get_params()
    assert set(params) == _init_params(type(model))
    assert params["problem_type"] == problem_type
    assert params["seed"] == 7
    copy = clone(model)
    assert type(copy) is type(model)
    assert copy is not model
    assert copy.get_params() == params
    X, y, X_test, _ = _data(problem_type)
    copy.fit(X, y)
    assert not hasattr(model, "booster_")  # fitting the clone leaves the original unfitted
    assert np.asarray(copy.predict(X_test)).shape == (len(X_test),)


@pytest.mark.parametrize("key", sorted(REGISTRY))
def test_set_params_round_trip(key: str) -> None:
    model = REGISTRY[key]()
    model.set_params(seed=11)
    assert model.get_params()["seed"] == 11


@pytest.mark.parametrize("key", sorted(REGISTRY))
def test_search_space_names_are_init_params(key: str) -> None:
    cls = REGISTRY[key]
    space = cls.search_space(profile={})
    assert isinstance(space, dict)
    assert space
    init = _init_params(cls)
    for name, dist in space.items():
        assert isinstance(dist, BaseDistribution), name
        assert name in init, name
    assert "problem_type" not in space
    assert "seed" not in space


@pytest.mark.parametrize("key", sorted(REGISTRY))
def test_portfolio_holds_a_few_configurations_inside_the_search_space(key: str) -> None:
    from autopilot.candidates.base import portfolio_params

    cls = REGISTRY[key]
    space = cls.search_space(profile={})
    portfolio = portfolio_params(cls, {})
    assert 2 <= len(portfolio) <= 4
    assert all(set(params) == set(space) for params in portfolio)  # complete points, so Optuna is told all of them
    assert len({repr(sorted(p.items())) for p in portfolio}) == len(portfolio)
    for params in portfolio:
        for name, value in params.items():
            assert space[name]._contains(space[name].to_internal_repr(value)), (name, value)


def test_a_portfolio_value_outside_the_space_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from autopilot.candidates.base import portfolio_params

    cls = REGISTRY["xgboost"]
    monkeypatch.setattr(cls, "portfolio", classmethod(lambda c, profile: [{"max_depth": 3}]))
    with pytest.raises(ValueError, match=r"alpha=0\.0 is outside"):  # the default alpha (0) is not in its log range
        portfolio_params(cls, {})
    monkeypatch.setattr(cls, "portfolio", classmethod(lambda c, profile: [{"depth": 3}]))
    with pytest.raises(ValueError, match="not in its search space"):
        portfolio_params(cls, {})


@pytest.mark.parametrize(("key", "problem_type"), CASES, ids=CASE_IDS)
def test_portfolio_configurations_fit_and_predict(key: str, problem_type: str) -> None:
    from autopilot.candidates.base import portfolio_params

    X, y, X_test, _ = _data(problem_type)
    cls = REGISTRY[key]
    quick = {k: v for k, v in {"num_round": 20, "epochs": 3, "max_epochs": 3}.items() if k in cls().get_params()}
    for params in portfolio_params(cls, {}):
        model = _make(key, problem_type, **{**params, **quick}).fit(X, y)
        assert len(model.predict(X_test)) == len(X_test)


@pytest.mark.parametrize(("key", "problem_type"), CASES, ids=CASE_IDS)
def test_search_space_values_are_usable(key: str, problem_type: str) -> None:
    """A model built from the low end of every range fits and predicts."""
    cls = REGISTRY[key]
    space = cls.search_space(profile={})
    params = {}
    for name, dist in space.items():
        if hasattr(dist, "low"):
            params[name] = dist.low
        elif hasattr(dist, "choices"):
            params[name] = dist.choices[0]
    if "num_round" in params:
        params["num_round"] = min(params["num_round"], 20)
    X, y, X_test, _ = _data(problem_type)
    model = _make(key, problem_type, **params).fit(X, y)
    assert np.asarray(model.predict(X_test)).shape == (len(X_test),)


@pytest.mark.parametrize(("key", "problem_type"), CASES, ids=CASE_IDS)
def test_fit_with_validation_early_stopping(key: str, problem_type: str) -> None:
    X, y, X_val, y_val = _data(problem_type)
    params = {"num_round": 2000, "early_stopping_rounds": 5, "eta": 0.3}
    model = _make(key, problem_type, **params)
    model.fit(X, y, X_val=X_val, y_val=y_val)
    pred = np.asarray(model.predict(X_val))
    assert pred.shape == (len(X_val),)
    if hasattr(model, "best_iteration_") and "num_round" in _init_params(type(model)):
        assert 0 <= model.best_iteration_ < 2000 - 1  # stopped early on this easy problem


@pytest.mark.parametrize(("key", "problem_type"), CASES, ids=CASE_IDS)
def test_refit_params_fix_how_long_to_train_without_validation(key: str, problem_type: str) -> None:
    """A refit on every row has no rows to stop early on: the fit says how long to train, as constructor params."""
    X, y, X_val, y_val = _data(problem_type)
    model = _make(key, problem_type, num_round=500, early_stopping_rounds=5).fit(X, y, X_val, y_val)
    changed = model.refit_params()
    assert changed and set(changed) <= _init_params(type(model))
    expected = {
        "xgboost": {"num_round": getattr(model, "best_iteration_", 0) + 1},
        "mlp": {"max_epochs": max(getattr(model, "best_epoch_", 1), 1)},
        "linear-learner": {"num_models": 1, **getattr(model, "settings_", {})},
    }
    assert changed == expected[key]
    refit = _make(key, problem_type, **changed).fit(np.vstack([X, X_val]), np.concatenate([y, y_val]))
    assert np.asarray(refit.predict(X_val)).shape == (len(X_val),)


@pytest.mark.parametrize(("key", "problem_type"), CASES, ids=CASE_IDS)
def test_beats_constant_baseline(key: str, problem_type: str) -> None:
    X, y, X_test, y_test = _data(problem_type, seed=1)
    model = _make(key, problem_type, num_round=100).fit(X, y)
    pred = np.asarray(model.predict(X_test))
    if problem_type == REGRESSION:
        mse = np.mean((pred - y_test) ** 2)
        baseline = np.mean((np.mean(y) - y_test) ** 2)
        assert mse < 0.5 * baseline
    else:
        accuracy = np.mean(pred == y_test)
        majority = np.bincount(y).argmax()
        baseline = np.mean(y_test == majority)
        assert accuracy > baseline + 0.2
        assert accuracy > 0.8


@pytest.mark.parametrize(("key", "problem_type"), CASES, ids=CASE_IDS)
def test_predict_is_stable_across_calls(key: str, problem_type: str) -> None:
    X, y, X_test, _ = _data(problem_type)
    model = _make(key, problem_type).fit(X, y)
    np.testing.assert_array_equal(np.asarray(model.predict(X_test)), np.asarray(model.predict(X_test)))


# ---------------------------------------------------------------- resolve_algorithms


@pytest.mark.parametrize("problem_type", [BINARY, MULTICLASS, REGRESSION])
def test_resolve_none_gives_all_registered(problem_type: str) -> None:
    expected = sorted(k for k, c in REGISTRY.items() if problem_type in c.problem_types)
    assert resolve_algorithms(None, problem_type) == expected
    assert resolve_algorithms([], problem_type) == expected
    assert "xgboost" in expected


@pytest.mark.parametrize("name", ["XGBoost", "xgboost", "XGBOOST", " xgboost "])
def test_resolve_case_insensitive(name: str) -> None:
    assert resolve_algorithms([name], BINARY) == ["xgboost"]


def test_resolve_deduplicates() -> None:
    assert resolve_algorithms(["xgboost", "XGBoost"], REGRESSION) == ["xgboost"]


@pytest.mark.parametrize("name", ["lightgbm", "CatBoost"])
def test_resolve_known_but_unavailable(name: str) -> None:
    with pytest.raises(ConfigError) as info:
        resolve_algorithms([name], BINARY)
    message = str(info.value)
    assert "not available" in message
    assert name in message
    assert "xgboost" in message


def test_resolve_nonsense_name() -> None:
    with pytest.raises(ConfigError) as info:
        resolve_algorithms(["bogus-forest"], BINARY)
    assert "unknown algorithm" in str(info.value)
    assert "bogus-forest" in str(info.value)
    assert "not available" not in str(info.value)


def test_resolve_mixed_list_fails_on_the_bad_name() -> None:
    with pytest.raises(ConfigError, match="bogus"):
        resolve_algorithms(["xgboost", "bogus"], MULTICLASS)


# ---------------------------------------------------------------- through the whole pipeline


def _frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    colour = rng.choice(["red", "green", "blue"], n)
    label = np.where(x + (colour == "red") * 1.5 > 0.5, "yes", "no")
    df = pd.DataFrame({"x": x, "noise": rng.normal(size=n), "colour": colour, "label": label})
    df.loc[rng.choice(n, n // 10, replace=False), "x"] = np.nan
    df.loc[rng.choice(n, n // 10, replace=False), "colour"] = None
    return df


@pytest.mark.parametrize("key", sorted(REGISTRY))
def test_pipeline_handles_missing_values_and_unseen_categories(key: str, tmp_path: Path) -> None:
    train, validation = _frame(300, 0), _frame(100, 1)
    table = table_from_pandas(train)
    problem = infer_problem(table, "label")
    fast = {k: v for k, v in FAST.items() if k in _init_params(REGISTRY[key]) and k != "device"}
    spec = TrialSpec("001", key, fast, 1.0, 0)
    model = make_model(spec, problem, "cpu")
    pre = build_preprocessor(profile_table(table, "label"), "label", categorical_encoding=model.categorical_encoding)
    pipeline = AutopilotPipeline(pre, model, problem).fit(train, validation)
    new = pd.DataFrame({"x": [np.nan, 0.3, 2.0], "noise": [0.0, np.nan, 1.0], "colour": ["purple", None, "red"]})
    out = pipeline.predict_frame(new)
    assert out["predicted_label"].isin(["yes", "no"]).all()
    np.testing.assert_allclose(out[["proba_no", "proba_yes"]].sum(axis=1), 1.0, atol=1e-6)
    pipeline.save(tmp_path / "p.joblib")
    again = AutopilotPipeline.load(tmp_path / "p.joblib").predict_frame(new)
    pd.testing.assert_frame_equal(out, again)
    assert (pipeline.predict(validation) == validation["label"]).mean() > 0.7


@pytest.mark.parametrize("key", sorted(REGISTRY))
def test_probability_columns_follow_the_problems_class_order(key: str) -> None:
    """Issue 18's collapsed MLP (AUC 0.15 on penguins) smelled of a class-order bug: with labels whose sorted order
    differs from the order they appear in, each class's probability column must rank that class's rows first."""
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(3)
    x = rng.normal(size=600)
    label = np.select([x < -0.5, x < 0.5], ["zeta", "alpha"], "mu")  # appearance order differs from sorted order
    frame = pd.DataFrame({"x": x, "noise": rng.normal(size=600), "label": label})
    train, validation = frame.iloc[:450], frame.iloc[450:]
    table = table_from_pandas(train)
    problem = infer_problem(table, "label")
    fast = {k: v for k, v in FAST.items() if k in _init_params(REGISTRY[key]) and k != "device"}
    model = make_model(TrialSpec("001", key, fast, 1.0, 0), problem, "cpu")
    pre = build_preprocessor(profile_table(table, "label"), "label", categorical_encoding=model.categorical_encoding)
    pipeline = AutopilotPipeline(pre, model, problem).fit(train, validation)
    _, proba = pipeline.predict_encoded(validation)
    for code, name in enumerate(pipeline.classes):
        assert roc_auc_score(validation["label"] == name, proba[:, code]) > 0.9, (key, name)
