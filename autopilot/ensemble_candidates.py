"""Autopilot's own candidates as AutoGluon models, so that they train, bag and weigh in AutoGluon's ensemble beside
its models: the Linear Learner (its many linear models choose among themselves on the fold's held-out rows) and
the MLP (early stopping on them, and told the seconds AutoGluon gives it).

Each sees AutoGluon's features (numbers, and categories as text) through the same feature pipeline as in HPO mode:
numbers imputed with indicators and scaled, categories one-hot (the Linear Learner) or as integer codes for
embeddings (the MLP). Each stops early, and the Linear Learner chooses among its models, on a slice of its own
training rows (as in HPO's cross-validation), never on the rows AutoGluon scores it on: choosing among 32 models on
those would make its score, and so the ensemble's weights, optimistic.

>>> hyperparameters = {LinearLearnerModel: {}, MLPModel: {}}  # doctest: +SKIP
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from autogluon.common.features.types import R_BOOL, R_CATEGORY, R_FLOAT, R_INT
from autogluon.core.models import AbstractModel

from autopilot.candidates import get_candidate
from autopilot.data.split import stopping_split
from autopilot.preprocess import build_preprocessor, categorical_cardinalities
from autopilot.search.cv import EARLY_STOPPING_SHARE

METRICS = {  # AutoGluon's metric names -> autopilot's, for a candidate that chooses among its own models by one
    "accuracy": "Accuracy",
    "balanced_accuracy": "BalancedAccuracy",
    "roc_auc": "AUC",
    "f1": "F1",
    "f1_macro": "F1macro",
    "log_loss": "LogLoss",
    "precision": "Precision",
    "precision_macro": "PrecisionMacro",
    "recall": "Recall",
    "recall_macro": "RecallMacro",
    "mean_absolute_error": "MAE",
    "mean_squared_error": "MSE",
    "root_mean_squared_error": "RMSE",
    "r2": "R2",
}
TIME_SHARE = 0.9  # of AutoGluon's seconds for the fit, given to a candidate that can stop on time (the rest: overhead)


class CandidateModel(AbstractModel):
    """One autopilot candidate (``candidate_key``) behind AutoGluon's model interface; its ``params`` are the
    candidate's hyperparameters."""

    candidate_key: str = ""

    def _get_default_auxiliary_params(self) -> dict:
        params = super()._get_default_auxiliary_params()
        return {**params, "valid_raw_types": [R_BOOL, R_INT, R_FLOAT, R_CATEGORY]}

    def _preprocess(self, X: pd.DataFrame, is_train: bool = False, **kwargs: object) -> object:
        X = super()._preprocess(X, **kwargs)
        if is_train:
            encoding = get_candidate(self.candidate_key).categorical_encoding
            self._feature_pipeline = build_preprocessor(_profile(X), target="", categorical_encoding=encoding).fit(X)
        return self._feature_pipeline.transform(X)

    def _fit(
        self,
        X: pd.DataFrame,
        y: pd.Series,
        X_val: pd.DataFrame | None = None,  # the rows AutoGluon scores this model on: not looked at
        y_val: pd.Series | None = None,
        time_limit: float | None = None,
        num_gpus: float = 0,
        **kwargs: object,
    ) -> None:
        start = time.monotonic()
        cls = get_candidate(self.candidate_key)
        params = self._get_model_params()
        device = "cuda" if num_gpus else "cpu"
        seed = self.random_seed if isinstance(self.random_seed, int) else 0  # the job's, per fold as AutoGluon sets
        metric = METRICS.get(self.eval_metric.name)
        model = cls(problem_type=self.problem_type, metric=metric, device=device, seed=seed, **params)
        if time_limit is not None and "max_seconds" in model.get_params():
            model.set_params(max_seconds=max(TIME_SHARE * time_limit - (time.monotonic() - start), 1.0))
        y = pd.Series(np.asarray(y))
        fit, stop = stopping_split(y, self.problem_type != "regression", EARLY_STOPPING_SHARE, seed=seed)
        features = self.preprocess(X.iloc[fit], is_train=True)
        extra = {}
        if cls.categorical_encoding == "ordinal":
            extra["categorical_cardinalities"] = categorical_cardinalities(self._feature_pipeline)
        stopping = self.preprocess(X.iloc[stop]), y.iloc[stop].to_numpy()
        model.fit(features, y.iloc[fit].to_numpy(), *stopping, **extra)
        self.model = model

    def _predict_proba(self, X: pd.DataFrame, **kwargs: object) -> np.ndarray:
        features = self.preprocess(X, **kwargs)
        if self.problem_type == "regression":
            return self.model.predict(features)
        return self._convert_proba_to_unified_form(self.model.predict_proba(features))


class LinearLearnerModel(CandidateModel):
    """Autopilot's Linear Learner inside AutoGluon."""

    candidate_key = "linear-learner"
    ag_key = "AP_LL"
    ag_name = "LinearLearner"
    ag_priority = 30


class MLPModel(CandidateModel):
    """Autopilot's MLP inside AutoGluon."""

    candidate_key = "mlp"
    ag_key = "AP_MLP"
    ag_name = "AutopilotMLP"
    ag_priority = 25
    minimum_num_gpus = 1  # as AutoGluon's own network: a GPU when the fit is given one


def _profile(X: pd.DataFrame) -> dict:
    """A profile of AutoGluon's features for the feature pipeline: categories are categorical, the rest numbers."""
    columns = []
    for name in X.columns:
        kind = "categorical" if isinstance(X[name].dtype, pd.CategoricalDtype) else "numeric"
        columns.append({"name": name, "kind": kind, "constant": False})
    return {"column_profiles": columns}
