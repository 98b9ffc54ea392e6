"""leaderboard.csv: one row per trial, ranked by the objective on validation; built from trials/ on disk."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from autopilot.io import atomic_path, read_json
from autopilot.metrics import BINARY, METRICS, metrics_for
from autopilot.problem import Problem
from autopilot.search.spec import TrialResult


def load_results(job_dir: str | Path) -> list[TrialResult]:
    return [TrialResult.from_dict(read_json(p)) for p in sorted(Path(job_dir, "trials").glob("*/result.json"))]


def build_leaderboard(results: list[TrialResult], problem: Problem) -> pd.DataFrame:
    """Succeeded trials best first (full budget before smaller ones), then failed ones; the objective metric comes
    first after the candidate. A multi-fidelity trial that was not promoted to a larger budget is ``stopped-early``.
    Binary problems get a ``threshold`` column: the decision threshold the trial tuned (empty where none was)."""
    promoted = {(r.spec.candidate, json.dumps(r.spec.params, sort_keys=True), r.spec.budget) for r in results}
    objective = METRICS[problem.metric]
    others = [m.name for m in metrics_for(problem.problem_type) if m.name != objective.name]
    rows = [
        {
            "trial": r.spec.id,
            "candidate": r.spec.candidate,
            objective.name: r.metrics.get(objective.name),
            **{name: r.metrics.get(name) for name in others},
            "threshold": r.metrics.get("threshold"),
            "fit_seconds": round(r.seconds, 3),
            "predict_seconds": _rounded(r.metrics.get("predict_seconds")),
            "budget": r.spec.budget,
            "status": _status(r, promoted),
            "params": json.dumps(r.spec.params, sort_keys=True),
            "error": r.error or "",
        }
        for r in results
    ]
    columns = [
        "trial",
        "candidate",
        objective.name,
        *others,
        *(["threshold"] if problem.problem_type == BINARY else []),
        "fit_seconds",
        "predict_seconds",
        "budget",
        "status",
        "params",
        "error",
    ]
    board = pd.DataFrame(rows, columns=columns)
    board["_failed"] = board["status"] == "failed"
    board = board.sort_values(
        ["_failed", "budget", objective.name, "trial"],
        ascending=[True, False, not objective.greater_is_better, True],
        na_position="last",
        kind="stable",
    ).drop(columns="_failed")
    board.insert(0, "rank", range(1, len(board) + 1))
    return board.reset_index(drop=True)


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _status(result: TrialResult, runs: set[tuple]) -> str:
    if not result.ok or result.spec.budget >= 1:
        return result.status
    config = json.dumps(result.spec.params, sort_keys=True)
    more = any(c == result.spec.candidate and p == config and b > result.spec.budget for c, p, b in runs)
    return result.status if more else "stopped-early"


def write_leaderboard(job_dir: str | Path, board: pd.DataFrame) -> Path:
    path = Path(job_dir, "leaderboard.csv")
    with atomic_path(path) as tmp:
        board.to_csv(tmp, index=False)
    return path
