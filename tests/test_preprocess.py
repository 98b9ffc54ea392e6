"""Feature pipelines built from a profile: dropped columns, imputation, indicators, one-hot, dates, text."""

from __future__ import annotations

import joblib
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import scipy.sparse as sp

from autopilot.data.profile import profile_table
from autopilot.errors import DataError, PredictionError
from autopilot.preprocess import MISSING_CATEGORY, build_preprocessor, feature_kinds

N = 120
TARGET = "target"


def _dense(X: object) -> np.ndarray:
    return X.toarray() if sp.issparse(X) else np.asarray(X)


def _frame(n: int = N, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    subjects = ["the cat", "a small dog", "my old car", "this red house", "our new garden", "that blue boat"]
    verbs = ["sat quietly near", "ran away from", "looked at", "waited beside", "moved toward"]
    objects = ["the river bank", "a tall tree", "the busy market", "an empty road", "the quiet school"]
    text = [f"{subjects[i % 6]} {verbs[(i // 6) % 5]} {objects[(i // 30) % 5]} today" for i in range(n)]
    amount = rng.normal(10.0, 3.0, size=n)
    amount[[0, 11, 25, 60, 99]] = np.nan
    color = rng.choice(["red", "green", "blue"], size=n).astype(object)
    color[[3, 17, 40]] = None
    color[5] = "purple"  # rare: 1 row in 120, under the 1% one-hot threshold
    flag = rng.choice(["Yes", "No"], size=n).astype(object)
    flag[[8, 9]] = None
    when = pd.Series(pd.to_datetime("2020-01-01") + pd.to_timedelta(rng.integers(0, 1000, n), unit="D"))
    when[[2, 30]] = pd.NaT
    return pd.DataFrame(
        {
            "customer_id": np.arange(1000, 1000 + n),
            "constant": ["same"] * n,
            "amount": amount,
            "color": color,
            "flag": flag,
            "when": when,
            "note": text,
            TARGET: rng.integers(0, 2, n),
        }
    )


def _profile(df: pd.DataFrame) -> dict:
    return profile_table(pa.Table.from_pandas(df, preserve_index=False), TARGET)


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return _frame()


@pytest.fixture(scope="module")
def profile(data: pd.DataFrame) -> dict:
    return _profile(data)


@pytest.fixture(scope="module")
def fitted(data: pd.DataFrame, profile: dict) -> tuple:
    pre = build_preprocessor(profile, TARGET)
    X = pre.fit_transform(data.drop(columns=TARGET))
    names = list(pre.named_steps["features"].get_feature_names_out())
    return pre, X, names


def _column(X: object, names: list[str], name: str) -> np.ndarray:
    return _dense(X)[:, names.index(name)]


def _new_rows() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4],
            "constant": ["same"] * 4,
            "amount": [5.0, np.nan, 12.5, None],
            "color": ["orange", None, "red", "blue"],  # orange was never seen
            "flag": ["No", None, "Yes", "No"],
            "when": pd.to_datetime(["2021-06-15", None, "2019-12-31", "2022-02-02"]),
            "note": ["a brand new sentence about the cat", None, "the busy market today", ""],
        }
    )


def test_profile_kinds_as_expected(profile: dict) -> None:
    kinds = {c["name"]: c["kind"] for c in profile["column_profiles"]}
    assert kinds["customer_id"] == "identifier"
    assert kinds["amount"] == "numeric"
    assert kinds["color"] == "categorical"
    assert kinds["flag"] == "boolean"
    assert kinds["when"] == "datetime"
    assert kinds["note"] == "text"
    assert next(c for c in profile["column_profiles"] if c["name"] == "constant")["constant"]


def test_feature_kinds_drop_target_id_and_constant(profile: dict) -> None:
    kinds = feature_kinds(profile, TARGET)
    assert kinds == {
        "amount": "numeric",
        "color": "categorical",
        "flag": "boolean",
        "when": "datetime",
        "note": "text",
    }


def test_output_rows_and_no_nan(data: pd.DataFrame, fitted: tuple) -> None:
    _, X, names = fitted
    dense = _dense(X)
    assert dense.shape == (len(data), len(names))
    assert not np.isnan(dense).any()
    assert np.isfinite(dense).all()


def test_no_feature_from_dropped_columns(fitted: tuple) -> None:
    _, _, names = fitted
    for dropped in ("customer_id", "constant", TARGET):
        assert not any(dropped in n for n in names), dropped


def test_missing_indicators(data: pd.DataFrame, fitted: tuple) -> None:
    _, X, names = fitted
    for col in ("amount", "flag"):
        indicator = [n for n in names if "missingindicator" in n and n.endswith(col)]
        assert len(indicator) == 1, col
        np.testing.assert_array_equal(_column(X, names, indicator[0]), data[col].isna().to_numpy().astype(float))
    assert any("missingindicator_when" in n for n in names)


def test_numeric_imputed_with_median_and_scaled(data: pd.DataFrame, fitted: tuple) -> None:
    _, X, names = fitted
    amount = _column(X, names, "numeric__amount")
    missing = data["amount"].isna().to_numpy()
    # RobustScaler centres on the median, so a median-imputed value becomes 0
    np.testing.assert_allclose(amount[missing], 0.0, atol=1e-12)
    observed = data["amount"].to_numpy()[~missing]
    assert np.corrcoef(observed, amount[~missing])[0, 1] == pytest.approx(1.0)


def test_boolean_yes_is_one(data: pd.DataFrame, fitted: tuple) -> None:
    _, X, names = fitted
    flag = _column(X, names, "boolean__flag")
    known = data["flag"].notna().to_numpy()
    np.testing.assert_array_equal(flag[known], (data["flag"][known] == "Yes").to_numpy().astype(float))
    assert set(np.unique(flag)) <= {0.0, 1.0}


def test_categorical_one_hot_with_missing_and_rare(data: pd.DataFrame, fitted: tuple) -> None:
    _, X, names = fitted
    color_cols = [n for n in names if n.startswith("categorical__color")]
    block = np.column_stack([_column(X, names, n) for n in color_cols])
    np.testing.assert_array_equal(block.sum(axis=1), 1.0)  # exactly one category per row
    missing_col = f"categorical__color_{MISSING_CATEGORY}"
    assert missing_col in names
    np.testing.assert_array_equal(_column(X, names, missing_col), data["color"].isna().to_numpy().astype(float))
    assert "categorical__color_purple" not in names  # rare: grouped as infrequent
    infrequent = [n for n in color_cols if "infrequent" in n]
    assert len(infrequent) == 1
    assert _column(X, names, infrequent[0])[5] == 1.0
    red = _column(X, names, "categorical__color_red")
    np.testing.assert_array_equal(red, (data["color"] == "red").to_numpy().astype(float))


def test_date_parts_features(data: pd.DataFrame, fitted: tuple) -> None:
    _, X, names = fitted
    assert any(n.endswith("when_year") for n in names)
    assert any(n.endswith("when_month") for n in names)
    assert any("_year" in n for n in names)
    month = _column(X, names, "datetime__when_month")
    known = data["when"].notna().to_numpy()
    raw = data["when"].dt.month.to_numpy()[known]
    assert np.corrcoef(raw, month[known])[0, 1] == pytest.approx(1.0)


def test_text_features(fitted: tuple) -> None:
    _, X, names = fitted
    text_cols = [n for n in names if n.startswith("text_note__")]
    assert any(n.endswith("__cat") for n in text_cols)
    assert any(n.endswith("busy market") for n in text_cols)  # bigrams
    block = np.column_stack([_column(X, names, n) for n in text_cols])
    assert (block.sum(axis=1) > 0).all()


def test_transform_new_rows_with_unseen_category_and_missing(fitted: tuple) -> None:
    pre, _, names = fitted
    rows = _new_rows()
    out = _dense(pre.transform(rows))
    assert out.shape == (len(rows), len(names))
    assert not np.isnan(out).any()
    color_cols = [i for i, n in enumerate(names) if n.startswith("categorical__color")]
    np.testing.assert_array_equal(out[:, color_cols].sum(axis=1), 1.0)
    assert out[0, names.index("categorical__color_infrequent_sklearn")] == 1.0  # unseen -> infrequent
    assert out[1, names.index(f"categorical__color_{MISSING_CATEGORY}")] == 1.0
    assert out[1, names.index("numeric__missingindicator_amount")] == 1.0
    assert out[3, names.index("numeric__missingindicator_amount")] == 1.0
    assert out[0, names.index("numeric__missingindicator_amount")] == 0.0
    assert out[1, names.index("boolean__missingindicator_flag")] == 1.0
    assert out[2, names.index("boolean__flag")] == 1.0
    assert out[0, names.index("boolean__flag")] == 0.0


def test_transform_rows_read_as_text(fitted: tuple) -> None:
    """Rows read another way (everything as strings, other case) line up with the training encoding."""
    pre, _, _ = fitted
    typed = _new_rows()
    as_text = typed.astype(object).where(typed.notna(), None)
    as_text["amount"] = ["5.0", None, "12.5", "not a number"]
    as_text["flag"] = ["no", None, " YES ", "No"]
    as_text["when"] = ["2021-06-15", None, "2019-12-31", "2022-02-02"]
    out_typed = _dense(pre.transform(typed))
    out_text = _dense(pre.transform(as_text))
    assert not np.isnan(out_text).any()
    np.testing.assert_allclose(out_text, out_typed, atol=1e-6)


def test_single_row_transform(fitted: tuple) -> None:
    pre, _, names = fitted
    out = _dense(pre.transform(_new_rows().iloc[[2]]))
    assert out.shape == (1, len(names))


def test_transform_ignores_extra_and_reordered_columns(fitted: tuple) -> None:
    pre, _, _ = fitted
    rows = _new_rows()
    shuffled = rows[list(reversed(rows.columns))].assign(extra=[1, 2, 3, 4])
    np.testing.assert_allclose(_dense(pre.transform(shuffled)), _dense(pre.transform(rows)))


def test_transform_does_not_need_dropped_columns(fitted: tuple) -> None:
    pre, _, names = fitted
    rows = _new_rows().drop(columns=["customer_id", "constant"])
    assert _dense(pre.transform(rows)).shape == (4, len(names))


@pytest.mark.parametrize("column", ["amount", "color", "flag", "when", "note"])
def test_missing_feature_column_raises_prediction_error(fitted: tuple, column: str) -> None:
    pre, _, _ = fitted
    with pytest.raises(PredictionError) as info:
        pre.transform(_new_rows().drop(columns=column))
    assert column in str(info.value)


def test_pickle_round_trip(tmp_path: object, fitted: tuple) -> None:
    pre, _, _ = fitted
    path = tmp_path / "pre.joblib"
    joblib.dump(pre, path)
    again = joblib.load(path)
    np.testing.assert_array_equal(_dense(again.transform(_new_rows())), _dense(pre.transform(_new_rows())))


def test_only_id_columns_raises_data_error() -> None:
    n = 60
    df = pd.DataFrame(
        {
            "id": np.arange(n),
            "order_key": [f"K{i:04d}" for i in range(n)],
            "row": np.arange(5, 5 + n),
            TARGET: np.random.default_rng(0).integers(0, 2, n),
        }
    )
    profile = _profile(df)
    assert all(c["kind"] == "identifier" for c in profile["column_profiles"] if c["name"] != TARGET)
    with pytest.raises(DataError):
        build_preprocessor(profile, TARGET)
    with pytest.raises(DataError):
        feature_kinds(profile, TARGET)


def test_only_constant_columns_raises_data_error() -> None:
    df = pd.DataFrame({"c": [1.0] * 30, "d": ["x"] * 30, TARGET: [0, 1] * 15})
    with pytest.raises(DataError):
        build_preprocessor(_profile(df), TARGET)


def test_numeric_only_profile_is_dense() -> None:
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"a": rng.normal(size=50), "b": rng.normal(size=50), TARGET: rng.normal(size=50)})
    pre = build_preprocessor(_profile(df), TARGET)
    X = pre.fit_transform(df)
    assert not sp.issparse(X)
    assert X.shape == (50, 2)
    np.testing.assert_allclose(np.median(X, axis=0), 0.0, atol=1e-12)
