"""The rows a job's bias analysis reads, with the positive outcome and the model's positive predictions.

- In the job: pre-training metrics read the training rows (``data/train.parquet``); post-training metrics read the rows
  the best trial was scored on out of sample (its holdout rows, or every labelled row when its predictions are
  out-of-fold), with those predictions. The model in ``best/`` may since have learned from the validation rows too.
- For a data file: both read its labelled rows, post-training with ``best/``'s predictions.

Predictions are the model's decisions, as ``autopilot predict`` gives them (a tuned decision threshold included).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from autopilot.bias.analysis import Rows
from autopilot.bias.facets import BiasConfig, Outcome
from autopilot.errors import DataError, JobError
from autopilot.io import read_json
from autopilot.predictions import PREDICTIONS_FILE, read_predictions
from autopilot.preprocess import feature_kinds, make_coercer


def needed_columns(config: BiasConfig) -> list[str]:
    names = [f.column for f in config.facets] + ([config.group_variable] if config.group_variable else [])
    return list(dict.fromkeys(names))


def predicted_positive(codes: np.ndarray, problem: dict, outcome: Outcome) -> np.ndarray:
    """The model's predictions (class codes, or values for regression) as positive outcomes."""
    if problem["problem_type"] == "regression":
        return outcome.mask(pd.Series(np.asarray(codes, dtype=np.float64)))
    positive = outcome.mask(pd.Series(problem["classes"]))
    return positive[np.asarray(codes, dtype=np.int64)]


class JobRows:
    """Reads a job's rows for its bias analysis: its problem, and its numeric features for the flip test."""

    def __init__(self, job_dir: Path, config: BiasConfig) -> None:
        self.job_dir, self.config = job_dir, config
        self.problem = read_json(job_dir / "problem.json")
        profile = read_json(job_dir / "profile.json")
        self.target = self.problem["target"]
        self.coercer = make_coercer(profile, self.target)
        kinds = feature_kinds(profile, self.target)
        self.numeric = tuple(n for n, k in kinds.items() if k == "numeric")

    def rows(self, frame: pd.DataFrame, outcome: Outcome, described: str, codes: np.ndarray | None = None) -> Rows:
        labels = outcome.mask(frame[self.target])
        columns = frame[needed_columns(self.config)].reset_index(drop=True)
        if codes is None:
            return Rows(columns, labels, described)
        numbers = [self.coercer.transform_column(frame[n].rename(n), "numeric") for n in self.numeric]
        features = np.column_stack(numbers) if numbers else np.empty((len(frame), 0))
        predicted = predicted_positive(codes, self.problem, outcome)
        return Rows(columns, labels, described, predicted, features, self.numeric)

    def training(self, outcome: Outcome) -> Rows:
        train = pd.read_parquet(self.job_dir / "data" / "train.parquet")
        return self.rows(train, outcome, f"the {len(train):,} training rows (data/train.parquet)")

    def scored(self, outcome: Outcome) -> Rows:
        """The rows the best trial was scored on out of sample, with its predictions."""
        from autopilot.pipeline import AutopilotPipeline
        from autopilot.search.runner import MODEL_FILE

        data = self.job_dir / "data"
        validation = pd.read_parquet(data / "validation.parquet")
        trial = self.job_dir / "trials" / read_json(self.job_dir / "best" / "manifest.json")["trial"]
        if not (trial / PREDICTIONS_FILE).exists():
            codes, _ = AutopilotPipeline.load(trial / MODEL_FILE).predict_encoded(validation)
            return self.rows(validation, outcome, f"the {len(validation):,} validation rows (holdout)", codes)
        codes = read_predictions(trial / PREDICTIONS_FILE)[1]
        if len(codes) == len(validation):
            return self.rows(validation, outcome, f"the {len(validation):,} validation rows (holdout)", codes)
        every = pd.concat([pd.read_parquet(data / "train.parquet"), validation], ignore_index=True)
        if len(codes) != len(every):
            raise JobError(f"{trial / PREDICTIONS_FILE} has {len(codes):,} rows, not the job's; run the job again")
        return self.rows(every, outcome, f"every labelled row ({len(every):,}), predicted out of fold", codes)

    def of_file(self, frame: pd.DataFrame, codes: np.ndarray, outcome: Outcome, name: str) -> tuple[Rows, Rows]:
        """Pre- and post-training rows of a data file: its labelled rows, with ``best/``'s predictions."""
        if self.target not in frame.columns:
            raise DataError(f"{name} has no '{self.target}' column: bias metrics compare the labels of groups")
        labelled = frame[self.target].notna().to_numpy()
        if not labelled.any():
            raise DataError(f"{name}: every '{self.target}' value is missing")
        frame, codes = frame[labelled], np.asarray(codes)[labelled]
        described = f"the {len(frame):,} labelled rows of {name}"
        return self.rows(frame, outcome, described), self.rows(frame, outcome, described, codes)
