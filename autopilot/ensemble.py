"""Ensembling mode: AutoGluon's TabularPredictor, as Autopilot's ensembling mode, run to a plan made for the budget
(``ensemble_plan.py``): either one holdout (the job's validation rows tune and score every model; the best is then
refit on every labelled row) or k-fold bagging over every labelled row with or without a stack level (scored
out-of-fold). Either way each model AutoGluon made, the weighted ensemble included, is written as a trial with the
same leaderboard columns as HPO trials, its out-of-sample predictions beside it, and a pipeline that predicts through
the same interface. Every row, at training and at prediction, goes through the one cast of ``make_coercer``.

The predictor lives in the job folder (``autogluon/``), and a pipeline finds it through the job folder that holds the
pipeline, so a moved folder predicts.
"""

from __future__ import annotations

import json
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from autopilot.budget import refit_skipped
from autopilot.ensemble_families import hyperparameters, settings_for_models
from autopilot.ensemble_plan import EnsemblePlan
from autopilot.errors import PredictionError
from autopilot.io import read_json, write_json
from autopilot.metrics import BINARY, score_all
from autopilot.pipeline import AutopilotPipeline, require_rows
from autopilot.predictions import PREDICTIONS_FILE, write_predictions
from autopilot.preprocess import ColumnCoercer, make_coercer, require_columns
from autopilot.problem import Problem
from autopilot.search.runner import TrialData, read_frame, save_outcome
from autopilot.search.spec import SUCCEEDED, TrialResult, TrialSpec

AG_DIR = "autogluon"
CANDIDATE = "autogluon"
REFIT_FILE = "refit.joblib"  # the best trial's pipeline retrained on every labelled row
REFIT_SUMMARY = "refit.json"  # beside it: what the refit made, from how many rows, in how long
SCORED_FILE = "scored.json"  # in autogluon/: written once every model is scored (and refit); a resume trusts only that
FIT_TAIL = (0.04, 1.0, 3.0)  # what follows AutoGluon's last model: this share of its seconds, at least, at most
DATE_PARTS = ["year", "month", "day", "dayofweek", "dayofyear", "hour"]  # AutoGluon's default lacks the last two
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

# Objectives read off a decision threshold (F1 and the like). AutoGluon would stop each booster and network early on
# the objective itself: computed in Python at every round (a LightGBM bag took 3-4x as long), at the 0.5 threshold
# that calibrate_decision_threshold moves afterwards, and jumping a row at a time on small data. Models stop on log
# loss instead, a smooth score of the probabilities the threshold is then tuned on.
STOP_ON_LOG_LOSS = {"F1", "F1macro", "BalancedAccuracy", "Precision", "PrecisionMacro", "Recall", "RecallMacro"}


@dataclass(frozen=True)
class EnsembleRun:
    """What the trial process is told: the plan, and the ``time.monotonic()`` deadlines of the fit and the refit."""

    plan: EnsemblePlan
    seed: int
    gpus: int = 0
    fit_until: float | None = None
    refit_until: float | None = None
    progress_file: str | None = None
    models: tuple[str, ...] = ()  # only these (a job's model and its members, remade from the data file), no refit


def run_in_trial_process(data: TrialData, run: EnsembleRun) -> list[str]:
    """``run_ensembling`` in the job's trial process, without two costs AutoGluon pays on each fit that such a
    process does not need: importing MLflow (about 2 s) only to warn if its autologging is on, which it cannot be
    in a process that never imported MLflow; and garbage collections that walk every object the libraries made at
    import (about 0.3 s each, around each model), which are frozen out of collection first."""
    import gc
    import sys

    from autogluon.tabular.predictor import predictor as module

    if "mlflow" not in sys.modules:
        module.warn_if_mlflow_autologging_is_enabled = lambda logger=None: None
    gc.freeze()
    return run_ensembling(data, run)


def run_ensembling(data: TrialData, run: EnsembleRun) -> list[str]:
    """Fit AutoGluon as planned, write one scored trial per model it made, and (holdout scheme) refit the best on
    every labelled row if the time left allows; runs in a trial process. Returns notes on what was shrunk."""
    from autogluon.tabular import TabularPredictor

    from autopilot.ensemble_progress import ProgressCallback

    warnings.filterwarnings("ignore")  # AutoGluon's and its libraries' chatter; this is a trial's own process
    problem = Problem.from_dict(data.problem)
    coercer = make_coercer(data.profile, problem.target)
    paths = (data.train_path, data.validation_path)
    train, validation = (_typed(read_frame(path), coercer, problem.target) for path in paths)
    bagging = run.plan.scheme == "bagging"
    every_row = pd.concat([train, validation], ignore_index=True)
    predictor = TabularPredictor(
        label=problem.target,
        problem_type=problem.problem_type,
        eval_metric=AG_METRICS[problem.metric],
        path=str(Path(data.trials_dir).parent / AG_DIR),
        verbosity=0,
        positive_class=problem.positive_label,
    )
    predictor.fit(
        every_row if bagging else train,
        tuning_data=None if bagging else validation,
        time_limit=_fit_seconds(run.fit_until),
        hyperparameters=_settings(run),
        num_bag_folds=run.plan.folds,
        num_stack_levels=run.plan.stack_levels,
        num_gpus=run.gpus,
        ag_args_fit={"random_seed": run.seed} | _stopping_metric(problem),
        dynamic_stacking=False,
        calibrate_decision_threshold="auto",  # binary F1 and the like: a threshold tuned on out-of-sample rows
        fit_strategy="sequential",
        callbacks=[ProgressCallback(run.progress_file)] if run.progress_file else None,
        _feature_generator_kwargs=_feature_generator_settings(),
    )
    results = _score_models(predictor, problem, coercer, validation if not bagging else every_row, data, run)
    rows = (len(train), len(every_row))
    refit = not (bagging or run.models)
    notes = _refit_best(predictor, results, problem, coercer, data, run.refit_until, rows) if refit else []
    write_json(Path(data.trials_dir).parent / AG_DIR / SCORED_FILE, {"trials": [r.spec.id for r in results]})
    return notes  # the marker last: a run killed while refitting (AutoGluon rewrites its files) is run again


def _stopping_metric(problem: Problem) -> dict:
    """AutoGluon's setting for what its models stop early on: log loss for a threshold objective (see
    ``STOP_ON_LOG_LOSS``), otherwise the objective (AutoGluon's default)."""
    return {"stopping_metric": "log_loss"} if problem.metric in STOP_ON_LOG_LOSS else {}


def _settings(run: EnsembleRun) -> dict:
    if run.models:
        return settings_for_models(run.plan.families, run.plan.portfolio, list(run.models))
    return hyperparameters(run.plan.families, portfolio=run.plan.portfolio)


def scored_completely(job_dir: Path) -> bool:
    """Whether an earlier run scored every model AutoGluon made (a run killed while writing them did not)."""
    marker = job_dir / AG_DIR / SCORED_FILE
    if not marker.exists():
        return False
    return all((job_dir / "trials" / trial / "result.json").exists() for trial in read_json(marker)["trials"])


def _feature_generator_settings() -> dict:
    """AutoGluon's default features, with the day of year and the hour of each date too (HPO's pipelines have them:
    hourly or seasonal data needs them), parts that do not vary are dropped by AutoGluon."""
    from autogluon.features.generators import DatetimeFeatureGenerator

    parts = DatetimeFeatureGenerator(features=DATE_PARTS)
    return {"enable_datetime_features": False, "custom_feature_generators": [parts]}


def _typed(frame: pd.DataFrame, coercer: ColumnCoercer, target: str) -> pd.DataFrame:
    """The frame as every model sees it: the features through the one cast new rows take, then the target."""
    return coercer.transform(frame).assign(**{target: frame[target].to_numpy()})


def _fit_seconds(fit_until: float | None) -> float | None:
    """AutoGluon's time limit: until the search's deadline, less what follows its last model (fitting the weighted
    ensemble, then scoring and writing every model), about 4% of it, 1 to 3 s: at 60 s on 2 cores the search ended
    2-4 s past its deadline without it, and the refit and explanation after it lost that time."""
    if fit_until is None:
        return None
    seconds = fit_until - time.monotonic()
    return max(1.0, seconds - min(max(FIT_TAIL[0] * seconds, FIT_TAIL[1]), FIT_TAIL[2]))


def _score_models(
    predictor: object,
    problem: Problem,
    coercer: ColumnCoercer,
    scored: pd.DataFrame,
    data: TrialData,
    run: EnsembleRun,
) -> list[TrialResult]:
    """Each model's scores, on the holdout rows or out-of-fold over every row when bagged (``scored`` holds those
    rows), written as a trial with the predictions they come from."""
    board = predictor.leaderboard(silent=True).set_index("model")
    holdout = run.plan.scheme == "holdout"
    pipelines = {m: AutoGluonPipeline(problem, m, list(coercer.kinds), coercer) for m in predictor.model_names()}
    outputs = _holdout_outputs(predictor, list(pipelines), coercer, scored) if holdout else {}
    results = []
    for i, (model, pipeline) in enumerate(pipelines.items(), 1):
        spec = TrialSpec(f"{i:03d}-{model}", CANDIDATE, {"model": model}, 1.0, run.seed)
        pipeline.bind(predictor)
        if holdout:
            codes, proba = pipeline.decide(outputs[model])
            scored_by = f"holdout ({len(scored):,} validation rows)"
        else:
            codes, proba = pipeline.out_of_fold(len(scored))
            scored_by = f"{run.plan.folds}-fold out-of-fold ({len(scored):,} rows)"
        truth = pipeline.encode_target(scored[problem.target])
        seconds = float(board.loc[model, "pred_time_val"])  # AutoGluon's timing on the rows it scored
        metrics = {**score_all(problem.problem_type, truth, codes, proba), "predict_seconds": seconds}
        own, with_members = (float(board.loc[model, k]) for k in ("fit_time_marginal", "fit_time"))
        if with_members > own:  # an ensemble or a stack-level model: AutoGluon's fit_time adds its members'
            metrics["fit_seconds_with_members"] = with_members
        result = TrialResult(spec, SUCCEEDED, metrics, own, None, scored_by)
        folder = Path(data.trials_dir) / spec.id
        write_predictions(folder / PREDICTIONS_FILE, truth, codes, proba, pipeline.classes)
        save_outcome(folder, result, pipeline, None)
        results.append(result)
    return results


def _holdout_outputs(predictor: object, models: list[str], coercer: ColumnCoercer, rows: pd.DataFrame) -> dict:
    """Every model's output on the holdout rows: the outputs AutoGluon kept when it scored each model on them (its
    validation rows; loading every model to predict again took 1.5 s of a 60 s job). Should its copy not be these
    rows, they are predicted in one pass: features made once, each base model's output reused by ensembles."""
    kept = _outputs(predictor, models, None)  # None: AutoGluon's validation rows, as it predicted them
    if all(kept[m].index.equals(rows.index) for m in models):
        return kept
    return _outputs(predictor, models, coercer.transform(rows))


def _outputs(predictor: object, models: list[str], X: pd.DataFrame | None) -> dict:
    if predictor.can_predict_proba:
        return predictor.predict_proba_multi(X, models=models, as_multiclass=True)
    return predictor.predict_multi(X, models=models)


def _refit_best(
    predictor: object,
    results: list[TrialResult],
    problem: Problem,
    coercer: ColumnCoercer,
    data: TrialData,
    until: float | None,
    rows: tuple[int, int],
) -> list[str]:
    """Retrain the best trial's model (its ensemble members too) on every labelled row, if its estimated cost
    fits the time left; the scored model stays in its trial, the refit one goes beside it."""
    from autopilot.leaderboard import build_leaderboard

    best = build_leaderboard(results, problem).iloc[0]
    model = json.loads(best["params"])["model"]
    board = predictor.leaderboard(silent=True).set_index("model")  # extra_info's "ancestors" costs seconds
    members = list(predictor._trainer.get_minimum_model_set(model))  # it and its ancestors: what a refit retrains
    estimate = float(board.loc[members, "fit_time_marginal"].sum()) * rows[1] / rows[0]
    skipped = refit_skipped(model, estimate, None if until is None else until - time.monotonic())
    if skipped:
        return [skipped]
    start = time.perf_counter()
    full = predictor.refit_full(model=model, set_best_to_refit_full=False)[model]
    pipeline = AutoGluonPipeline(problem, full, list(coercer.kinds), coercer)
    folder = Path(data.trials_dir) / best["trial"]
    pipeline.save(folder / REFIT_FILE)
    seconds = time.perf_counter() - start
    write_json(folder / REFIT_SUMMARY, {"model": full, "rows": rows[1], "seconds": round(seconds, 3)})
    return []


class AutoGluonPipeline(AutopilotPipeline):
    """One AutoGluon model (or its ensemble) behind the pipeline interface. The predictor is found in the job folder
    that holds this pipeline's file, and is loaded on first use."""

    def __init__(
        self, problem: Problem, model_name: str, required_columns: list[str], coercer: ColumnCoercer | None = None
    ) -> None:
        self.problem, self.model_name, self._required = problem, model_name, list(required_columns)
        self.coercer = coercer  # the cast the model was trained through (None in pipelines saved before it)
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

    def transform(self, rows: pd.DataFrame) -> pd.DataFrame:
        """The rows as the model was trained on them: the one cast of every feature column to its training kind."""
        require_rows(rows)
        require_columns(rows, self._required)
        coercer = getattr(self, "coercer", None)
        return rows[self._required] if coercer is None else coercer.transform(rows)

    def predict_encoded(self, rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray | None]:
        predictor, X = self._get_predictor(), self.transform(rows)
        if not self.problem.is_classification:
            return self.decide(predictor.predict(X, model=self.model_name))
        return self.decide(predictor.predict_proba(X, model=self.model_name, as_multiclass=True))

    def out_of_fold(self, rows: int) -> tuple[np.ndarray, np.ndarray | None]:
        """A bagged model's out-of-fold predictions over the ``rows`` rows it was trained on, in their order."""
        predictor, order = self._get_predictor(), pd.RangeIndex(rows)
        if not self.problem.is_classification:
            return self.decide(predictor.predict_oof(model=self.model_name).reindex(order))
        return self.decide(predictor.predict_proba_oof(model=self.model_name, as_multiclass=True).reindex(order))

    def decide(self, output: pd.DataFrame | pd.Series) -> tuple[np.ndarray, np.ndarray | None]:
        """Encoded predictions (and class probabilities) from AutoGluon's output: a regression's values as they
        are; a binary label by the predictor's calibrated threshold, others by the likeliest class."""
        if not self.problem.is_classification:
            return output.to_numpy(dtype=np.float64), None
        proba = output.reindex(columns=self.classes, fill_value=0.0).to_numpy(dtype=np.float64)
        proba /= proba.sum(axis=1, keepdims=True)  # AutoGluon's float32 rows sum to 1 only roughly
        if self.problem.problem_type == BINARY:  # the positive class is last, as in every autopilot pipeline
            return (proba[:, 1] > self._get_predictor().decision_threshold).astype(np.int64), proba
        return proba.argmax(axis=1), proba
