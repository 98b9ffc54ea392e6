"""The job's wall clock: ``--time-limit`` covers the whole job (load, profile, search, refit, explain, notebooks and
report), as Autopilot's ``MaxAutoMLJobRuntimeInSeconds`` does.

The job plans the budget once the data is loaded: the stages after the search get a share each (``POST_SHARES``) and
the search gets the rest. A later stage that would overrun its share shrinks (fewer rows explained, no refit) and the
budget records what was shrunk and why; job.json keeps the plan, the seconds each stage took and those notes.

>>> budget = JobBudget(60.0)
>>> budget.plan_stages()["search"] > 30
True
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# Shares of the limit kept for the stages after the search, with a floor in seconds each: explaining 1,000 rows
# should cost at most a tenth of the job; the report's plots, bootstrap and model card took 1.3-1.4 s (2 cores, 353
# to 16,152 rows) once its imports were made during the search (3-5 s before; at 300 s the jobs ended 16-31 s early
# with 3% kept for it); the notebooks took 0.16-0.6 s on the twelve benchmark datasets at 60 s (they import nbformat).
POST_SHARES = {"explain": (0.08, 1.5), "report": (0.015, 2.0), "notebooks": (0.005, 0.5)}
TRACKING_SHARE = (0.03, 3.0)  # logging to MLflow at the end (files and best/ as a model), when the job is tracked
LATER_STAGES = (*POST_SHARES, "tracking")  # after the search (and refit), in the order they run
REFIT_SHARE = 0.15  # kept for retraining the best model on every labelled row, when the plan refits
# kept when a holdout plan leaves the refit to the time left, so that a cheap refit still happens: at 60 s on 5,092
# rows the best ensemble's refit takes 1.8 s (it scored F1 0.5877 on test rows, 0.5849 before) and was skipped, the
# search having run 2-3 s past its deadline. An expensive refit's share goes to the explanation instead.
QUICK_REFIT_SHARE = 0.05
REFIT_GRACE = 1.0  # seconds: a refit this quick goes ahead even past its share (the tolerance absorbs it)
TOLERANCE = (5.0, 0.10)  # the job ends within limit + max(5 s, 10%)
MIN_DEFAULT_LIMIT, MAX_DEFAULT_LIMIT = 20.0, 3600.0
_clock = time.monotonic  # deadlines are ``time.monotonic()`` values, as the executors compare them


def default_time_limit(rows: int, columns: int) -> float:
    """A budget that fits the data when the user gives none: 20 s for a few thousand cells, growing with the
    table's size (a 4,500 x 20 table gets a minute), at most an hour."""
    return float(min(MAX_DEFAULT_LIMIT, max(MIN_DEFAULT_LIMIT, 15.0 + rows * columns / 2000)))


def refit_skipped(what: str, estimate: float, left: float | None) -> str | None:
    """Why retraining ``what`` on every labelled row (an estimated ``estimate`` s) is skipped with ``left`` s of
    the refit's share (None: no limit), or None when it goes ahead."""
    if left is None or estimate <= max(left, 0.0) + REFIT_GRACE:
        return None
    left_text = f"{left:.0f} s left" if left >= 0.5 else "no time left"
    return f"refit skipped: retraining {what} on every row would take ~{estimate:.1f} s, {left_text}"


def process_start() -> float:
    """The ``time.monotonic()`` at which this process started (Linux), so a command-line job's limit covers the
    interpreter's start and imports too; now, where that cannot be read."""
    try:
        start_ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        age = uptime - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return _clock()
    return _clock() - min(max(age, 0.0), 60.0)


class JobBudget:
    """Seconds since the job started, what each stage may spend, and what was shrunk to fit."""

    def __init__(self, limit: float | None, given: bool | None = None, started: float | None = None) -> None:
        self.limit, self.given = limit, limit is not None if given is None else given
        self.started = _clock() if started is None else started
        self.planned: dict[str, float] = {}
        self.spent: dict[str, float] = {}
        self.shrunk: list[str] = []

    def elapsed(self) -> float:
        return _clock() - self.started

    def remaining(self) -> float | None:
        """Seconds left before the limit (never negative); None without a limit."""
        return None if self.limit is None else max(0.0, self.limit - self.elapsed())

    def hard_end(self) -> float | None:
        """The ``time.monotonic()`` past which nothing may run: the limit plus the tolerance."""
        if self.limit is None:
            return None
        return self.started + self.limit + max(TOLERANCE[0], TOLERANCE[1] * self.limit)

    def post_reserve(self) -> float:
        """Seconds kept for explain, report, notebooks and tracking."""
        return sum(self.planned.get(name, 0.0) for name in LATER_STAGES)

    def plan_stages(self, refit_share: float = REFIT_SHARE, tracking: bool = False) -> dict[str, float]:
        """Split what is left of the limit: each stage after the search its share (the refit ``refit_share`` of
        the limit; 0 for none), the search the rest."""
        if self.limit is None:
            return {}
        left = self.remaining() or 0.0
        plan = {name: max(floor, share * self.limit) for name, (share, floor) in POST_SHARES.items()}
        if refit_share:
            plan["refit"] = refit_share * self.limit
        if tracking:
            plan["tracking"] = max(TRACKING_SHARE[1], TRACKING_SHARE[0] * self.limit)
        kept = sum(plan.values())
        if kept > left / 2:  # a tiny limit: the search still gets half, the later stages shrink (or use the tolerance)
            plan = {name: seconds * left / 2 / kept for name, seconds in plan.items()}
        plan["search"] = max(0.0, left - sum(plan.values()))
        self.planned = {name: round(seconds, 2) for name, seconds in plan.items()}
        return dict(self.planned)

    def search_deadline(self) -> float | None:
        """The ``time.monotonic()`` at which the search must end, leaving the planned stages their shares."""
        if self.limit is None:
            return None
        return self.started + self.limit - self.post_reserve() - self.planned.get("refit", 0.0)

    def allowance(self, stage: str) -> float | None:
        """Seconds a stage may take now: its planned share (explain, under a limit the user gave: with the refit's
        share, as far as the refit left it), or less if earlier stages overran, never past the end of the limit
        minus the shares of the stages still to come."""
        if self.limit is None:
            return None
        order = ["refit", *LATER_STAGES]
        later = order[order.index(stage) + 1 :] if stage in order else []
        left = (self.remaining() or 0.0) - sum(self.planned.get(s, 0.0) for s in later)
        share = self.planned.get(stage, left)
        if stage == "explain" and self.given:  # the user's seconds: what a skipped or quick refit left explains more
            share += self.planned.get("refit", 0.0)
        return max(0.0, min(share, left))

    def shrink(self, note: str) -> None:
        self.shrunk.append(note)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = _clock()
        try:
            yield
        finally:
            self.spent[name] = round(self.spent.get(name, 0.0) + _clock() - start, 3)

    def to_dict(self) -> dict:
        return {
            "time_limit": self.limit,
            "time_limit_given": self.given,
            "planned_seconds": self.planned,
            "spent_seconds": self.spent,
            "shrunk": self.shrunk,
        }
