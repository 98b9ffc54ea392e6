"""``autopilot monitor <job> <new data>``: new data checked against the job's baseline (monitor/), as Model Monitor's
schedules do, into ``monitor/<run>/`` (statistics.json, constraint_violations.json, and with ground truth the
model-quality files and, for a job with a bias baseline in explain/bias.json, the bias drift's) and
``monitor/report-<run>.html``.

New data is a CSV or Parquet file or folder (one run, named by the time it ran), or a capture folder written by
``autopilot serve --capture`` (one run per hour, named by the hour). Hours already monitored are listed in
``monitor/state.json`` and skipped, and the hour still being written is left for the next run: a cron line is a
schedule. Files are read chunk by chunk; memory stays bounded by the chunk and the statistics' samples.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from autopilot.bias import BiasConfig, read_bias
from autopilot.bias.rows import needed_columns
from autopilot.deploy.attribution import attribution_drift
from autopilot.deploy.baseline import MONITOR_DIR, table_statistics
from autopilot.deploy.batch import CHUNK_BYTES, input_files, input_tables, prefetched
from autopilot.deploy.bias_drift import POST, bias_drift
from autopilot.deploy.capture import capture_hours, read_hour
from autopilot.deploy.constraints import read_constraints, read_quality_constraints
from autopilot.deploy.ground_truth import CaptureRows, capture_rows, encode_labels, file_truth, join_truth
from autopilot.deploy.model_quality import quality_metrics, quality_violations
from autopilot.deploy.monitor_report import write_monitor_report
from autopilot.deploy.statistics import sample_positions
from autopilot.deploy.violations import check
from autopilot.errors import DataError, JobError
from autopilot.io import read_json, write_json
from autopilot.preprocess import feature_kinds

SAMPLE_ROWS = 200  # rows of new data explained for the attribution drift


@dataclass
class Run:
    """One monitoring run's results (one file, or one capture hour)."""

    name: str
    source: str
    statistics: dict
    violations: list[dict]
    checks: list
    quality: dict | None = None
    quality_violations: list[dict] = field(default_factory=list)
    attribution: dict | None = None
    bias: dict | None = None  # the new rows' post-training bias analysis (with ground truth and a bias baseline)
    bias_violations: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    report: Path | None = None

    @property
    def violated(self) -> int:
        drift = int(bool(self.attribution and self.attribution["violated"]))
        return len(self.violations) + len(self.quality_violations) + drift + len(self.bias_violations)


class Baseline:
    """A job's monitor/ baseline, read and checked once."""

    def __init__(self, job_dir: Path) -> None:
        folder = job_dir / MONITOR_DIR
        if not (folder / "statistics.json").exists():
            raise JobError(f"{job_dir} has no monitor baseline; run: autopilot baseline {job_dir}")
        self.job_dir = job_dir
        self.statistics = read_json(folder / "statistics.json")
        self.constraints = read_constraints(folder / "constraints.json")
        quality = folder / "model_quality_constraints.json"
        self.quality_constraints = read_quality_constraints(quality) if quality.exists() else {}
        self.problem = read_json(job_dir / "problem.json")
        profile = read_json(job_dir / "profile.json")
        self.features = list(feature_kinds(profile, self.problem["target"]))  # the columns the model reads
        bias = read_bias(job_dir)  # explain/bias.json: the bias drift's baseline, when the job measured bias
        self.bias = bias if bias and POST in bias else None
        self.bias_columns: list[str] = []
        if self.bias:
            said = self.bias["config"]
            self.bias_columns = needed_columns(BiasConfig.from_options(said["facets"], said["group_variable"]))

    def with_features(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The rows with any feature column they lack added empty, so the model can still score and explain them
        (the missing column check reports the gap)."""
        missing = [c for c in self.features if c not in frame.columns]
        return frame.assign(**dict.fromkeys(missing)) if missing else frame

    def attribution(self, rows: pd.DataFrame) -> dict | None:
        threshold = self.constraints["monitoring_config"]["feature_attribution_drift_threshold"]
        return attribution_drift(self.job_dir, self.with_features(rows), threshold)


def monitor(
    job_dir: str | Path,
    data: str | Path,
    ground_truth: str | Path | None = None,
    attribution: bool = True,
    chunk_bytes: int = CHUNK_BYTES,
    now: datetime | None = None,
) -> list[Run]:
    """Monitor ``data`` against the job's baseline; returns the runs made (none when every capture hour was seen)."""
    job_dir, data = Path(job_dir), Path(data)
    baseline = Baseline(job_dir)
    now = now or datetime.now(UTC)
    if not data.exists():
        raise DataError(
            f"{data}: no such file or folder; give a CSV or Parquet file, a folder of them, or a capture folder"
        )
    if data.is_dir() and not _has_tables(data):
        return _monitor_captures(baseline, data, ground_truth, attribution, now)
    run = _monitor_file(baseline, data, ground_truth, attribution, chunk_bytes, now)
    return [_finish(baseline, run)]


def _has_tables(folder: Path) -> bool:
    try:
        return bool(input_files(folder))
    except DataError:
        return False


def _monitor_file(
    baseline: Baseline, data: Path, ground_truth: Path | None, attribution: bool, chunk_bytes: int, now: datetime
) -> Run:
    target = baseline.problem["target"]
    rows = RowSample(SAMPLE_ROWS)
    truth: list[pd.Series] = []
    facets: list[pd.DataFrame] = []  # the bias drift's columns, row for row

    def tables() -> Iterator[pa.Table]:
        for table in prefetched(input_tables(data, chunk_bytes)):
            rows.add(table)
            if target in table.column_names:
                truth.append(table.column(target).to_pandas())
            facets.append(table.select([c for c in baseline.bias_columns if c in table.column_names]).to_pandas())
            yield table

    statistics = table_statistics(baseline.job_dir, tables())
    violations, checks = check(baseline.statistics, baseline.constraints, statistics)
    run = Run(now.strftime("%Y%m%dT%H%M%SZ"), str(data), statistics, violations, checks)
    labels = file_truth(ground_truth, target) if ground_truth is not None else None
    if labels is None and truth:
        labels = pd.concat(truth, ignore_index=True)
    if labels is not None:
        predicted = _quality_from_file(baseline, run, data, labels, chunk_bytes)
        _check_bias(baseline, run, pd.concat(facets, ignore_index=True), labels, predicted)
    else:
        checked = "model quality and bias drift" if baseline.bias else "model quality"
        run.notes.append(f"no ground truth (no '{target}' column, no --ground-truth): {checked} not checked")
    if attribution:
        run.attribution = baseline.attribution(rows.frame())
    _note_missing(run)
    return run


def _note_missing(run: Run) -> None:
    missing = [v["feature_name"] for v in run.violations if v["constraint_check_type"] == "missing_column_check"]
    if missing and (run.quality is not None or run.attribution is not None):
        run.notes.append(f"the model scored and explained the rows with {', '.join(missing)} empty (missing columns)")


def _quality_from_file(baseline: Baseline, run: Run, data: Path, labels: pd.Series, chunk_bytes: int) -> np.ndarray:
    """Model quality of the file's rows; returns the model's (encoded) predictions of them."""
    from autopilot.pipeline import AutopilotPipeline

    pipeline = AutopilotPipeline.load(baseline.job_dir / "best" / "pipeline.joblib")
    codes, probas = [], []
    for table in input_tables(data, chunk_bytes):
        code, proba = pipeline.predict_encoded(baseline.with_features(table.to_pandas()))
        codes.append(code)
        probas.append(proba)
    predicted = np.concatenate(codes)
    proba = None if probas[0] is None else np.concatenate(probas)
    if len(labels) != len(predicted):
        raise DataError(f"the ground truth has {len(labels):,} rows and the data {len(predicted):,}; give one per row")
    _score(baseline, run, labels, predicted, proba)
    return predicted


def _check_bias(baseline: Baseline, run: Run, columns: pd.DataFrame, labels: pd.Series, predicted: np.ndarray) -> None:
    """Bias drift of rows with ground truth, when the job has a bias baseline (explain/bias.json)."""
    if baseline.bias is None:
        return
    if not labels.notna().any():
        run.notes.append("no row has a ground-truth label: bias drift not checked")
        return
    labels = labels.reset_index(drop=True)
    run.bias, run.bias_violations, notes = bias_drift(baseline.bias, baseline.problem, columns, labels, predicted)
    run.notes += notes


def _score(baseline: Baseline, run: Run, labels: pd.Series, predicted: np.ndarray, proba: np.ndarray | None) -> None:
    """Model quality of ``predicted`` (encoded) against ``labels`` (as the target's values); rows whose label is
    missing or not a class are left out, and said."""
    problem = baseline.problem
    truth = encode_labels(labels.tolist(), problem)
    keep = ~np.isnan(truth) & ~pd.isna(predicted).astype(bool)
    if (~keep).any():
        run.notes.append(
            f"{int((~keep).sum()):,} rows without a usable ground-truth label were left out of model quality"
        )
    if not keep.any():
        run.notes.append("no row has a usable ground-truth label: model quality not computed")
        return
    truth = truth[keep] if problem["problem_type"] == "regression" else truth[keep].astype(int)
    predicted = np.asarray(predicted)[keep]
    predicted = predicted.astype(float) if problem["problem_type"] == "regression" else predicted.astype(int)
    statistics = quality_metrics(problem, truth, predicted, None if proba is None else proba[keep])
    run.quality = {"version": 0.0, "dataset": {"item_count": int(keep.sum())}} | statistics
    run.quality_violations = quality_violations(baseline.quality_constraints, run.quality)


def _monitor_captures(
    baseline: Baseline, folder: Path, ground_truth: Path | None, attribution: bool, now: datetime
) -> list[Run]:
    hours = capture_hours(folder)
    if not hours:
        raise DataError(f"{folder}: no capture files (yyyy/mm/dd/hh/*.jsonl) and no CSV or Parquet files")
    state_path = baseline.job_dir / MONITOR_DIR / "state.json"
    state = read_json(state_path) if state_path.exists() else {"captures": {}}
    seen = set(state["captures"].get(str(folder.resolve()), []))
    current = now.strftime("%Y/%m/%d/%H")
    runs = []
    for hour in hours:
        if hour in seen or hour >= current:  # the current hour is still being written: the next run takes it
            continue
        runs.append(_finish(baseline, _monitor_hour(baseline, folder, hour, ground_truth, attribution)))
        seen.add(hour)
        state["captures"][str(folder.resolve())] = sorted(seen)
        write_json(state_path, state)  # after each hour: a killed run redoes only the hour it was in
    return runs


def _monitor_hour(baseline: Baseline, folder: Path, hour: str, ground_truth: Path | None, attribution: bool) -> Run:
    captured: CaptureRows = capture_rows(baseline.job_dir, baseline.features, read_hour(folder, hour))
    statistics = table_statistics(baseline.job_dir, [captured.table])
    violations, checks = check(baseline.statistics, baseline.constraints, statistics)
    run = Run(hour.replace("/", "")[:8] + "T" + hour[-2:], f"{folder} {hour}", statistics, violations, checks)
    run.notes += captured.notes
    if ground_truth is None:
        checked = "model quality and bias drift" if baseline.bias else "model quality"
        run.notes.append(f"no --ground-truth given: {checked} not checked")
    else:
        labels, note = join_truth(ground_truth, captured)
        run.notes.append(note)
        if labels.notna().any():
            _score(baseline, run, labels, captured.predicted, captured.proba)
            columns = [c for c in baseline.bias_columns if c in captured.table.column_names]
            _check_bias(baseline, run, captured.table.select(columns).to_pandas(), labels, captured.predicted)
    if attribution and captured.table.num_rows:
        sample = captured.table.to_pandas().sample(min(SAMPLE_ROWS, captured.table.num_rows), random_state=0)
        run.attribution = baseline.attribution(sample)
    _note_missing(run)
    return run


def _finish(baseline: Baseline, run: Run) -> Run:
    run.name = _unused(baseline.job_dir / MONITOR_DIR, run.name)
    folder = baseline.job_dir / MONITOR_DIR / run.name
    write_json(folder / "statistics.json", run.statistics)
    write_json(folder / "constraint_violations.json", {"violations": run.violations})
    if run.quality is not None:
        write_json(folder / "model_quality_statistics.json", run.quality)
        write_json(folder / "model_quality_violations.json", {"violations": run.quality_violations})
    if run.attribution is not None:
        write_json(folder / "feature_attribution_drift.json", run.attribution)
    if run.bias is not None:
        write_json(folder / "bias_analysis.json", run.bias)
        write_json(folder / "bias_drift_violations.json", {"version": "1.0", "violations": run.bias_violations})
    if run.notes:
        write_json(folder / "notes.json", {"notes": run.notes})
    run.report = write_monitor_report(baseline.job_dir, run)
    return run


def _unused(folder: Path, name: str) -> str:
    """``name``, or ``name-2``, ``name-3``...: a run never replaces an earlier run's files (two runs in one second,
    or the same hour of two capture folders)."""
    candidate, n = name, 1
    while (folder / candidate).exists():
        n += 1
        candidate = f"{name}-{n}"
    return candidate


class RowSample:
    """A uniform sample of at most ``size`` rows over every chunk."""

    def __init__(self, size: int, seed: int = 0) -> None:
        self.size, self.rng, self.seen = size, np.random.default_rng(seed), 0
        self.rows = pd.DataFrame()

    def add(self, table: pa.Table) -> None:
        old, new = sample_positions(self.rng, len(self.rows), self.seen, table.num_rows, self.size)
        chunk = table.take(pa.array(new, pa.int64())).to_pandas()
        self.rows = pd.concat([self.rows.iloc[old], chunk], ignore_index=True) if len(self.rows) else chunk
        self.seen += table.num_rows

    def frame(self) -> pd.DataFrame:
        return self.rows
