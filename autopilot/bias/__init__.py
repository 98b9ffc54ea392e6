"""Bias: SageMaker Clarify's pre-training and post-training bias metrics for facets of a job's data, written as
``explain/bias.json`` in Clarify's ``analysis.json`` shape (see ``../shared/specs/clarify-bias.md``).

>>> from autopilot.bias import BiasConfig, write_bias
>>> write_bias("autopilot-output/adult", BiasConfig.from_options(["sex=Female"]))  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from autopilot.bias.analysis import analyze
from autopilot.bias.facets import BiasConfig, FacetGroup, check_column, facet_groups, positive_outcome
from autopilot.bias.rows import JobRows, needed_columns
from autopilot.errors import ConfigError
from autopilot.io import read_json, write_json

BIAS_FILE = "explain/bias.json"

__all__ = [
    "BIAS_FILE",
    "BiasConfig",
    "analyze_job",
    "check_bias",
    "groups_of",
    "job_bias_config",
    "read_bias",
    "write_bias",
]


def check_columns(config: BiasConfig, columns: list[str], target: str | None = None) -> None:
    """Refuse a facet or group variable the data lacks (naming close matches), or the target itself."""
    columns = [str(c) for c in columns]
    for spec in config.facets:
        check_column(spec.column, columns, "--facet")
        if spec.column == target:
            raise ConfigError(f"--facet {spec.text()}: '{target}' is the target; a facet is a column about the rows")
    if config.group_variable:
        check_column(config.group_variable, columns, "--group-variable")


def groups_of(config: BiasConfig, frame: pd.DataFrame) -> list[FacetGroup]:
    """Every facet group the config asks for, checked against ``frame``'s columns and values."""
    check_columns(config, list(frame.columns))
    return [group for spec in config.facets for group in facet_groups(spec, frame[spec.column])]


def check_bias(config: BiasConfig, table: pa.Table, problem: dict) -> None:
    """Refuse facets, a group variable or label values the data cannot answer, before a job trains."""
    check_columns(config, table.column_names, problem["target"])
    groups_of(config, table.select(needed_columns(config)).to_pandas())
    positive_outcome(config, problem)


def analyze_job(job_dir: str | Path, config: BiasConfig, data: str | Path | pd.DataFrame | None = None) -> dict:
    """The analysis of a finished job's rows (training rows, and the rows its best trial was scored on), or of the
    labelled rows of ``data`` (a file, a folder or a DataFrame) with ``best/``'s predictions."""
    job_dir = Path(job_dir)
    rows = JobRows(job_dir, config)
    outcome = positive_outcome(config, rows.problem)
    if data is None:
        check_columns(config, pq.read_schema(job_dir / "data" / "train.parquet").names, rows.target)
        trained = (job_dir / "best" / "manifest.json").exists()  # not in pilot mode (--candidates-only)
        pre, post = rows.training(outcome), rows.scored(outcome) if trained else None
        labelled = pd.concat([pre.columns, pd.read_parquet(job_dir / "data" / "validation.parquet")], join="inner")
    else:
        frame, codes = _predicted(job_dir, data)
        check_columns(config, list(frame.columns), rows.target)
        pre, post = rows.of_file(frame, codes, outcome, _name(data))
        labelled = pre.columns
    return analyze(config, groups_of(config, labelled), outcome, rows.target, pre, post)


def _name(data: str | Path | pd.DataFrame) -> str:
    return "the DataFrame" if isinstance(data, pd.DataFrame) else Path(data).name


def _predicted(job_dir: Path, data: str | Path | pd.DataFrame) -> tuple[pd.DataFrame, object]:
    """Every row of ``data`` (a file or folder read chunk by chunk, or a DataFrame) and ``best/``'s encoded
    predictions of them."""
    import numpy as np

    from autopilot.deploy.batch import CHUNK_BYTES, input_tables
    from autopilot.pipeline import AutopilotPipeline

    pipeline = AutopilotPipeline.load(job_dir / "best" / "pipeline.joblib")
    if isinstance(data, pd.DataFrame):
        frame = data.reset_index(drop=True)
        return frame, pipeline.predict_encoded(frame)[0]
    frames, codes = [], []
    for table in input_tables(Path(data), CHUNK_BYTES):
        frame = table.to_pandas()
        frames.append(frame)
        codes.append(pipeline.predict_encoded(frame)[0])
    return pd.concat(frames, ignore_index=True), np.concatenate(codes)


def write_bias(
    job_dir: str | Path,
    config: BiasConfig,
    data: str | Path | pd.DataFrame | None = None,
    output: str | Path | None = None,
) -> Path:
    """Write the analysis to ``output`` (default explain/bias.json for the job's rows, the baseline of the monitor's
    bias drift; explain/bias-<data>.json for a data file, explain/bias-dataframe.json for a DataFrame) and return
    its path."""
    job_dir = Path(job_dir)
    analysis = analyze_job(job_dir, config, data)
    stem = "dataframe" if isinstance(data, pd.DataFrame) else None if data is None else Path(data).stem
    path = Path(output) if output else job_dir / (BIAS_FILE if stem is None else f"explain/bias-{stem}.json")
    write_json(path, analysis)
    return path


def job_bias_config(
    job_dir: str | Path,
    facets: list[str] | str | None = None,
    group_variable: str | None = None,
    label_values: list[str] | str | None = None,
    label_threshold: float | None = None,
) -> BiasConfig:
    """The options given, or else the ones the job ran with (job.json); a job without facets needs them."""
    if not facets:
        asked = read_json(Path(job_dir) / "job.json")["config"]
        if not asked.get("facets"):
            raise ConfigError("give a --facet COLUMN[=VALUE,...|>THRESHOLD]: this job was run without one")
        facets, group_variable = asked["facets"], group_variable or asked.get("group_variable")
        label_values = label_values or asked.get("label_values")
        label_threshold = asked.get("label_threshold") if label_threshold is None else label_threshold
    return BiasConfig.from_options(facets, group_variable, label_values, label_threshold)


def read_bias(job_dir: str | Path) -> dict | None:
    path = Path(job_dir) / BIAS_FILE
    return read_json(path) if path.exists() else None
