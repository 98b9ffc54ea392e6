"""XGBoost: gradient-boosted trees with the hist method and early stopping on validation."""

from __future__ import annotations

import numpy as np
import xgboost as xgb
from optuna.distributions import BaseDistribution, FloatDistribution, IntDistribution

from autopilot.candidates.base import Candidate, register
from autopilot.metrics import BINARY, MULTICLASS, REGRESSION

OBJECTIVES = {
    BINARY: ("binary:logistic", "logloss"),
    MULTICLASS: ("multi:softprob", "mlogloss"),
    REGRESSION: ("reg:squarederror", "rmse"),
}


@register
class XGBoostCandidate(Candidate):
    """XGBoost with SageMaker's hyperparameter names (``lambda_`` stands for ``lambda``).

    >>> XGBoostCandidate(problem_type="regression", num_round=50).fit(X, y).predict(X)  # doctest: +SKIP
    """

    key = "xgboost"
    problem_types = (BINARY, MULTICLASS, REGRESSION)

    def __init__(
        self,
        problem_type: str = BINARY,
        num_round: int = 1000,
        eta: float = 0.1,
        max_depth: int = 6,
        min_child_weight: float = 1.0,
        subsample: float = 1.0,
        colsample_bytree: float = 1.0,
        alpha: float = 0.0,
        lambda_: float = 1.0,
        gamma: float = 0.0,
        early_stopping_rounds: int = 30,
        seed: int = 0,
        n_jobs: int | None = None,
    ) -> None:
        self.problem_type = problem_type
        self.num_round = num_round
        self.eta = eta
        self.max_depth = max_depth
        self.min_child_weight = min_child_weight
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.alpha = alpha
        self.lambda_ = lambda_
        self.gamma = gamma
        self.early_stopping_rounds = early_stopping_rounds
        self.seed = seed
        self.n_jobs = n_jobs

    @classmethod
    def search_space(cls, profile: dict) -> dict[str, BaseDistribution]:
        """Like SageMaker's XGBoost tuning ranges, with log scales where the effect is multiplicative."""
        return {
            "eta": FloatDistribution(0.01, 0.5, log=True),
            "max_depth": IntDistribution(2, 10),
            "min_child_weight": FloatDistribution(0.1, 120.0, log=True),
            "subsample": FloatDistribution(0.5, 1.0),
            "colsample_bytree": FloatDistribution(0.5, 1.0),
            "alpha": FloatDistribution(1e-3, 1000.0, log=True),
            "lambda_": FloatDistribution(1e-3, 1000.0, log=True),
            "gamma": FloatDistribution(0.0, 5.0),
            "num_round": IntDistribution(10, 4000, log=True),
        }

    def _params(self, n_classes: int) -> dict:
        objective, eval_metric = OBJECTIVES[self.problem_type]
        params = {
            "objective": objective,
            "eval_metric": eval_metric,
            "tree_method": "hist",
            "eta": self.eta,
            "max_depth": self.max_depth,
            "min_child_weight": self.min_child_weight,
            "subsample": self.subsample,
            "colsample_bytree": self.colsample_bytree,
            "alpha": self.alpha,
            "lambda": self.lambda_,
            "gamma": self.gamma,
            "seed": self.seed,
            "nthread": self.n_jobs or 0,
            "verbosity": 0,
        }
        if self.problem_type == MULTICLASS:
            params["num_class"] = n_classes
        return params

    def fit(self, X: object, y: np.ndarray, X_val: object = None, y_val: np.ndarray | None = None) -> XGBoostCandidate:
        y = np.asarray(y)
        self.n_classes_ = int(y.max()) + 1 if self.problem_type != REGRESSION else 0
        train = xgb.DMatrix(X, label=y)
        evals = [(xgb.DMatrix(X_val, label=y_val), "validation")] if X_val is not None else []
        self.booster_ = xgb.train(
            self._params(self.n_classes_),
            train,
            num_boost_round=self.num_round,
            evals=evals,
            early_stopping_rounds=self.early_stopping_rounds if evals else None,
            verbose_eval=False,
        )
        self.best_iteration_ = self.booster_.best_iteration if evals else self.num_round - 1
        return self

    def _raw(self, X: object) -> np.ndarray:
        return self.booster_.predict(xgb.DMatrix(X), iteration_range=(0, self.best_iteration_ + 1))

    def predict_proba(self, X: object) -> np.ndarray:
        raw = self._raw(X)
        return np.column_stack([1 - raw, raw]) if self.problem_type == BINARY else raw

    def predict(self, X: object) -> np.ndarray:
        if self.problem_type == REGRESSION:
            return self._raw(X)
        return self.predict_proba(X).argmax(axis=1)
