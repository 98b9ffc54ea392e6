"""The job's explain/ folder (SHAP attributions and model insights, as tables and PNG plots) and report.html, the one
self-contained page a person opens first. Both are made from the files in the job folder.

>>> from autopilot.report import write_report
>>> write_report("autopilot-output/penguins")  # doctest: +SKIP
"""

from __future__ import annotations

import base64
import importlib
import io
import re
import shlex
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

from autopilot.constant_baseline import FILE as CONSTANT_FILE
from autopilot.evaluation import model_insights
from autopilot.explain import EXPLAIN_ROWS, Explanation, explain
from autopilot.io import atomic_path, read_json, write_json
from autopilot.metrics import METRICS
from autopilot.model_card import model_card
from autopilot.pipeline import AutopilotPipeline
from autopilot.predictions import PREDICTIONS_FILE, read_predictions
from autopilot.search.runner import MODEL_FILE

EXPLAIN_DIR = "explain"
TEMPLATES = Path(__file__).resolve().parents[1] / "notebook_templates"
BIAS_MARK = re.compile(r"<!--bias-->.*?<!--/bias-->", re.S)
TREE_FAMILIES = {"xgboost", "lightgbm", "catboost", "randomforest", "extra-trees"}  # their models load without torch


def modules_ahead(candidates: list[str]) -> list[str]:
    """What the report imports: torch first (to load the best model, unless every candidate is a tree model; the
    linear learner and the networks are torch's), then shap and matplotlib."""
    return (["torch"] if not set(candidates) <= TREE_FAMILIES else []) + ["shap", "matplotlib.pyplot"]


def import_ahead(modules: list[str]) -> threading.Thread:
    """Import ``modules`` in a background thread while the search's processes work and this one waits: 2-3 s of
    imports on 2 cores that would otherwise delay the last stages. An import the report makes meanwhile waits for
    the thread's; one that fails here fails again there, where its error is shown."""

    def run() -> None:
        for name in modules:
            try:
                importlib.import_module(name)
            except Exception:  # the report imports it again and shows its error
                return

    thread = threading.Thread(target=run, name="import-ahead", daemon=True)
    thread.start()
    return thread


def write_report(job_dir: str | Path, explain_seconds: float | None = None) -> list[str]:
    """Explain the best pipeline on up to 1,000 validation rows (sized to ``explain_seconds`` when given), write
    explain/ and report.html; returns notes on what was shrunk to fit the time.

    Model insights come from the out-of-sample predictions the best trial was scored on, when its trial kept them
    (ensembling: holdout or out-of-fold), else from the trial's scored pipeline on the validation rows: the model in
    best/ may since have been refit on every row, validation rows included."""
    job_dir = Path(job_dir)
    pipeline = AutopilotPipeline.load(job_dir / "best" / "pipeline.joblib")
    validation = pd.read_parquet(job_dir / "data" / "validation.parquet")
    train = pd.read_parquet(job_dir / "data" / "train.parquet")
    rows = validation.sample(min(EXPLAIN_ROWS, len(validation)), random_state=0).sort_index()
    start = time.perf_counter()
    explanation = explain(pipeline, rows, train, explain_seconds)
    seconds = time.perf_counter() - start
    rows = rows.loc[explanation.values.index]
    images = _write_explanation(job_dir / EXPLAIN_DIR, explanation, rows, seconds)
    trial = job_dir / "trials" / read_json(job_dir / "best" / "manifest.json")["trial"]
    predictions = read_predictions(trial / PREDICTIONS_FILE) if (trial / PREDICTIONS_FILE).exists() else None
    scored = pipeline if predictions is not None else AutopilotPipeline.load(trial / MODEL_FILE)  # not the refit
    images |= _write_search_charts(job_dir, read_json(job_dir / "problem.json")["metric"])
    insights = model_insights(scored, validation, predictions)
    insights["rows"] = (  # what the insights were computed on, for the page's heading
        None if predictions is not None else f"the {len(validation):,} validation rows, held out from the trial's model"
    )
    images |= _write_insights(job_dir / EXPLAIN_DIR, insights)
    card = model_card(pipeline)
    write_json(job_dir / EXPLAIN_DIR / "model_card.json", card)
    page = job_dir / "report.html"
    with atomic_path(page) as tmp:
        tmp.write_text(_render(job_dir, explanation, insights, images, seconds, card), encoding="utf-8")
    return [explanation.shrunk] if explanation.shrunk else []


def _write_explanation(folder: Path, explanation: Explanation, rows: pd.DataFrame, seconds: float) -> dict:
    import matplotlib.pyplot as plt
    import shap

    folder.mkdir(parents=True, exist_ok=True)
    _write_csv(folder / "shap_values.csv", explanation.table().rename_axis("row"), index=True)
    importance = explanation.importance()
    _write_csv(folder / "importance.csv", importance.rename_axis("column").reset_index())
    summary = {
        "explained": explanation.output_name,
        "method": explanation.method,
        "rows": len(rows),
        "seconds": round(seconds, 3),
        "shrunk": explanation.shrunk or None,
        "additivity": "base_value + sum of a row's attributions = output (shap_values.csv)",
    }
    write_json(folder / "summary.json", summary)
    top = importance.head(20)[::-1]
    fig, ax = plt.subplots(figsize=(7, max(2.0, 0.6 + 0.3 * len(top))))  # room for the title and axis label
    ax.barh(top.index.astype(str), top.to_numpy())
    ax.set(xlabel=f"mean |SHAP| ({explanation.output_name})", title="global importance")
    fig.tight_layout()
    images = {"importance": _save(fig, folder / "importance.png")}
    data = np.column_stack([_as_number(rows[c]) for c in explanation.values.columns])
    beeswarm = shap.Explanation(
        explanation.values.to_numpy(), explanation.base_values, data, feature_names=list(explanation.values.columns)
    )
    shap.plots.beeswarm(beeswarm, max_display=15, show=False)
    images["beeswarm"] = _save(plt.gcf(), folder / "beeswarm.png")
    return images


def _write_insights(folder: Path, insights: dict) -> dict:
    for name, table in insights["tables"].items():
        _write_csv(folder / f"{name}.csv", table, index=name == "confusion_matrix")
    summary = {"kind": insights["kind"], "scores": insights["scores"], "interval": insights["interval"]}
    write_json(folder / "insights.json", summary)
    return {name: _save(fig, folder / f"{name}.png") for name, fig in insights["figures"].items()}


def _as_number(values: pd.Series) -> np.ndarray:
    """Feature values for the beeswarm's colours: numbers as they are, anything else as category codes."""
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return values.astype(float).to_numpy()
    codes = pd.factorize(values)[0].astype(float)
    codes[codes < 0] = np.nan
    return codes


def _save(fig: object, path: Path) -> str:
    """Write a figure as PNG and return it base64-encoded, for the self-contained page."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    with atomic_path(path) as tmp:
        tmp.write_bytes(buffer.getvalue())
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _write_search_charts(job_dir: Path, metric_name: str) -> dict:
    """explain/search_progress.png (each trial's objective in the order they ran, and the best so far) and
    explain/fit_seconds.png (what each model took to train)."""
    import matplotlib.pyplot as plt

    board = pd.read_csv(job_dir / "leaderboard.csv")
    done = board[board["status"] != "failed"].dropna(subset=[metric_name]).sort_values("trial")
    if done.empty:
        return {}
    metric, order = METRICS[metric_name], np.arange(1, len(done) + 1)
    scores = done[metric_name].to_numpy(dtype=float)
    best = np.maximum.accumulate(scores) if metric.greater_is_better else np.minimum.accumulate(scores)
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    for candidate, rows in done.assign(order=order).groupby("candidate"):
        ax.scatter(rows["order"], rows[metric_name], s=18, label=candidate)
    ax.step(order, best, where="post", color="black", linewidth=1, label="best so far")
    ax.set(xlabel="trial, in the order it ran", ylabel=metric_name, title="search progress")
    ax.legend(fontsize=7)
    fig.tight_layout()
    images = {"search_progress": _save(fig, job_dir / EXPLAIN_DIR / "search_progress.png")}
    slowest = done.sort_values("fit_seconds").tail(20)
    fig, ax = plt.subplots(figsize=(5.5, max(2.0, 0.8 + 0.22 * len(slowest))))
    ax.barh(slowest["trial"], slowest["fit_seconds"], color="#4c72b0")
    ax.set(xlabel="seconds to fit", title="time per model" + (" (the 20 slowest)" if len(done) > 20 else ""))
    ax.tick_params(axis="y", labelsize=7)
    fig.tight_layout()
    return images | {"fit_seconds": _save(fig, job_dir / EXPLAIN_DIR / "fit_seconds.png")}


def _board_columns(metric: str) -> list[str]:
    return ["rank", "trial", "candidate", metric, "fit_seconds", "predict_seconds", "budget", "status", "note"]


def _write_csv(path: Path, frame: pd.DataFrame, index: bool = False) -> None:
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=index)


def _render(job_dir: Path, explanation: Explanation, insights: dict, images: dict, seconds: float, card: dict) -> str:
    env = _environment()
    job, profile, problem = (read_json(job_dir / f"{n}.json") for n in ("job", "profile", "problem"))
    board = pd.read_csv(job_dir / "leaderboard.csv")
    return env.get_template("report.html.j2").render(
        folder=shlex.quote(str(job_dir.resolve())),  # the commands run from any folder
        job=job,
        profile=profile,
        problem=problem,
        best=board.iloc[0].to_dict(),
        manifest=read_json(job_dir / "best" / "manifest.json"),
        leaderboard=_html(_shown(board, problem["metric"]).head(10)),
        baseline=_constant_baseline(job_dir, problem["metric"], board.iloc[0][problem["metric"]]),
        importance=_html(explanation.importance().head(15).round(4).rename_axis("column").reset_index()),
        missing=missing_values(profile),
        explanation=explanation,
        explain_seconds=round(seconds, 2),
        scores=insights["scores"],
        insights_rows=insights["rows"],
        uncertainty=_uncertainty(job_dir, board, problem["metric"], insights["interval"]),
        tables={name: _html(t, index=name == "confusion_matrix") for name, t in insights["tables"].items()},
        images=images,
        bias_section=bias_section(job_dir),
        card=card,
    )


def _shown(board: pd.DataFrame, metric: str) -> pd.DataFrame:
    """The leaderboard's columns a reader needs (the note only when a trial has one)."""
    columns = [c for c in _board_columns(metric) if c in board.columns]
    if "note" in columns and not board["note"].fillna("").astype(bool).any():
        columns.remove("note")
    return board[columns].fillna({"note": ""}) if "note" in columns else board[columns]


def _constant_baseline(job_dir: Path, metric: str, best: float) -> dict | None:
    """The constant model's objective beside the best score, and the lift over it (positive: better, for metrics
    where lower is better too)."""
    path = job_dir / EXPLAIN_DIR / CONSTANT_FILE
    if not path.exists():
        return None
    baseline = read_json(path)
    constant = baseline["scores"].get(metric)
    if constant is None or pd.isna(constant):
        return None
    sign = 1 if METRICS[metric].greater_is_better else -1
    return {**baseline, "score": constant, "lift": sign * (best - constant)}


def _uncertainty(job_dir: Path, board: pd.DataFrame, metric: str, interval: dict) -> dict:
    """How sure the headline score is: the cross-validation folds' standard deviation (when the best trial was
    cross-validated), the bootstrap interval on the rows the insights are on, and whether the next models' scores
    fall inside it (too few rows to tell them apart)."""
    result = job_dir / "trials" / str(board.iloc[0]["trial"]) / "result.json"
    folds = read_json(result)["metrics"].get(f"{metric}_cv_std") if result.exists() else None
    others = board.iloc[1:6][metric].dropna()
    inside = others[(others >= interval["low"]) & (others <= interval["high"])]
    return {**interval, "cv_std": folds, "inside": len(inside), "compared": len(others)}


def missing_values(profile: dict) -> list[dict]:
    """The columns with missing values, most first: name, kind, count and share."""
    columns = [c for c in profile["column_profiles"] if c.get("missing")]
    return sorted(columns, key=lambda c: -c["missing"])


def _environment() -> object:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined
    )
    env.filters["shell_quote"] = shlex.quote
    return env


def bias_section(job_dir: Path) -> str:
    """report.html's Bias section: explain/bias.json as tables and sentences, or the columns that look sensitive
    and the command that measures them."""
    from autopilot.bias import read_bias
    from autopilot.bias.descriptions import described

    analysis = read_bias(job_dir)
    sensitive = read_json(job_dir / "profile.json").get("sensitive_columns", [])
    return (
        _environment()
        .get_template("bias_section.html.j2")
        .render(
            folder=shlex.quote(str(job_dir.resolve())),
            analysis=analysis,
            tables=described(analysis) if analysis else [],
            sensitive=sensitive,
        )
    )


def write_bias_section(job_dir: str | Path) -> None:
    """Put the job's current Bias section into report.html (after ``autopilot bias``), leaving the rest as it is."""
    job_dir = Path(job_dir)
    page = job_dir / "report.html"
    if not page.exists():
        return
    text = page.read_text(encoding="utf-8")
    section = bias_section(job_dir)
    text = BIAS_MARK.sub(lambda _: f"<!--bias-->{section}<!--/bias-->", text, count=1)
    with atomic_path(page) as tmp:
        tmp.write_text(text, encoding="utf-8")


def _html(frame: pd.DataFrame, index: bool = False) -> str:
    return frame.to_html(index=index, border=0, float_format=lambda v: f"{v:.4g}")
