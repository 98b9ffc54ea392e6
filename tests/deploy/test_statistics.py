"""statistics.json, constraints.json and the checks, against values computed by hand on toy data."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats as scipy_stats

from autopilot.deploy.constraints import read_constraints, suggest_constraints
from autopilot.deploy.statistics import DISTINCT_K, NumberReader, TableStatistics
from autopilot.deploy.violations import cdf_distance, check, chi_squared_p, linf, psi, robust
from autopilot.errors import ConfigError

KINDS = {"age": "numeric", "price": "numeric", "city": "string"}


def _stats(table: pa.Table, kinds: dict = KINDS, readers: dict | None = None, chunk: int | None = None) -> dict:
    stats = TableStatistics(kinds, readers)
    step = chunk or max(table.num_rows, 1)
    for start in range(0, max(table.num_rows, 1), step):
        stats.add(table.slice(start, step))
    return stats.to_json()


def _feature(stats: dict, name: str) -> dict:
    return next(f for f in stats["features"] if f["name"] == name)


TOY = pa.table(
    {
        "age": ["30", "41", None, "", " 19 ", "inf"],
        "price": ["1.5", "2.5", "x", "4", None, "2"],
        "city": ["Paris", "Oslo", "Paris", " ", None, "Paris"],
    }
)


def test_numeric_statistics_match_hand_computed_values() -> None:
    age = _feature(_stats(TOY), "age")
    assert age["inferred_type"] == "Integral"
    block = age["numerical_statistics"]
    # present: 30, 41, 19; missing: None, blank, inf (an infinity is missing, as at training)
    assert block["common"] == {"num_present": 3, "num_missing": 3, "num_non_numeric": 0, "num_non_integral": 0}
    assert (block["sum"], block["min"], block["max"]) == (90.0, 19.0, 41.0)
    assert block["mean"] == pytest.approx(30.0)
    assert block["std_dev"] == pytest.approx(np.std([30, 41, 19]))
    buckets = block["distribution"]["kll"]["buckets"]
    assert len(buckets) == 10 and buckets[0]["lower_bound"] == 19 and buckets[-1]["upper_bound"] == 41
    assert [b["count"] for b in buckets] == [1, 0, 0, 0, 0, 1, 0, 0, 0, 1]
    price = _feature(_stats(TOY), "price")
    assert price["inferred_type"] == "Fractional"
    common = price["numerical_statistics"]["common"]
    assert (common["num_present"], common["num_non_numeric"], common["num_non_integral"]) == (5, 1, 2)
    assert price["numerical_statistics"]["sum"] == pytest.approx(10.0)


def test_string_statistics_trim_and_count() -> None:
    city = _feature(_stats(TOY), "city")["string_statistics"]
    assert city["common"] == {"num_present": 4, "num_missing": 2}
    assert city["distinct_count"] == 2
    assert city["distribution"]["categorical"]["buckets"] == [
        {"value": "Paris", "count": 3},
        {"value": "Oslo", "count": 1},
    ]


def test_chunks_give_the_same_statistics_as_one_table() -> None:
    rng = np.random.default_rng(0)
    table = pa.table(
        {
            "age": pa.array(rng.integers(0, 90, 5000).astype(str)),
            "price": pa.array(rng.normal(10, 3, 5000)),
            "city": pa.array(rng.choice(["a", "b", "c"], 5000)),
        }
    )
    whole, chunked = _stats(table), _stats(table, chunk=777)
    for name in KINDS:
        a, b = _feature(whole, name), _feature(chunked, name)
        if name == "price":
            pa_, pb = a["numerical_statistics"], b["numerical_statistics"]
            assert pa_["std_dev"] == pytest.approx(pb["std_dev"]) and pa_["sum"] == pytest.approx(pb["sum"])
            assert pa_["distribution"] == pb["distribution"]  # every value is in the sample: exact either way
        else:
            assert json.dumps(a) == json.dumps(b)


def test_large_columns_are_sampled_and_distinct_counts_estimated() -> None:
    n = 60_000
    table = pa.table({"x": pa.array(np.arange(n, dtype=float)), "id": pa.array([f"u{i}" for i in range(n)])})
    stats = _stats(table, {"x": "numeric", "id": "string"}, chunk=10_000)
    x = _feature(stats, "x")["numerical_statistics"]
    assert x["distribution"]["quantiles"]["sampled"] is True
    assert x["distribution"]["quantiles"]["values"][499] == pytest.approx(n / 2, rel=0.03)
    assert sum(b["count"] for b in x["distribution"]["kll"]["buckets"]) == pytest.approx(n, rel=0.01)
    distinct = _feature(stats, "id")["string_statistics"]["distinct_count"]
    assert distinct > DISTINCT_K and distinct == pytest.approx(n, rel=0.1)


def test_numbers_are_read_as_the_model_reads_them() -> None:
    table = pa.table({"amount": ["$1,200", "$3", "4"]})
    plain = _feature(_stats(table, {"amount": "numeric"}), "amount")["numerical_statistics"]
    assert plain["common"]["num_non_numeric"] == 2
    reader = NumberReader(lambda s: s.str.replace("[$,]", "", regex=True).astype(float), plain=False)
    read = _feature(_stats(table, {"amount": "numeric"}, {"amount": reader}), "amount")["numerical_statistics"]
    assert read["common"]["num_non_numeric"] == 0 and read["sum"] == 1207


def test_distances_agree_with_their_definitions() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.normal(0, 1, 800), rng.normal(0.3, 1, 600)
    sa = _feature(_stats(pa.table({"x": a}), {"x": "numeric"}), "x")["numerical_statistics"]
    sb = _feature(_stats(pa.table({"x": b}), {"x": "numeric"}), "x")["numerical_statistics"]
    ks = scipy_stats.ks_2samp(a, b).statistic
    assert cdf_distance(sa, sb) == pytest.approx(ks, abs=2.5e-3)  # quantiles resolve the CDF to 1/1000
    assert robust(0.2, 800, 600) == pytest.approx(0.2 - 1.8 * np.sqrt(1400 / (800 * 600)))
    assert robust(0.01, 100, 100) == 0.0
    assert psi(sa, sa) == pytest.approx(0.0, abs=1e-9) and psi(sa, sb) > 0.05
    base = {
        "common": {"num_present": 10},
        "distribution": {"categorical": {"buckets": [{"value": "a", "count": 7}, {"value": "b", "count": 3}]}},
    }
    new = {
        "common": {"num_present": 10},
        "distribution": {"categorical": {"buckets": [{"value": "a", "count": 4}, {"value": "c", "count": 6}]}},
    }
    assert linf(base, new) == pytest.approx(0.6)  # c: 0 -> 0.6
    assert chi_squared_p(base, base) == pytest.approx(1.0)


def _table(rng: np.random.Generator, n: int, shift: float = 0.0) -> pa.Table:
    return pa.table(
        {
            "age": pa.array(rng.integers(18, 80, n).astype(str)),
            "price": pa.array((rng.gamma(2, 5, n) + shift).astype(str)),
            "city": pa.array(rng.choice(["Paris", "Oslo", "Rome"], n, p=[0.5, 0.3, 0.2])),
        }
    )


def _violations(new: pa.Table, config: dict | None = None) -> set[tuple[str, str]]:
    rng = np.random.default_rng(3)
    base = _stats(_table(rng, 3000))
    constraints = suggest_constraints(base)
    if config:
        constraints["monitoring_config"]["distribution_constraints"] |= config
    found, _ = check(base, constraints, _stats(new))
    return {(v["feature_name"], v["constraint_check_type"]) for v in found}


def test_a_random_sample_of_the_same_data_raises_no_violation() -> None:
    assert _violations(_table(np.random.default_rng(4), 1000)) == set()
    assert _violations(_table(np.random.default_rng(5), 1000), {"categorical_drift_method": "ChiSquared"}) == set()


def test_each_check_fires_on_data_built_to_break_it() -> None:
    rng = np.random.default_rng(6)
    assert ("price", "baseline_drift_check") in _violations(_table(rng, 1000, shift=8.0))
    broken = _table(rng, 1000)
    ages = broken.column("age").to_pylist()
    typed = broken.set_column(0, "age", pa.array(["n/a" if i % 4 == 0 else v for i, v in enumerate(ages)]))
    assert ("age", "data_type_check") in _violations(typed)
    fractional = broken.set_column(0, "age", pa.array([f"{v}.5" if i % 3 == 0 else v for i, v in enumerate(ages)]))
    assert ("age", "data_type_check") in _violations(fractional)
    sparse = broken.set_column(
        1, "price", pa.array([None if i % 3 else v for i, v in enumerate(broken.column("price").to_pylist())])
    )
    assert ("price", "completeness_check") in _violations(sparse)
    cities = broken.set_column(
        2, "city", pa.array(["Lima" if i % 5 == 0 else v for i, v in enumerate(broken.column("city").to_pylist())])
    )
    assert {("city", "categorical_values_check"), ("city", "baseline_drift_check")} <= _violations(cities)
    assert ("city", "missing_column_check") in _violations(broken.drop_columns(["city"]))
    assert ("colour", "extra_column_check") in _violations(broken.append_column("colour", pa.array(["red"] * 1000)))


def test_constraints_suggested_from_the_baseline() -> None:
    constraints = suggest_constraints(_stats(TOY))
    by_name = {f["name"]: f for f in constraints["features"]}
    assert by_name["city"]["string_constraints"]["domains"] == ["Oslo", "Paris"]
    assert by_name["age"]["num_constraints"] == {"is_non_negative": True}
    assert by_name["age"]["completeness"] == 0.5
    assert constraints["monitoring_config"]["distribution_constraints"]["comparison_method"] == "Robust"


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        (
            lambda c: c["monitoring_config"]["distribution_constraints"].update(comparison_threshold="high"),
            "comparison_threshold",
        ),
        (
            lambda c: c["monitoring_config"]["distribution_constraints"].update(comparison_method="Fancy"),
            "comparison_method",
        ),
        (lambda c: c["features"][0].update(completeness=2), "completeness"),
        (lambda c: c["features"][0].update(inferred_type="Integer"), "inferred_type"),
        (lambda c: c.pop("features"), "features"),
        (lambda c: c["monitoring_config"].update(datatype_check_threshold=-1), "datatype_check_threshold"),
    ],
)
def test_an_invalid_edit_is_one_line_naming_the_key(tmp_path, edit, named: str) -> None:
    constraints = suggest_constraints(_stats(TOY))
    edit(constraints)
    path = tmp_path / "constraints.json"
    path.write_text(json.dumps(constraints))
    with pytest.raises(ConfigError, match=named) as caught:
        read_constraints(path)
    assert "\n" not in str(caught.value)
    path.write_text("{not json")
    with pytest.raises(ConfigError, match="not readable JSON"):
        read_constraints(path)


def test_numbers_near_the_float_limit_give_valid_json() -> None:
    stats = _stats(pa.table({"x": [1.7e308, -1.7e308, 1e-300, 5.0, 1.7e308]}), {"x": "numeric"}, chunk=2)
    block = _feature(stats, "x")["numerical_statistics"]
    assert block["std_dev"] is None and block["max"] == 1.7e308  # the variance overflows: null, not Infinity
    assert len(block["distribution"]["kll"]["buckets"]) == 10
    json.dumps(stats, allow_nan=False)  # strict JSON
