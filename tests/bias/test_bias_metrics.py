"""Clarify's bias metrics against values worked out by hand, the 0/0 and x/0 rules, empty groups, the flip test, the
bootstrap errors; and, on the arrests data that scikit-lego ships (a known disparity by colour), every metric against
the reference formulas written out independently with pandas, to 1e-9."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from autopilot.bias.analysis import Rows, analyze, metric_value
from autopilot.bias.facets import BiasConfig, FacetGroup, Outcome
from autopilot.bias.metrics import (
    POST_TRAINING,
    PRE_TRAINING,
    Undefined,
    bootstrap_errors,
    count_table,
    evaluate,
    flip_test,
)

# Group a: 6 rows, TP 2, FN 1, FP 1, TN 2. Group d: 4 rows, TP 0, FN 1, FP 1, TN 2.
SIDE = np.array([0] * 6 + [1] * 4, dtype=bool)
LABEL = np.array([1, 1, 1, 0, 0, 0, 1, 0, 0, 0], dtype=bool)
PREDICTED = np.array([1, 1, 0, 1, 0, 0, 0, 0, 0, 1], dtype=bool)


def _values(stratum: np.ndarray | None = None) -> dict:
    table = count_table(SIDE, LABEL, PREDICTED, stratum)
    return evaluate(PRE_TRAINING, table) | evaluate(POST_TRAINING, table)


def test_every_metric_matches_a_hand_computed_value() -> None:
    values = _values(np.array([0, 0, 0, 1, 1, 1, 0, 0, 1, 1]))
    js = 0.5 * (0.5 * math.log(0.5 / 0.625) + 0.5 * math.log(0.5 / 0.375))
    js += 0.5 * (0.75 * math.log(0.75 / 0.625) + 0.25 * math.log(0.25 / 0.375))
    # CDDL: stratum 0 (rows 0, 1, 2, 6, 7): 4 positive labels, 1 of them d; 1 negative, d's -> DD 1/1 - 1/4.
    #       stratum 1 (rows 3, 4, 5, 8, 9): no positive label (share 0); 5 negatives, 2 of them d -> DD 2/5 - 0.
    cddl = (5 * (1 - 1 / 4) + 5 * (2 / 5)) / 10
    # CDDPL: stratum 0: 2 predicted positive (none d), 3 negative (2 d) -> 2/3 - 0; stratum 1: 2 predicted positive
    #        (1 d), 3 negative (1 d) -> 1/3 - 1/2.
    cddpl = (5 * (2 / 3) + 5 * (1 / 3 - 1 / 2)) / 10
    expected = {
        "CI": 0.2, "DPL": 0.25, "KL": 0.5 * math.log(4 / 3), "JS": js, "LP": 0.25 * math.sqrt(2), "TVD": 0.25,
        "KS": 0.25, "CDDL": cddl, "DPPL": 0.25, "DI": 0.5, "DCAcc": 0.0, "DCR": 0.0, "RD": 2 / 3, "DAR": 2 / 3,
        "DRR": 0.0, "SD": 0.0, "AD": 1 / 6, "TE": 0.0, "CDDPL": cddpl, "GE": 0.2,
    }  # fmt: skip
    assert set(values) == set(expected)
    for name, value in expected.items():
        assert values[name] == pytest.approx(value, abs=1e-12), name


def test_zero_over_zero_is_zero_and_x_over_zero_infinite() -> None:
    side = np.array([0, 0, 0, 1, 1], dtype=bool)
    label = np.array([1, 0, 1, 0, 0], dtype=bool)  # group d has no positive label
    predicted = np.array([1, 0, 0, 1, 1], dtype=bool)  # and only predicted positives
    values = evaluate(POST_TRAINING, count_table(side, label, predicted, None))
    assert values["RD"] == pytest.approx(0.5)  # recall of d is 0/0 = 0; a's is 1/2
    assert values["DCAcc"] == pytest.approx(2 - 0)  # a: 2 positives / 1 predicted; d: 0 / 2
    assert values["DCR"] == math.inf  # d: 2 negatives / 0 predicted negatives = inf; a: 1 / 2
    assert values["TE"] == -math.inf  # d: 0 FN / 2 FP = 0; a: 1 FN / 0 FP = inf
    both_infinite = evaluate(
        POST_TRAINING,
        count_table(np.array([0, 0, 1, 1], bool), np.array([1, 1, 1, 1], bool), np.zeros(4, bool), None),
    )
    assert both_infinite["DCAcc"] == 0.0  # inf - inf between two equal infinities is 0


def test_treatment_equality_with_no_false_positive_is_infinite() -> None:
    side = np.array([0, 0, 1, 1], dtype=bool)
    label = np.array([1, 0, 1, 0], dtype=bool)
    predicted = np.array([0, 1, 0, 0], dtype=bool)  # a: FN 1, FP 1; d: FN 1, FP 0
    assert evaluate(POST_TRAINING, count_table(side, label, predicted, None))["TE"] == math.inf


def test_a_group_with_no_rows_is_undefined_not_a_crash() -> None:
    table = count_table(np.zeros(5, dtype=bool), np.array([1, 0, 1, 0, 1], bool), np.ones(5, bool), None)
    values = evaluate(PRE_TRAINING, table) | evaluate(POST_TRAINING, table)
    for name in ("CI", "DPL", "KL", "DPPL", "DI", "RD", "AD"):
        assert values[name] == "group d has no rows here", name
    assert isinstance(values["GE"], float)  # over every row: no group needed


def test_conditional_disparity_needs_both_outcomes() -> None:
    table = count_table(np.array([0, 1, 1], bool), np.ones(3, bool), np.ones(3, bool), np.array([0, 0, 1]))
    values = evaluate(PRE_TRAINING, table)
    assert values["CDDL"] == "every row has the positive outcome"
    assert values["KL"] == pytest.approx(0.0)  # one label value in both groups, with share 1


def test_generalized_entropy_when_every_prediction_is_a_false_negative() -> None:
    table = count_table(np.array([0, 1], bool), np.ones(2, bool), np.zeros(2, bool), None)
    assert evaluate(POST_TRAINING, table)["GE"] == "every prediction is a false negative"


def test_flip_test_counts_rows_whose_neighbours_in_a_are_treated_otherwise() -> None:
    features = np.arange(20, dtype=float)[:, None] % 10
    side = np.array([0] * 10 + [1] * 10, dtype=bool)
    predicted = np.array([1] * 10 + [0] * 5 + [1] * 5, dtype=bool)  # a accepted; half of d rejected
    value, note = flip_test(features, side, predicted)
    assert value == pytest.approx(0.5)  # 5 of d's 10 rows rejected while their neighbours in a are accepted
    assert "1 standardised numeric features" in note
    value, _ = flip_test(features[:14], side[:14], ~predicted[:14])  # 10 in a: k = 5; d now favoured
    assert value == pytest.approx(-1.0)
    with pytest.raises(Undefined, match="no numeric feature"):
        flip_test(np.empty((4, 0)), side[:4], predicted[:4])


def test_bootstrap_errors_are_seeded_and_shrink_with_more_rows() -> None:
    small = count_table(SIDE, LABEL, PREDICTED, None)
    first, again = bootstrap_errors(POST_TRAINING, small), bootstrap_errors(POST_TRAINING, small)
    assert first == again
    large = bootstrap_errors(POST_TRAINING, small * 100)
    assert large["DPPL"] < first["DPPL"] / 5


def _arrests() -> pd.DataFrame:
    from sklego.datasets import load_arrests

    return load_arrests(as_frame=True)


def test_the_arrests_data_agrees_with_the_reference_formulas() -> None:
    data = _arrests()
    rng = np.random.default_rng(0)
    predicted = (rng.random(len(data)) < np.where(data["colour"] == "Black", 0.6, 0.8)).astype(bool)
    y = (data["released"] == "Yes").to_numpy()
    config = BiasConfig.from_options(["colour=Black"], group_variable="year")
    group = FacetGroup("colour", ("Black",), name="Black")
    features = data[["age", "checks"]].to_numpy(dtype=float)
    post_rows = Rows(data, y, "all", predicted, features, ("age", "checks"))
    analysis = analyze(config, [group], Outcome(("Yes",)), "released", Rows(data, y, "all"), post_rows)
    pre = analysis["pre_training_bias_metrics"]["facets"]["colour"][0]
    post = analysis["post_training_bias_metrics"]["facets"]["colour"][0]
    expected = _reference(data["colour"] == "Black", pd.Series(y), pd.Series(predicted), data["year"])
    for name, value in expected.items():
        entry = pre if name in PRE_TRAINING else post
        assert metric_value(entry, name) == pytest.approx(value, abs=1e-9), name
    assert expected["DPL"] > 0.1  # the known disparity: Black arrestees are released less often
    assert pre["counts"]["d"]["n"] == int((data["colour"] == "Black").sum())


def _reference(d: pd.Series, y: pd.Series, p: pd.Series, strata: pd.Series) -> dict:
    """The metrics as the reference code computes them, row by row with pandas."""
    a = ~d
    na, nd = a.sum(), d.sum()
    qa, qd = (y & a).sum() / na, (y & d).sum() / nd
    pa, pd_ = np.array([1 - qa, qa]), np.array([1 - qd, qd])
    m = (pa + pd_) / 2
    out = {"CI": (na - nd) / (na + nd), "DPL": qa - qd, "KL": float(np.sum(pa * np.log(pa / pd_)))}
    out["JS"] = 0.5 * float(np.sum(pa * np.log(pa / m)) + np.sum(pd_ * np.log(pd_ / m)))
    out |= {"LP": float(np.linalg.norm(pa - pd_)), "TVD": 0.5 * float(np.abs(pa - pd_).sum())}
    out["KS"] = float(np.abs(pa - pd_).max())

    def cdd(outcome: pd.Series) -> float:
        total = 0.0
        for value in strata.unique():
            s = strata == value
            accepted, rejected = (outcome & s).sum(), (~outcome & s).sum()
            share_a = (outcome & s & d).sum() / accepted if accepted else 0
            share_r = (~outcome & s & d).sum() / rejected if rejected else 0
            total += s.sum() * (share_r - share_a)
        return total / len(strata)

    def rates(g: pd.Series) -> dict:
        tp, fp = (y & p & g).sum(), (~y & p & g).sum()
        fn, tn = (y & ~p & g).sum(), (~y & ~p & g).sum()
        return {"q": (tp + fp) / g.sum(), "c": (tp + fn) / (tp + fp), "r": (tn + fp) / (tn + fn),
                "rec": tp / (tp + fn), "prec": tp / (tp + fp), "npv": tn / (tn + fn), "spec": tn / (tn + fp),
                "acc": (tp + tn) / g.sum(), "tau": fn / fp}  # fmt: skip

    ra, rd = rates(a), rates(d)
    out |= {"CDDL": cdd(y), "CDDPL": cdd(p), "DPPL": ra["q"] - rd["q"], "DI": rd["q"] / ra["q"]}
    out |= {"DCAcc": ra["c"] - rd["c"], "DCR": rd["r"] - ra["r"], "RD": ra["rec"] - rd["rec"]}
    out |= {"DAR": ra["prec"] - rd["prec"], "DRR": rd["npv"] - ra["npv"], "SD": rd["spec"] - ra["spec"]}
    out |= {"AD": ra["acc"] - rd["acc"], "TE": rd["tau"] - ra["tau"]}
    benefit = p.astype(int) - y.astype(int) + 1
    out["GE"] = float(((benefit / benefit.mean()) ** 2 - 1).sum() / (2 * len(benefit)))
    return out
