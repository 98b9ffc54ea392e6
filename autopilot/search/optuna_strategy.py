"""Bayesian (TPE) and random search over the union of the candidates' search spaces, through Optuna's ask/tell.

The algorithm is itself a choice (``algorithm``), and each candidate's hyperparameters are named ``<key>.<param>``,
so TPE (with ``group=True``) models each candidate's space apart. Every candidate first trains once with its
defaults, as a baseline the search must beat; then its portfolio (``Candidate.portfolio``: a few known-good
configurations inside its space) is enqueued into the study one trial at a time, so TPE, which starts right after,
learns from those points instead of from random ones. With a time limit the search is cost-aware
(``autopilot.search.cost``). The Optuna study lives in a journal file in the job folder, so a killed job resumes
where it stopped: trials asked but never finished are run again with the same spec, and a portfolio configuration
already in the study is never enqueued again.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from pathlib import Path

import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution

from autopilot.candidates import get_candidate
from autopilot.candidates.base import portfolio_params
from autopilot.metrics import Metric
from autopilot.search.cost import TrialCosts, affordable, cheapest_first
from autopilot.search.spec import TrialResult, TrialSpec

ALGORITHM = "algorithm"
SPEC_ATTR = "spec"
SAMPLERS = ("bayesian", "random")


def suggest(trial: optuna.Trial, key: str, profile: dict) -> dict:
    """Draw one value per hyperparameter of candidate ``key`` from its declared distributions."""
    params = {}
    for name, dist in get_candidate(key).search_space(profile).items():
        params[name] = _suggest_one(trial, f"{key}.{name}", dist)
    return params


def _suggest_one(trial: optuna.Trial, name: str, dist: BaseDistribution) -> object:
    if isinstance(dist, FloatDistribution):
        return trial.suggest_float(name, dist.low, dist.high, log=dist.log, step=dist.step)
    if isinstance(dist, IntDistribution):
        return trial.suggest_int(name, dist.low, dist.high, log=dist.log, step=dist.step)
    if isinstance(dist, CategoricalDistribution):
        return trial.suggest_categorical(name, list(dist.choices))
    raise TypeError(f"unsupported distribution {dist!r} for {name}")


def objective_value(result: TrialResult, objective: Metric) -> float | None:
    """The trial's objective score, or None if it failed or the score is NaN."""
    value = result.metrics.get(objective.name) if result.ok else None
    return None if value is None or value != value else value


def make_sampler(kind: str, seed: int, startup_trials: int = 10) -> optuna.samplers.BaseSampler:
    if kind == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.samplers.TPESampler(
            seed=seed, multivariate=True, group=True, constant_liar=True, n_startup_trials=startup_trials
        )


class OptunaStrategy:
    """Defaults of every candidate first, then their portfolios, then Optuna's suggestions, up to ``max_trials``
    trials in all. ``deadline`` (a ``clock()`` value) makes it cost-aware."""

    def __init__(
        self,
        candidates: list[str],
        profile: dict,
        objective: Metric,
        max_trials: int,
        seed: int = 0,
        sampler: str = "bayesian",
        journal: Path | None = None,
        finished: dict[str, TrialResult] | None = None,
        deadline: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.candidates, self.profile, self.objective = candidates, profile, objective
        self.max_trials, self.seed, self.deadline, self.clock = max_trials, seed, deadline, clock
        self.costs = TrialCosts()
        self._best: dict[str, float] = {}  # each candidate's best score so far, larger is better
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        storage = None
        if journal is not None:
            backend = optuna.storages.journal.JournalFileBackend(str(journal))
            storage = optuna.storages.JournalStorage(backend)
        portfolio = [(rank, key, params) for key in candidates for rank, params in enumerate(self._portfolio(key))]
        self.study = optuna.create_study(
            study_name="autopilot",
            storage=storage,
            sampler=make_sampler(sampler, seed, startup_trials=max(3, len(portfolio))),
            direction="maximize" if objective.greater_is_better else "minimize",
            load_if_exists=True,
        )
        self._live: dict[str, optuna.Trial | int] = {}
        self._queue: list[TrialSpec] = []
        self._pending = portfolio  # portfolio entries not yet in the study: (rank, candidate, params)
        self._recover(finished or {})

    def _portfolio(self, key: str) -> list[dict]:
        return portfolio_params(get_candidate(key), self.profile)

    # ---------------------------------------------------------------- ask / tell

    def ask(self) -> TrialSpec | None:
        if self._queue:
            return self._queue.pop(0)
        while self._asked < min(len(self.candidates), self.max_trials):
            spec = self._default_spec(self._asked)
            self._asked += 1
            if spec.id not in self._finished:
                return spec
        if self._asked >= self.max_trials:
            return None
        return self._ask_optuna(1.0)

    def _default_spec(self, index: int) -> TrialSpec:
        key = self.candidates[index]
        return TrialSpec(self._id(index, key), key, {}, 1.0, self.seed)

    def _ask_optuna(self, budget: float) -> TrialSpec | None:
        """The next portfolio configuration that fits in the time left, else Optuna's suggestion (its algorithm
        replaced by an affordable one where needed); None when no candidate fits."""
        fits = [key for key in self.candidates if affordable(self.costs.expected(key, budget), self._time_left())]
        if not fits:
            return None
        entry = self._next_portfolio(fits)
        if entry is not None:
            self.study.enqueue_trial(fixed_params(*entry))
        elif len(fits) < len(self.candidates):
            self.study.enqueue_trial({ALGORITHM: max(fits, key=lambda k: self._best.get(k, -float("inf")))})
        trial = self.study.ask()
        key = trial.suggest_categorical(ALGORITHM, self.candidates)
        spec = TrialSpec(self._id(self._asked, key), key, suggest(trial, key, self.profile), budget, self.seed)
        trial.set_user_attr(SPEC_ATTR, spec.to_dict())
        self._live[spec.id] = trial
        self._asked += 1
        return spec

    def _next_portfolio(self, fits: list[str]) -> tuple[str, dict] | None:
        """The pending portfolio entry to run next: by rank within its candidate, then (with a time limit) the
        cheapest candidate first; only candidates that fit."""
        timed = self.deadline is not None
        order = cheapest_first([(rank, key) for rank, key, _ in self._pending], self.costs if timed else TrialCosts())
        for rank, key in order:
            if key in fits:
                index = next(i for i, e in enumerate(self._pending) if e[:2] == (rank, key))
                _, _, params = self._pending.pop(index)
                return key, params
        return None

    def _time_left(self) -> float | None:
        return None if self.deadline is None else self.deadline - self.clock()

    def tell(self, result: TrialResult) -> None:
        self._note(result)
        self._tell_study(result)

    def _note(self, result: TrialResult) -> None:
        """What the cost-aware rule needs: the trial's seconds, and its candidate's best score."""
        self.costs.record(result)
        value = objective_value(result, self.objective)
        if value is not None:
            score = value if self.objective.greater_is_better else -value
            self._best[result.spec.candidate] = max(score, self._best.get(result.spec.candidate, score))

    def _tell_study(self, result: TrialResult) -> None:
        trial = self._live.pop(result.spec.id, None)
        if trial is None:
            return  # a defaults trial: a baseline, not a point of the search
        value = objective_value(result, self.objective)
        if value is None:
            self.study.tell(trial, state=optuna.trial.TrialState.FAIL)
        else:
            self.study.tell(trial, value)

    # ---------------------------------------------------------------- resume

    def _id(self, index: int, key: str) -> str:
        return f"{index + 1:03d}-{key}"

    def _recover(self, finished: dict[str, TrialResult]) -> None:
        """Pick up a killed job: finished trials are told, asked-but-unfinished ones are queued to run again, and
        portfolio entries already in the study (asked, or enqueued and about to be) are not enqueued again."""
        self._finished = set(finished)
        for result in finished.values():
            self._note(result)
        trials = self.study.get_trials(deepcopy=False)
        enqueued = [t.system_attrs.get("fixed_params") for t in trials]
        self._pending = [e for e in self._pending if fixed_params(e[1], e[2]) not in enqueued]
        self._asked = 0
        if trials:  # the defaults were all asked before the first Optuna trial; ids go on after every one used:
            asked = [t.user_attrs[SPEC_ATTR]["id"] for t in trials if SPEC_ATTR in t.user_attrs]  # finished or not,
            used = [int(trial_id.split("-")[0]) for trial_id in [*finished, *asked]]  # and promotions (not in it)
            self._asked = max(len(self.candidates) + len(trials), *used)
            specs = [self._default_spec(i) for i in range(min(len(self.candidates), self.max_trials))]
            self._queue = [spec for spec in specs if spec.id not in finished]
        for frozen in trials:
            if frozen.state != optuna.trial.TrialState.RUNNING or SPEC_ATTR not in frozen.user_attrs:
                continue
            spec = TrialSpec.from_dict(frozen.user_attrs[SPEC_ATTR])
            self._live[spec.id] = frozen.number
            if spec.id in finished:
                self._tell_study(finished[spec.id])
            else:
                self._queue.append(spec)


def fixed_params(key: str, params: dict) -> dict:
    """A configuration of candidate ``key`` as the study's parameters."""
    return {ALGORITHM: key, **{f"{key}.{name}": value for name, value in params.items()}}
