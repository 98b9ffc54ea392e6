"""Exact SHAP attributions of AutoGluon tree models from their own tree SHAP: LightGBM's ``pred_contrib``, XGBoost's
``pred_contribs`` and CatBoost's ``ShapValues``, in AutoGluon's feature space, then added back into the original
columns (a date's parts into the date, a one-hot level into its column).

Exact where it holds:
- a single tree model (classification: its log-odds or the predicted class's margin; regression: the prediction);
- regression ensembles of tree models, bagged (the mean of the fold models) or weighted (AutoGluon's weights): the
  prediction is that weighted sum of the members' predictions, so the attributions combine with the same weights.
A bagged or weighted classifier averages probabilities, which no sum of log-odds attributions equals: those, stacker
models, and any model with another member, return None and are explained model-agnostically. Every result is checked:
base value + attributions must equal the model's own output, or None is returned.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

TREE_MODELS = ("LGBModel", "XGBoostModel", "CatBoostModel")
PROBES = ((0, 5), (5, 30))  # row ranges timed to size a budgeted explanation: a fixed part (loading) and a per-row part
ADDITIVITY_TOLERANCE = 1e-4  # relative; AutoGluon's outputs are float32


def sized_tree_shap(
    pipeline: object, rows: pd.DataFrame, seconds: float | None
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, str, str] | None:
    """``tree_shap`` on as many of the first rows as fit ``seconds`` (all of them without a limit), and a note of
    what was cut. Tree SHAP's cost grows with the trees: a bagged booster of thousands of trees per fold takes
    seconds per hundred rows. Two small batches are timed (the first pays for loading the models), the rest sized."""
    if seconds is None or len(rows) <= PROBES[-1][1]:
        whole = tree_shap(pipeline, rows)
        return None if whole is None else (*whole, "")
    parts, timings = [], []
    for lo, hi in PROBES:
        start = time.perf_counter()
        parts.append(tree_shap(pipeline, rows.iloc[lo:hi]))
        timings.append(time.perf_counter() - start)
        if parts[-1] is None:
            return None
    (lo1, hi1), (lo2, hi2) = PROBES
    # the second batch's extra rows over the first's give the cost per row; never under a tenth of the second
    # batch's plain average, so that timing noise cannot promise thousands of rows
    per_row = max((timings[1] - timings[0]) / ((hi2 - lo2) - (hi1 - lo1)), timings[1] / (hi2 - lo2) / 10, 1e-6)
    fixed = max(timings[0] - per_row * (hi1 - lo1), 0.0)
    done = hi2
    n = min(len(rows), done + max(int((seconds - sum(timings) - fixed) / per_row), 0))
    if n > done:
        rest = tree_shap(pipeline, rows.iloc[done:n])
        if rest is None:
            return None
        parts.append(rest)
    values = pd.concat([p[0] for p in parts])
    base, outputs = (np.concatenate([p[i] for p in parts]) for i in (1, 2))
    note = "" if n == len(rows) else f"explained {n} of {len(rows)} rows"
    if note:
        note += ", the fewest it explains: no time was left" if seconds < 0.05 else f" to fit its {seconds:.1f} s"
    return values, base, outputs, parts[0][3], note


def tree_shap(pipeline: object, rows: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, str] | None:
    """Attributions (original columns), base values, outputs and what they explain; None where not exact."""
    predictor = pipeline._get_predictor()
    regression = not pipeline.problem.is_classification
    members = _members(predictor._trainer, pipeline.model_name, single=not regression)
    if members is None:
        return None
    features = predictor.transform_features(pipeline.transform(rows))
    columns = pipeline.required_columns
    values, base, margins = np.zeros((len(rows), len(columns))), np.zeros(len(rows)), None
    chosen = _explained_class(pipeline, predictor, rows)
    for weight, bag, model in members:
        contributions, names = _contributions(model, bag.preprocess(features) if bag is not None else features)
        if contributions.ndim == 3:  # multiclass: rows x classes x (features + bias)
            margins = contributions.sum(axis=2)
            contributions = contributions[np.arange(len(rows)), chosen]
        sources = [_source(name, columns) for name in names]
        if None in sources:
            return None
        folded = pd.DataFrame(contributions[:, :-1], columns=sources).T.groupby(level=0).sum().T
        values += weight * folded.reindex(columns=columns, fill_value=0.0).to_numpy()
        base += weight * contributions[:, -1]
    outputs = base + values.sum(axis=1)
    if not _matches(pipeline, predictor, rows, outputs, margins):
        return None
    return pd.DataFrame(values, columns=columns, index=rows.index), base, outputs, _output_name(pipeline)


def _members(
    trainer: object, name: str, weight: float = 1.0, single: bool = False
) -> list[tuple[float, object, object]] | None:
    """(weight, bag or None, fitted tree model) whose weighted sum of raw outputs is the model's; None otherwise.
    With ``single`` (a classifier: only one unbagged tree model is exact), None as soon as the model is a bag or
    weighs several members, before loading them (a bag of five folds' models took 2.8 s to load, only to be
    refused)."""
    model = trainer.load_model(name)
    kind = type(model).__name__
    if kind == "WeightedEnsembleModel":
        weights = model._get_model_weights()
        if single and len(weights) > 1:
            return None
        out = []
        for base, share in weights.items():
            inner = _members(trainer, base, weight * float(share), single)
            if inner is None:
                return None
            out += inner
        return out
    if kind in TREE_MODELS:
        return [(weight, None, model)]
    children = getattr(model, "models", None)
    if single or kind != "StackerEnsembleModel" or not children or getattr(model, "base_model_names", None):
        return None  # a classifier's bag (it averages probabilities), not bagged, or a stacker on other models
    loaded = [model.load_child(child) for child in children]
    if any(type(child).__name__ not in TREE_MODELS for child in loaded):
        return None
    return [(weight / len(loaded), model, child) for child in loaded]


def _contributions(model: object, features: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """One tree model's contributions (rows x features + bias, or rows x classes x features + bias) and the names of
    the AutoGluon features they belong to."""
    X = model.preprocess(features)
    kind = type(model).__name__
    if kind == "LGBModel":
        raw = model.model.predict(X, pred_contrib=True)
        names = _names(model, X)
        classes = raw.shape[1] // (len(names) + 1)
        return (raw.reshape(len(X), classes, -1) if classes > 1 else raw), names
    if kind == "CatBoostModel":
        from catboost import Pool

        cats = [i for i, dtype in enumerate(X.dtypes) if isinstance(dtype, pd.CategoricalDtype) or dtype.kind == "O"]
        raw = model.model.get_feature_importance(Pool(X, cat_features=cats), type="ShapValues")
        return raw, _names(model, X)
    import xgboost

    encoder = model._ohe_generator
    names = [c for c in encoder.cat_cols for _ in encoder.labels[c]] + list(encoder.other_cols)
    best = getattr(model.model, "best_iteration", None)  # early stopping: predict with the trees it kept
    rounds = (0, best + 1) if best is not None else (0, 0)
    booster = model.model.get_booster()
    raw = booster.predict(xgboost.DMatrix(X), pred_contribs=True, strict_shape=True, iteration_range=rounds)
    return (raw if raw.shape[1] > 1 else raw[:, 0]), names


def _names(model: object, X: pd.DataFrame) -> list[str]:
    """AutoGluon's names of the model's input columns: its preprocessing may rename them for the library (LightGBM
    replaces spaces), keeping their order."""
    features = list(getattr(model, "features", None) or [])
    return features if len(features) == X.shape[1] else list(X.columns)


def _source(name: str, columns: list[str]) -> str | None:
    """The original column an AutoGluon feature comes from: itself, or the column it is a part of (``date.year``)."""
    if name in columns:
        return name
    owners = [c for c in columns if name.startswith(f"{c}.")]
    return max(owners, key=len) if owners else None


def _explained_class(pipeline: object, predictor: object, rows: pd.DataFrame) -> np.ndarray:
    """Multiclass: each row's predicted class, as AutoGluon's class index; else zeros (one output)."""
    if pipeline.problem.problem_type != "multiclass":
        return np.zeros(len(rows), dtype=int)
    codes = pipeline.predict_encoded(rows)[0]
    position = {label: i for i, label in enumerate(predictor.class_labels)}
    return np.array([position[pipeline.classes[c]] for c in codes])


def _matches(
    pipeline: object, predictor: object, rows: pd.DataFrame, outputs: np.ndarray, margins: np.ndarray | None
) -> bool:
    """Whether base + attributions give the model's own output: its prediction; for a classifier, its probabilities
    through the sigmoid of the log-odds or the softmax of every class's margin."""
    if not pipeline.problem.is_classification:
        expected = pipeline.predict_encoded(rows)[0]
        return bool(np.allclose(outputs, expected, rtol=ADDITIVITY_TOLERANCE, atol=ADDITIVITY_TOLERANCE))
    proba = predictor.predict_proba(pipeline.transform(rows), model=pipeline.model_name, as_multiclass=True)
    proba = proba.to_numpy(dtype=np.float64)
    if margins is None:  # binary: the log-odds of AutoGluon's second class, the positive one
        return bool(np.allclose(1 / (1 + np.exp(-outputs)), proba[:, 1], atol=ADDITIVITY_TOLERANCE))
    softmax = np.exp(margins - margins.max(axis=1, keepdims=True))
    return bool(np.allclose(softmax / softmax.sum(axis=1, keepdims=True), proba, atol=ADDITIVITY_TOLERANCE))


def _output_name(pipeline: object) -> str:
    problem = pipeline.problem
    if problem.problem_type == "regression":
        return f"predicted {problem.target}"
    if problem.problem_type == "binary":
        return f"log-odds of {problem.target} = {problem.classes[-1]!r}"
    return "margin (log-odds before softmax) of the predicted class"
