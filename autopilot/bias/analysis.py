"""A bias analysis in Clarify's ``analysis.json`` shape: pre-training metrics of labelled rows, post-training metrics of
rows with the model's predictions, for every facet group.

Beside Clarify's keys each facet group keeps what a reader needs to check it by hand: the group's definition
(``group``), its counts per side (``counts``: rows, positive labels, predicted positives and, post-training, the
confusion matrix), and each metric's bootstrap ``standard_error`` (the bias drift's noise margin).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from autopilot.bias.descriptions import METRICS
from autopilot.bias.facets import BiasConfig, FacetGroup, Outcome
from autopilot.bias.metrics import (
    CONDITIONAL,
    POST_TRAINING,
    PRE_TRAINING,
    Undefined,
    bootstrap_errors,
    count_table,
    evaluate,
    flip_test,
)


@dataclass
class Rows:
    """The rows one stage reads: the facet and group-variable columns, the labels, and (post-training) the model's
    positive predictions and the numeric features the flip test finds neighbours by."""

    columns: pd.DataFrame
    labels: np.ndarray  # positive outcome per row
    described: str  # which rows, in words
    predicted: np.ndarray | None = None  # positive prediction per row
    features: np.ndarray | None = None  # rows x numeric features (without any facet column)
    feature_names: tuple[str, ...] = ()


def analyze(
    config: BiasConfig, groups: list[FacetGroup], outcome: Outcome, target: str, pre: Rows | None, post: Rows | None
) -> dict:
    """analysis.json: each stage given, for every facet group."""
    analysis: dict = {"version": "1.0", "label": target, "label_value_or_threshold": outcome.text()}
    analysis["config"] = config.to_dict()
    for stage, rows in (("pre_training_bias_metrics", pre), ("post_training_bias_metrics", post)):
        if rows is not None:
            analysis[stage] = _stage(config, groups, outcome, target, rows)
    return analysis


def _stage(config: BiasConfig, groups: list[FacetGroup], outcome: Outcome, target: str, rows: Rows) -> dict:
    post = rows.predicted is not None
    metrics = dict(POST_TRAINING if post else PRE_TRAINING)
    strata = None
    if config.group_variable:
        strata = pd.factorize(rows.columns[config.group_variable].astype("string").fillna("(missing)"))[0]
    else:
        metrics = {k: v for k, v in metrics.items() if k not in CONDITIONAL}
    facets: dict[str, list] = {}
    for group in groups:
        side = group.mask(rows.columns[group.column])
        table = count_table(side, rows.labels, rows.predicted, strata)
        values = evaluate(metrics, table)
        errors = bootstrap_errors(metrics, table)
        entry = {
            "value_or_threshold": group.name,
            "group": group.to_dict(),
            "counts": {"a": _counts(table, 0, post), "d": _counts(table, 1, post)},
            "metrics": [_metric(name, value, errors.get(name)) for name, value in values.items()],
        }
        if post and rows.features is not None:  # the flip test needs the rows' features
            entry["metrics"].append(_flip_test(rows, side, group))
        facets.setdefault(group.column, []).append(entry)
    return {
        "label": target,
        "label_value_or_threshold": outcome.text(),
        "rows": rows.described,
        "facets": facets,
    }


def _counts(table: np.ndarray, side: int, post: bool) -> dict:
    t = table[:, side].sum(axis=0)
    counts = {"n": int(t.sum()), "positives": int(t[1].sum())}
    if post:
        counts |= {"predicted_positives": int(t[:, 1].sum())}
        counts |= {"tp": int(t[1, 1]), "fp": int(t[0, 1]), "fn": int(t[1, 0]), "tn": int(t[0, 0])}
    return counts


def _metric(name: str, value: float | str, error: float | None) -> dict:
    """One metric as Clarify writes it: a value (infinity as the string "Infinity"), or a null value and the error."""
    out: dict = {"name": name, "description": METRICS[name].description}
    if isinstance(value, str):
        return out | {"value": None, "error": value}
    out["value"] = value if math.isfinite(value) else ("Infinity" if value > 0 else "-Infinity")
    if error is not None:
        out["standard_error"] = error
    return out


def _flip_test(rows: Rows, side: np.ndarray, group: FacetGroup) -> dict:
    keep = [i for i, name in enumerate(rows.feature_names) if name != group.column]
    try:
        value, note = flip_test(rows.features[:, keep], side, rows.predicted)
    except Undefined as exc:
        return _metric("FT", str(exc), None)
    n_d = int(side.sum())
    error = math.sqrt(max(1e-12, 1 - value**2) / n_d)  # a multinomial share difference's standard error
    return _metric("FT", value, error) | {"method": note}


def metric_value(entry: dict, name: str) -> float | None:
    """A metric's value from an analysis entry as a float (infinities included), or None."""
    for metric in entry["metrics"]:
        if metric["name"] == name:
            value = metric["value"]
            return (
                None if value is None else float(value.replace("Infinity", "inf")) if isinstance(value, str) else value
            )
    return None
