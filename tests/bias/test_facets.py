"""--facet, --group-variable and the positive outcome: parsing, the groups a facet makes, and every bad input as a
one-line error; and the columns that look sensitive."""

from __future__ import annotations

import re

import pandas as pd
import pyarrow as pa
import pytest

from autopilot.bias import check_bias
from autopilot.bias.facets import BiasConfig, FacetSpec, facet_groups, positive_outcome, value_mask
from autopilot.config import JobConfig
from autopilot.data.sensitive import sensitive_columns
from autopilot.errors import ConfigError

BINARY = {"target": "y", "problem_type": "binary", "classes": ["no", "yes"], "positive_label": "yes"}
MULTICLASS = {"target": "y", "problem_type": "multiclass", "classes": ["a", "b", "c"], "positive_label": None}
REGRESSION = {"target": "y", "problem_type": "regression", "classes": [], "positive_label": None}


def _table() -> pa.Table:
    return pa.table(
        {
            "sex": ["F", "M", "M", "F", None, "M"],
            "age": [22, 35, 47, 51, 63, 29],
            "a=b": ["x", "y", "x", "y", "x", "y"],
            "y": ["yes", "no", "yes", "no", "yes", "no"],
        }
    )


def test_facet_specs_parse() -> None:
    assert FacetSpec.parse("sex") == FacetSpec("sex")
    assert FacetSpec.parse("sex=F") == FacetSpec("sex", ("F",))
    assert FacetSpec.parse(" race = Black , Other ") == FacetSpec("race", ("Black", "Other"))
    assert FacetSpec.parse("age>40") == FacetSpec("age", threshold=40.0)
    assert FacetSpec.parse("a=b=x", columns=["a=b"]) == FacetSpec("a=b", ("x",))
    assert FacetSpec.parse("a=b", columns=["a=b"]) == FacetSpec("a=b")
    bad_specs = [
        ("age>old", "must be a number"), ("sex=", "give the values"), ("age>inf", "finite"),
        ("age<30", "only COLUMN>T thresholds"), ("age>=30", ">= is not supported"),
    ]  # fmt: skip
    for bad, said in bad_specs:
        with pytest.raises(ConfigError, match=said):
            FacetSpec.parse(bad)


def test_groups_of_a_facet() -> None:
    frame = _table().to_pandas()
    assert [g.name for g in facet_groups(FacetSpec("sex"), frame["sex"])] == ["M", "F"]  # by frequency
    (over,) = facet_groups(FacetSpec("age", threshold=40), frame["age"])
    assert over.mask(frame["age"]).tolist() == [False, False, True, True, True, False]
    (some,) = facet_groups(FacetSpec("age", ("35", "63.0")), frame["age"])  # numbers match as numbers
    assert some.mask(frame["age"]).tolist() == [False, True, False, False, True, False]
    many = pd.Series([f"c{i % 14}" for i in range(140)] + ["c0"] * 5)
    groups = facet_groups(FacetSpec("country"), many)
    assert len(groups) == 11 and groups[0].name == "c0" and groups[-1].name == "(the other 4 values)"
    assert groups[-1].mask(many).sum() == 40


def test_bad_facets_are_one_line_errors_naming_the_fix() -> None:
    table = _table()
    cases = [
        (["sexx"], None, BINARY, "'sexx' is not in the data; did you mean 'sex'"),
        (["sex=Female"], None, BINARY, "no row has sex = 'Female'"),
        (["sex>3"], None, BINARY, "'sex' is not numeric"),
        (["sex"], "agee", BINARY, "--group-variable column 'agee' is not in the data"),
        (["sex"], None, MULTICLASS, "a multiclass target needs --label-values"),
        (["sex"], None, REGRESSION, "needs --label-threshold"),
        (["y=yes"], None, BINARY, "'y' is the target"),
        (["age>90"], None, BINARY, "no row is in group d; values run from 22 to 63"),
        (["age>10"], None, BINARY, "group a (the other rows) would be empty"),
        (["age=22,35,47,51,63,29"], None, BINARY, "group a (the other rows) would be empty"),
        (["age=36"], None, BINARY, "values run from 22 to 63; or give a threshold"),
    ]
    for facets, group, problem, said in cases:
        with pytest.raises(ConfigError, match=re.escape(said)) as caught:
            check_bias(BiasConfig.from_options(facets, group), table, problem)
        assert "\n" not in str(caught.value)
    wide = pa.table({"income": list(range(50)), "y": ["yes", "no"] * 25})
    with pytest.raises(ConfigError, match="numeric with 50 values; give a threshold"):
        check_bias(BiasConfig.from_options(["income"]), wide, BINARY)
    with pytest.raises(ConfigError, match="not a class of the target"):
        positive_outcome(BiasConfig.from_options(["sex"], label_values="maybe"), BINARY)
    with pytest.raises(ConfigError, match="--label-threshold is for a regression target"):
        positive_outcome(BiasConfig.from_options(["sex"], label_threshold=1.0), BINARY)
    with pytest.raises(ConfigError, match="a regression target takes --label-threshold"):
        positive_outcome(BiasConfig.from_options(["sex"], label_values="3"), REGRESSION)


def test_positive_outcomes() -> None:
    config = BiasConfig.from_options(["sex"])
    assert positive_outcome(config, BINARY).values == ("yes",)
    multi = BiasConfig.from_options(["sex"], label_values=["a", "c"])
    assert positive_outcome(multi, MULTICLASS).mask(pd.Series(["a", "b", "c"])).tolist() == [True, False, True]
    over = positive_outcome(BiasConfig.from_options(["sex"], label_threshold=2.5), REGRESSION)
    assert over.mask(pd.Series([1.0, 3.0, None])).tolist() == [False, True, False]
    assert value_mask(pd.Series([True, False]), ("True",)).tolist() == [True, False]


def test_job_config_refuses_bias_options_without_a_facet() -> None:
    with pytest.raises(ConfigError, match="need a --facet"):
        JobConfig(target="y", group_variable="sex")
    with pytest.raises(ConfigError, match="threshold after '>' must be a number"):
        JobConfig(target="y", facets=["age>x"])


def test_columns_that_look_sensitive_by_name_or_values() -> None:
    profiles = [
        {"name": "Age", "top_values": []},
        {"name": "marital_status", "top_values": []},
        {"name": "usage", "top_values": []},  # "age" inside a word is not a name
        {"name": "person", "top_values": [{"value": "Female"}, {"value": "Male"}]},
        {"name": "group", "top_values": [{"value": "White"}, {"value": "Black"}, {"value": "Asian"}]},
        {"name": "colour", "top_values": [{"value": "red"}, {"value": "blue"}]},
        {"name": "sex", "top_values": []},  # the target is never suggested
    ]
    found = {c["name"]: c["reason"] for c in sensitive_columns(profiles, target="sex")}
    assert found == {
        "Age": "age, by its name",
        "marital_status": "marital status, by its name",
        "person": "sex or gender, by its values",
        "group": "race or ethnicity, by its values",
    }
