"""An executor that runs each trial in its own process, so a trial can be killed at its time limit and a trial that
runs out of memory or crashes fails alone.

Processes are forked from a server process that has already imported pandas, scikit-learn, xgboost and torch (the
"forkserver" start method), so a trial starts in milliseconds rather than seconds. Where forkserver is missing
(Windows) they are spawned.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import Executor, Future

from autopilot.errors import JobError

PRELOAD = [
    "autopilot.search.runner",
    "autopilot.candidates.linear_train",
    "autopilot.candidates.mlp_train",
    "torch._dynamo",  # a torch optimizer's first use imports it (1.9 s); here every trial process has it already
    "autopilot.search.forkserver_exit",  # last: the server exits without tearing the others down
]


class TrialFailed(JobError):
    """A trial's code raised in its process; ``details`` holds the traceback."""

    def __init__(self, message: str, details: str = "") -> None:
        super().__init__(message)
        self.details = details


class TrialTimeout(JobError):
    """A trial passed its time limit and was stopped."""


class TrialProcessDied(JobError):
    """A trial's process ended without a result (killed for memory, or crashed)."""


def _context() -> multiprocessing.context.BaseContext:
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(PRELOAD)
        return ctx
    return multiprocessing.get_context("spawn")


def warm_up() -> None:
    """Start the server trial processes are forked from now, so that its imports (pandas, scikit-learn, torch)
    overlap the job's loading and profiling instead of delaying the first trial; every TrialProcessExecutor then
    uses that server. Does nothing where processes are spawned."""
    if _context().get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


def _child(conn: object, fn: Callable, args: tuple, kwargs: dict, env: dict, alive: object) -> None:
    os.environ.update(env)
    threading.Thread(target=_die_with_job, args=(alive,), daemon=True).start()
    try:
        conn.send((True, fn(*args, **kwargs)))
    except BaseException:  # reported to the parent, which records the trial as failed
        conn.send((False, traceback.format_exc()))
    finally:
        conn.close()


def _die_with_job(alive: object) -> None:
    """End this trial's process once the job's process is gone (killed, or stopped by SIGTERM), even before it is
    reaped: ``alive`` reads end-of-file when the only writer, held by the job, closes with it. Its parent is the
    forkserver, so nothing else would stop it writing into a folder a resumed run now uses."""
    with contextlib.suppress(EOFError, OSError):
        alive.recv()
    os._exit(1)


class TrialProcessExecutor(Executor):
    """``submit`` starts one process per call. ``time_limit`` (seconds) bounds each call and ``deadline`` (a
    ``time.monotonic()`` value) bounds them all; past either the process is killed and the future fails with
    ``TrialTimeout``. With ``gpus`` > 1, calls take GPUs in turn through ``CUDA_VISIBLE_DEVICES``."""

    def __init__(self, time_limit: float | None = None, deadline: float | None = None, gpus: int = 0) -> None:
        self.time_limit, self.deadline, self.gpus = time_limit, deadline, gpus
        self._ctx = _context()
        self._lock = threading.Lock()
        self._processes: set[multiprocessing.process.BaseProcess] = set()
        self._calls = 0
        self._alive, self._alive_writer = self._ctx.Pipe(duplex=False)  # the writer never writes: it only lives

    def submit(self, fn: Callable, /, *args: object, **kwargs: object) -> Future:
        future: Future = Future()
        with self._lock:
            env = {"CUDA_VISIBLE_DEVICES": str(self._calls % self.gpus)} if self.gpus > 1 else {}
            self._calls += 1
        threading.Thread(target=self._run, args=(future, fn, args, kwargs, env), daemon=True).start()
        return future

    def _timeout(self) -> float | None:
        limits = [self.time_limit] if self.time_limit else []
        if self.deadline is not None:
            limits.append(max(0.0, self.deadline - time.monotonic()))
        return min(limits) if limits else None

    def _run(self, future: Future, fn: Callable, args: tuple, kwargs: dict, env: dict) -> None:
        receiver, sender = self._ctx.Pipe(duplex=False)
        process = self._ctx.Process(target=_child, args=(sender, fn, args, kwargs, env, self._alive), daemon=True)
        timeout = self._timeout()
        process.start()
        sender.close()
        with self._lock:
            self._processes.add(process)
        try:
            if receiver.poll(timeout):
                ok, value = receiver.recv()
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(TrialFailed(value.strip().splitlines()[-1], value))
            else:
                process.kill()
                future.set_exception(TrialTimeout(f"stopped at its time limit of {timeout:.0f} s"))
        except EOFError:
            process.join()
            code = process.exitcode
            hint = " (killed: out of memory?)" if code is not None and code < 0 else ""
            future.set_exception(TrialProcessDied(f"the trial's process ended with exit code {code}{hint}"))
        finally:
            process.join(5)
            receiver.close()
            with self._lock:
                self._processes.discard(process)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Kill trials still running (a job past its deadline does not wait for them)."""
        with self._lock:
            for process in list(self._processes):
                process.kill()
