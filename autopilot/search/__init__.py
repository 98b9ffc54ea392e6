"""Search: strategies (ask/tell), the trial runner and executors."""

from autopilot.search.executors import run_search
from autopilot.search.processes import TrialProcessExecutor
from autopilot.search.runner import TrialData, run_trial
from autopilot.search.spec import TrialResult, TrialSpec
from autopilot.search.strategies import DefaultsStrategy, Strategy

__all__ = [
    "DefaultsStrategy",
    "Strategy",
    "TrialData",
    "TrialProcessExecutor",
    "TrialResult",
    "TrialSpec",
    "run_search",
    "run_trial",
]
