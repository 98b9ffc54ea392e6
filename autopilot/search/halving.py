"""Multi-fidelity search: asynchronous successive halving (ASHA) over Optuna's suggestions.

New configurations train on the smallest budget (1/9 of the training rows). Whenever a configuration is
in the best 1/3 of those finished on its budget, it is trained again on three times the budget, up to the full one;
the others stop there, and the leaderboard says so. Optuna learns from the smallest-budget scores, which every
configuration has. A promotion is a new trial with the same candidate and hyperparameters and a larger budget.
"""

from __future__ import annotations

import json
from dataclasses import replace

from autopilot.search.optuna_strategy import OptunaStrategy, objective_value
from autopilot.search.spec import TrialResult, TrialSpec

ETA = 3
BUDGETS = (1 / 9, 1 / 3, 1.0)


def config_key(spec: TrialSpec) -> str:
    return json.dumps([spec.candidate, spec.params], sort_keys=True, default=str)


class SuccessiveHalvingStrategy(OptunaStrategy):
    """OptunaStrategy whose new trials start on ``BUDGETS[0]`` and climb by promotion (defaults run in full)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        self._rungs: list[list[tuple[float, TrialSpec]]] = [[] for _ in BUDGETS]
        self._promoted: set[tuple[int, str]] = set()
        self._recorded: set[str] = set()
        super().__init__(*args, **kwargs)

    def ask(self) -> TrialSpec | None:
        if self._queue or self._asked < min(len(self.candidates), self.max_trials):
            return super().ask()
        if self._asked >= self.max_trials:
            return None
        promotion = self._next_promotion()
        if promotion is not None:
            self._asked += 1
            return replace(promotion, id=self._id(self._asked - 1, promotion.candidate), seed=self.seed)
        return self._ask_optuna(BUDGETS[0])

    def tell(self, result: TrialResult) -> None:
        super().tell(result)
        self._record(result)

    def _record(self, result: TrialResult) -> None:
        value = objective_value(result, self.objective)
        if value is None or result.spec.budget not in BUDGETS[:-1] or result.spec.id in self._recorded:
            return
        self._recorded.add(result.spec.id)
        score = value if self.objective.greater_is_better else -value
        self._rungs[BUDGETS.index(result.spec.budget)].append((score, result.spec))

    def _next_promotion(self) -> TrialSpec | None:
        """The best unpromoted configuration in the top 1/ETA of a rung, trying the highest rung first."""
        for rung in range(len(BUDGETS) - 2, -1, -1):
            ranked = sorted(self._rungs[rung], key=lambda item: -item[0])
            for _, spec in ranked[: len(ranked) // ETA]:
                if (rung, config_key(spec)) not in self._promoted:
                    self._promoted.add((rung, config_key(spec)))
                    return replace(spec, budget=BUDGETS[rung + 1])
        return None

    def _recover(self, finished: dict[str, TrialResult]) -> None:
        super()._recover(finished)
        by_budget = {(r.spec.budget, config_key(r.spec)) for r in finished.values()}
        for result in finished.values():
            self._record(result)
        for rung in range(len(BUDGETS) - 1):
            for _, spec in self._rungs[rung]:
                if (BUDGETS[rung + 1], config_key(spec)) in by_budget:
                    self._promoted.add((rung, config_key(spec)))
