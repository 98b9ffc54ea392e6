"""monitor/: Model Monitor's baseline of a job, written with every job and again by ``autopilot baseline``.

- ``statistics.json`` and ``constraints.json``: the data-quality baseline of the rows the best model learned from
  (train and validation), or of any file given;
- ``model_quality_statistics.json`` and ``model_quality_constraints.json``: the model's quality on the rows it was
  scored on out of sample (see ``model_quality.py``).

Every column of the training table but the target is baselined: the model's numeric features as numbers (read as
the model reads them), every other column as text.

>>> from autopilot.deploy.baseline import write_baseline
>>> write_baseline("autopilot-output/penguins")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import partial
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from autopilot.deploy.batch import CHUNK_BYTES, input_tables
from autopilot.deploy.constraints import read_constraints, suggest_constraints
from autopilot.deploy.model_quality import write_quality_baseline
from autopilot.deploy.statistics import NumberReader, TableStatistics
from autopilot.errors import DataError
from autopilot.io import read_json, write_json
from autopilot.preprocess import ColumnCoercer, feature_kinds, make_coercer

MONITOR_DIR = "monitor"


def job_columns(job_dir: Path) -> tuple[dict[str, str], dict[str, NumberReader], str]:
    """Every input column's baseline kind (numeric or string), how each numeric one is read, and the target."""
    profile, problem = read_json(job_dir / "profile.json"), read_json(job_dir / "problem.json")
    target = problem["target"]
    numeric = {n for n, k in feature_kinds(profile, target).items() if k == "numeric"}
    kinds = {
        c["name"]: "numeric" if c["name"] in numeric else "string"
        for c in profile["column_profiles"]
        if c["name"] != target
    }
    coercer = make_coercer(profile, target)
    formats = coercer.number_formats or {}
    readers = {n: NumberReader(partial(_cast, coercer, n), plain=n not in formats) for n in numeric}
    return kinds, readers, target


def _cast(coercer: ColumnCoercer, name: str, text: pd.Series) -> pd.Series:
    return coercer.transform_column(text.rename(name), "numeric")


def table_statistics(job_dir: str | Path, tables: Iterable[pa.Table]) -> dict:
    """statistics.json of ``tables`` (Arrow chunks) for the job's columns; the target is not a feature."""
    kinds, readers, target = job_columns(Path(job_dir))
    stats = TableStatistics(kinds, readers)
    for table in tables:
        if target in table.column_names:
            table = table.drop_columns([target])
        stats.add(table)
    if not stats.rows:
        raise DataError("no rows to take statistics of (a header only, or empty files)")
    return stats.to_json()


def training_tables(job_dir: Path) -> Iterator[pa.Table]:
    """The rows the best model learned from, as stored in the job folder."""
    for name in ("train.parquet", "validation.parquet"):
        path = job_dir / "data" / name
        if path.exists():
            yield from (pa.Table.from_batches([b]) for b in pq.ParquetFile(path).iter_batches(65_536))


def write_baseline(job_dir: str | Path, data: str | Path | None = None, chunk_bytes: int = CHUNK_BYTES) -> list[Path]:
    """Write monitor/'s baseline files from ``data`` (a file or folder), or from the job's own rows; returns them.
    An existing constraints.json keeps its ``monitoring_config`` (thresholds and methods a user may have edited);
    its per-feature constraints are suggested afresh."""
    job_dir = Path(job_dir)
    tables = input_tables(data, chunk_bytes) if data is not None else training_tables(job_dir)
    statistics = table_statistics(job_dir, tables)
    kinds, _, _ = job_columns(job_dir)
    missing = [c for c in kinds if c not in statistics["dataset"]["columns"]]
    if missing:
        raise DataError(f"{data}: lacks the job's column(s) {missing}; a baseline needs every column the model reads")
    folder = job_dir / MONITOR_DIR
    constraints = suggest_constraints(statistics)
    if (folder / "constraints.json").exists():  # the user's thresholds (monitoring_config) are kept
        constraints["monitoring_config"] = read_constraints(folder / "constraints.json")["monitoring_config"]
    write_json(folder / "statistics.json", statistics)
    write_json(folder / "constraints.json", constraints)
    written = [folder / "statistics.json", folder / "constraints.json"]
    return written + write_quality_baseline(job_dir)
