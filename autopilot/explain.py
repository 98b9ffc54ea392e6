"""SHAP attributions of a pipeline's output to the original columns.

XGBoost pipelines: shap's TreeExplainer on the model's own features (log-odds, class margins or the prediction), then
each derived feature's attribution (one-hot columns, missing-value indicators, date parts, TF-IDF terms) is added back
into the column it came from. Other pipelines (Linear Learner, MLP, AutoGluon): shap's PermutationExplainer over the
original columns, against a stated background sample of training rows, explaining class probabilities or the
prediction. Either way a row's base value plus its attributions equals the model's output for that row.

>>> from autopilot import load_job
>>> load_job("autopilot-output/penguins").explain(rows)  # doctest: +SKIP
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from autopilot.errors import PredictionError

EXPLAIN_ROWS = 1000
BACKGROUND_ROWS = 50
MIN_ROWS, MIN_BACKGROUND = 10, 10  # the least a budgeted explanation shrinks to
COST_ROWS = 300  # a model call's cost is timed on 50 and on this many rows (a bagged ensemble takes ~0.5 s on 1,000)
CALL_ROWS = 100_000  # rows handed to the model in one call while explaining (memory: this x columns values)
SEED = 0


@dataclass
class Explanation:
    """Per-row attributions (one column per original feature), the base value and the output they add up to."""

    values: pd.DataFrame
    base_values: np.ndarray
    outputs: np.ndarray
    output_name: str  # what is explained, e.g. "log-odds of 'yes'"
    method: str
    shrunk: str = ""  # what was cut to fit the time given, if anything

    def importance(self) -> pd.Series:
        """Mean |attribution| per original column, largest first."""
        return self.values.abs().mean().sort_values(ascending=False).rename("mean_abs_shap")

    def table(self) -> pd.DataFrame:
        """The attributions with ``base_value`` and ``output`` columns; each row's base + attributions = output."""
        return self.values.assign(base_value=self.base_values, output=self.outputs)


def explain(
    pipeline: object, rows: pd.DataFrame, background: pd.DataFrame, seconds: float | None = None
) -> Explanation:
    """Attributions for ``rows`` (the model's output explained: see the module docstring). With ``seconds``, the
    explanation is sized to fit them: native tree SHAP explains fewer rows (the first ones kept); a model-agnostic
    explanation also takes a smaller background, down to ``MIN_ROWS`` x ``MIN_BACKGROUND``. ``Explanation.shrunk``
    says what was cut."""
    if len(rows) == 0:
        raise PredictionError("no rows to explain; give at least one row")
    if getattr(pipeline.model, "booster_", None) is not None:
        return _tree(pipeline, rows)
    if getattr(pipeline, "model_name", None) is not None:  # AutoGluon: its own tree SHAP where that is exact
        from autopilot.explain_autogluon import sized_tree_shap

        native = sized_tree_shap(pipeline, rows, seconds)
        if native is not None:
            values, base, outputs, name, shrunk = native
            return Explanation(values, base, outputs, name, "native tree SHAP of AutoGluon's tree models", shrunk)
    if seconds is None:
        return _permutation(pipeline, rows, background, BACKGROUND_ROWS)
    return _sized_permutation(pipeline, rows, background, seconds)


def _sized_permutation(pipeline: object, rows: pd.DataFrame, background: pd.DataFrame, seconds: float) -> Explanation:
    """Permutation SHAP on as many of the first rows, against as large a background, as fit ``seconds``: sized by
    an estimate of the model calls' cost; where the first pass took less than estimated (one call's cost timed on
    a few hundred rows is cautious), a second pass explains more rows at the pace the first one kept."""
    start = time.perf_counter()
    cost = _call_cost(pipeline, background)  # measuring it is part of the explanation's time
    n, size, note = _fit_to_budget(pipeline, rows, background, seconds - (time.perf_counter() - start), cost)
    first = time.perf_counter()
    explanation = _permutation(pipeline, rows.iloc[:n], background, size)
    more = _rows_left_time_for(len(rows) - n, n, time.perf_counter() - first, seconds - (time.perf_counter() - start))
    if more:
        explanation = _joined(explanation, _permutation(pipeline, rows.iloc[n : n + more], background, size))
        n += more
        note = f"explained {n} of {len(rows)} rows against {size} background rows to fit its {seconds:.1f} s"
        if n == len(rows) and size == min(BACKGROUND_ROWS, len(background)):
            note = ""
    explanation.shrunk = note
    return explanation


def _rows_left_time_for(waiting: int, done: int, took: float, left: float) -> int:
    """How many of ``waiting`` rows a second pass explains in the ``left`` seconds, at the pace of the first pass
    (``done`` rows in ``took`` s), with a tenth kept back."""
    if waiting <= 0 or done <= 0 or left <= 0:
        return 0
    return min(waiting, int(0.9 * left * done / max(took, 1e-6)))


def _joined(first: Explanation, second: Explanation) -> Explanation:
    """Two explanations of consecutive rows, made alike, as one."""
    return Explanation(
        pd.concat([first.values, second.values]),
        np.concatenate([first.base_values, second.base_values]),
        np.concatenate([first.outputs, second.outputs]),
        first.output_name,
        first.method,
    )


def _fit_to_budget(
    pipeline: object, rows: pd.DataFrame, background: pd.DataFrame, seconds: float, cost: tuple[float, float]
) -> tuple:
    """Rows and background size whose estimated cost fits ``seconds``: permutation SHAP calls the model 2 x columns
    times on rows x background rows, and one call's ``cost`` is a fixed part plus a per-row part (``_call_cost``)."""
    a, b = cost
    steps = 2 * len(pipeline.required_columns)
    full = min(BACKGROUND_ROWS, len(background))
    for size in (full, min(full, 20), min(full, MIN_BACKGROUND)):
        n = len(rows)
        while n > min(len(rows), 2 * MIN_ROWS) and _estimate(a, b, n, size, steps) > seconds:
            n = int(n * 0.8)
        if _estimate(a, b, n, size, steps) <= seconds:
            break
    n = max(min(n, len(rows)), min(MIN_ROWS, len(rows)))
    if n == len(rows) and size == full:
        return n, size, ""
    estimate = _estimate(a, b, n, size, steps)
    note = f"explained {n} of {len(rows)} rows against {size} background rows"
    if seconds < 0.05:
        return n, size, f"{note}, the fewest it explains: no time was left"
    over = f" (estimated {estimate:.1f} s: over)" if estimate > seconds + 0.05 else ""
    return n, size, f"{note} to fit its {seconds:.1f} s{over}"


def _estimate(fixed: float, per_row: float, rows: int, background: int, steps: int) -> float:
    """Seconds of a permutation explanation: its model calls' fixed part and every row they predict."""
    calls = -(-steps // steps_per_call(rows, background))
    return calls * fixed + per_row * rows * background * steps


def _call_cost(pipeline: object, background: pd.DataFrame) -> tuple[float, float]:
    """Seconds of one model call: a fixed part and a part per row, measured on training rows (after a first call
    that loads the model). The per-row part is at least a tenth of the large call's time per row: a measured
    difference near zero would otherwise promise a free explanation."""
    sample = background.sample(COST_ROWS, random_state=SEED, replace=len(background) < COST_ROWS)
    pipeline.predict_encoded(sample)  # loads the model, and warms what a first call of each size warms (torch)
    timings = []
    for size in (50, len(sample)):  # the faster of two calls: one slowed by chance would skew the per-row part
        runs = []
        for _ in range(2):
            start = time.perf_counter()
            pipeline.predict_encoded(sample.iloc[:size])
            runs.append(time.perf_counter() - start)
        timings.append(min(runs))
    per_row = max(timings[1] - timings[0], 0.1 * timings[1]) / (len(sample) - 50)
    return max(timings[0] - 50 * per_row, 0.0), max(per_row, 1e-7)


def _tree(pipeline: object, rows: pd.DataFrame) -> Explanation:
    import shap

    model, problem = pipeline.model, pipeline.problem
    booster = model.booster_[: model.best_iteration_ + 1]  # the trees the model predicts with
    X = pipeline.transform(rows)
    result = shap.TreeExplainer(booster)(X)
    values, base = np.asarray(result.values), np.asarray(result.base_values, dtype=float)
    sources = feature_sources(pipeline.preprocessor)
    if values.ndim == 3:  # multiclass: each row's predicted class
        chosen = pipeline.predict_encoded(rows)[0]
        values, base = values[np.arange(len(rows)), :, chosen], base[np.arange(len(rows)), chosen]
        name = "margin (log-odds before softmax) of the predicted class"
    else:
        name = _single_output_name(problem, "log-odds")
    folded = fold(values, sources, pipeline.required_columns).set_axis(rows.index)
    return Explanation(folded, base, base + folded.to_numpy().sum(axis=1), name, "shap TreeExplainer (path-dependent)")


def _single_output_name(problem: object, kind: str) -> str:
    if problem.problem_type == "regression":
        return f"predicted {problem.target}"
    return f"{kind} of {problem.target} = {problem.classes[-1]!r}"


def _permutation(pipeline: object, rows: pd.DataFrame, background: pd.DataFrame, size: int) -> Explanation:
    columns, problem = pipeline.required_columns, pipeline.problem
    codebook = {c: pd.factorize(pd.concat([rows[c], background[c]]), use_na_sentinel=False)[1] for c in columns}
    dtypes = rows[columns].dtypes

    def encode(frame: pd.DataFrame) -> np.ndarray:
        return np.column_stack([_codes(codebook[c], frame[c]) for c in columns])

    def output(codes: np.ndarray) -> np.ndarray:
        frame = pd.DataFrame({c: codebook[c].take(codes[:, i]) for i, c in enumerate(columns)}).astype(dtypes)
        predicted, proba = pipeline.predict_encoded(frame)
        return predicted.astype(float)[:, None] if proba is None else proba

    sample = background.sample(min(size, len(background)), random_state=SEED)
    values, base = permutation_shap(output, encode(rows), encode(sample), np.random.default_rng(SEED))
    if problem.problem_type == "multiclass":
        chosen, name = pipeline.predict_encoded(rows)[0], "probability of the predicted class"
    else:
        chosen, name = np.full(len(rows), values.shape[2] - 1), _single_output_name(problem, "probability")
    values, base = values[np.arange(len(rows)), :, chosen], base[chosen]
    method = f"permutation SHAP (one antithetic permutation pair per row), background: {len(sample)} training rows"
    frame = pd.DataFrame(values, columns=columns, index=rows.index)
    return Explanation(frame, base, base + values.sum(axis=1), name, f"{method} (seed {SEED})")


def permutation_shap(
    f: object, X: np.ndarray, background: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Shapley values by permutation sampling, as shap's PermutationExplainer computes them, but batched: each row's
    features are switched from the background to the row's values in a random order and then in the reverse order,
    and each feature gets the average change in the mean output. The 2 x features steps are evaluated together, as
    many per model call as ``CALL_ROWS`` allows, so a model with a large fixed cost per call (an ensemble of bagged
    models) pays it a few times rather than 2 x features times. Every pass runs from the background's mean output to
    the row's output, so a row's attributions add up to exactly that difference. Returns values (rows x features x
    outputs) and the base value."""
    n, m = X.shape
    base = f(background).mean(axis=0)
    order = np.argsort(rng.random((n, m)), axis=1)
    values = np.zeros((n, m, base.shape[0]))
    rows, per_call = np.arange(n), steps_per_call(n, len(background))
    for sequence in (order, order[:, ::-1]):
        current = np.repeat(background[None, :, :], n, axis=0)  # rows x background x features
        before = np.broadcast_to(base, (n, base.shape[0]))
        for first in range(0, m, per_call):
            states = []
            for step in range(first, min(first + per_call, m)):
                current[rows, :, sequence[:, step]] = X[rows, sequence[:, step]][:, None]
                states.append(current.reshape(-1, m).copy())
            outputs = f(np.concatenate(states)).reshape(len(states), n, len(background), -1).mean(axis=2)
            for i, after in enumerate(outputs):
                values[rows, sequence[:, first + i]] += (after - before) / 2
                before = after
    return values, base


def steps_per_call(rows: int, background: int) -> int:
    """Permutation steps evaluated in one model call: as many as fit in ``CALL_ROWS`` rows (at least one)."""
    return max(1, CALL_ROWS // max(rows * background, 1))


def _codes(uniques: pd.Index, values: pd.Series) -> np.ndarray:
    """Each value's position in ``uniques`` (missing values, None or NaN alike, at the missing entry's)."""
    codes = uniques.get_indexer(values)
    missing = values.isna().to_numpy()
    if missing.any():
        codes[missing] = np.flatnonzero(pd.isna(uniques))[0]
    return codes


def feature_sources(preprocessor: object) -> list[str]:
    """For each feature the preprocessor outputs, the original column it was derived from."""
    features = preprocessor.named_steps["features"]
    sources: list[str] = []
    for _name, transformer, columns in features.transformers_:
        if isinstance(transformer, str) or (isinstance(columns, list) and not columns):
            continue  # "drop" / "passthrough" of nothing
        if isinstance(columns, str):  # free text: every TF-IDF term comes from this one column
            sources += [columns] * len(transformer.get_feature_names_out())
        else:
            sources += _walk(transformer, list(columns))
    return sources


def _walk(step: object, sources: list[str]) -> list[str]:
    """The source column of each output of one fitted step, given its inputs' sources."""
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    from autopilot.preprocess import DATE_PARTS, DateParts

    if isinstance(step, Pipeline):
        for _, sub in step.steps:
            sources = _walk(sub, sources)
        return sources
    if isinstance(step, SimpleImputer):  # keep_empty_features: every input stays; indicators are appended
        indicator = getattr(step, "indicator_", None)
        return sources + ([sources[i] for i in indicator.features_] if indicator is not None else [])
    if isinstance(step, OneHotEncoder):
        infrequent = getattr(step, "infrequent_categories_", None) or [None] * len(sources)
        widths = [
            len(c) - (len(rare) - 1 if rare is not None else 0)
            for c, rare in zip(step.categories_, infrequent, strict=True)
        ]
        return [s for s, width in zip(sources, widths, strict=True) for _ in range(width)]
    if isinstance(step, DateParts):
        return [s for s in sources for _ in DATE_PARTS]
    width = len(step.get_feature_names_out())
    if width != len(sources):
        raise ValueError(f"cannot tell which columns {type(step).__name__}'s {width} outputs come from")
    return sources


def fold(values: np.ndarray, sources: list[str], columns: list[str]) -> pd.DataFrame:
    """Sum the attributions of the features derived from each original column."""
    if values.shape[1] != len(sources):
        raise ValueError(f"{values.shape[1]} attributions for {len(sources)} features")
    frame = pd.DataFrame(values, columns=sources)
    folded = frame.T.groupby(level=0, sort=False).sum().T
    return folded.reindex(columns=columns, fill_value=0.0)
