"""What the terminal shows: what was detected, progress while training, the leaderboard, where the job is."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Protocol

import pandas as pd
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from autopilot.data.load import SourceInfo
from autopilot.io import size_text
from autopilot.leaderboard import tie_break
from autopilot.metrics import Metric
from autopilot.problem import Problem
from autopilot.search.spec import TrialResult, TrialSpec

LEADERBOARD_ROWS = 5


class Reporter(Protocol):
    def detected(self, source: SourceInfo, profile: dict, problem: Problem) -> None: ...

    def training_started(self, max_trials: int, *args: object, **kwargs: object) -> None: ...

    def trial_started(self, spec: TrialSpec) -> None: ...

    def plan(self, text: str) -> None: ...

    def trial_finished(self, result: TrialResult) -> None: ...

    def finished(self, job_dir: Path, board: pd.DataFrame, problem: Problem) -> None: ...


class SilentReporter(Reporter):
    """Says nothing (``verbose=False``): every method is the protocol's own, which does nothing."""


class ConsoleReporter:
    """Rich output on a terminal, plain lines elsewhere (logs, notebooks)."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or _console()
        self._progress: Progress | None = None
        self._counts: Counter = Counter()
        self._objective: Metric | None = None
        self._best: float | None = None

    def detected(self, source: SourceInfo, profile: dict, problem: Problem) -> None:
        c = self.console
        how = f", {source.encoding}, delimiter {source.delimiter!r}" if source.format == "csv" else ""
        c.print(
            f"[bold]Read[/] {source.path}: {profile['rows']:,} rows x {profile['columns']} columns "
            f"({size_text(profile['bytes'])}, {source.format}{how})"
        )
        kinds = Counter(col["kind"] for col in profile["column_profiles"] if col["name"] != problem.target)
        c.print("[bold]Columns[/]: " + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())))
        for warning in profile["warnings"]:
            c.print(f"  [yellow]![/] {warning['message']}")
        sensitive = profile.get("sensitive_columns") or []
        if sensitive:
            names = ", ".join(f"{s['name']} ({s['reason']})" for s in sensitive)
            c.print(f"  columns that look sensitive: {names}; measure bias with --facet COLUMN (a suggestion)")
        c.print(
            f"[bold]Problem[/]: {problem.problem_type} ({problem.reason}); objective metric [bold]{problem.metric}[/]"
        )
        if problem.problem_type == "binary":
            c.print(f"  positive label: {problem.positive_label!r} (F1, Precision and Recall score this class)")
        elif problem.classes:
            c.print(f"  classes: {', '.join(map(str, problem.classes[:20]))}")
        if problem.dropped_rows:
            c.print(f"  [yellow]![/] dropped {problem.dropped_rows:,} rows whose target '{problem.target}' is missing")

    def training_started(
        self,
        max_trials: int,
        device: str = "cpu",
        parallel: int = 1,
        resumed: int = 0,
        time_limit: float | None = None,
        objective: Metric | None = None,
    ) -> None:
        where = "the GPU (cuda)" if device == "cuda" else "the CPU"
        again = f", resuming after {resumed} finished trial(s)" if resumed else ""
        limit = f", time limit {time_limit:.0f} s" if time_limit else ""
        self.console.print(f"Searching: up to {max_trials} trials, {parallel} at a time on {where}{limit}{again}")
        self._objective, self._time_limit, self._started = objective, time_limit, time.monotonic()
        self._counts, self._best = Counter(done=resumed), None
        self._progress = Progress(
            TextColumn("Trials"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[status]}"),
            console=self.console,
        )
        self._progress.start()
        self._task = self._progress.add_task("trials", total=max_trials, completed=resumed, status="")

    def plan(self, text: str) -> None:
        self.console.print(text)

    def trial_started(self, spec: TrialSpec) -> None:
        self._counts["running"] += 1
        self._refresh()

    def trial_finished(self, result: TrialResult) -> None:
        """One line per trial; with a search under way the live counts move too. In ensembling (no search under
        way) each model had its line as AutoGluon trained it, so only a failure gets one here."""
        budget = f" (budget {result.spec.budget:.2g})" if result.spec.budget < 1 else ""
        if result.ok and self._progress is None:
            return
        if result.ok:
            self._note_best(result)
            scores = ", ".join(f"{k} {v:.4f}" for k, v in list(result.metrics.items())[:3])
            self.console.print(f"  [green]done[/] {result.spec.id}{budget} in {result.seconds:.1f}s: {scores}")
        else:
            self.console.print(f"  [red]failed[/] {result.spec.id}{budget}: {result.error}")
        if self._progress is not None:
            self._counts["running"] -= 1
            self._counts["done" if result.ok else "failed"] += 1
            self._progress.advance(self._task)
            self._refresh()

    def _note_best(self, result: TrialResult) -> None:
        if self._objective is None or self._objective.name not in result.metrics:
            return
        value = result.metrics[self._objective.name]
        if self._best is None or self._objective.better(value, self._best):
            self._best = value

    def _refresh(self) -> None:
        c = self._counts
        status = f"done {c['done']}  running {c['running']}  failed {c['failed']}"
        if self._best is not None and self._objective is not None:
            status += f"  best {self._objective.name} {self._best:.4f}"
        if self._time_limit:
            left = max(0.0, self._time_limit - (time.monotonic() - self._started))
            status += f"  {left:.0f}s left"
        self._progress.update(self._task, status=status)

    def finished(self, job_dir: Path, board: pd.DataFrame, problem: Problem) -> None:
        if self._progress is not None:
            self._progress.stop()
        more = len(board) - LEADERBOARD_ROWS
        caption = f"{more} more in {job_dir / 'leaderboard.csv'}" if more > 0 else None
        table = Table(title=f"Leaderboard ({problem.metric}, best first)", caption=caption)
        columns = _shown_columns(board, problem)
        for col in columns:
            table.add_column(col)
        for _, row in board.head(LEADERBOARD_ROWS).iterrows():
            table.add_row(*(_cell(row[col], col) for col in columns))
        self.console.print(table)
        flagged = board[board["note"].fillna("").astype(bool)] if "note" in board else board.iloc[:0]
        for _, row in flagged.iterrows():
            self.console.print(f"  [yellow]![/] {row['trial']}: {row['note']}: it learned nothing from the features")
        self.console.print(f"[bold]Job folder[/]: {job_dir}")


def _shown_columns(board: pd.DataFrame, problem: Problem) -> list[str]:
    """The candidate where they differ (not in ensembling: all are AutoGluon's), and the score ties break on where
    the top rows tie on the objective."""
    top = board.head(LEADERBOARD_ROWS)
    candidate = ["candidate"] if board["candidate"].nunique() > 1 else []
    second = tie_break(problem)
    ties = [second] if second in board and top[problem.metric].nunique() < len(top) else []
    return ["rank", "trial", *candidate, problem.metric, *ties, "fit_seconds", "status"]


def _console() -> Console:
    """Rich on a terminal or in Jupyter; piped into a file or a log, lines are not cut at 80 columns (nor table
    cells)."""
    console = Console(highlight=False)
    if console.is_terminal or console.is_jupyter:
        return console
    return Console(highlight=False, soft_wrap=True, width=240)


def _cell(value: object, column: str = "") -> str:
    if isinstance(value, float):
        return f"{value:.1f}" if column.endswith("_seconds") else f"{value:.4f}"
    return str(value)
