"""XGBoost: gradient-boosted trees with the hist method (on the GPU with device="cuda") and early stopping."""

from __future__ import annotations

import os

import numpy as np
import xgboost as xgb
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution

from autopilot.candidates.base import Candidate, register
from autopilot.candidates.shared import class_weights
from autopilot.device import resolve_device
from autopilot.errors import ConfigError
from autopilot.metrics import BINARY, MULTICLASS, REGRESSION

OBJECTIVES = {
    BINARY: ("binary:logistic", "logloss"),
    MULTICLASS: ("multi:softprob", "mlogloss"),
    REGRESSION: ("reg:squarederror", "rmse"),
}
CELLS_PER_THREAD = 1 << 20  # n_jobs=None: one thread per this many training cells (rows x features), up to the cores


@register
class XGBoostCandidate(Candidate):
    """XGBoost with SageMaker's hyperparameter names (``lambda_`` stands for ``lambda``). Early stopping watches
    log loss (RMSE for regression) on validation. ``scale_pos_weight="auto"`` weights positives by negatives /
    positives (binary); ``class_weight="balanced"`` weights every class alike (multiclass too). The booster trains on
    the GPU when ``device`` resolves to cuda and is switched to the CPU afterwards, so it predicts anywhere.

    >>> XGBoostCandidate(problem_type="regression", num_round=50).fit(X, y).predict(X)  # doctest: +SKIP
    """

    key = "xgboost"
    problem_types = (BINARY, MULTICLASS, REGRESSION)

    def __init__(
        self,
        problem_type: str = BINARY,
        metric: str | None = None,
        num_round: int = 1000,
        eta: float = 0.1,
        max_depth: int = 6,
        min_child_weight: float = 1.0,
        subsample: float = 1.0,
        colsample_bytree: float = 1.0,
        alpha: float = 0.0,
        lambda_: float = 1.0,
        gamma: float = 0.0,
        scale_pos_weight: float | str = 1.0,
        class_weight: str | None = None,
        early_stopping_rounds: int = 30,
        seed: int = 0,
        device: str = "auto",
        n_jobs: int | None = None,
    ) -> None:
        self.problem_type = problem_type
        self.metric = metric
        self.num_round = num_round
        self.eta = eta
        self.max_depth = max_depth
        self.min_child_weight = min_child_weight
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.alpha = alpha
        self.lambda_ = lambda_
        self.gamma = gamma
        self.scale_pos_weight = scale_pos_weight
        self.class_weight = class_weight
        self.early_stopping_rounds = early_stopping_rounds
        self.seed = seed
        self.device = device
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
            "scale_pos_weight": CategoricalDistribution([1.0, "auto"]),
            "class_weight": CategoricalDistribution([None, "balanced"]),
        }

    @classmethod
    def portfolio(cls, profile: dict) -> list[dict]:
        """Shallow and fast; deeper with row and column sampling; strongly regularised (after the defaults: depth 6,
        eta 0.1). Early stopping trims ``num_round`` on every one."""
        return [
            {"max_depth": 3, "eta": 0.1, "num_round": 500, "alpha": 1e-3},
            {
                "max_depth": 8,
                "eta": 0.05,
                "num_round": 2000,
                "min_child_weight": 2.0,
                "subsample": 0.8,
                "colsample_bytree": 0.7,
                "alpha": 1e-3,
            },
            {
                "max_depth": 4,
                "eta": 0.03,
                "num_round": 2000,
                "min_child_weight": 10.0,
                "subsample": 0.7,
                "colsample_bytree": 0.7,
                "alpha": 1.0,
                "lambda_": 10.0,
                "gamma": 1.0,
            },
        ]

    def _params(self, n_classes: int, y: np.ndarray, cells: int = 0) -> dict:
        objective, eval_metric = OBJECTIVES[self.problem_type]
        params = {
            "objective": objective,
            "eval_metric": eval_metric,
            "tree_method": "hist",
            "device": self._device(),
            "eta": self.eta,
            "max_depth": self.max_depth,
            "min_child_weight": self.min_child_weight,
            "subsample": self.subsample,
            "colsample_bytree": self.colsample_bytree,
            "alpha": self.alpha,
            "lambda": self.lambda_,
            "gamma": self.gamma,
            "seed": self.seed,
            "nthread": self.n_jobs or auto_threads(cells),
            "verbosity": 0,
        }
        if self.problem_type == MULTICLASS:
            params["num_class"] = n_classes
        if self.problem_type == BINARY and self.class_weight is None:
            params["scale_pos_weight"] = float(class_weights(y.astype(np.int64), 2, False, self.scale_pos_weight)[1])
        return params

    def fit(self, X: object, y: np.ndarray, X_val: object = None, y_val: np.ndarray | None = None) -> XGBoostCandidate:
        y = np.asarray(y)
        self.n_classes_ = int(y.max()) + 1 if self.problem_type != REGRESSION else 0
        if self.class_weight not in (None, "balanced"):
            raise ValueError(f"class_weight must be None or 'balanced'; got {self.class_weight!r}")
        train = xgb.DMatrix(X, label=y, weight=self._row_weights(y))
        evals = [(xgb.DMatrix(X_val, label=y_val), "validation")] if X_val is not None else []
        self.booster_ = xgb.train(
            self._params(self.n_classes_, y, train.num_row() * train.num_col()),
            train,
            num_boost_round=self.num_round,
            evals=evals,
            early_stopping_rounds=self.early_stopping_rounds if evals else None,
            verbose_eval=False,
        )
        self.best_iteration_ = self.booster_.best_iteration if evals else self.num_round - 1
        self.booster_.set_param({"device": "cpu"})  # predicts on machines without a GPU
        return self

    def refit_params(self) -> dict:
        """The rounds this fit's early stopping chose."""
        return {"num_round": int(self.best_iteration_) + 1}

    def _device(self) -> str:
        """cuda when the device resolves to it and this xgboost build has CUDA (xgboost-cpu has not): auto falls
        back to the CPU, an explicit cuda is refused."""
        device = resolve_device(self.device)
        if device == "cuda" and not xgb.build_info().get("USE_CUDA", False):
            if self.device == "cuda":
                raise ConfigError("this xgboost build has no CUDA support; install `xgboost`, not `xgboost-cpu`")
            return "cpu"
        return device

    def _row_weights(self, y: np.ndarray) -> np.ndarray | None:
        if self.class_weight != "balanced" or self.problem_type == REGRESSION:
            return None
        codes = y.astype(np.int64)
        return class_weights(codes, self.n_classes_, balanced=True)[codes]

    def _raw(self, X: object) -> np.ndarray:
        return self.booster_.predict(xgb.DMatrix(X), iteration_range=(0, self.best_iteration_ + 1))

    def predict_proba(self, X: object) -> np.ndarray:
        raw = self._raw(X)
        return np.column_stack([1 - raw, raw]) if self.problem_type == BINARY else raw

    def predict(self, X: object) -> np.ndarray:
        if self.problem_type == REGRESSION:
            return self._raw(X)
        return self.predict_proba(X).argmax(axis=1)


def auto_threads(cells: int) -> int:
    """Threads for a training matrix of ``cells`` values: one per ``CELLS_PER_THREAD``, at least one, at most the
    cores. Small data trains on one: a second gains nothing there, and on 2 cores kept busy by another process an
    XGBoost trial on 569 rows took 7 to 115 s with 2 threads and 0.7 s with one (measured)."""
    return max(1, min(os.cpu_count() or 1, cells // CELLS_PER_THREAD))
