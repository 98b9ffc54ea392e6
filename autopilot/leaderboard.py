"""leaderboard.csv: one row per trial, ranked by the objective on validation; built from trials/ on disk."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from autopilot.constant_baseline import no_better
from autopilot.io import atomic_path, read_json
from autopilot.metrics import BINARY, METRICS, metrics_for
from autopilot.problem import Problem
from autopilot.search.spec import TrialResult


def load_results(job_dir: str | Path) -> list[TrialResult]:
    """Every trial's result; one whose result.json cannot be read counts as not run (a resumed job runs it again)."""
    results = []
    for path in sorted(Path(job_dir, "trials").glob("*/result.json")):
        try:
            results.append(TrialResult.from_dict(read_json(path)))
        except (ValueError, KeyError, TypeError):
            continue
    return results


# Ties on the objective (common on small validation sets) break toward the better of this score, then the cheaper
# model (fit + predict seconds).
TIE_BREAK = {"LogLoss": "AUC", "MSE": "MAE", "RMSE": "MAE", "MAE": "MSE", "R2": "MAE"}


def tie_break(problem: Problem) -> str:
    default = "LogLoss" if problem.is_classification else "MSE"
    return TIE_BREAK.get(problem.metric, default)


def build_leaderboard(
    results: list[TrialResult], problem: Problem, scored_by: str = "", baseline: dict | None = None
) -> pd.DataFrame:
    """Succeeded trials best first (full budget before smaller ones), then failed ones; the objective metric comes
    first after the candidate. A multi-fidelity trial that was not promoted to a larger budget is ``stopped-early``.
    ``scored_by`` names how the trials were scored, unless a trial says so itself. Binary problems get a
    ``threshold`` column: the decision threshold the trial tuned (empty where none was). ``note`` flags a trial no
    better than the constant ``baseline`` (explain/constant_baseline.json). ``fit_seconds`` is a model's own
    training time; ``fit_seconds_with_members`` (an ensemble or stack-level model) adds its members', which ties
    break on."""
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
            "fit_seconds_with_members": _rounded(r.metrics.get("fit_seconds_with_members")),
            "predict_seconds": _rounded(r.metrics.get("predict_seconds")),
            "budget": r.spec.budget,
            "status": _status(r, promoted),
            "note": no_better(problem, r.metrics.get(objective.name), baseline) if r.ok else "",
            "scored_by": r.scored_by or scored_by,
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
        "fit_seconds_with_members",
        "predict_seconds",
        "budget",
        "status",
        "note",
        "scored_by",
        "params",
        "error",
    ]
    board = pd.DataFrame(rows, columns=columns)
    second = METRICS[tie_break(problem)]
    board["_failed"] = board["status"] == "failed"
    board["_second"] = [r.metrics.get(second.name) for r in results]
    fit = pd.to_numeric(board["fit_seconds_with_members"]).fillna(board["fit_seconds"])  # an ensemble's members too
    board["_cost"] = fit + pd.to_numeric(board["predict_seconds"]).fillna(0.0)
    board = board.sort_values(
        ["_failed", "budget", objective.name, "_second", "_cost", "trial"],
        ascending=[True, False, not objective.greater_is_better, not second.greater_is_better, True, True],
        na_position="last",
        kind="stable",
    ).drop(columns=["_failed", "_second", "_cost"])
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
