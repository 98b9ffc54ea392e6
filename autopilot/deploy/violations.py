"""constraint_violations.json: new data's statistics checked against the baseline's statistics and constraints,
with Model Monitor's check types and Deequ's drift distances, computed from the two statistics files alone.

- Numeric drift: the L-infinity distance between the two CDFs (Kolmogorov-Smirnov), read from each file's
  quantiles; ``Robust`` subtracts ``1.8 * sqrt((n + m) / (n * m))``, the noise of samples of n and m values.
- Categorical drift: ``LInfinity``, the largest difference of one value's share; ``ChiSquared``, a chi-squared
  test's p-value (values expected fewer than 5 times merged), flagged when below the threshold. Our choice: with the
  ``Robust`` comparison method, LInfinity takes the same small-sample discount as the numeric distance, so an hour
  of 60 captured requests is not flagged for the noise of its shares.
- The population stability index on the baseline's deciles is reported beside numeric distances.

A feature's ``monitoringConfigOverrides`` replace the thresholds and methods of ``monitoring_config`` for it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats as scipy_stats

ROBUST_C = 1.8


@dataclass
class FeatureCheck:
    """One feature's comparison, for the report: its distances and the checks it failed."""

    name: str
    inferred_type: str
    distance: float | None = None
    method: str = ""
    threshold: float | None = None
    psi: float | None = None
    raw: float | None = None  # the distance before the robust small-sample discount
    failed: tuple[str, ...] = ()


def cdf_distance(base: dict, new: dict) -> float:
    """max over x of |F_base(x) - F_new(x)|, each CDF read from a statistics file's quantiles."""
    q_base = np.asarray(base["distribution"]["quantiles"]["values"])
    q_new = np.asarray(new["distribution"]["quantiles"]["values"])
    points = np.union1d(q_base, q_new)
    f_base = np.searchsorted(q_base, points, side="right") / len(q_base)
    f_new = np.searchsorted(q_new, points, side="right") / len(q_new)
    return float(np.max(np.abs(f_base - f_new)))


def robust(distance: float, n: int, m: int) -> float:
    return max(0.0, distance - ROBUST_C * np.sqrt((n + m) / (n * m)))


def psi(base: dict, new: dict, epsilon: float = 1e-4) -> float:
    """Population stability index on the baseline's deciles."""
    q_base = np.asarray(base["distribution"]["quantiles"]["values"])
    q_new = np.asarray(new["distribution"]["quantiles"]["values"])
    edges = np.unique(np.quantile(q_base, np.linspace(0.1, 0.9, 9)))
    expected = np.diff(np.concatenate([[0.0], np.searchsorted(q_base, edges, "right") / len(q_base), [1.0]]))
    actual = np.diff(np.concatenate([[0.0], np.searchsorted(q_new, edges, "right") / len(q_new), [1.0]]))
    expected, actual = np.maximum(expected, epsilon), np.maximum(actual, epsilon)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def shares(block: dict) -> dict[str, float]:
    present = max(block["common"]["num_present"], 1)
    return {b["value"]: b["count"] / present for b in block["distribution"]["categorical"]["buckets"]}


def linf(base: dict, new: dict) -> float:
    p, q = shares(base), shares(new)
    return max((abs(p.get(v, 0.0) - q.get(v, 0.0)) for v in p.keys() | q.keys()), default=0.0)


def chi_squared_p(base: dict, new: dict) -> float:
    """p-value of new counts against the baseline's shares; values expected fewer than 5 times merge into one."""
    p, counts = shares(base), {b["value"]: b["count"] for b in new["distribution"]["categorical"]["buckets"]}
    total = sum(counts.values())
    if not total:
        return 1.0
    expected = {v: s * total for v, s in p.items()}
    common = [v for v, e in expected.items() if e >= 5]
    observed = [counts.get(v, 0) for v in common] + [total - sum(counts.get(v, 0) for v in common)]
    wanted = [expected[v] for v in common] + [total - sum(expected[v] for v in common)]
    if wanted[-1] < 5:  # nothing rare to merge: compare the common values alone (the rest of new is unseen)
        observed, wanted = observed[:-1], wanted[:-1]
    if len(observed) < 2:
        return 1.0
    wanted = np.asarray(wanted) * sum(observed) / max(sum(wanted), 1e-12)
    return float(scipy_stats.chisquare(observed, wanted).pvalue)


def check(baseline: dict, constraints: dict, current: dict) -> tuple[list[dict], list[FeatureCheck]]:
    """Violations in Model Monitor's shape, and each feature's comparison for the report."""
    config = constraints["monitoring_config"]
    base = {f["name"]: f for f in baseline["features"]}
    new = {f["name"]: f for f in current["features"]}
    columns = current["dataset"].get("columns", list(new))
    violations, checks = [], []
    for rule in constraints["features"]:
        name = rule["name"]
        settings = _settings(config, rule.get("monitoringConfigOverrides") or {})
        if name not in columns:
            violations.append(_violation(name, "missing_column_check", f"Column '{name}' is missing from the data."))
            checks.append(FeatureCheck(name, rule.get("inferred_type", "Unknown"), failed=("missing_column_check",)))
            continue
        if name not in new or name not in base:
            continue
        found = _feature_checks(rule, base[name], new[name], settings, config)
        violations += [_violation(name, kind, text) for kind, text in found[1]]
        checks.append(found[0])
    known = {rule["name"] for rule in constraints["features"]}
    for name in columns:
        if name not in known:
            text = f"Column '{name}' is not in the baseline's constraints."
            violations.append(_violation(name, "extra_column_check", text))
    return violations, checks


def _settings(config: dict, overrides: dict) -> dict:
    flat = {k: v for k, v in config.items() if k != "distribution_constraints"} | config["distribution_constraints"]
    return flat | overrides


def _feature_checks(rule: dict, base: dict, new: dict, s: dict, config: dict) -> tuple[FeatureCheck, list]:
    found = []
    numeric = "numerical_statistics" in base
    b_block = base.get("numerical_statistics") or base["string_statistics"]
    n_block = new.get("numerical_statistics") or new.get("string_statistics")
    common = n_block["common"]
    present, rows = common["num_present"], common["num_present"] + common["num_missing"]
    if numeric and present:
        wrong = common.get("num_non_numeric", 0) + common.get("num_non_integral", 0) * (
            rule["inferred_type"] == "Integral"
        )
        if wrong / present > s["datatype_check_threshold"]:
            share, limit = wrong / present, s["datatype_check_threshold"]
            text = f"{share:.1%} of values are not {rule['inferred_type']} (threshold {limit:.0%})."
            found.append(("data_type_check", text))
    if rows and present / rows < rule.get("completeness", 0.0) - s["completeness_check_threshold"]:
        limit = s["completeness_check_threshold"]
        text = f"Completeness {present / rows:.1%} is below {rule['completeness']:.1%} by more than {limit:.0%}."
        found.append(("completeness_check", text))
    domains = (rule.get("string_constraints") or {}).get("domains")
    if domains and present and not numeric:
        allowed = set(domains)
        outside = sum(
            b["count"] for b in n_block["distribution"]["categorical"]["buckets"] if b["value"] not in allowed
        )
        if outside / present > s["domain_content_threshold"]:
            seen = [b["value"] for b in n_block["distribution"]["categorical"]["buckets"] if b["value"] not in allowed][
                :5
            ]
            examples = ", ".join(map(repr, seen))
            text = f"{outside / present:.1%} of values are outside the baseline's domain, e.g. {examples}."
            found.append(("categorical_values_check", text))
    result = FeatureCheck(rule["name"], rule.get("inferred_type", "Unknown"))
    if s["perform_comparison"] == "Enabled" and present and b_block["common"]["num_present"]:
        _drift(result, b_block, n_block, s, numeric, found)
    result.failed = tuple(kind for kind, _ in found)
    return result, found


def _drift(result: FeatureCheck, base: dict, new: dict, s: dict, numeric: bool, found: list) -> None:
    if numeric:
        if "distribution" not in base or "distribution" not in new:
            return
        distance = result.raw = cdf_distance(base, new)
        if s["comparison_method"] == "Robust":
            distance = robust(distance, base["common"]["num_present"], new["common"]["num_present"])
        result.distance, result.method, result.threshold = distance, s["comparison_method"], s["comparison_threshold"]
        result.psi = psi(base, new)
        drifted = distance > s["comparison_threshold"]
    elif s["categorical_drift_method"] == "ChiSquared":
        p_value = chi_squared_p(base, new)
        result.distance, result.method, result.threshold = (
            p_value,
            "ChiSquared p-value",
            s["categorical_comparison_threshold"],
        )
        drifted = p_value < s["categorical_comparison_threshold"]
    else:
        distance, method = linf(base, new), "LInfinity"
        result.raw = distance
        if s["comparison_method"] == "Robust":
            distance, method = (
                robust(distance, base["common"]["num_present"], new["common"]["num_present"]),
                "LInfinity (robust)",
            )
        result.distance, result.method, result.threshold = distance, method, s["categorical_comparison_threshold"]
        drifted = distance > s["categorical_comparison_threshold"]
    if drifted:
        compare = "below" if result.method.startswith("ChiSquared") else "above"
        found.append(
            (
                "baseline_drift_check",
                f"{result.method} distance {result.distance:.4f} is {compare} the threshold {result.threshold:g}.",
            )
        )


def _violation(name: str, kind: str, description: str) -> dict:
    return {"feature_name": name, "constraint_check_type": kind, "description": description}
