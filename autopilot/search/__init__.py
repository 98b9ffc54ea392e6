"""Search: strategies (ask/tell), the trial runner and executors."""

from autopilot.search.executors import make_executor, run_search
from autopilot.search.runner import TrialData, run_trial
from autopilot.search.spec import TrialResult, TrialSpec
from autopilot.search.strategies import DefaultsStrategy, Strategy

__all__ = [
    "DefaultsStrategy",
    "Strategy",
    "TrialData",
    "TrialResult",
    "TrialSpec",
    "make_executor",
    "run_search",
    "run_trial",
]
