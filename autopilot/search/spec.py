"""The two frozen dataclasses that travel between stages."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

SUCCEEDED, FAILED = "succeeded", "failed"


@dataclass(frozen=True)
class TrialSpec:
    """One candidate with its hyperparameters. ``budget`` is a fidelity (1.0 = full training)."""

    id: str
    candidate: str
    params: dict = field(default_factory=dict)
    budget: float = 1.0
    seed: int = 0

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> TrialSpec:
        return cls(**data)


@dataclass(frozen=True)
class TrialResult:
    """How a trial ended: its validation metrics, or the error that stopped it."""

    spec: TrialSpec
    status: str
    metrics: dict = field(default_factory=dict)
    seconds: float = 0.0
    error: str | None = None
    scored_by: str = ""  # how the metrics were measured, when not the job's own scheme (e.g. "5-fold out-of-fold")

    @property
    def ok(self) -> bool:
        return self.status == SUCCEEDED

    def to_dict(self) -> dict:
        return {**asdict(self), "spec": self.spec.to_dict()}

    @classmethod
    def from_dict(cls, data: dict) -> TrialResult:
        return cls(**{**data, "spec": TrialSpec.from_dict(data["spec"])})
