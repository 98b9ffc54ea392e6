"""Executors run trials: any ``concurrent.futures.Executor``. The ask/tell loop is the one code path for all."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from pathlib import Path

from autopilot.search.processes import TrialTimeout
from autopilot.search.runner import TrialData, record_failure, run_trial, run_trial_remote, save_outcome
from autopilot.search.spec import TrialResult, TrialSpec
from autopilot.search.strategies import Strategy

GRACE_SECONDS = 5.0  # past a trial's limit, how long to wait for its executor to report the stop


def run_search(
    strategy: Strategy,
    executor: Executor,
    data: TrialData,
    parallel_trials: int = 1,
    on_result: Callable[[TrialResult], None] | None = None,
    deadline: float | None = None,
    on_start: Callable[[TrialSpec], None] | None = None,
    remote: tuple | None = None,
    trial_time_limit: float | None = None,
) -> list[TrialResult]:
    """Keep up to ``parallel_trials`` trials in flight, telling the strategy each result as it lands.

    No trial starts after ``deadline`` (a ``time.monotonic()`` value). A trial the executor could not finish, or one
    still running past ``trial_time_limit`` or the deadline, is recorded as failed and no longer waited for (a
    cluster cannot kill it; the process executor already has). With ``remote`` (the scattered train and validation
    frames), trials run through ``run_trial_remote`` and their files are written here."""
    results: list[TrialResult] = []
    running: dict[Future, tuple[TrialSpec, float]] = {}
    order = _TellInOrder(strategy, 2 * max(parallel_trials, 1) - 1)
    exhausted = False
    while True:
        while not exhausted and len(running) < max(parallel_trials, 1) and order.may_ask():
            spec = strategy.ask() if deadline is None or time.monotonic() < deadline else None
            if spec is None:
                exhausted = True
                break
            order.asked(spec)
            if remote is None:
                future = executor.submit(run_trial, spec, data)
            else:
                future = executor.submit(run_trial_remote, spec, data, *remote)
            running[future] = (spec, time.monotonic())
            if on_start is not None:
                on_start(spec)
        if not running:
            order.tell_rest()
            return results
        done, _ = wait(running, timeout=_next_expiry(running, deadline, trial_time_limit), return_when=FIRST_COMPLETED)
        for future in done or _expired(running, deadline, trial_time_limit):
            spec, started = running.pop(future)
            result = _collect(future, spec, data, time.monotonic() - started, remote is not None)
            order.collected(result)
            results.append(result)
            if on_result is not None:
                on_result(result)
        if exhausted:
            order.tell_rest()


class _TellInOrder:
    """Tells the strategy results in the order their trials were asked, and trial k's result just before trial
    k + ``window`` is asked: whatever order parallel trials finish in, each ask sees the same results, so the same
    seed gives the same search (without a deadline, which stops asking at a moment that depends on the machine).
    A window of 2 x parallel - 1 lets a slow trial hold up new ones only once that many have started after it; one
    trial at a time sees every result before its next ask, as before."""

    def __init__(self, strategy: Strategy, window: int) -> None:
        self.strategy, self.window = strategy, window
        self.ids: list[str] = []
        self.results: dict[str, TrialResult] = {}
        self.told = 0

    def asked(self, spec: TrialSpec) -> None:
        self.ids.append(spec.id)

    def collected(self, result: TrialResult) -> None:
        self.results[result.spec.id] = result

    def may_ask(self) -> bool:
        """Whether the next trial may be asked: the result it must see is in (it is then told)."""
        due = len(self.ids) - self.window  # the trial whose result the next ask must have seen
        while self.told <= due:
            if self.ids[self.told] not in self.results:
                return False
            self._tell_next()
        return True

    def tell_rest(self) -> None:
        """Once nothing more is asked: every collected result, in ask order, up to the first still running."""
        while self.told < len(self.ids) and self.ids[self.told] in self.results:
            self._tell_next()

    def _tell_next(self) -> None:
        self.strategy.tell(self.results.pop(self.ids[self.told]))
        self.told += 1


def _limit(started: float, deadline: float | None, trial_time_limit: float | None) -> float | None:
    limits = [started + trial_time_limit] if trial_time_limit else []
    if deadline is not None:
        limits.append(deadline)
    return min(limits) + GRACE_SECONDS if limits else None


def _next_expiry(running: dict, deadline: float | None, trial_time_limit: float | None) -> float | None:
    ends = [e for _, started in running.values() if (e := _limit(started, deadline, trial_time_limit)) is not None]
    return max(0.0, min(ends) - time.monotonic()) if ends else None


def _expired(running: dict, deadline: float | None, trial_time_limit: float | None) -> list[Future]:
    now = time.monotonic()
    out = []
    for future, (_, started) in running.items():
        end = _limit(started, deadline, trial_time_limit)
        if end is not None and now >= end:
            future.cancel()
            out.append(future)
    return out


def _collect(future: Future, spec: TrialSpec, data: TrialData, seconds: float, remote: bool) -> TrialResult:
    if not future.done():
        return record_failure(spec, data, TrialTimeout("stopped at its time limit; no longer waited for"), seconds)
    try:
        value = future.result()
    except Exception as exc:  # the executor's failure (time limit, dead process or worker) is the trial's
        return record_failure(spec, data, exc, seconds)
    if not remote:
        return value
    result, pipeline, error = value
    save_outcome(Path(data.trials_dir) / spec.id, result, pipeline, error)
    return result
