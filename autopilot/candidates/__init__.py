"""Registered candidates. Importing this package registers every algorithm."""

from autopilot.candidates import linear_learner, mlp, xgboost  # noqa: F401  (each registers itself)
from autopilot.candidates.base import REGISTRY, Candidate, get_candidate, register, resolve_algorithms

__all__ = ["REGISTRY", "Candidate", "get_candidate", "register", "resolve_algorithms"]
