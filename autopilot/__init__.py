"""autopilot: local-first AutoML for tabular data.

>>> from autopilot import AutoPilot  # doctest: +SKIP
>>> job = AutoPilot(target="species").fit("datasets/penguins.csv")  # doctest: +SKIP
"""

__version__ = "0.1.0"

from autopilot.api import AutoPilot, Job, load_job
from autopilot.errors import AutopilotError

__all__ = ["AutoPilot", "AutopilotError", "Job", "__version__", "load_job"]
