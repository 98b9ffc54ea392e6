"""Executors run trials: any ``concurrent.futures.Executor``. The ask/tell loop is the one code path for all."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait

from autopilot.search.processes import TrialProcessExecutor
from autopilot.search.runner import TrialData, record_failure, run_trial
from autopilot.search.spec import TrialResult, TrialSpec
from autopilot.search.strategies import Strategy


class InlineExecutor(Executor):
    """Runs each call at submit time in this process: one trial at a time, no start-up cost."""

    def submit(self, fn: Callable, /, *args: object, **kwargs: object) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            future.set_exception(exc)
        return future


def make_executor(
    parallel_trials: int = 1, time_limit: float | None = None, deadline: float | None = None, gpus: int = 0
) -> Executor:
    """One process per trial (killable at its time limit, a crash fails only that trial)."""
    return TrialProcessExecutor(time_limit=time_limit, deadline=deadline, gpus=gpus)


def run_search(
    strategy: Strategy,
    executor: Executor,
    data: TrialData,
    parallel_trials: int = 1,
    on_result: Callable[[TrialResult], None] | None = None,
    deadline: float | None = None,
    on_start: Callable[[TrialSpec], None] | None = None,
) -> list[TrialResult]:
    """Keep up to ``parallel_trials`` trials in flight, telling the strategy each result as it lands. No trial
    starts after ``deadline`` (a ``time.monotonic()`` value); a trial the executor could not finish is recorded as
    failed."""
    results: list[TrialResult] = []
    running: dict[Future, tuple[TrialSpec, float]] = {}
    exhausted = False
    while True:
        while not exhausted and len(running) < max(parallel_trials, 1):
            spec = strategy.ask() if deadline is None or time.monotonic() < deadline else None
            if spec is None:
                exhausted = True
                break
            running[executor.submit(run_trial, spec, data)] = (spec, time.monotonic())
            if on_start is not None:
                on_start(spec)
        if not running:
            return results
        done, _ = wait(running, return_when=FIRST_COMPLETED)
        for future in done:
            spec, started = running.pop(future)
            try:
                result = future.result()
            except Exception as exc:  # the executor's failure (time limit, dead process) is the trial's
                result = record_failure(spec, data, exc, time.monotonic() - started)
            strategy.tell(result)
            results.append(result)
            if on_result is not None:
                on_result(result)
