"""The pyfunc model of a job's best/ pipeline, in MLflow's "models from code" form: MLflow copies this file into the
logged model and runs it when the model is loaded (autopilot's code is logged beside it)."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pandas as pd
from mlflow.pyfunc import PythonModel


class BestPipeline(PythonModel):
    """``predict`` returns what ``autopilot predict`` writes: ``predicted_label``, and for a classifier
    ``probability`` and a ``proba_<label>`` column per class."""

    def load_context(self, context: object) -> None:
        from autopilot.pipeline import AutopilotPipeline

        self.pipeline = AutopilotPipeline.load(Path(context.artifacts["job"]) / "best" / "pipeline.joblib")

    def predict(self, context: object, model_input: pd.DataFrame, params: dict | None = None) -> pd.DataFrame:
        return self.pipeline.predict_frame(model_input)


mlflow.models.set_model(BestPipeline())
