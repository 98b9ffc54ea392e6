"""Executors run trials: any ``concurrent.futures.Executor``. The ask/tell loop is the one code path for all."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait

from autopilot.search.runner import TrialData, run_trial
from autopilot.search.spec import TrialResult
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


def make_executor(parallel_trials: int = 1) -> Executor:
    """In-process for one trial at a time; a spawn-based process pool for more (threads in xgboost/torch
    do not survive fork)."""
    if parallel_trials <= 1:
        return InlineExecutor()
    return ProcessPoolExecutor(parallel_trials, mp_context=multiprocessing.get_context("spawn"))


def run_search(
    strategy: Strategy,
    executor: Executor,
    data: TrialData,
    parallel_trials: int = 1,
    on_result: Callable[[TrialResult], None] | None = None,
) -> list[TrialResult]:
    """Keep up to ``parallel_trials`` trials in flight, telling the strategy each result as it lands."""
    results: list[TrialResult] = []
    running: set[Future] = set()
    exhausted = False
    while True:
        while not exhausted and len(running) < max(parallel_trials, 1):
            spec = strategy.ask()
            if spec is None:
                exhausted = True
            else:
                running.add(executor.submit(run_trial, spec, data))
        if not running:
            return results
        done, running = wait(running, return_when=FIRST_COMPLETED)
        for future in done:
            result = future.result()
            strategy.tell(result)
            results.append(result)
            if on_result is not None:
                on_result(result)
