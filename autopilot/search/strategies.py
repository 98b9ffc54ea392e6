"""Strategies decide which trials to run: ``ask() -> TrialSpec | None`` and ``tell(TrialResult)``."""

from __future__ import annotations

from typing import Protocol

from autopilot.search.spec import TrialResult, TrialSpec


class Strategy(Protocol):
    def ask(self) -> TrialSpec | None: ...

    def tell(self, result: TrialResult) -> None: ...


class DefaultsStrategy:
    """One trial per candidate with its default hyperparameters (the baseline before HPO)."""

    def __init__(self, candidates: list[str], seed: int = 0, done: frozenset[str] | set[str] = frozenset()) -> None:
        specs = [TrialSpec(f"{i:03d}-{key}", key, {}, 1.0, seed) for i, key in enumerate(candidates, 1)]
        self._pending = [spec for spec in specs if spec.id not in done]
        self.results: list[TrialResult] = []

    def ask(self) -> TrialSpec | None:
        return self._pending.pop(0) if self._pending else None

    def tell(self, result: TrialResult) -> None:
        self.results.append(result)
