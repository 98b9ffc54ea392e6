"""Linear Learner: many linear models trained in one batched torch pass, as SageMaker's built-in algorithm does."""

from __future__ import annotations

import math

import numpy as np
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution

from autopilot.candidates.base import Candidate, register
from autopilot.candidates.shared import proba_from_raw
from autopilot.metrics import BINARY, MULTICLASS, REGRESSION


@register
class LinearLearnerCandidate(Candidate):
    """SageMaker's Linear Learner: ``num_models`` linear models with their own learning rate, L1 and weight decay
    (``None`` means auto: each model draws its own value, seeded) train side by side on the same mini-batches;
    each stops early on validation loss, and the model with the best validation score on the job's objective
    (``metric``) is kept. Features are standardised, and the label too for regression.

    >>> LinearLearnerCandidate(problem_type="binary", metric="F1").fit(X, y, X_val, y_val)  # doctest: +SKIP
    """

    key = "linear-learner"
    problem_types = (BINARY, MULTICLASS, REGRESSION)

    def __init__(
        self,
        problem_type: str = BINARY,
        metric: str | None = None,
        num_models: int = 32,
        learning_rate: float | None = None,
        l1: float | None = None,
        wd: float | None = None,
        mini_batch_size: int = 1000,
        epochs: int = 15,
        early_stopping_patience: int = 3,
        early_stopping_tolerance: float = 0.001,
        normalize_data: bool = True,
        normalize_label: bool | None = None,
        positive_example_weight_mult: float | str = "auto",
        balance_multiclass_weights: bool = False,
        seed: int = 0,
        device: str = "auto",
    ) -> None:
        self.problem_type = problem_type
        self.metric = metric
        self.num_models = num_models
        self.learning_rate = learning_rate
        self.l1 = l1
        self.wd = wd
        self.mini_batch_size = mini_batch_size
        self.epochs = epochs
        self.early_stopping_patience = early_stopping_patience
        self.early_stopping_tolerance = early_stopping_tolerance
        self.normalize_data = normalize_data
        self.normalize_label = normalize_label
        self.positive_example_weight_mult = positive_example_weight_mult
        self.balance_multiclass_weights = balance_multiclass_weights
        self.seed = seed
        self.device = device

    @classmethod
    def search_space(cls, profile: dict) -> dict[str, BaseDistribution]:
        """SageMaker's tunable ranges for Linear Learner, plus the class weighting switches."""
        return {
            "learning_rate": FloatDistribution(1e-5, 1.0, log=True),
            "mini_batch_size": IntDistribution(100, 5000, log=True),
            "l1": FloatDistribution(1e-7, 1.0, log=True),
            "wd": FloatDistribution(1e-7, 1.0, log=True),
            "positive_example_weight_mult": CategoricalDistribution(["auto", 1.0]),
            "balance_multiclass_weights": CategoricalDistribution([False, True]),
        }

    @classmethod
    def portfolio(cls, profile: dict) -> list[dict]:
        """Fixed settings inside the search space (the defaults draw them per model instead): a moderate learning
        rate with light weight decay; a fast one, strongly decayed, with unweighted classes."""
        return [
            {"learning_rate": 0.01, "l1": 1e-7, "wd": 1e-4, "mini_batch_size": 500},
            {
                "learning_rate": 0.1,
                "l1": 1e-7,
                "wd": 1e-2,
                "mini_batch_size": 1000,
                "positive_example_weight_mult": 1.0,
                "balance_multiclass_weights": True,
            },
        ]

    def model_settings(self) -> dict[str, np.ndarray]:
        """Each model's learning rate, L1 and weight decay: the given value, or (auto) a seeded draw per model."""
        rng = np.random.default_rng(self.seed)
        m = self.num_models

        def draw(value: float | None, low: float, high: float, zero_share: float) -> np.ndarray:
            if value is not None:
                return np.full(m, float(value))
            values = np.exp(rng.uniform(math.log(low), math.log(high), m))
            values[rng.random(m) < zero_share] = 0.0
            return values

        settings = {"learning_rate": draw(self.learning_rate, 1e-3, 0.3, 0.0)}
        settings["l1"] = draw(self.l1, 1e-7, 1e-3, 0.5)
        settings["wd"] = draw(self.wd, 1e-6, 1e-1, 0.5)
        if self.learning_rate is None and self.l1 is None and self.wd is None:  # model 0: plain, mid learning rate
            settings["learning_rate"][0], settings["l1"][0], settings["wd"][0] = 0.02, 0.0, 0.0
        return settings

    def refit_params(self) -> dict:
        """Only the model this fit chose, with its learning rate, L1 and weight decay."""
        return {"num_models": 1, **self.settings_}

    def fit(
        self, X: object, y: np.ndarray, X_val: object = None, y_val: np.ndarray | None = None
    ) -> LinearLearnerCandidate:
        from autopilot.candidates import linear_train

        if self.num_models < 1 or self.epochs < 1 or self.mini_batch_size < 1:
            raise ValueError("num_models, epochs and mini_batch_size must each be at least 1")
        return linear_train.fit(self, X, np.asarray(y), X_val, None if y_val is None else np.asarray(y_val))

    def decision_function(self, X: object) -> np.ndarray:
        from autopilot.candidates.torch_common import dense32

        Z = dense32(X)
        if self.normalize_data:
            Z = (Z - self.mean_) / self.std_
        return Z.astype(np.float64) @ self.coef_ + self.intercept_

    def predict_proba(self, X: object) -> np.ndarray:
        return proba_from_raw(self.decision_function(X), self.problem_type)

    def predict(self, X: object) -> np.ndarray:
        if self.problem_type == REGRESSION:
            return self.decision_function(X)[:, 0] * self.y_std_ + self.y_mean_
        return self.predict_proba(X).argmax(axis=1)
