"""Problem type inference, objective metric, positive label and target checks."""

from __future__ import annotations

import decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from autopilot.errors import ConfigError, TargetError
from autopilot.metrics import METRICS, metrics_for
from autopilot.problem import Problem, infer_problem


def _table(target_values: list, name: str = "y", n_features: int = 1) -> pa.Table:
    n = len(target_values)
    columns = {f"x{i}": np.arange(n, dtype="float64") * (i + 1) for i in range(n_features)}
    columns[name] = target_values
    return pa.table(columns)


def _cycle(values: list, n: int = 60) -> list:
    return [values[i % len(values)] for i in range(n)]


# ---------------------------------------------------------------- problem type rule


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (_cycle(["cat", "dog"]), "binary"),
        (_cycle(["cat", "dog", "bird"]), "multiclass"),
        (list(np.random.default_rng(0).normal(size=60)), "regression"),
        (_cycle([0, 1]), "binary"),
        (_cycle([0, 1, 2]), "multiclass"),
        (_cycle(list(range(20)), 100), "multiclass"),
        (_cycle(list(range(21)), 105), "regression"),
        (_cycle([1.0, 2.0]), "binary"),
        (_cycle([1.0, 2.0, 3.0]), "multiclass"),
        (_cycle([float(v) for v in range(20)], 100), "multiclass"),
        (_cycle([float(v) for v in range(21)], 105), "regression"),
        (_cycle([1.5, 2.0]), "regression"),
        (_cycle([True, False]), "binary"),
    ],
    ids=[
        "text-2",
        "text-3",
        "float-fraction",
        "int-2",
        "int-3",
        "int-20",
        "int-21",
        "float-whole-2",
        "float-whole-3",
        "float-whole-20",
        "float-whole-21",
        "float-2-with-fraction",
        "bool",
    ],
)
def test_problem_type_rule(values: list, expected: str) -> None:
    problem = infer_problem(_table(values), "y")
    assert problem.problem_type == expected
    assert problem.reason
    assert problem.is_classification == (expected != "regression")


def test_classification_classes_listed_and_regression_has_none() -> None:
    multi = infer_problem(_table(_cycle(["b", "c", "a"])), "y")
    assert sorted(multi.classes) == ["a", "b", "c"]
    assert multi.positive_label is None
    reg = infer_problem(_table(list(np.random.default_rng(1).normal(size=50))), "y")
    assert reg.classes == []
    assert reg.positive_label is None


def test_problem_round_trips_through_dict() -> None:
    problem = infer_problem(_table(_cycle(["yes", "no", "no"])), "y")
    again = Problem.from_dict(problem.to_dict())
    assert again == problem


# ---------------------------------------------------------------- metrics


@pytest.mark.parametrize(
    ("values", "metric"),
    [
        (_cycle(["a", "b"]), "F1"),
        (_cycle(["a", "b", "c"]), "Accuracy"),
        (list(np.random.default_rng(2).normal(size=50)), "MSE"),
    ],
    ids=["binary", "multiclass", "regression"],
)
def test_default_metric(values: list, metric: str) -> None:
    assert infer_problem(_table(values), "y").metric == metric


@pytest.mark.parametrize("given", ["auc", "AUC", "Auc", "aUc"])
def test_metric_name_any_case(given: str) -> None:
    assert infer_problem(_table(_cycle(["a", "b"])), "y", metric=given).metric == "AUC"


def test_metric_resolved_for_multiclass_and_regression() -> None:
    assert infer_problem(_table(_cycle(["a", "b", "c"])), "y", metric="f1MACRO").metric == "F1macro"
    reg = list(np.random.default_rng(3).normal(size=40))
    assert infer_problem(_table(reg), "y", metric="rmse").metric == "RMSE"


def test_metric_invalid_for_regression_lists_allowed() -> None:
    reg = list(np.random.default_rng(4).normal(size=40))
    with pytest.raises(ConfigError) as info:
        infer_problem(_table(reg), "y", metric="F1")
    message = str(info.value)
    for m in metrics_for("regression"):
        assert m.name in message


def test_metric_invalid_for_binary_lists_allowed() -> None:
    with pytest.raises(ConfigError) as info:
        infer_problem(_table(_cycle(["a", "b"])), "y", metric="MSE")
    message = str(info.value)
    for m in metrics_for("binary"):
        assert m.name in message


def test_f1_not_allowed_for_multiclass() -> None:
    with pytest.raises(ConfigError):
        infer_problem(_table(_cycle(["a", "b", "c"])), "y", metric="F1")


def test_unknown_metric() -> None:
    with pytest.raises(ConfigError) as info:
        infer_problem(_table(_cycle(["a", "b"])), "y", metric="nonsense_metric")
    assert "nonsense_metric" in str(info.value)
    assert any(name in str(info.value) for name in METRICS)


# ---------------------------------------------------------------- problem_type override


def test_override_integer_multiclass_to_regression() -> None:
    problem = infer_problem(_table(_cycle([0, 1, 2, 3])), "y", problem_type="regression")
    assert problem.problem_type == "regression"
    assert problem.metric == "MSE"
    assert problem.classes == []
    assert "set by you" in problem.reason
    assert "multiclass" in problem.reason  # what the rule would have given


def test_override_regression_to_multiclass() -> None:
    values = _cycle(list(range(30)), 90)
    assert infer_problem(_table(values), "y").problem_type == "regression"
    problem = infer_problem(_table(values), "y", problem_type="multiclass")
    assert problem.problem_type == "multiclass"
    assert problem.metric == "Accuracy"
    assert sorted(problem.classes) == list(range(30))
    assert "regression" in problem.reason


def test_override_binary_with_two_classes() -> None:
    problem = infer_problem(_table(_cycle([0.5, 1.5])), "y", problem_type="binary")
    assert problem.problem_type == "binary"
    assert len(problem.classes) == 2


def test_decimal_target_inferred_like_numbers() -> None:
    whole = pa.array([decimal.Decimal(i % 5) for i in range(50)], type=pa.decimal128(6, 0))
    assert infer_problem(pa.table({"x": list(range(50)), "y": whole}), "y").problem_type == "multiclass"
    fraction = pa.array([decimal.Decimal(f"{i}.5") for i in range(50)], type=pa.decimal128(6, 1))
    assert infer_problem(pa.table({"x": list(range(50)), "y": fraction}), "y").problem_type == "regression"


def test_override_decimal_target_to_regression() -> None:
    whole = pa.array([decimal.Decimal(i % 5) for i in range(50)], type=pa.decimal128(6, 0))
    problem = infer_problem(pa.table({"x": list(range(50)), "y": whole}), "y", problem_type="regression")
    assert problem.problem_type == "regression"


def test_override_regression_on_text_refused() -> None:
    with pytest.raises(ConfigError):
        infer_problem(_table(_cycle(["a", "b", "c"])), "y", problem_type="regression")


def test_override_binary_with_three_classes_refused() -> None:
    with pytest.raises(ConfigError) as info:
        infer_problem(_table(_cycle(["a", "b", "c"])), "y", problem_type="binary")
    assert "3" in str(info.value)


def test_override_unknown_type_refused() -> None:
    with pytest.raises(ConfigError) as info:
        infer_problem(_table(_cycle(["a", "b"])), "y", problem_type="clustering")
    assert "clustering" in str(info.value)


def test_override_metric_must_fit_the_overridden_type() -> None:
    with pytest.raises(ConfigError):
        infer_problem(_table(_cycle([0, 1, 2])), "y", problem_type="regression", metric="Accuracy")


# ---------------------------------------------------------------- positive label


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["yes"] * 10 + ["no"] * 40, "yes"),
        (["yes"] * 40 + ["no"] * 10, "yes"),
        (["No"] * 10 + ["Yes"] * 40, "Yes"),
        (["TRUE"] * 30 + ["FALSE"] * 5, "TRUE"),
        ([0] * 10 + [1] * 40, 1),
        ([0] * 40 + [1] * 10, 1),
        ([0.0] * 40 + [1.0] * 10, 1.0),
        ([True] * 30 + [False] * 10, True),
    ],
    ids=["yes-minority", "yes-majority", "Yes-cased", "TRUE", "1-majority", "1-minority", "1.0", "bool"],
)
def test_positive_label_conventional(values: list, expected: object) -> None:
    problem = infer_problem(_table(values), "y")
    assert problem.positive_label == expected
    assert problem.classes[-1] == expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["spam"] * 10 + ["ham"] * 40, "spam"),
        (["spam"] * 40 + ["ham"] * 10, "ham"),
        ([3] * 35 + [7] * 15, 7),
        ([3] * 15 + [7] * 35, 3),
    ],
    ids=["text-a", "text-b", "int-a", "int-b"],
)
def test_positive_label_minority_class(values: list, expected: object) -> None:
    problem = infer_problem(_table(values), "y")
    assert problem.positive_label == expected
    assert problem.classes == [c for c in problem.classes if c != expected] + [expected]
    assert len(problem.classes) == 2


def test_positive_label_one_two_takes_minority() -> None:
    problem = infer_problem(_table([1] * 40 + [2] * 10), "y")
    assert problem.positive_label == 2


def test_positive_label_given_is_used() -> None:
    problem = infer_problem(_table(["yes"] * 10 + ["no"] * 40), "y", positive_label="no")
    assert problem.positive_label == "no"
    assert problem.classes == ["yes", "no"]


def test_positive_label_given_as_string_for_integers() -> None:
    problem = infer_problem(_table([0] * 10 + [1] * 40), "y", positive_label="0")
    assert problem.positive_label == 0
    assert problem.classes == [1, 0]


def test_positive_label_given_must_exist() -> None:
    with pytest.raises(ConfigError) as info:
        infer_problem(_table(["yes"] * 10 + ["no"] * 40), "y", positive_label="maybe")
    assert "maybe" in str(info.value)


# ---------------------------------------------------------------- target checks


def test_dropped_rows_counts_missing_target() -> None:
    values = _cycle(["a", "b"], 50)
    for i in (0, 7, 13, 40):
        values[i] = None
    problem = infer_problem(_table(values), "y")
    assert problem.dropped_rows == 4
    assert problem.problem_type == "binary"


def test_dropped_rows_zero_without_missing() -> None:
    assert infer_problem(_table(_cycle(["a", "b"])), "y").dropped_rows == 0


def test_missing_target_from_pandas_nan_counted() -> None:
    y = np.random.default_rng(5).normal(size=40)
    y[[1, 2, 3]] = np.nan
    table = pa.Table.from_pandas(pd.DataFrame({"x": np.arange(40), "y": y}), preserve_index=False)
    problem = infer_problem(table, "y")
    assert problem.dropped_rows == 3
    assert problem.problem_type == "regression"


def test_absent_target_suggests_close_name() -> None:
    table = pa.table({"sepal_length": [1.0, 2.0, 3.0], "species": ["a", "b", "a"]})
    with pytest.raises(TargetError) as info:
        infer_problem(table, "Speces")
    assert "species" in str(info.value)
    assert "Speces" in str(info.value)


def test_absent_target_suggests_case_insensitive_match() -> None:
    table = pa.table({"x": [1.0, 2.0, 3.0], "Outcome": ["a", "b", "a"]})
    with pytest.raises(TargetError) as info:
        infer_problem(table, "outcome")
    assert "Outcome" in str(info.value)


def test_absent_target_without_close_name_lists_columns() -> None:
    table = pa.table({"alpha": [1.0, 2.0, 3.0], "beta": ["a", "b", "a"]})
    with pytest.raises(TargetError) as info:
        infer_problem(table, "zzzzzz")
    assert "alpha" in str(info.value)


def test_all_missing_target() -> None:
    table = pa.table({"x": [1.0, 2.0, 3.0], "y": pa.array([None, None, None], type=pa.string())})
    with pytest.raises(TargetError):
        infer_problem(table, "y")


def test_single_class_target() -> None:
    with pytest.raises(TargetError) as info:
        infer_problem(_table(["only"] * 20 + [None] * 3), "y")
    assert "only" in str(info.value)


def test_target_errors_are_data_errors() -> None:
    from autopilot.errors import AutopilotError, DataError

    with pytest.raises(DataError):
        infer_problem(_table(["a"] * 5), "y")
    with pytest.raises(AutopilotError):
        infer_problem(_table(["a", "b"] * 5), "y", metric="bogus")


def test_labels_lose_surrounding_spaces_none_is_missing_and_case_variants_are_said(tmp_path) -> None:
    from autopilot.config import JobConfig
    from autopilot.prepare import prepare

    labels = [" yes", "yes ", "yes", "no", "Yes", "None", "no "] * 10
    path = tmp_path / "labels.csv"
    pd.DataFrame({"x": [i % 9 for i in range(70)], "y": labels}).to_csv(path, index=False)
    prepared = prepare(path, JobConfig(target="y", output=str(tmp_path / "job")))
    assert sorted(prepared.problem.classes) == ["Yes", "no", "yes"]  # 'None' is missing: its rows are dropped
    assert prepared.labelled_rows == 60
    said = {w["kind"]: w["message"] for w in prepared.profile["warnings"]}
    assert said["spaces_trimmed"] == "'y' had 30 values with spaces around them or blank; trimmed"
    assert said["label_case"] == "'y' has labels that differ only in case ('Yes', 'yes'); kept as different classes"
    assert not (tmp_path / "job").exists()
