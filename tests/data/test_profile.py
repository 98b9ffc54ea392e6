"""Tests for autopilot.data.profile.profile_table: statistics against pandas, warnings, JSON output."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from autopilot.data.load import read_table
from autopilot.data.profile import profile_table

DATASETS = Path(__file__).resolve().parents[2] / "datasets"


def _table(df: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(df, preserve_index=False)


def _column(profile: dict, name: str) -> dict:
    matches = [c for c in profile["column_profiles"] if c["name"] == name]
    assert len(matches) == 1, f"column {name!r} missing from the profile"
    return matches[0]


def _warnings(profile: dict, kind: str) -> list[str | None]:
    return sorted((w["column"] for w in profile["warnings"] if w["kind"] == kind), key=str)


def _mixed_frame(n: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "height": rng.normal(170, 10, n),
            "count": rng.integers(0, 50, n).astype("float64"),
            "score": rng.exponential(3.0, n),
            "city": rng.choice(["Oslo", "Lima", "Pune", "Kobe"], n, p=[0.4, 0.3, 0.2, 0.1]),
        }
    )
    df.loc[rng.choice(n, 17, replace=False), "height"] = np.nan
    df.loc[rng.choice(n, 5, replace=False), "count"] = np.nan
    df.loc[rng.choice(n, 9, replace=False), "city"] = None
    return df


# ------------------------------------------------------------------ shape and duplicates


def test_rows_columns_and_duplicates_match_pandas() -> None:
    rng = np.random.default_rng(3)
    df = pd.DataFrame(
        {
            "a": rng.integers(0, 3, 150),
            "b": rng.choice(["x", "y"], 150),
            "c": rng.choice([1.5, np.nan], 150),
            "d": rng.choice(["p", None], 150),
        }
    )
    expected = int(df.duplicated().sum())
    assert 0 < expected < 150
    profile = profile_table(_table(df))
    assert profile["rows"] == 150
    assert profile["columns"] == 4
    assert profile["duplicate_rows"] == expected
    assert _warnings(profile, "duplicate_rows") == [None]


def test_no_duplicates_no_duplicate_warning() -> None:
    df = pd.DataFrame({"a": range(30), "b": ["x"] * 30})
    profile = profile_table(_table(df))
    assert profile["duplicate_rows"] == 0
    assert _warnings(profile, "duplicate_rows") == []


def test_bytes_field_uses_file_bytes_when_given() -> None:
    table = _table(pd.DataFrame({"a": [1, 2, 3]}))
    assert profile_table(table, file_bytes=12345)["bytes"] == 12345
    profile = profile_table(table)
    assert profile["bytes"] == table.nbytes == profile["memory_bytes"]


# ------------------------------------------------------------------ per-column statistics


@pytest.mark.parametrize("name", ["height", "count", "score"])
def test_numeric_stats_match_pandas(name: str) -> None:
    df = _mixed_frame()
    profile = profile_table(_table(df))
    col = _column(profile, name)
    series = df[name]
    assert col["kind"] == "numeric"
    assert col["missing"] == int(series.isna().sum())
    assert col["missing_pct"] == pytest.approx(100 * series.isna().mean(), abs=1e-4)
    assert col["unique"] == series.nunique()
    assert col["min"] == pytest.approx(series.min())
    assert col["max"] == pytest.approx(series.max())
    assert col["mean"] == pytest.approx(series.mean())
    assert col["std"] == pytest.approx(series.std())  # pandas: ddof=1
    assert col["constant"] is False


def test_integer_column_stats_match_pandas() -> None:
    df = pd.DataFrame({"n": [5, 3, 3, 9, -2, 7, 3, 0]})
    col = _column(profile_table(_table(df)), "n")
    assert (col["min"], col["max"], col["unique"], col["missing"]) == (-2, 9, 6, 0)
    assert col["unique"] == df["n"].nunique()
    assert col["mean"] == pytest.approx(df["n"].mean())
    assert col["std"] == pytest.approx(df["n"].std())


def test_string_top_values_match_pandas_value_counts() -> None:
    rng = np.random.default_rng(5)
    values = ["a"] * 50 + ["b"] * 31 + ["c"] * 20 + ["d"] * 11 + ["e"] * 6 + ["f"] * 3 + ["g"] * 1 + [None] * 8
    df = pd.DataFrame({"s": rng.permutation(np.array(values, dtype=object))})
    col = _column(profile_table(_table(df)), "s")
    expected = df["s"].value_counts()
    assert col["unique"] == 7 == df["s"].nunique()
    assert col["missing"] == 8
    assert col["missing_pct"] == pytest.approx(100 * 8 / len(values), abs=1e-4)
    assert [(t["value"], t["count"]) for t in col["top_values"]] == [(v, int(c)) for v, c in expected.head(5).items()]


def test_city_top_values_match_pandas() -> None:
    df = _mixed_frame()
    col = _column(profile_table(_table(df)), "city")
    got = {t["value"]: t["count"] for t in col["top_values"]}
    assert got == {k: int(v) for k, v in df["city"].value_counts().items()}
    assert col["missing"] == int(df["city"].isna().sum())


def test_boolean_column_profile() -> None:
    table = pa.table({"b": pa.array([True, False, True, None, True])})
    col = _column(profile_table(table), "b")
    assert col["kind"] == "boolean"
    assert col["missing"] == 1
    assert col["unique"] == 2
    assert col["top_values"] == [{"value": True, "count": 3}, {"value": False, "count": 1}]


def test_float_nan_values_count_as_missing(tmp_path: Path) -> None:
    # NaN (not null) values, as Spark or pyarrow write them to Parquet; the loader makes them missing.
    raw = pa.table({"x": pa.array([1.0, np.nan, 3.0, np.nan, 5.0], from_pandas=False)})
    pq.write_table(raw, tmp_path / "nan.parquet")
    table, _ = read_table(tmp_path / "nan.parquet")
    col = _column(profile_table(table), "x")
    series = table.to_pandas()["x"]
    assert col["missing"] == int(series.isna().sum()) == 2
    assert col["unique"] == series.nunique()
    assert col["mean"] == pytest.approx(series.mean())
    assert col["std"] == pytest.approx(series.std())


# ------------------------------------------------------------------ column warnings


def test_id_like_and_constant_warnings() -> None:
    n = 60
    df = pd.DataFrame(
        {
            "customer_id": [f"C{i:04d}" for i in range(n)],
            "id": np.arange(100, 100 + 2 * n, 2),
            "const": ["same"] * n,
            "const_num": [7] * n,
            "value": np.random.default_rng(0).normal(size=n),
        }
    )
    profile = profile_table(_table(df))
    assert _warnings(profile, "id_like") == ["customer_id", "id"]
    assert _warnings(profile, "constant") == ["const", "const_num"]
    assert _column(profile, "const")["constant"] is True
    assert _column(profile, "value")["constant"] is False
    for w in profile["warnings"]:
        assert set(w) == {"column", "kind", "message"}
        assert w["column"] in w["message"]


def test_mostly_missing_threshold() -> None:
    n = 100
    half = [np.nan if i % 2 else float(i) for i in range(n)]  # exactly 50% missing
    some = [np.nan if i % 5 < 2 else float(i) for i in range(n)]  # 40% missing
    labels = [None if i < 70 else f"v{i % 3}" for i in range(n)]  # 70% missing
    df = pd.DataFrame({"half": half, "some": some, "labels": labels})
    profile = profile_table(_table(df))
    assert _warnings(profile, "mostly_missing") == ["half", "labels"]
    assert _column(profile, "half")["missing_pct"] == pytest.approx(50.0)
    assert _column(profile, "labels")["missing_pct"] == pytest.approx(70.0)


@pytest.mark.parametrize(("categories", "warned"), [(101, True), (100, False), (150, True)])
def test_high_cardinality(categories: int, warned: bool) -> None:
    n = 300
    df = pd.DataFrame({"place": [f"place_{i % categories}" for i in range(n)]})
    profile = profile_table(_table(df))
    col = _column(profile, "place")
    assert col["kind"] == "categorical"
    assert col["unique"] == categories
    assert _warnings(profile, "high_cardinality") == (["place"] if warned else [])


def test_target_column_gets_no_column_warnings() -> None:
    df = pd.DataFrame({"y": [1.0] * 20, "x": np.arange(20, dtype=float) * 0.37})
    profile = profile_table(_table(df), target="y")
    assert _warnings(profile, "constant") == []
    assert profile["target"] == "y"


# ------------------------------------------------------------------ a real file


def test_no_false_alarms_on_penguins() -> None:
    table, source = read_table(DATASETS / "penguins.csv")
    profile = profile_table(table, target="species", file_bytes=source.bytes)
    df = pd.read_csv(DATASETS / "penguins.csv")
    assert profile["rows"] == len(df) == 344
    assert profile["columns"] == df.shape[1]
    assert profile["duplicate_rows"] == int(df.duplicated().sum())
    assert profile["bytes"] == (DATASETS / "penguins.csv").stat().st_size
    assert _warnings(profile, "target_leakage") == []
    assert _warnings(profile, "class_imbalance") == []
    for name in ["bill_length_mm", "body_mass_g"]:
        col = _column(profile, name)
        assert col["missing"] == int(df[name].isna().sum())
        assert col["mean"] == pytest.approx(df[name].mean())
        assert col["std"] == pytest.approx(df[name].std())
    species = {t["value"]: t["count"] for t in _column(profile, "species")["top_values"]}
    assert species == {k: int(v) for k, v in df["species"].value_counts().items()}


def test_decimal_column_is_profiled_as_numeric() -> None:
    table = pa.table(
        {"amount": pa.array([Decimal("1.50"), Decimal("2.25"), None, Decimal("3.00")], pa.decimal128(6, 2))}
    )
    profile = profile_table(table)
    col = _column(profile, "amount")
    assert col["kind"] == "numeric"
    assert col["missing"] == 1
    assert col["mean"] == pytest.approx(2.25)
    assert col["std"] == pytest.approx(pd.Series([1.5, 2.25, 3.0]).std())
    json.dumps(profile, allow_nan=False)


# ------------------------------------------------------------------ JSON


def test_profile_is_json_serialisable_with_dates() -> None:
    table = pa.table(
        {
            "day": pa.array([dt.date(2026, 1, 3), dt.date(2025, 12, 31), None, dt.date(2026, 2, 1)]),
            "ts": pa.array([dt.datetime(2026, 1, 1, 8), None, dt.datetime(2026, 1, 2, 9, 30), dt.datetime(2026, 1, 1)]),
            "x": pa.array([1.0, None, 2.0, 2.0]),
            "single": pa.array([None, None, 3.0, None]),
            "b": pa.array([True, None, False, True]),
            "s": pa.array(["a", "b", None, "a"]),
        }
    )
    profile = profile_table(table, target="s")
    decoded = json.loads(json.dumps(profile, allow_nan=False))
    day = _column(decoded, "day")
    assert day["kind"] == "datetime"
    assert (day["min"], day["max"]) == ("2025-12-31", "2026-02-01")
    ts = _column(decoded, "ts")
    assert ts["min"].startswith("2026-01-01T00:00") and ts["max"].startswith("2026-01-02T09:30")
    assert decoded["rows"] == 4


def test_profile_of_csv_with_dates_is_json_serialisable(tmp_path: Path) -> None:
    text = "when,us_when,v\n" + "".join(f"2026-03-{1 + i:02d},03/{1 + i:02d}/2026,{i}\n" for i in range(25))
    path = tmp_path / "dates.csv"
    path.write_text(text)
    table, source = read_table(path)
    profile = profile_table(table, file_bytes=source.bytes)
    decoded = json.loads(json.dumps(profile, allow_nan=False))
    for name in ("when", "us_when"):
        col = _column(decoded, name)
        assert col["kind"] == "datetime"
        assert col["min"].startswith("2026-03-01")
        assert col["max"].startswith("2026-03-25")


# ------------------------------------------------------------------ large-column shortcuts


@pytest.fixture
def low_estimate_thresholds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Scale the distinct-count estimate's thresholds down so a small table takes the estimating path."""
    import autopilot.data.profile as profile

    monkeypatch.setattr(profile, "ESTIMATE_DISTINCT_ABOVE", 10_000)
    monkeypatch.setattr(profile, "ESTIMATE_MIN_KEPT", 256)


def test_many_float_values_get_a_labelled_close_estimate(low_estimate_thresholds: None) -> None:
    rng = np.random.default_rng(5)
    x = np.round(rng.normal(size=120_000), 4)
    x[rng.choice(len(x), 3000, replace=False)] = np.nan
    x[:50] = -0.0  # counted as 0.0, as pandas does
    df = pd.DataFrame({"x": x, "few": rng.choice([0.5, 1.5, 2.5], len(x))})
    first, second = profile_table(_table(df)), profile_table(_table(df))
    col = _column(first, "x")
    exact = df["x"].nunique()
    assert col["unique_estimated"] is True
    assert abs(col["unique"] - exact) / exact < 0.05
    assert _column(second, "x")["unique"] == col["unique"]  # deterministic
    few = _column(first, "few")
    assert (few["unique"], few["unique_estimated"]) == (3, False)  # few distinct values: counted exactly


def test_floats_under_the_estimate_threshold_are_exact() -> None:
    df = pd.DataFrame({"x": np.round(np.random.default_rng(1).normal(size=5000), 3)})
    col = _column(profile_table(_table(df)), "x")
    assert (col["unique"], col["unique_estimated"]) == (df["x"].nunique(), False)


def test_duplicates_that_differ_only_in_a_low_cardinality_column() -> None:
    """High-cardinality columns are hashed first; rows equal on them but not on a later column are not duplicates."""
    rng = np.random.default_rng(9)
    n = 20_000
    df = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "c": rng.choice(["u", "v"], n)})
    copies = df.sample(3000, random_state=1).copy()
    twins = df.sample(2000, random_state=2).copy()
    twins["c"] = np.where(twins["c"] == "u", "v", "u")  # same a and b, other c: not a duplicate
    both = pd.concat([df, copies, twins, copies.head(500)], ignore_index=True).sample(frac=1, random_state=3)
    expected = int(both.duplicated().sum())
    assert expected == 3500
    assert profile_table(_table(both))["duplicate_rows"] == expected


def test_duplicates_with_only_low_cardinality_columns() -> None:
    rng = np.random.default_rng(4)
    df = pd.DataFrame({k: rng.integers(0, 3, 5000) for k in "pqrs"} | {"t": rng.choice(["x", None], 5000)})
    assert profile_table(_table(df))["duplicate_rows"] == int(df.duplicated().sum())


@pytest.mark.parametrize(
    "values",
    [
        np.arange(60_000, dtype=float),  # integers stored as floats: every low mantissa bit zero
        np.arange(60_000) * 0.25,  # evenly spaced
        np.round(np.random.default_rng(2).uniform(0, 500, 60_000), 2),  # prices
        np.random.default_rng(3).random(60_000),
    ],
)
def test_distinct_estimate_is_close_on_structured_floats(low_estimate_thresholds: None, values: np.ndarray) -> None:
    col = _column(profile_table(_table(pd.DataFrame({"x": values}))), "x")
    exact = len(np.unique(values))
    assert col["unique_estimated"] is True
    assert abs(col["unique"] - exact) / exact < 0.05
