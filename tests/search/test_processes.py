"""Trial processes: how their threads wait."""

from __future__ import annotations

import os

from autopilot.search.processes import THREAD_ENV, TrialProcessExecutor


def _wait_policy() -> str | None:
    return os.environ.get("OMP_WAIT_POLICY")


def test_trials_wait_passively_so_openmp_does_not_collapse_on_busy_cores() -> None:
    """Spinning OpenMP threads made LightGBM 30-100x slower on 2 loaded cores; trials get the passive policy unless
    the user chose one before the first trial (the fork server keeps the environment it started with)."""
    with TrialProcessExecutor() as executor:
        policy = executor.submit(_wait_policy).result()
    assert policy == os.environ["OMP_WAIT_POLICY"]
    assert THREAD_ENV["OMP_WAIT_POLICY"] == "PASSIVE"
