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

    def fit(self, X: object, y: np.ndarray, X_val: object = None, y_val: np.ndarray | None = None) -> Candidate:
        raise NotImplementedError

    def predict(self, X: object) -> np.ndarray:
        raise NotImplementedError

    def predict_proba(self, X: object) -> np.ndarray:
        raise NotImplementedError


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
