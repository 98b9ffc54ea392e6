"""The deployable pipeline: preprocessing + a fitted candidate + the label mapping. Saved with joblib."""

from __future__ import annotations

from pathlib import Path

import joblib
import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from autopilot.candidates.base import Candidate
from autopilot.errors import PredictionError
from autopilot.io import atomic_path
from autopilot.preprocess import categorical_cardinalities
from autopilot.problem import Problem


def require_rows(rows: pd.DataFrame) -> None:
    if len(rows) == 0:
        raise PredictionError("no rows to predict; give at least one row")


class AutopilotPipeline:
    """Raw rows in, predictions out. ``classes`` are the original labels in encoded order (index = code).
    ``threshold``: for binary problems, the positive class is predicted at this probability or above (None: the
    argmax); the search tunes it for label-counting objectives (``autopilot.search.threshold``)."""

    def __init__(self, preprocessor: Pipeline, model: Candidate, problem: Problem) -> None:
        self.preprocessor = preprocessor
        self.model = model
        self.problem = problem
        self.threshold: float | None = None

    @property
    def classes(self) -> list:
        return list(self.problem.classes)

    @property
    def required_columns(self) -> list[str]:
        return list(self.preprocessor.named_steps["coerce"].kinds)

    def encode_target(self, y: pd.Series) -> np.ndarray:
        if not self.problem.is_classification:
            return y.astype("float64").to_numpy()
        codes = y.map({c: i for i, c in enumerate(self.classes)})
        return codes.astype("int64").to_numpy()

    def fit(self, train: pd.DataFrame, validation: pd.DataFrame | None = None) -> AutopilotPipeline:
        target = self.problem.target
        X = self.preprocessor.fit_transform(train, self.encode_target(train[target]))
        extra = {}
        if self.model.categorical_encoding == "ordinal":
            extra["categorical_cardinalities"] = categorical_cardinalities(self.preprocessor)
        y = self.encode_target(train[target])
        if validation is None:
            self.model.fit(X, y, **extra)
        else:
            X_val = self.preprocessor.transform(validation)
            self.model.fit(X, y, X_val, self.encode_target(validation[target]), **extra)
        return self

    def transform(self, rows: pd.DataFrame) -> object:
        require_rows(rows)
        return self.preprocessor.transform(rows)

    def predict_encoded(self, rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray | None]:
        """Encoded predictions and, for classification, class probabilities (one column per class)."""
        X = self.transform(rows)
        if not self.problem.is_classification:
            return self.model.predict(X), None
        proba = self.model.predict_proba(X)
        threshold = getattr(self, "threshold", None)  # pipelines saved before thresholds existed have none
        if threshold is not None and proba.shape[1] == 2:
            return (proba[:, 1] >= threshold).astype(np.int64), proba
        return proba.argmax(axis=1), proba

    def predict(self, rows: pd.DataFrame) -> np.ndarray:
        codes, proba = self.predict_encoded(rows)
        return codes if proba is None else np.asarray(self.classes, dtype=object)[codes]

    def predict_proba(self, rows: pd.DataFrame) -> pd.DataFrame:
        if not self.problem.is_classification:
            raise PredictionError("predict_proba is for classification; this is a regression pipeline")
        _, proba = self.predict_encoded(rows)
        return pd.DataFrame(proba, columns=[f"proba_{c}" for c in self.classes], index=rows.index)

    def predict_frame(self, rows: pd.DataFrame) -> pd.DataFrame:
        """``predicted_label``, and for classification ``probability`` and one ``proba_<label>`` per class."""
        codes, proba = self.predict_encoded(rows)
        if proba is None:
            return pd.DataFrame({"predicted_label": codes}, index=rows.index)
        out = pd.DataFrame({"predicted_label": np.asarray(self.classes, dtype=object)[codes]}, index=rows.index)
        out["probability"] = proba[np.arange(len(codes)), codes]  # of the predicted label (a threshold may apply)
        for i, c in enumerate(self.classes):
            out[f"proba_{c}"] = proba[:, i]
        return out

    def save(self, path: str | Path) -> None:
        with atomic_path(path) as tmp:
            joblib.dump(self, tmp)

    @staticmethod
    def load(path: str | Path) -> AutopilotPipeline:
        pipeline = joblib.load(path)
        if not isinstance(pipeline, AutopilotPipeline):
            raise PredictionError(f"{path} does not hold an autopilot pipeline")
        pipeline.loaded_from(Path(path))
        return pipeline

    def loaded_from(self, path: Path) -> None:
        """Called with the file a pipeline was loaded from (one whose model lives beside it finds it there)."""
