"""Feature-attribution drift, as Clarify and Model Monitor measure it: the SHAP importance ranking of new rows
against the baseline's (``explain/importance.csv``, from the validation rows), by NDCG over the top ten features:
``DCG = sum_i F(x_i) / log2(i + 1)``, where x_i is the i-th feature of the new ranking and F its baseline importance,
divided by the same sum over the baseline's own ranking. Below the threshold (default 0.90) the ranking has drifted.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from autopilot.io import read_json

TOP = 10
EXPLAIN_SECONDS = 60.0


def ndcg(baseline: pd.Series, current: list[str], top: int = TOP) -> float:
    """NDCG of the ``current`` ranking (feature names, most important first) against ``baseline`` importances."""
    ideal = baseline.sort_values(ascending=False).head(top)
    gains = np.array([baseline.get(name, 0.0) for name in current[:top]], dtype=float)
    discounts = 1 / np.log2(np.arange(2, top + 2))
    best = float((ideal.to_numpy() * discounts[: len(ideal)]).sum())
    return float((gains * discounts[: len(gains)]).sum() / best) if best > 0 else 1.0


def attribution_drift(job_dir: Path, rows: pd.DataFrame, threshold: float) -> dict | None:
    """The baseline's and the new rows' rankings, their NDCG and the verdict; None without a baseline ranking."""
    from autopilot.explain import explain
    from autopilot.pipeline import AutopilotPipeline

    importance_file = job_dir / "explain" / "importance.csv"
    if not importance_file.exists() or rows.empty:
        return None
    baseline = pd.read_csv(importance_file).set_index("column")["mean_abs_shap"]
    pipeline = AutopilotPipeline.load(job_dir / "best" / "pipeline.joblib")
    background = pd.read_parquet(job_dir / "data" / "train.parquet")
    explanation = explain(pipeline, rows, background, EXPLAIN_SECONDS)
    current = explanation.importance()
    score = ndcg(baseline, list(current.index))
    return {
        "ndcg": score,
        "top": TOP,
        "threshold": threshold,
        "violated": score < threshold,
        "rows_explained": len(explanation.values),
        "method": explanation.method,
        "explained": explanation.output_name,
        "baseline": [{"feature": str(k), "mean_abs_shap": float(v)} for k, v in baseline.items()],
        "current": [{"feature": str(k), "mean_abs_shap": float(v)} for k, v in current.items()],
        "baseline_rows": read_json(job_dir / "explain" / "summary.json").get("rows"),
    }
