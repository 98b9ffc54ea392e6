"""What the user asked for (``JobConfig``), checked before anything is read or written; job.json keeps it as
``config``, beside what was resolved from the data."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from autopilot.bias.facets import BiasConfig
from autopilot.errors import ConfigError


@dataclass
class JobConfig:
    """What the user asked for; job.json keeps it beside what was resolved from the data."""

    target: str
    problem_type: str | None = None
    metric: str | None = None
    algorithms: list[str] | None = None
    positive_label: object = None
    seed: int = 0
    validation_fraction: float | None = None  # None: by the number of rows (``validation_share``)
    parallel_trials: int | None = None
    strategy: str = "auto"
    max_trials: int = 100
    time_limit: float | None = None
    trial_time_limit: float | None = None
    mode: str = "auto"
    ensembling_max_bytes: int | None = None
    cluster: str | None = None
    device: str = "auto"
    output: str | None = None
    job_name: str | None = None
    overwrite: bool = False
    candidates_only: bool = False  # pilot mode: profile, split and write the notebooks; train nothing
    facets: list[str] | None = None  # bias analysis (explain/bias.json): COLUMN[=VALUE,...|>THRESHOLD] each
    group_variable: str | None = None
    label_values: list[str] | None = None  # the positive outcome for bias (default: a binary problem's positive label)
    label_threshold: float | None = None  # regression: values above it are the positive outcome
    tracking_uri: str | None = None  # MLflow (default MLFLOW_TRACKING_URI; neither: no tracking)
    experiment: str | None = None  # MLflow experiment (default: the data file's stem)
    register_model: str | None = None  # MLflow registered model name for best/
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Refuse a setting that cannot work, before anything is read or written, naming its option."""
        positive = {"--time-limit": self.time_limit, "--trial-time-limit": self.trial_time_limit}
        positive["--ensembling-max-mb"] = None if self.ensembling_max_bytes is None else self.ensembling_max_bytes / 1e6
        for option, value in positive.items():
            if value is not None and not (math.isfinite(value) and value > 0):
                raise ConfigError(f"{option} must be a number above 0; got {value:g} (leave it out for no limit)")
        for option, value in {"--max-trials": self.max_trials, "--parallel": self.parallel_trials}.items():
            if value is not None and value < 1:
                raise ConfigError(f"{option} must be at least 1; got {value}")
        if self.validation_fraction is not None and not 0 < self.validation_fraction < 1:
            raise ConfigError(f"--validation-fraction must be between 0 and 1; got {self.validation_fraction:g}")
        if self.algorithms is not None and not [a for a in self.algorithms if str(a).strip()]:
            raise ConfigError("--algorithms names no algorithm; leave it out to use them all")
        self._check_tracking()
        self.bias()  # a malformed --facet is refused now; its columns and values once the data is read
        name = self.job_name
        if name is not None and (not name.strip() or name in (".", "..") or any(c in name for c in "/\\\0")):
            raise ConfigError(f"--job-name must be a plain folder name, without / or \\; got {name!r}")

    def _check_tracking(self) -> None:
        """MLflow tracking that cannot work is refused now (``check_tracking``), and so are its options without it."""
        from autopilot.tracking import URI_ENV, check_tracking

        tracked = check_tracking(self.tracking_uri) is not None
        for option, value in {"--experiment": self.experiment, "--register-model": self.register_model}.items():
            if value is not None and not tracked:
                raise ConfigError(f"{option} needs MLflow tracking: give --tracking-uri or set {URI_ENV}")
            if value is not None and not value.strip():
                raise ConfigError(f"{option} must name something; got an empty name")

    def bias(self) -> BiasConfig | None:
        """The bias analysis asked for, or None without a facet."""
        if not self.facets:
            if self.group_variable or self.label_values or self.label_threshold is not None:
                raise ConfigError("--group-variable, --label-values and --label-threshold need a --facet")
            return None
        return BiasConfig.from_options(self.facets, self.group_variable, self.label_values, self.label_threshold)
