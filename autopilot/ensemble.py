"""Ensembling mode: AutoGluon's TabularPredictor with k-fold bagging and stacking, as Autopilot's ensembling mode.

AutoGluon trains about ten model families and settings on the train split (out-of-fold predictions feed the stack
and the weighted ensemble; the validation rows stay unseen), then every model it made, the ensemble included, is
scored on the job's validation rows and written as a trial: the same leaderboard columns as HPO trials, and a
pipeline in trials/<id>/ that predicts through the same interface. The predictor lives in the job folder
(``autogluon/``), and a pipeline finds it through the job folder that holds the pipeline, so a moved folder predicts.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from autopilot.errors import ConfigError, PredictionError
from autopilot.metrics import BINARY, score_all
from autopilot.pipeline import AutopilotPipeline, require_rows
from autopilot.preprocess import feature_kinds, require_columns
from autopilot.problem import Problem
from autopilot.search.runner import TrialData, read_frame, save_outcome
from autopilot.search.spec import SUCCEEDED, TrialResult, TrialSpec

AG_DIR = "autogluon"
CANDIDATE = "autogluon"
BAG_FOLDS, STACK_LEVELS = 5, 1
FAMILIES = {  # Autopilot's names -> AutoGluon's model keys and settings: about ten trials in all
    "lightgbm": ("GBM", [{}, {"extra_trees": True, "ag_args": {"name_suffix": "XT"}}]),
    "catboost": ("CAT", {}),
    "xgboost": ("XGB", {}),
    "randomforest": (
        "RF",
        [
            {"criterion": "gini", "ag_args": {"problem_types": ["binary", "multiclass"]}},
            {"criterion": "squared_error", "ag_args": {"problem_types": ["regression"]}},
        ],
    ),
    "extra-trees": (
        "XT",
        [
            {"criterion": "gini", "ag_args": {"problem_types": ["binary", "multiclass"]}},
            {"criterion": "squared_error", "ag_args": {"problem_types": ["regression"]}},
        ],
    ),
    "linear-learner": ("LR", {}),
    "nn-torch": ("NN_TORCH", {}),
}
AG_METRICS = {
    "Accuracy": "accuracy",
    "BalancedAccuracy": "balanced_accuracy",
    "AUC": "roc_auc",
    "F1": "f1",
    "F1macro": "f1_macro",
    "LogLoss": "log_loss",
    "Precision": "precision",
    "PrecisionMacro": "precision_macro",
    "Recall": "recall",
    "RecallMacro": "recall_macro",
    "MAE": "mean_absolute_error",
    "MSE": "mean_squared_error",
    "RMSE": "root_mean_squared_error",
    "R2": "r2",
}


def resolve_families(names: list[str] | None) -> list[str]:
    """Autopilot's algorithm names for ensembling mode (all when none are given)."""
    if not names:
        return list(FAMILIES)
    chosen = []
    for raw in names:
        name = raw.strip().lower().replace("_", "-")
        name = {"mlp": "nn-torch"}.get(name, name)
        if name not in FAMILIES:
            raise ConfigError(f"algorithm '{raw}' is not used in ensembling mode; choose from {', '.join(FAMILIES)}")
        chosen.append(name)
    return list(dict.fromkeys(chosen))


def hyperparameters(families: list[str]) -> dict:
    return {FAMILIES[f][0]: FAMILIES[f][1] for f in families}


def run_ensembling(data: TrialData, families: list[str], time_limit: float | None, seed: int, gpus: int) -> list:
    """Fit AutoGluon on the train split and write one trial per model it made; runs in a trial process."""
    from autogluon.tabular import TabularPredictor

    warnings.filterwarnings("ignore")  # AutoGluon's and its libraries' chatter; this is a trial's own process
    problem = Problem.from_dict(data.problem)
    job_dir = Path(data.trials_dir).parent
    required = list(feature_kinds(data.profile, problem.target))  # identifiers and constant columns stay out
    train, validation = read_frame(data.train_path), read_frame(data.validation_path)
    train = train[[*required, problem.target]]
    predictor = TabularPredictor(
        label=problem.target,
        problem_type=problem.problem_type,
        eval_metric=AG_METRICS[problem.metric],
        path=str(job_dir / AG_DIR),
        verbosity=0,
        positive_class=problem.positive_label,
    )
    predictor.fit(
        train,
        time_limit=time_limit,
        hyperparameters=hyperparameters(families),
        num_bag_folds=BAG_FOLDS,
        num_stack_levels=STACK_LEVELS,
        num_gpus=gpus,
        ag_args_fit={"random_seed": seed},
        dynamic_stacking=False,
        calibrate_decision_threshold="auto",  # binary F1 and the like: a threshold tuned on out-of-fold rows
        fit_strategy="sequential",
    )
    board = predictor.leaderboard(validation, extra_info=False).set_index("model")
    results = []
    for i, model in enumerate(predictor.model_names(), 1):
        spec = TrialSpec(f"{i:03d}-{model}", CANDIDATE, {"model": model}, 1.0, seed)
        pipeline = AutoGluonPipeline(problem, model, required)
        pipeline.bind(predictor)
        start = time.perf_counter()
        codes, proba = pipeline.predict_encoded(validation)
        metrics = score_all(problem.problem_type, pipeline.encode_target(validation[problem.target]), codes, proba)
        metrics["predict_seconds"] = time.perf_counter() - start
        result = TrialResult(spec, SUCCEEDED, metrics, float(board.loc[model, "fit_time"]))
        save_outcome(Path(data.trials_dir) / spec.id, result, pipeline, None)
        results.append(result)
    return results


class AutoGluonPipeline(AutopilotPipeline):
    """One AutoGluon model (or its ensemble) behind the pipeline interface. The predictor is found in the job folder
    that holds this pipeline's file, and is loaded on first use."""

    def __init__(self, problem: Problem, model_name: str, required_columns: list[str]) -> None:
        self.problem, self.model_name, self._required = problem, model_name, list(required_columns)
        self.preprocessor = self.model = None
        self._predictor = None

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_predictor": None}

    @property
    def required_columns(self) -> list[str]:
        return list(self._required)

    def bind(self, predictor: object) -> None:
        self._predictor = predictor

    def loaded_from(self, path: Path) -> None:
        for folder in Path(path).resolve().parents:
            if (folder / "job.json").exists() and (folder / AG_DIR).is_dir():
                self._root = folder
                return
        raise PredictionError(f"{path}: no job folder with an {AG_DIR}/ predictor holds this pipeline")

    def _get_predictor(self) -> object:
        if self._predictor is None:
            from autogluon.tabular import TabularPredictor

            self._predictor = TabularPredictor.load(str(self._root / AG_DIR), verbosity=0)
        return self._predictor

    def predict_encoded(self, rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray | None]:
        require_rows(rows)
        require_columns(rows, self._required)
        predictor, X = self._get_predictor(), rows[self._required]
        if not self.problem.is_classification:
            return predictor.predict(X, model=self.model_name).to_numpy(dtype=np.float64), None
        proba = predictor.predict_proba(X, model=self.model_name, as_multiclass=True)
        proba = proba.reindex(columns=self.classes, fill_value=0.0).to_numpy(dtype=np.float64)
        proba /= proba.sum(axis=1, keepdims=True)  # AutoGluon's float32 rows sum to 1 only roughly
        if self.problem.problem_type == BINARY:  # the positive class is last, as in every autopilot pipeline
            return (proba[:, 1] > predictor.decision_threshold).astype(np.int64), proba
        return proba.argmax(axis=1), proba
