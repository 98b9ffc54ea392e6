"""MLP: a feed-forward network in torch with embeddings for categorical columns."""

from __future__ import annotations

import numpy as np
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution

from autopilot.candidates.base import Candidate, register
from autopilot.candidates.shared import proba_from_raw
from autopilot.metrics import BINARY, MULTICLASS, REGRESSION


@register
class MLPCandidate(Candidate):
    """Numeric columns standardised, each categorical column through its own embedding, then ``num_layers`` blocks
    of linear → batch norm → SiLU → dropout. AdamW with a one-epoch warm-up and cosine decay over ``max_epochs``;
    early stopping on validation loss (a seeded sample of at most 10,000 rows) keeps the best epoch's weights, after
    ``patience`` epochs without improvement on small data and fewer (about 50 steps, at least 3 epochs) on large
    data. ``max_seconds`` (set by the trial runner when a time limit is near) starts no epoch that would end past
    it. Regression targets are standardised while training.

    The preprocessor hands categorical columns over as integer codes in the last columns (``categorical_encoding``),
    and ``fit`` is told how many codes each has.

    >>> MLPCandidate(problem_type="multiclass").fit(X, y, X_val, y_val, categorical_cardinalities=[4])  # doctest: +SKIP
    """

    key = "mlp"
    problem_types = (BINARY, MULTICLASS, REGRESSION)
    categorical_encoding = "ordinal"

    def __init__(
        self,
        problem_type: str = BINARY,
        metric: str | None = None,
        num_layers: int = 3,
        layer_width: int = 256,
        dropout: float = 0.1,
        learning_rate: float = 2e-3,
        weight_decay: float = 1e-4,
        batch_size: int = 512,
        max_epochs: int = 100,
        patience: int = 8,
        class_weight: str | None = None,
        max_seconds: float | None = None,
        seed: int = 0,
        device: str = "auto",
    ) -> None:
        self.problem_type = problem_type
        self.metric = metric
        self.num_layers = num_layers
        self.layer_width = layer_width
        self.dropout = dropout
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.patience = patience
        self.class_weight = class_weight
        self.max_seconds = max_seconds
        self.seed = seed
        self.device = device

    @classmethod
    def search_space(cls, profile: dict) -> dict[str, BaseDistribution]:
        """Depth, width, dropout, learning rate, weight decay and batch size."""
        return {
            "num_layers": IntDistribution(1, 4),
            "layer_width": IntDistribution(32, 1024, log=True),
            "dropout": FloatDistribution(0.0, 0.5),
            "learning_rate": FloatDistribution(1e-4, 1e-2, log=True),
            "weight_decay": FloatDistribution(1e-6, 1e-1, log=True),
            "batch_size": CategoricalDistribution([128, 256, 512, 1024, 2048]),
        }

    @classmethod
    def portfolio(cls, profile: dict) -> list[dict]:
        """Small and quick (two layers of 128); wide and strongly regularised (two layers of 512, dropout 0.3, weight
        decay 1e-2); after the defaults (three layers of 256)."""
        return [
            {"num_layers": 2, "layer_width": 128, "dropout": 0.1, "learning_rate": 3e-3, "weight_decay": 1e-5},
            {"num_layers": 2, "layer_width": 512, "dropout": 0.3, "learning_rate": 1e-3, "weight_decay": 1e-2},
        ]

    def refit_params(self) -> dict:
        """The epochs up to this fit's best one (its learning-rate schedule then ends there)."""
        return {"max_epochs": max(int(self.best_epoch_), 1)}

    def fit(
        self,
        X: object,
        y: np.ndarray,
        X_val: object = None,
        y_val: np.ndarray | None = None,
        categorical_cardinalities: list[int] | None = None,
    ) -> MLPCandidate:
        from autopilot.candidates import mlp_train

        if self.num_layers < 1 or self.layer_width < 1 or not 0 <= self.dropout < 1 or self.batch_size < 1:
            raise ValueError("num_layers, layer_width and batch_size must be >= 1 and dropout in [0, 1)")
        if self.class_weight not in (None, "balanced"):
            raise ValueError(f"class_weight must be None or 'balanced'; got {self.class_weight!r}")
        y_val = None if y_val is None else np.asarray(y_val)
        return mlp_train.fit(self, X, np.asarray(y), X_val, y_val, list(categorical_cardinalities or []))

    def _raw(self, X: object) -> np.ndarray:
        from autopilot.candidates import mlp_train

        return mlp_train.raw_outputs(self, X)

    def predict_proba(self, X: object) -> np.ndarray:
        return proba_from_raw(self._raw(X), self.problem_type)

    def predict(self, X: object) -> np.ndarray:
        if self.problem_type == REGRESSION:
            return self._raw(X)[:, 0] * self.y_std_ + self.y_mean_
        return self.predict_proba(X).argmax(axis=1)
