"""Bayesian (TPE) and random search over the union of the candidates' search spaces, through Optuna's ask/tell.

The algorithm is itself a choice (``algorithm``), and each candidate's hyperparameters are named ``<key>.<param>``,
so TPE (with ``group=True``) models each candidate's space apart. Every candidate first trains once with its
defaults, as a baseline the search must beat. The Optuna study lives in a journal file in the job folder, so a
killed job resumes where it stopped: trials asked but never finished are run again with the same spec.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution

from autopilot.candidates import get_candidate
from autopilot.metrics import Metric
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
    """Defaults of every candidate first, then Optuna's suggestions, up to ``max_trials`` trials in all."""

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
    ) -> None:
        self.candidates, self.profile, self.objective = candidates, profile, objective
        self.max_trials, self.seed = max_trials, seed
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        storage = None
        if journal is not None:
            backend = optuna.storages.journal.JournalFileBackend(str(journal))
            storage = optuna.storages.JournalStorage(backend)
        self.study = optuna.create_study(
            study_name="autopilot",
            storage=storage,
            sampler=make_sampler(sampler, seed),
            direction="maximize" if objective.greater_is_better else "minimize",
            load_if_exists=True,
        )
        self._live: dict[str, optuna.Trial | int] = {}
        self._queue: list[TrialSpec] = []
        self._recover(finished or {})

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

    def _ask_optuna(self, budget: float) -> TrialSpec:
        trial = self.study.ask()
        key = trial.suggest_categorical(ALGORITHM, self.candidates)
        spec = TrialSpec(self._id(self._asked, key), key, suggest(trial, key, self.profile), budget, self.seed)
        trial.set_user_attr(SPEC_ATTR, spec.to_dict())
        self._live[spec.id] = trial
        self._asked += 1
        return spec

    def tell(self, result: TrialResult) -> None:
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
        """Pick up a killed job: finished trials are told, asked-but-unfinished ones are queued to run again."""
        self._finished = set(finished)
        trials = self.study.get_trials(deepcopy=False)
        self._asked = 0
        if trials:  # the defaults were all asked before the first Optuna trial; ids go on after every one used
            used = [int(trial_id.split("-")[0]) for trial_id in finished]
            self._asked = max(len(self.candidates) + len(trials), *used)
            specs = [self._default_spec(i) for i in range(min(len(self.candidates), self.max_trials))]
            self._queue = [spec for spec in specs if spec.id not in finished]
        for frozen in trials:
            if frozen.state != optuna.trial.TrialState.RUNNING or SPEC_ATTR not in frozen.user_attrs:
                continue
            spec = TrialSpec.from_dict(frozen.user_attrs[SPEC_ATTR])
            self._live[spec.id] = frozen.number
            if spec.id in finished:
                self.tell(finished[spec.id])
            else:
                self._queue.append(spec)
