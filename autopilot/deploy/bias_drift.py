"""Bias drift: the post-training bias metrics of new rows with ground truth, against the job's baseline in
``explain/bias.json``, as Clarify's model bias monitor does.

The new rows are analysed for the same facet groups (their definitions are in the baseline) with the model's
predictions. A metric is in violation when its distance from its fair value (0; 1 for DI) exceeds the baseline's
distance by more than the noise allows: three standard errors of the difference, from the bootstrap errors of the
baseline and of the new rows (our choice; new rows drawn like the job's own stay quiet with it).

Not recomputed: the flip test (FT), which would need the neighbour search over the baseline's rows. Shown but not
checked: GE, which compares no groups (it is the spread of errors over every row, the same for each facet). Errors
are model quality's to check; and where the decision threshold was tuned on the baseline's rows, their GE is
optimistic: new rows drawn like them flagged GE in 6 of 20 draws.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from autopilot.bias.analysis import Rows, analyze, metric_value
from autopilot.bias.descriptions import METRICS
from autopilot.bias.facets import BiasConfig, FacetGroup, positive_outcome
from autopilot.bias.rows import predicted_positive

MARGIN = 3.0  # standard errors of the difference between the baseline and the new rows
UNCHECKED = ("FT", "GE")
POST = "post_training_bias_metrics"


def bias_groups(baseline: dict) -> list[FacetGroup]:
    return [FacetGroup.from_dict(e["group"]) for entries in baseline[POST]["facets"].values() for e in entries]


def bias_drift(
    baseline: dict, problem: dict, columns: pd.DataFrame, labels: pd.Series, codes: np.ndarray
) -> tuple[dict, list[dict], list[str]]:
    """The new rows' post-training analysis, its ``bias_drift_check`` violations and notes. ``columns`` holds the
    facet and group-variable columns of the rows, ``labels`` their ground truth (target values) and ``codes`` the
    model's predictions (class codes, or values for regression); rows without a label are left out."""
    options = baseline["config"]
    config = BiasConfig.from_options(
        options["facets"], options["group_variable"], options["label_values"], options["label_threshold"]
    )
    outcome = positive_outcome(config, problem)
    notes = []
    groups = [g for g in bias_groups(baseline) if g.column in columns.columns]
    lacking = sorted({g.column for g in bias_groups(baseline)} - set(columns.columns))
    if config.group_variable and config.group_variable not in columns.columns:
        lacking.append(config.group_variable)
        config = BiasConfig(config.facets, None, config.label_values, config.label_threshold)
    if lacking:
        notes.append(f"bias drift: the new rows lack {', '.join(lacking)}; not checked for them")
    keep = labels.notna().to_numpy() & ~pd.isna(codes)
    columns, labels, codes = columns[keep].reset_index(drop=True), labels[keep], np.asarray(codes)[keep]
    described = f"{int(keep.sum()):,} new rows with ground truth"
    predicted = predicted_positive(codes, problem, outcome)
    rows = Rows(columns, outcome.mask(labels), described, predicted, None)
    current = analyze(config, groups, outcome, baseline["label"], None, rows)
    return current, _violations(baseline, current), notes


def _violations(baseline: dict, current: dict) -> list[dict]:
    found = []
    for column, entries in current[POST]["facets"].items():
        before = {e["value_or_threshold"]: e for e in baseline[POST]["facets"][column]}
        for entry in entries:
            base = before[entry["value_or_threshold"]]
            for metric in entry["metrics"]:
                violation = _violation(metric["name"], base, entry)
                if violation:
                    found.append({"facet": column, "facet_value": entry["value_or_threshold"]} | violation)
    return found


def _violation(name: str, base: dict, entry: dict) -> dict | None:
    if name in UNCHECKED:
        return None
    old, new = metric_value(base, name), metric_value(entry, name)
    if old is None or new is None or not (math.isfinite(old) and math.isfinite(new)):
        return None
    fair = METRICS[name].fair
    errors = [_error(base, name), _error(entry, name)]
    allowed = abs(old - fair) + MARGIN * math.sqrt(sum(e**2 for e in errors))
    if abs(new - fair) <= allowed:
        return None
    return {
        "metric_name": name,
        "constraint_check_type": "bias_drift_check",
        "description": f"Value {new:.4g} is further from the fair value {fair:g} than the baseline's {old:.4g} "
        f"allows (at most {allowed:.4g} away, noise included)",
    }


def _error(entry: dict, name: str) -> float:
    metric = next(m for m in entry["metrics"] if m["name"] == name)
    return float(metric.get("standard_error") or 0.0)
