"""Prediction power, outliers and suggestions for the data-exploration notebook."""

from __future__ import annotations

import numpy as np
import pandas as pd

from autopilot.insights import outliers, prediction_power, suggestions


def test_prediction_power_ranks_an_informative_column_first() -> None:
    rng = np.random.default_rng(0)
    n = 600
    y = rng.choice(["a", "b", "c"], n)
    frame = pd.DataFrame(
        {
            "signal": np.where(y == "a", 0.0, np.where(y == "b", 1.0, 2.0)) + rng.normal(0, 0.05, n),
            "noise": rng.normal(size=n),
            "city": rng.choice(["x", "y"], n),
            "when": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 300, n), unit="D"),
            "y": y,
        }
    )
    frame.loc[:20, "signal"] = np.nan  # missing values are routed by the tree, not refused
    kinds = {"signal": "numeric", "noise": "numeric", "city": "categorical", "when": "datetime"}
    power = prediction_power(frame, "y", kinds, classification=True)
    assert list(power.index[:1]) == ["signal"] and power["signal"] > 0.9
    assert power["noise"] < 0.15 and power["city"] < 0.15 and (power >= 0).all()


def test_prediction_power_for_regression_is_r2() -> None:
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 10, 500)
    frame = pd.DataFrame({"x": x, "z": rng.normal(size=500), "y": 3 * x + rng.normal(0, 0.1, 500)})
    power = prediction_power(frame, "y", {"x": "numeric", "z": "numeric"}, classification=False)
    assert power["x"] > 0.95 and power["z"] < 0.05


def test_outliers_use_three_interquartile_ranges() -> None:
    values = pd.Series([*range(100), 1000, -700])
    table = outliers(pd.DataFrame({"v": values, "w": [np.nan] * 102}), ["v", "w"])
    q1, q3 = np.percentile(values, [25, 75])
    assert table.loc[0, "low_fence"] == q1 - 3 * (q3 - q1)
    assert table.loc[0, "outliers"] == 2
    assert list(table["column"]) == ["v"]  # an all-missing column has no quartiles


def test_suggestions_say_what_was_done_and_what_to_do() -> None:
    profile = {"warnings": [{"column": "id", "kind": "id_like", "message": "'id' looks like an identifier"}]}
    table = pd.DataFrame([{"column": "v", "outliers": 2, "outliers_pct": 2.0, "low_fence": -1.0, "high_fence": 9.0}])
    lines = suggestions(profile, table)
    assert lines[0].startswith("'id' looks like an identifier. Autopilot dropped it")
    assert "'v' has 2 values (2%) outside [-1, 9]" in lines[1]
    assert suggestions({"warnings": []}, table.iloc[:0]) == [
        "Nothing stood out: no warnings from the profile and no outliers."
    ]
