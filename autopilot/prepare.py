"""A job's checked input (``Prepared``): the data loaded, its values tidied and fingerprinted, profiled, the problem
inferred, the candidates picked and the rows split; everything the input can get wrong is refused here, before the job
folder exists."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from autopilot.bias import check_bias
from autopilot.candidates import resolve_algorithms
from autopilot.config import JobConfig
from autopilot.data import SourceInfo, profile_table, read_table, split_train_validation, table_from_pandas
from autopilot.data.leakage import warning
from autopilot.data.split import validation_share
from autopilot.data.values import tidy_values
from autopilot.device import check_device
from autopilot.ensemble_families import resolve_families
from autopilot.ensemble_plan import EnsemblePlan
from autopilot.job_folder import check_folder, data_fingerprint, job_dir_for
from autopilot.preprocess import feature_kinds
from autopilot.problem import Problem, case_variants, check_target, infer_problem
from autopilot.search.cluster import check_cluster
from autopilot.search.plan import choose_mode, choose_strategy


@dataclass
class Prepared:
    """The checked input of a job, before anything is written."""

    table: pa.Table
    source: SourceInfo
    profile: dict
    problem: Problem
    candidates: list[str]
    train_rows: object
    validation_rows: object
    job_dir: Path
    resume: bool
    strategy: str
    mode: str = "hpo"
    mode_reason: str = ""
    plan: EnsemblePlan | None = None  # ensembling mode's plan, made once the budget is known
    data: dict | None = None  # the data's fingerprint, which a resumed run must match

    @property
    def labelled_rows(self) -> int:
        return len(self.train_rows) + len(self.validation_rows)

    @property
    def bagged(self) -> bool:
        """Ensembling's models are bagged over every labelled row (no holdout)."""
        return self.plan is not None and self.plan.scheme == "bagging"


def prepare(data: str | Path | pd.DataFrame, config: JobConfig) -> Prepared:
    """Load, profile, infer the problem, pick candidates and split; raises an AutopilotError on bad input."""
    check_device(config.device)
    if config.cluster:
        check_cluster(config.cluster)
    table, source, fingerprint, tidied = _load(data, config.target)
    profile = profile_table(table, config.target, source.bytes)
    problem = infer_problem(table, config.target, config.problem_type, config.metric, config.positive_label)
    profile["warnings"] += [warning(*said) for said in tidied] + label_warnings(config.target, problem)
    bias = config.bias()
    if bias is not None:  # facets the data cannot answer are refused before anything trains
        check_bias(bias, table, problem.to_dict())
    mode, why = choose_mode(config.mode, config.strategy, source.bytes, config.ensembling_max_bytes)
    if mode == "ensembling":
        candidates = resolve_families(config.algorithms)
    else:
        candidates = resolve_algorithms(config.algorithms, problem.problem_type)
    table = table.filter(pc.is_valid(table.column(config.target)))
    y = table.column(config.target).to_pandas().rename(config.target)
    share = validation_fraction(config, len(y), mode)
    train, val = split_train_validation(y, problem.is_classification, share, config.seed)
    job_dir = job_dir_for(config.output, config.job_name, source)
    resume = check_folder(job_dir, asdict(config), fingerprint)
    feature_kinds(profile, config.target)  # refuses data with no usable feature
    strategy = "ensembling" if mode == "ensembling" else choose_strategy(config.strategy, source.bytes)
    return Prepared(
        table, source, profile, problem, candidates, train, val, job_dir, resume, strategy, mode, why, data=fingerprint
    )


def _load(data: str | Path | pd.DataFrame, target: str) -> tuple[pa.Table, SourceInfo, dict, list[tuple]]:
    """The table with its values tidied, where it came from, the data's fingerprint (of the data as given) and what
    ``tidy_values`` did."""
    if isinstance(data, pd.DataFrame):
        table, source = table_from_pandas(data), SourceInfo("<DataFrame>", "dataframe", int(data.memory_usage().sum()))
    else:
        table, source = read_table(data)
    check_target(table, target)
    fingerprint = data_fingerprint(data, table.column_names, table.num_rows)
    table, tidied = tidy_values(table)
    return table, source, fingerprint, tidied


def label_warnings(target: str, problem: Problem) -> list[dict]:
    """Class labels that differ only in case: kept apart, and said."""
    out = []
    for group in case_variants(list(problem.classes or [])):
        said = f"has labels that differ only in case ({', '.join(map(repr, group))}); kept as different classes"
        out.append(warning(target, "label_case", said))
    return out


def validation_fraction(config: JobConfig, rows: int, mode: str) -> float:
    """The share held out: the user's, else by the number of labelled rows (HPO keeps more: it ranks many trials)."""
    return config.validation_fraction or validation_share(rows, tuning=mode != "ensembling")
