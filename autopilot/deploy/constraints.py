"""constraints.json: Model Monitor's data-quality constraints, suggested from baseline statistics and edited by the
user; read back checked, so a mistaken edit is a one-line error naming the key.

Our choices where Model Monitor is vague: ``string_constraints.domains`` is written for string features with at most
50 distinct values; ``completeness_check_threshold`` (default 0.1) is how far completeness may fall below the
constraint's before the completeness check fires; ``feature_attribution_drift_threshold`` (default 0.90) is the NDCG
below which the SHAP ranking on new data has drifted from the baseline's.
"""

from __future__ import annotations

from pathlib import Path

from autopilot.errors import ConfigError
from autopilot.io import read_json

DOMAIN_MAX_VALUES = 50
OPERATORS = ("LessThanThreshold", "GreaterThanThreshold")
TYPES = ("Integral", "Fractional", "String", "Unknown")
METHODS = {"comparison_method": ("Robust", "Simple"), "categorical_drift_method": ("LInfinity", "ChiSquared")}
SWITCHES = ("evaluate_constraints", "emit_metrics")
THRESHOLDS = (
    "datatype_check_threshold",
    "domain_content_threshold",
    "completeness_check_threshold",
    "feature_attribution_drift_threshold",
)
DISTRIBUTION_THRESHOLDS = ("comparison_threshold", "categorical_comparison_threshold")


def default_config() -> dict:
    return {
        "evaluate_constraints": "Enabled",
        "emit_metrics": "Enabled",
        "datatype_check_threshold": 0.1,
        "domain_content_threshold": 0.1,
        "completeness_check_threshold": 0.1,
        "feature_attribution_drift_threshold": 0.9,
        "distribution_constraints": {
            "perform_comparison": "Enabled",
            "comparison_threshold": 0.1,
            "comparison_method": "Robust",
            "categorical_comparison_threshold": 0.1,
            "categorical_drift_method": "LInfinity",
        },
    }


def suggest_constraints(statistics: dict) -> dict:
    """Constraints that the baseline itself meets: its types, completeness, signs and small domains."""
    features = []
    for feature in statistics["features"]:
        block = feature.get("numerical_statistics") or feature["string_statistics"]
        common = block["common"]
        rows = common["num_present"] + common["num_missing"]
        entry = {
            "name": feature["name"],
            "inferred_type": feature["inferred_type"],
            "completeness": round(common["num_present"] / rows, 6) if rows else 1.0,
        }
        if "numerical_statistics" in feature and "min" in block:
            entry["num_constraints"] = {"is_non_negative": block["min"] >= 0}
        if "string_statistics" in feature and block["distinct_count"] <= DOMAIN_MAX_VALUES:
            values = block["distribution"]["categorical"]["buckets"]
            entry["string_constraints"] = {"domains": sorted(b["value"] for b in values)}
        entry["monitoringConfigOverrides"] = {}
        features.append(entry)
    return {"version": 0, "features": features, "monitoring_config": default_config()}


def read_constraints(path: str | Path) -> dict:
    """constraints.json, checked: every key the checks read is present with a usable value."""
    path = Path(path)
    try:
        data = read_json(path)
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"{path}: not readable JSON ({str(exc).splitlines()[0]}); fix it or rerun autopilot baseline"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("features"), list):
        raise ConfigError(f"{path}: needs a 'features' list; rerun autopilot baseline to write a fresh one")
    for i, feature in enumerate(data["features"]):
        _check_feature(path, i, feature)
    config = data.get("monitoring_config", {})
    if not isinstance(config, dict):
        raise ConfigError(f"{path}: 'monitoring_config' must be an object")
    merged = default_config() | {k: v for k, v in config.items() if k != "distribution_constraints"}
    merged["distribution_constraints"] |= config.get("distribution_constraints") or {}
    _check_config(path, merged)
    return {**data, "monitoring_config": merged}


def _check_feature(path: Path, i: int, feature: object) -> None:
    where = f"{path}: features[{i}]"
    if not isinstance(feature, dict) or not isinstance(feature.get("name"), str):
        raise ConfigError(f"{where} needs a 'name' (text)")
    where = f"{path}: feature '{feature['name']}'"
    if feature.get("inferred_type", "Unknown") not in TYPES:
        raise ConfigError(
            f"{where}: 'inferred_type' must be one of {', '.join(TYPES)}; got {feature['inferred_type']!r}"
        )
    completeness = feature.get("completeness", 0.0)
    if not _number(completeness) or not 0 <= completeness <= 1:
        raise ConfigError(f"{where}: 'completeness' must be a number from 0 to 1; got {completeness!r}")
    domains = (feature.get("string_constraints") or {}).get("domains", [])
    if not isinstance(domains, list):
        raise ConfigError(f"{where}: 'string_constraints.domains' must be a list of values; got {domains!r}")
    non_negative = (feature.get("num_constraints") or {}).get("is_non_negative", False)
    if not isinstance(non_negative, bool):
        raise ConfigError(f"{where}: 'num_constraints.is_non_negative' must be true or false; got {non_negative!r}")
    overrides = feature.get("monitoringConfigOverrides", {})
    if not isinstance(overrides, dict):
        raise ConfigError(f"{where}: 'monitoringConfigOverrides' must be an object")
    for key, value in overrides.items():
        if key in METHODS:
            _choice(path, f"{feature['name']}.monitoringConfigOverrides.{key}", value, METHODS[key])
        elif key in THRESHOLDS + DISTRIBUTION_THRESHOLDS and not (_number(value) and 0 <= value <= 1):
            raise ConfigError(f"{where}: monitoringConfigOverrides.{key} must be a number from 0 to 1; got {value!r}")


def read_quality_constraints(path: Path) -> dict:
    """model_quality_constraints.json, checked: each rule has a numeric threshold and a known comparison operator."""
    try:
        data = read_json(path)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: not readable JSON ({str(exc).splitlines()[0]})") from None
    for section, rules in data.items():
        if not section.endswith("_constraints"):
            continue
        for name, rule in (rules or {}).items():
            threshold = rule.get("threshold") if isinstance(rule, dict) else None
            if not _number(threshold):
                raise ConfigError(f"{path}: {section}.{name}.threshold must be a number; got {threshold!r}")
            if rule.get("comparison_operator") not in OPERATORS:
                got = rule.get("comparison_operator")
                raise ConfigError(
                    f"{path}: {section}.{name}.comparison_operator must be {' or '.join(OPERATORS)}; got {got!r}"
                )
    return data


def _check_config(path: Path, config: dict) -> None:
    distribution = config["distribution_constraints"]
    for key in SWITCHES:
        _choice(path, key, config[key], ("Enabled", "Disabled"))
    _choice(
        path, "distribution_constraints.perform_comparison", distribution["perform_comparison"], ("Enabled", "Disabled")
    )
    for key, allowed in METHODS.items():
        _choice(path, f"distribution_constraints.{key}", distribution[key], allowed)
    for key, value in [(k, config[k]) for k in THRESHOLDS] + [
        (f"distribution_constraints.{k}", distribution[k]) for k in DISTRIBUTION_THRESHOLDS
    ]:
        if not _number(value) or not 0 <= value <= 1:
            raise ConfigError(f"{path}: monitoring_config.{key} must be a number from 0 to 1; got {value!r}")


def _choice(path: Path, key: str, value: object, allowed: tuple) -> None:
    if value not in allowed:
        raise ConfigError(f"{path}: monitoring_config.{key} must be {' or '.join(allowed)}; got {value!r}")


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
