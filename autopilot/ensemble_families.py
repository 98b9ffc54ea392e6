"""Ensembling mode's model families: Autopilot's names for them, the AutoGluon settings each trains (in order,
strongest first), how AutoGluon names the models they make, and the settings that remake given models (the candidate
notebook's retraining)."""

from __future__ import annotations

import json
import re

from autopilot.candidates import get_candidate
from autopilot.errors import ConfigError

FAMILIES = {  # Autopilot's names -> AutoGluon's model keys and settings: about ten trials in all
    "lightgbm": (
        "GBM",
        [
            {},
            {"extra_trees": True, "ag_args": {"name_suffix": "XT"}},
            {  # AutoGluon's own large LightGBM, trained after every other model (its priority is kept)
                "learning_rate": 0.03,
                "num_leaves": 128,
                "feature_fraction": 0.9,
                "min_data_in_leaf": 3,
                "ag_args": {"name_suffix": "Large", "priority": 0},
            },
        ],
    ),
    "catboost": ("CAT", {}),
    "xgboost": ("XGB", {}),
    "randomforest": (
        "RF",
        [
            {"criterion": "gini", "ag_args": {"problem_types": ["binary", "multiclass"]}},
            {"criterion": "squared_error", "ag_args": {"problem_types": ["regression"]}},
        ],
    ),
    "extra-trees": (
        "XT",
        [
            {"criterion": "gini", "ag_args": {"problem_types": ["binary", "multiclass"]}},
            {"criterion": "squared_error", "ag_args": {"problem_types": ["regression"]}},
        ],
    ),
    "linear-learner": ("AP_LL", {}),  # autopilot's own (ensemble_candidates.py), not AutoGluon's LR
    "mlp": ("AP_MLP", {}),
    "nn-torch": ("NN_TORCH", {}),
}


# A setting may take at most this share of the search time left when it starts, so one slow model cannot crowd out
# the rest: a deep portfolio CatBoost took 26 of 42 s on 455 rows; on 16,152 rows the default CatBoost took 32 of
# 48 s and left random forests, extra trees, XGBoost and the networks unfitted. One cut short keeps what it fitted.
DEFAULT_TIME_SHARE, PORTFOLIO_TIME_SHARE = 0.5, 0.25

OWN_MODELS = {"AP_LL": "LinearLearnerModel", "AP_MLP": "MLPModel"}  # AutoGluon keys -> classes in ensemble_candidates


MODEL_NAMES = {  # how AutoGluon names each family's models (the start of the name)
    "lightgbm": "LightGBM",
    "catboost": "CatBoost",
    "xgboost": "XGBoost",
    "randomforest": "RandomForest",
    "extra-trees": "ExtraTrees",
    "linear-learner": "LinearLearner",
    "mlp": "AutopilotMLP",
    "nn-torch": "NeuralNetTorch",
}


def untrained_families(families: list[str], models: list[str]) -> list[str]:
    """The families of which none of ``models`` (AutoGluon's model names) is one."""
    return [f for f in families if not any(m.startswith(MODEL_NAMES[f]) for m in models)]


def resolve_families(names: list[str] | None) -> list[str]:
    """Autopilot's algorithm names for ensembling mode (all when none are given)."""
    if not names:
        return list(FAMILIES)
    chosen = []
    for raw in names:
        name = raw.strip().lower().replace("_", "-")
        if name not in FAMILIES:
            raise ConfigError(f"algorithm '{raw}' is not used in ensembling mode; choose from {', '.join(FAMILIES)}")
        chosen.append(name)
    return list(dict.fromkeys(chosen))


def hyperparameters(families: list[str], portfolio: bool = False) -> dict:
    """AutoGluon's hyperparameters for the families, each given a priority so they train in the listed order;
    with ``portfolio``, AutoGluon's zero-shot portfolio settings of the families follow (negative priorities, in
    the portfolio's order), and the MLP's own portfolio, for the time the defaults leave. Autopilot's own models
    are keyed by their AutoGluon model class (``ensemble_candidates.py``)."""
    out: dict = {}
    for rank, family in enumerate(families):
        key, settings = FAMILIES[family]
        listed = settings if isinstance(settings, list) else [settings]
        ranked = [{**s, "ag_args": {"priority": 1000 - 10 * rank, **s.get("ag_args", {})}} for s in listed]
        out[key] = [_shared(s, DEFAULT_TIME_SHARE) for s in ranked]
    if portfolio:
        from autogluon.tabular.configs.hyperparameter_configs import get_hyperparameter_config

        zeroshot = get_hyperparameter_config("zeroshot")
        for key in out:
            later = [s for s in zeroshot.get(key, []) if s.get("ag_args", {}).get("priority", 0) < 0]
            out[key] += [_shared(s, PORTFOLIO_TIME_SHARE) for s in later]
        if "AP_MLP" in out:
            own = get_candidate("mlp").portfolio({})
            named = [{"priority": -1 - i, "name_suffix": f"_p{i + 1}"} for i in range(len(own))]
            own = [_shared({**s, "ag_args": args}, PORTFOLIO_TIME_SHARE) for s, args in zip(own, named, strict=True)]
            out["AP_MLP"] += own
    return _with_model_classes(out)


def _shared(setting: dict, share: float) -> dict:
    """A setting held to ``share`` of the search time left when it starts (AutoGluon's ``max_time_limit_ratio``)."""
    limit = {"max_time_limit_ratio": share}
    return {**setting, "ag_args_fit": {**setting.get("ag_args_fit", {}), **limit}}


def _with_model_classes(settings: dict) -> dict:
    """Autopilot's own models keyed by their AutoGluon class, which AutoGluon's registry does not know by name."""
    if not any(key in OWN_MODELS for key in settings):
        return settings
    from autopilot import ensemble_candidates

    return {getattr(ensemble_candidates, OWN_MODELS.get(k, ""), k): v for k, v in settings.items()}


def describe_settings(family: str) -> tuple[str, str]:
    """A family's model, as the candidate notebook names it, and its default settings as JSON."""
    key, _ = FAMILIES[family]
    model = f"autopilot.ensemble_candidates.{OWN_MODELS[key]}" if key in OWN_MODELS else key
    (settings,) = hyperparameters([family]).values()
    return model, json.dumps({model: settings})


def settings_for_models(families: list[str], portfolio: bool, models: list[str]) -> dict:
    """The settings, of those ``hyperparameters(families, portfolio)`` gives, that make the named models (a stack
    level's or a bag's model by its base name; AutoGluon fits weighted ensembles over them itself)."""
    wanted = {re.sub(r"(_BAG)?_L\d+$", "", name) for name in models}
    out = {}
    for key, configs in hyperparameters(families, portfolio).items():
        kept = [config for config in configs if model_name(key, config) in wanted]
        if kept:
            out[key] = kept
    return out


def model_name(key: object, config: dict) -> str:
    """The name AutoGluon gives the model one setting makes (its model factory's rule, before any level suffix)."""
    args = config.get("ag_args") or {}
    if "name" in args:
        return args["name"]
    if isinstance(key, str):
        from autogluon.tabular.registry import ag_model_registry

        key = ag_model_registry.key_to_cls(key)
    main = args.get("name_main", key.ag_name or key.__name__)
    return args.get("name_prefix", "") + main + args.get("name_suffix", "")
