"""autopilot: local-first AutoML for tabular data.

>>> from autopilot import AutoPilot  # doctest: +SKIP
>>> job = AutoPilot(target="species").fit("datasets/penguins.csv")  # doctest: +SKIP

The public names are imported on first use, so ``autopilot.data`` (loading and profiling) starts without scikit-learn,
xgboost or torch in memory.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

_PUBLIC = {"AutoPilot": "autopilot.api", "Job": "autopilot.api", "load_job": "autopilot.api"}
_PUBLIC["AutopilotError"] = "autopilot.errors"

if TYPE_CHECKING:
    from autopilot.api import AutoPilot, Job, load_job
    from autopilot.errors import AutopilotError

__all__ = ["AutoPilot", "AutopilotError", "Job", "__version__", "load_job"]


def __getattr__(name: str) -> object:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'autopilot' has no attribute {name!r}")
    return getattr(importlib.import_module(_PUBLIC[name]), name)
