"""``autopilot jobs``: the job folders under a folder as one table, and ``--compare``: several jobs' settings and
leaderboards side by side with what differs. Reads job.json, problem.json and leaderboard.csv only; needs no
tracking server.

>>> from autopilot.jobs import list_jobs
>>> list_jobs("autopilot-output")  # doctest: +SKIP
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from autopilot.errors import JobError

COLUMNS = ["name", "data", "problem", "metric", "best score", "mode", "wall seconds", "status", "date"]


def job_folders(folder: str | Path) -> list[Path]:
    """The job folders (holding job.json) in ``folder`` and one level below, by name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise JobError(f"{folder}: no such folder; give the folder your jobs are in (default ./autopilot-output)")
    found = [p.parent for pattern in ("*/job.json", "*/*/job.json") for p in folder.glob(pattern)]
    if (folder / "job.json").exists():
        found.append(folder)
    return sorted(set(found), key=lambda p: str(p))


def summary(job_dir: Path) -> dict:
    """One job's row: what it learned from, its problem, best score, mode, wall time, status and start."""
    job = _read(job_dir / "job.json") or {}
    problem = _read(job_dir / "problem.json") or {}
    metric = problem.get("metric") or job.get("resolved", {}).get("metric")
    return {
        "name": job.get("name", job_dir.name),
        "data": Path(job.get("source", {}).get("path", "?")).name,
        "problem": problem.get("problem_type", "?"),
        "metric": metric or "?",
        "best score": _best_score(job_dir, metric),
        "mode": job.get("resolved", {}).get("mode", "?"),
        "wall seconds": job.get("seconds"),
        "status": job.get("status", "unreadable job.json" if not job else "?"),
        "date": str(job.get("started", ""))[:19].replace("T", " "),
    }


def list_jobs(folder: str | Path = "autopilot-output") -> pd.DataFrame:
    """Every job folder under ``folder`` as a table (COLUMNS), newest first."""
    rows = [summary(p) | {"folder": str(p)} for p in job_folders(folder)]
    table = pd.DataFrame(rows, columns=[*COLUMNS, "folder"])
    return table.sort_values("date", ascending=False, kind="stable").reset_index(drop=True)


def compare(job_dirs: list[str | Path], top: int = 5) -> dict:
    """Jobs side by side: ``settings`` (config and resolved values, one column per job), ``differs`` (the settings
    whose values differ, in words), ``leaderboards`` (each job's top rows) and ``summary`` (their rows)."""
    dirs = [Path(d) for d in job_dirs]
    for d in dirs:
        if not (d / "job.json").exists():
            raise JobError(f"{d} is not an autopilot job folder (no job.json); give the folders `run` wrote")
    names = _unique_names(dirs)
    settings = pd.DataFrame({n: _settings(d) for n, d in zip(names, dirs, strict=True)})
    differs = settings[settings.astype(str).nunique(axis=1) > 1]
    said = [f"{key}: " + ", ".join(f"{n} {_text(v)}" for n, v in row.items()) for key, row in differs.iterrows()]
    boards = {n: _board(d, top) for n, d in zip(names, dirs, strict=True)}
    rows = pd.DataFrame([summary(d) | {"name": n} for n, d in zip(names, dirs, strict=True)], columns=COLUMNS)
    return {"settings": settings, "differs": said, "leaderboards": boards, "summary": rows}


def listing_text(folder: str | Path) -> list[str]:
    """``autopilot jobs``: the table as lines, or a line saying there are none."""
    table = list_jobs(folder)
    return [_plain(table.drop(columns="folder"))] if not table.empty else [f"No job folders under {folder}"]


def comparison_text(job_dirs: list[str | Path]) -> list[str]:
    """``autopilot jobs --compare``: the jobs' rows, what differs, and each one's top leaderboard rows, as lines."""
    found = compare(job_dirs)
    lines = [_plain(found["summary"]), "", "What differs:" if found["differs"] else "The settings are the same."]
    lines += [f"  {line}" for line in found["differs"]]
    for name, board in found["leaderboards"].items():
        lines += ["", f"Leaderboard of {name} (top {len(board)}):"]
        lines.append(_plain(board) if not board.empty else "  (none: no leaderboard.csv)")
    return lines


def _plain(frame: pd.DataFrame) -> str:
    """A DataFrame as aligned text (readable in a terminal, a log or a pipe)."""
    return frame.to_string(index=False, float_format=lambda v: f"{v:.4g}", na_rep="-")


def _settings(job_dir: Path) -> dict:
    job = _read(job_dir / "job.json") or {}
    flat = {f"config.{k}": v for k, v in job.get("config", {}).items() if k not in ("output", "extra")}
    flat |= {f"resolved.{k}": v for k, v in job.get("resolved", {}).items() if k not in ("mode_reason",)}
    data = job.get("data") or {}
    flat |= {"data.path": job.get("source", {}).get("path"), "data.rows": data.get("rows")}
    flat["data.sha256"] = str(data.get("sha256", ""))[:12] or None
    return {k: _text(v) for k, v in flat.items()}


def _board(job_dir: Path, top: int) -> pd.DataFrame:
    path = job_dir / "leaderboard.csv"
    if not path.exists():
        return pd.DataFrame()
    board = pd.read_csv(path)
    metric = (_read(job_dir / "problem.json") or {}).get("metric")
    keep = [c for c in ("rank", "trial", "candidate", metric, "fit_seconds", "status") if c in board.columns]
    return board[keep].head(top)


def _best_score(job_dir: Path, metric: str | None) -> float | None:
    path = job_dir / "leaderboard.csv"
    if not metric or not path.exists():
        return None
    board = pd.read_csv(path)
    ok = board[board["status"] == "succeeded"] if "status" in board.columns else board
    return None if ok.empty or metric not in ok.columns else float(ok.iloc[0][metric])


def _read(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _text(value: object) -> str:
    if isinstance(value, (list, dict)):
        return json.dumps(value, sort_keys=True)
    return "-" if value is None else str(value)


def _unique_names(dirs: list[Path]) -> list[str]:
    names = [d.name for d in dirs]
    return [str(d) if names.count(d.name) > 1 else d.name for d in dirs]
