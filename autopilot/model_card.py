"""explain/model_card.json: the best model in words. What it is, the hyperparameters it was trained with, how its
rows are preprocessed and, for an ensemble, its members and their weights (a stack-level model: the models whose
predictions it learns from). report.html shows it.

>>> card = model_card(pipeline)  # doctest: +SKIP
>>> card["summary"]  # doctest: +SKIP
'a weighted average of 3 models'
"""

from __future__ import annotations

from collections import defaultdict

from autopilot.pipeline import AutopilotPipeline

# The HPO pipeline's steps (preprocess.build_preprocessor), by the name each part has in its ColumnTransformer.
STEP_WORDS = {
    "numeric": "missing values to the median, then scaled by the median and interquartile range",
    "boolean": "missing values to the most frequent value",
    "categorical": "one-hot, values in under 1% of the rows pooled and missing values a category of their own",
    "datetime": "year, month, day, weekday, day of year and hour, missing to the median, then scaled",
    "text": "TF-IDF of the 2,000 most frequent words and word pairs",
}
ORDINAL_WORDS = "integer codes for the network's embeddings (rare, missing and unseen values share code 0)"
SIMPLE = (bool, int, float, str, type(None))


def model_card(pipeline: AutopilotPipeline) -> dict:
    """The card of a fitted pipeline: an HPO trial's (autopilot's preprocessing and model) or an AutoGluon model's."""
    if getattr(pipeline, "model_name", None) is not None:  # AutoGluonPipeline
        return _autogluon_card(pipeline)
    model = pipeline.model
    params = {k: v for k, v in model.get_params().items() if isinstance(v, SIMPLE)}
    name = getattr(model, "key", type(model).__name__)
    return {
        "model": name,
        "summary": f"autopilot's {name} candidate (settings not listed are fixed by the candidate)",
        "hyperparameters": params,
        "preprocessing": _hpo_preprocessing(pipeline),
        "members": [],
    }


def _hpo_preprocessing(pipeline: AutopilotPipeline) -> list[str]:
    features = pipeline.preprocessor.named_steps["features"]
    ordinal = getattr(pipeline.model, "categorical_encoding", "onehot") == "ordinal"
    lines = []
    for name, _, columns in features.transformers_:
        if name == "remainder":
            continue
        kind = "text" if name.startswith("text_") else name
        words = ORDINAL_WORDS if kind == "categorical" and ordinal else STEP_WORDS.get(kind, kind)
        listed = [columns] if isinstance(columns, str) else list(columns)
        lines.append(f"{kind} columns, {words}: {', '.join(map(str, listed))}")
    return lines


def _autogluon_card(pipeline: AutopilotPipeline) -> dict:
    """From the saved models themselves (loading a bag's first fold model only): AutoGluon's ``info()`` loads every
    model of the predictor, which takes minutes on a large one."""
    predictor = pipeline._get_predictor()
    trainer = predictor._trainer
    name = pipeline.model_name
    model = trainer.load_model(name)
    card = {"model": name, "summary": "", "hyperparameters": _hyperparameters(model), "members": []}
    if hasattr(model, "_get_model_weights"):  # a weighted ensemble
        ranked = sorted(model._get_model_weights().items(), key=lambda item: -item[1])
        card["members"] = [_member(trainer, m, round(float(w), 4)) for m, w in ranked]
        models = f"{len(ranked)} models'" if len(ranked) > 1 else "1 model's"
        card["summary"] = f"a weighted average of {models} predictions (AutoGluon's ensemble selection)"
    else:
        inputs = getattr(model, "base_model_names", None) or []
        card["summary"] = _single_summary(model, len(inputs))
        card["members"] = [_member(trainer, m, None) for m in inputs]
    card["preprocessing"] = _autogluon_preprocessing(predictor)
    return card


def _single_summary(model: object, stacked: int) -> str:
    folds = len(getattr(model, "models", None) or [])
    text = f"AutoGluon's {type(_inner(model)).__name__}"
    if folds > 1:
        text += f", bagged: {folds} models, one per fold, their predictions averaged"
    if stacked:
        text += f", stacked on the predictions of {stacked} models below it"
    return text


def _member(trainer: object, name: str, weight: float | None) -> dict:
    return {"model": name, "weight": weight, "hyperparameters": _hyperparameters(trainer.load_model(name))}


def _inner(model: object) -> object:
    """A bag's first fold model (the same settings in each fold), or the model itself."""
    folds = getattr(model, "models", None)
    return model.load_child(folds[0]) if folds and hasattr(model, "load_child") else model


def _hyperparameters(model: object) -> dict:
    """The model's settings (a bag's: its fold models'; AutoGluon's bagging settings are left out), and the rounds
    or epochs early stopping chose (a bag's: its first fold's)."""
    inner = _inner(model)
    params = {k: v for k, v in (getattr(inner, "params", None) or {}).items() if isinstance(v, SIMPLE)}
    chosen = (getattr(inner, "params_trained", None) or {}).items()
    fitted = {f"{k} (fitted)": v for k, v in chosen if isinstance(v, int | float) and v > 0}
    return {**params, **fitted}


def _autogluon_preprocessing(predictor: object) -> list[str]:
    """AutoGluon's feature pipeline, column by column, grouped by what it does to them."""
    generator = predictor._learner.feature_generator
    links = generator.get_feature_links()
    out = generator.feature_metadata
    raw_in = generator.feature_metadata_in.type_map_raw
    groups: dict[str, list[str]] = defaultdict(list)
    for column, made in links.items():
        groups[_treatment(column, made, out, raw_in.get(column, ""))].append(column)
    lines = [f"{what}: {', '.join(columns)}" for what, columns in groups.items()]
    return [*lines, "then each model's own handling of those features (AutoGluon's per-model preprocessing)"]


def _treatment(column: str, made: list[str], out: object, raw: str) -> str:
    if not made:
        return "dropped: no information (constant or all missing)"
    if len(made) > 1 and raw == "datetime":
        return "dates as their year, month, day, weekday, day of year and hour"
    if len(made) > 1:
        return "text as word n-gram counts and text statistics"
    special = out.get_feature_types_special(made[0])
    if "bool" in special:
        return "two values, as 0 and 1"
    if out.get_feature_type_raw(made[0]) == "category":
        return "categories as category codes (rare values pooled)"
    return "numbers as they are"
