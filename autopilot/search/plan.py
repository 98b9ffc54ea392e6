"""Which search strategy a job uses, built with what it needs (resuming from the job folder when it can)."""

from __future__ import annotations

import os
from pathlib import Path

from autopilot.errors import ConfigError
from autopilot.io import size_text
from autopilot.metrics import get_metric
from autopilot.problem import Problem
from autopilot.search.halving import SuccessiveHalvingStrategy
from autopilot.search.optuna_strategy import OptunaStrategy
from autopilot.search.spec import TrialResult
from autopilot.search.strategies import DefaultsStrategy, Strategy

MULTI_FIDELITY_ABOVE_BYTES = 100 * 1000**2  # as Autopilot: over 100 MB of data, multi-fidelity search
STRATEGIES = ("auto", "bayesian", "multi-fidelity", "random", "defaults")
JOURNAL = "search.journal"


MODES = ("auto", "hpo", "ensembling")
ENSEMBLING_MAX_BYTES = 100 * 1000**2  # as Autopilot: ensembling up to 100 MB of data, HPO above


def choose_mode(requested: str, strategy: str, data_bytes: int, max_bytes: int | None = None) -> tuple[str, str]:
    """The mode and why: as asked; HPO when a search strategy was named; else ensembling up to the threshold."""
    if requested not in MODES:
        raise ConfigError(f"--mode must be one of {', '.join(MODES)}; got '{requested}'")
    if requested != "auto":
        return requested, "as asked"
    if strategy != "auto":
        return "hpo", f"--strategy {strategy} was given"
    limit = ENSEMBLING_MAX_BYTES if max_bytes is None else max_bytes
    size = f"{size_text(data_bytes)} of data"
    if data_bytes <= limit:
        return "ensembling", f"{size} <= {limit / 1e6:g} MB"
    return "hpo", f"{size} > {limit / 1e6:g} MB"


def choose_strategy(requested: str, data_bytes: int) -> str:
    """``auto``: Bayesian optimisation up to 100 MB of data, multi-fidelity above."""
    if requested not in STRATEGIES:
        raise ConfigError(f"--strategy must be one of {', '.join(STRATEGIES)}; got '{requested}'")
    if requested != "auto":
        return requested
    return "multi-fidelity" if data_bytes > MULTI_FIDELITY_ABOVE_BYTES else "bayesian"


def default_parallel() -> int:
    """Trials at once when not told: half the cores (each trial's libraries use threads too), at least one."""
    return max(1, (os.cpu_count() or 1) // 2)


def make_strategy(
    kind: str,
    candidates: list[str],
    profile: dict,
    problem: Problem,
    max_trials: int,
    seed: int,
    job_dir: Path,
    finished: dict[str, TrialResult],
    deadline: float | None = None,
) -> Strategy:
    """The strategy ``kind``, resuming from ``finished`` trials and the journal; ``deadline`` (a ``time.monotonic()``
    value) makes it cost-aware (``autopilot.search.cost``)."""
    if kind == "defaults":
        return DefaultsStrategy(candidates, seed, done=set(finished))
    cls = SuccessiveHalvingStrategy if kind == "multi-fidelity" else OptunaStrategy
    return cls(
        candidates,
        profile,
        get_metric(problem.metric, problem.problem_type),
        max_trials,
        seed=seed,
        sampler="random" if kind == "random" else "bayesian",
        journal=job_dir / JOURNAL,
        finished=finished,
        deadline=deadline,
    )
