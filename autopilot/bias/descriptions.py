"""What each bias metric means: Clarify's description, its fair value and range, and a plain sentence on what the value
says for one facet group, made from the group counts that explain/bias.json keeps beside it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

INF = float("inf")


@dataclass(frozen=True)
class MetricInfo:
    description: str
    fair: float
    low: float
    high: float


METRICS: dict[str, MetricInfo] = {
    "CI": MetricInfo("Class Imbalance (CI)", 0, -1, 1),
    "DPL": MetricInfo("Difference in Positive Proportions in Labels (DPL)", 0, -1, 1),
    "KL": MetricInfo("Kullback-Liebler Divergence (KL)", 0, 0, INF),
    "JS": MetricInfo("Jensen-Shannon Divergence (JS)", 0, 0, float(np.log(2))),
    "LP": MetricInfo("L-p Norm (LP)", 0, 0, float(np.sqrt(2))),
    "TVD": MetricInfo("Total Variation Distance (TVD)", 0, 0, 1),
    "KS": MetricInfo("Kolmogorov-Smirnov Distance (KS)", 0, 0, 1),
    "CDDL": MetricInfo("Conditional Demographic Disparity in Labels (CDDL)", 0, -1, 1),
    "DPPL": MetricInfo("Difference in Positive Proportions in Predicted Labels (DPPL)", 0, -1, 1),
    "DI": MetricInfo("Disparate Impact (DI)", 1, 0, INF),
    "DCAcc": MetricInfo("Difference in Conditional Acceptance (DCAcc)", 0, -INF, INF),
    "DCR": MetricInfo("Difference in Conditional Rejection (DCR)", 0, -INF, INF),
    "RD": MetricInfo("Recall Difference (RD)", 0, -1, 1),
    "DAR": MetricInfo("Difference in Acceptance Rates (DAR)", 0, -1, 1),
    "DRR": MetricInfo("Difference in Rejection Rates (DRR)", 0, -1, 1),
    "SD": MetricInfo("Specificity Difference (SD)", 0, -1, 1),
    "AD": MetricInfo("Accuracy Difference (AD)", 0, -1, 1),
    "TE": MetricInfo("Treatment Equality (TE)", 0, -INF, INF),
    "CDDPL": MetricInfo("Conditional Demographic Disparity in Predicted Labels (CDDPL)", 0, -1, 1),
    "GE": MetricInfo("Generalized Entropy (GE)", 0, 0, 0.5),
    "FT": MetricInfo("Flip Test (FT)", 0, -1, 1),
}


def range_text(name: str) -> str:
    info = METRICS[name]
    show = {INF: "∞", -INF: "-∞", float(np.log(2)): "ln 2", float(np.sqrt(2)): "√2"}
    return f"[{show.get(info.low, f'{info.low:g}')}, {show.get(info.high, f'{info.high:g}')}]"


def _share(x: float) -> str:
    return "undefined (0/0)" if np.isnan(x) else f"{x:.0%}" if np.isfinite(x) else "∞"


def _ratio(x: float) -> str:
    return f"{x:.2f}" if np.isfinite(x) else "∞"


def _rates(c: dict) -> dict[str, float]:
    """A group's shares and ratios from its counts (NaN for 0/0, infinity for x/0)."""

    def rate(part: float, whole: float) -> float:
        return part / whole if whole else (float("nan") if part == 0 else INF)

    out = {"the positive rate in the labels": rate(c["positives"], c["n"])}
    if "tp" not in c:
        return out
    tp, fp, fn, tn, n = c["tp"], c["fp"], c["fn"], c["tn"], c["n"]
    return out | {
        "the model's positive rate": rate(tp + fp, n),
        "recall (positives the model finds)": rate(tp, tp + fn),
        "precision (predicted positives that are positive)": rate(tp, tp + fp),
        "the share of predicted negatives that are negative": rate(tn, tn + fn),
        "specificity (negatives the model rejects)": rate(tn, tn + fp),
        "accuracy": rate(tp + tn, n),
        "actual positives per predicted positive": rate(tp + fn, tp + fp),
        "actual negatives per predicted negative": rate(tn + fp, tn + fn),
        "false negatives per false positive": rate(fn, fp),
    }


def _points(a: float, d: float, what: str) -> str:
    if np.isnan(a) or np.isnan(d) or np.isinf(a) or np.isinf(d):
        return f"{what} is {_share(d)} for group d and {_share(a)} for group a"
    gap = round(abs(a - d) * 100)
    if gap == 0:
        return f"{what} is about the same for groups d and a ({_share(d)} and {_share(a)})"
    side = "lower" if d < a else "higher"
    points = "point" if gap == 1 else "points"
    return f"{what} is {gap} {points} {side} for group d ({_share(d)}) than for group a ({_share(a)})"


def _per(a: float, d: float, what: str, more: str, less: str, value: float) -> str:
    said = f"{what}: {_ratio(d)} in group d, {_ratio(a)} in group a"
    return said + (f"; {more}" if value > 0 else f"; {less}" if value < 0 else "")


def _disparity(value: float, labels: str) -> str:
    side = "more" if value > 0 else "less"
    return (
        f"within each stratum of the group variable, group d's share of the negative {labels} is on average "
        f"{abs(value) * 100:.0f} points {side} than its share of the positive ones"
    )


DISTANCE = "distance between the label distributions of groups a and d (0: the same)"
POINTS = {
    "DPL": "the positive rate in the labels",
    "DPPL": "the model's positive rate",
    "RD": "recall (positives the model finds)",
    "DAR": "precision (predicted positives that are positive)",
    "DRR": "the share of predicted negatives that are negative",
    "SD": "specificity (negatives the model rejects)",
    "AD": "accuracy",
}


def _sentence(name: str, v: float, a: dict, d: dict) -> str:
    ra, rd = _rates(a), _rates(d)
    if name in POINTS:
        return _points(ra[POINTS[name]], rd[POINTS[name]], POINTS[name])
    if name == "CI":
        return f"group d is {_share(d['n'] / (a['n'] + d['n']))} of the rows ({d['n']:,} of {a['n'] + d['n']:,})"
    if name in ("KL", "JS", "LP", "TVD", "KS"):
        return DISTANCE
    if name in ("CDDL", "CDDPL"):
        return _disparity(v, "labels" if name == "CDDL" else "predictions")
    if name == "DI":
        low = " (below the four-fifths rule's 0.8)" if v < 0.8 else ""
        return f"group d is predicted positive {_ratio(v)} times as often as group a{low}"
    if name == "DCAcc":
        what = "actual positives per predicted positive"
        more = "for their labels, the model accepts group d more readily than group a"
        less = "for their labels, the model accepts group a more readily than group d"
        return _per(ra[what], rd[what], what, more, less, v)
    if name == "DCR":
        what = "actual negatives per predicted negative"
        more = "for their labels, the model rejects group a more readily than group d"
        less = "for their labels, the model rejects group d more readily than group a"
        return _per(ra[what], rd[what], what, more, less, v)
    if name == "TE":
        what = "false negatives per false positive"
        return f"{what}: {_ratio(rd[what])} in group d, {_ratio(ra[what])} in group a"
    if name == "GE":
        return "inequality of the model's benefit (prediction - label + 1) over every row (0: equal)"
    if name == "FT":
        if not v:
            return "group d's rows get the same predictions as their nearest neighbours in group a, on balance"
        worse = "worse" if v > 0 else "better"
        return f"{abs(v):.0%} of group d's rows (net) get a {worse} prediction than their nearest neighbours in group a"
    return ""


def sentence(name: str, value: float | None, a: dict, d: dict) -> str:
    """What ``value`` says for this facet group, in plain words."""
    if value is None:
        return ""
    return _sentence(name, value, a, d)


HEADLINE = {"pre_training_bias_metrics": ("CI", "DPL"), "post_training_bias_metrics": ("DPPL", "DI", "AD")}
STAGE_TITLES = {
    "pre_training_bias_metrics": "Before training (the data)",
    "post_training_bias_metrics": "After training (the model's predictions)",
}


def described(analysis: dict) -> list[dict]:
    """The analysis as people read it: per stage and facet column, one row per metric with its fair value, range and
    each group's value, and for each group the sentences of the headline metrics (all of them for a lone group)."""
    out = []
    for stage, title in STAGE_TITLES.items():
        section = analysis.get(stage)
        for column, entries in (section or {}).get("facets", {}).items():
            said = [(e["value_or_threshold"], [_said(e, n) for n in HEADLINE[stage] if _said(e, n)]) for e in entries]
            out.append(
                {
                    "title": title,
                    "rows_read": section["rows"],
                    "column": column,
                    "groups": [e["value_or_threshold"] for e in entries],
                    "metrics": _metric_rows(entries),
                    "said": said if len(entries) > 1 else [],
                    "counts": [(e["value_or_threshold"], e["counts"]) for e in entries],
                    "post": stage.startswith("post"),
                }
            )
    return out


def _metric_rows(entries: list[dict]) -> list[dict]:
    from autopilot.bias.analysis import metric_value

    rows = []
    for name in [m["name"] for m in entries[0]["metrics"]]:
        values = [metric_value(e, name) for e in entries]
        shown = [_shown(v, e, name) for v, e in zip(values, entries, strict=True)]
        info = METRICS[name]
        row = {"name": name, "description": info.description, "fair": f"{info.fair:g}", "range": range_text(name)}
        row["values"] = shown
        if len(entries) == 1:
            row["meaning"] = sentence(name, values[0], entries[0]["counts"]["a"], entries[0]["counts"]["d"])
        rows.append(row)
    return rows


def _shown(value: float | None, entry: dict, name: str) -> str:
    """A value as the tables show it: with ± its bootstrap standard error, or why it is undefined."""
    metric = next((m for m in entry["metrics"] if m["name"] == name), {})
    if value is None:
        return f"undefined ({metric['error']})" if metric.get("error") else "undefined"
    if not np.isfinite(value):
        return "∞" if value > 0 else "-∞"
    error = metric.get("standard_error")
    return f"{value:.3f} ± {error:.3f}" if error is not None else f"{value:.3f}"


def summary_lines(analysis: dict) -> list[str]:
    """A few lines per facet group for the terminal: the headline metrics with their sentences (or why undefined)."""
    from autopilot.bias.analysis import metric_value

    lines = []
    for stage, title in STAGE_TITLES.items():
        section = analysis.get(stage)
        if not section:
            continue
        lines.append(f"{title}, {section['rows']}:")
        for column, entries in section["facets"].items():
            for entry in entries:
                said = []
                for name in HEADLINE[stage]:
                    value, counts = metric_value(entry, name), entry["counts"]
                    meaning = f": {sentence(name, value, counts['a'], counts['d'])}" if value is not None else ""
                    said.append(f"{name} {_shown(value, entry, name)}{meaning}")
                lines.append(f"  {column} = {entry['value_or_threshold']}: " + "; ".join(said))
    return lines


def _said(entry: dict, name: str) -> str:
    from autopilot.bias.analysis import metric_value

    value = metric_value(entry, name)
    text = sentence(name, value, entry["counts"]["a"], entry["counts"]["d"])
    return f"{name}: {text}" if text else ""


def table_frame(table: dict) -> object:
    """One ``described`` table as a DataFrame (metric, fair value, range, each group's value, and what it says)."""
    import pandas as pd

    groups = [f"d: {g}" for g in table["groups"]]
    rows = [{"metric": m["name"], "fair": m["fair"], "range": m["range"], **dict(zip(groups, m["values"], strict=True))}
            | ({"what it says": m["meaning"]} if "meaning" in m else {}) for m in table["metrics"]]  # fmt: skip
    return pd.DataFrame(rows).set_index("metric")
