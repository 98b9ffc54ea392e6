"""The Candidate contract and its registry. A new algorithm is one file with a registered subclass."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from optuna.distributions import BaseDistribution
from sklearn.base import BaseEstimator

from autopilot.errors import ConfigError

AUTOPILOT_ALGORITHMS = (
    "linear-learner",
    "xgboost",
    "mlp",
    "lightgbm",
    "catboost",
    "randomforest",
    "extra-trees",
    "nn-torch",
    "fastai",
)


class Candidate(BaseEstimator):
    """A model on an already preprocessed feature matrix, following the scikit-learn estimator contract.

    Labels arrive encoded 0..K-1 for classification. ``fit`` may use ``X_val``/``y_val`` for early stopping.
    Subclasses set ``key`` (Autopilot's algorithm name) and ``problem_types``, take ``problem_type``, ``metric`` (the
    job's objective, for candidates that choose among their own models), ``seed`` and ``device`` (auto, cpu, cuda)
    in ``__init__`` with every hyperparameter defaulted, and declare ``search_space``. A candidate that sets
    ``categorical_encoding = "ordinal"`` gets categorical columns as integer codes in the last columns, and ``fit``
    gets ``categorical_cardinalities`` (codes per column).
    """

    key: ClassVar[str]
    problem_types: ClassVar[tuple[str, ...]]
    categorical_encoding: ClassVar[str] = "onehot"

    @classmethod
    def search_space(cls, profile: dict) -> dict[str, BaseDistribution]:
        raise NotImplementedError

    @classmethod
    def portfolio(cls, profile: dict) -> list[dict]:
        """A few configurations known to be good on most data, tried (after the defaults) before the search takes
        over, cheapest first. Each names the hyperparameters it sets; the rest keep their defaults, and all must lie
        inside ``search_space`` (``portfolio_params`` checks)."""
        return []

    def fit(self, X: object, y: np.ndarray, X_val: object = None, y_val: np.ndarray | None = None) -> Candidate:
        raise NotImplementedError

    def refit_params(self) -> dict:
        """Hyperparameters for retraining this fitted model on every labelled row, where no rows are held out to
        stop early on: how long to train, read from this fit (e.g. its best round). None needed by default."""
        return {}

    def predict(self, X: object) -> np.ndarray:
        raise NotImplementedError

    def predict_proba(self, X: object) -> np.ndarray:
        raise NotImplementedError


def portfolio_params(cls: type[Candidate], profile: dict) -> list[dict]:
    """The candidate's portfolio with every search-space hyperparameter set (its default where an entry is silent),
    so Optuna is told complete points of the space; a value outside the space is a bug and raises ValueError."""
    space, defaults = cls.search_space(profile), cls().get_params()
    out = []
    for entry in cls.portfolio(profile):
        if set(entry) - set(space):
            raise ValueError(f"{cls.key} portfolio sets {sorted(set(entry) - set(space))}, not in its search space")
        params = {name: entry.get(name, defaults[name]) for name in space}
        for name, value in params.items():
            if not _inside(space[name], value):
                raise ValueError(f"{cls.key} portfolio: {name}={value!r} is outside {space[name]}")
        out.append(params)
    return out


def _inside(dist: BaseDistribution, value: object) -> bool:
    try:
        return bool(dist._contains(dist.to_internal_repr(value)))
    except (TypeError, ValueError):
        return False


REGISTRY: dict[str, type[Candidate]] = {}


def register(cls: type[Candidate]) -> type[Candidate]:
    """Class decorator adding a candidate to the registry under its ``key``."""
    REGISTRY[cls.key] = cls
    return cls


def get_candidate(key: str) -> type[Candidate]:
    if key not in REGISTRY:
        raise ConfigError(f"unknown candidate '{key}'; registered: {', '.join(sorted(REGISTRY))}")
    return REGISTRY[key]


def resolve_algorithms(names: list[str] | None, problem_type: str) -> list[str]:
    """The candidate keys to train: all that fit the problem type, or the ones named (Autopilot's names)."""
    usable = [k for k, c in sorted(REGISTRY.items()) if problem_type in c.problem_types]
    if not names:
        return usable
    chosen = []
    for raw in names:
        name = raw.strip().lower().replace("_", "-")
        if name not in REGISTRY:
            known = f"available now: {', '.join(sorted(REGISTRY))}"
            if name in AUTOPILOT_ALGORITHMS:
                raise ConfigError(f"algorithm '{raw}' is not available in this version; {known}")
            raise ConfigError(f"unknown algorithm '{raw}'; {known}")
        if name not in usable:
            raise ConfigError(f"algorithm '{raw}' does not handle {problem_type} problems")
        chosen.append(name)
    return list(dict.fromkeys(chosen))
