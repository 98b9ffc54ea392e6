"""What trials cost, and how the time left shapes the search when a time limit is set.

The rule, in three parts:

- **Expected seconds.** Each candidate's expected trial time is the median of its finished trials' seconds (failed
  ones included: a trial stopped at a limit took at least that long), per unit of budget, times the next trial's
  budget. A candidate with no finished trial yet is expected to cost nothing, so every candidate is tried.
- **Affordable.** With a time limit, a trial starts only if its candidate's expected seconds fit in the time left;
  the warm-start portfolio goes cheapest candidate first (each candidate's first configuration, then each one's
  second, ...), skipping what does not fit; and when the search picks a candidate that does not fit, the affordable
  candidate with the best score so far runs instead (its hyperparameters still come from the search). When none
  fits, no trial starts: one that would be stopped at the deadline would be wasted. Without a time limit nothing
  changes, so the search stays repeatable for a seed.
- **Time inside a trial.** A model that can stop early on its own (the MLP's ``max_seconds``) gets an equal share
  of 90% of the trial's time left for each of its remaining fits (``FitClock``), so it ends with what it learnt
  instead of being stopped at the limit with nothing.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from autopilot.search.spec import TrialResult

TIME_SHARE = 0.9  # of the time left, what the remaining fits of a trial may use (the rest: scoring, saving)


class TrialCosts:
    """Seconds per unit of budget of every finished trial, by candidate."""

    def __init__(self) -> None:
        self._seconds: dict[str, list[float]] = {}

    def record(self, result: TrialResult) -> None:
        budget = max(result.spec.budget, 1e-3)
        self._seconds.setdefault(result.spec.candidate, []).append(result.seconds / budget)

    def expected(self, candidate: str, budget: float = 1.0) -> float:
        """The median seconds of the candidate's trials so far, scaled to ``budget``; 0 before any finished."""
        seen = self._seconds.get(candidate)
        return statistics.median(seen) * budget if seen else 0.0


def affordable(expected_seconds: float, time_left: float | None) -> bool:
    """Whether a trial expected to take ``expected_seconds`` fits in ``time_left`` (None: no time limit)."""
    return time_left is None or expected_seconds <= time_left


def cheapest_first(entries: list[tuple[int, str]], costs: TrialCosts) -> list[tuple[int, str]]:
    """Portfolio entries (rank within their candidate, candidate) in the order they run: by rank, then by expected
    seconds (ties keep the given order)."""
    return sorted(entries, key=lambda entry: (entry[0], costs.expected(entry[1])))


class FitClock:
    """Seconds each of a trial's remaining fits may take: an equal share of ``TIME_SHARE`` of the time left before
    ``end`` (a ``time.time()`` value; None: no limit). ``share()`` is called once per fit, as each starts."""

    def __init__(self, end: float | None, fits: int, clock: Callable[[], float] = time.time) -> None:
        self.end, self.fits_left, self.clock = end, fits, clock

    def share(self) -> float | None:
        if self.end is None:
            return None
        seconds = TIME_SHARE * max(0.0, self.end - self.clock()) / max(self.fits_left, 1)
        self.fits_left -= 1
        return seconds


def trial_end(started: float, deadline: float | None, trial_time_limit: float | None) -> float | None:
    """When a trial that started at ``started`` (``time.time()``) is stopped: the earlier of the job's deadline and
    its own limit; None when neither is set."""
    ends = [t for t in (deadline, started + trial_time_limit if trial_time_limit else None) if t is not None]
    return min(ends) if ends else None
