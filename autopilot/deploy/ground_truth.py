"""The rows a capture hour holds (inputs as the endpoint read them, with its predictions), and the ground truth the
monitor scores them against: a file with the target column, row for row, or Model Monitor's ground-truth JSON lines
(``{"groundTruthData": {"data": "1", "encoding": "CSV"}, "eventMetadata": {"eventId": ".."}}``), joined to the
captured events on ``inferenceId`` when the capture has one, else on ``eventId``. A request of several rows takes a
ground-truth ``data`` of as many lines.

A captured request that does not fit the job's schema (another model's columns) is kept with the columns it has, so
the checks report the missing and extra columns instead of failing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from autopilot.deploy.batch import input_tables
from autopilot.deploy.capture import CaptureHour, payload_bytes
from autopilot.deploy.serve import CSV, JSON, RequestError, media_type, parse_rows
from autopilot.errors import DataError
from autopilot.io import read_json


@dataclass
class CaptureRows:
    """One hour's captured rows: inputs (text), encoded predictions (NaN when unreadable), probabilities, ids."""

    table: pa.Table
    predicted: np.ndarray
    proba: np.ndarray | None
    event_ids: list[str]
    inference_ids: list[str | None]
    notes: list[str] = field(default_factory=list)


def capture_rows(job_dir: Path, features: list[str], hour: CaptureHour) -> CaptureRows:
    """The hour's rows, read as the endpoint read them (``features``: the columns the model needs)."""
    profile, problem = read_json(job_dir / "profile.json"), read_json(job_dir / "problem.json")
    columns = [c["name"] for c in profile["column_profiles"] if c["name"] != problem["target"]]
    required = [c for c in columns if c in features]
    frames, predicted, probas, events, inferences = [], [], [], [], []
    for record in hour.records:
        data, meta = record["captureData"], record.get("eventMetadata", {})
        frame = _inputs(data["endpointInput"], columns, required)
        labels, proba = _outputs(data.get("endpointOutput"), len(frame), problem)
        frames.append(frame)
        predicted += labels
        probas.append(proba)
        events += [str(meta.get("eventId", ""))] * len(frame)
        inferences += [meta.get("inferenceId")] * len(frame)
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
    table = pa.table({c: pa.array([None if pd.isna(v) else str(v) for v in frame[c]], pa.string()) for c in frame})
    proba = np.vstack(probas) if probas and all(p is not None for p in probas) else None
    notes = [f"{len(hour.bad):,} capture lines unreadable and skipped"] if hour.bad else []
    notes += [f"{file} line {line}: {reason}" for file, line, reason in hour.bad[:20]]
    return CaptureRows(table, encode_labels(predicted, problem), proba, events, inferences, notes)


def _inputs(payload: dict, columns: list[str], required: list[str]) -> pd.DataFrame:
    body, media = payload_bytes(payload), media_type(payload.get("observedContentType"), CSV)
    try:
        return parse_rows(body, media, columns, required)
    except RequestError:  # another schema: keep the values under positional names, the checks say what differs
        if media == CSV:
            rows = [line.split(",") for line in body.decode("utf-8", "replace").splitlines() if line.strip()]
            width = max(len(r) for r in rows) if rows else 0
            return pd.DataFrame(rows, columns=[f"_c{i}" for i in range(width)], dtype=object)
        return pd.DataFrame()


def _outputs(payload: dict | None, rows: int, problem: dict) -> tuple[list, np.ndarray | None]:
    """The predicted labels (and probabilities, when the answer holds them) of a captured answer."""
    if payload is None:
        return [None] * rows, None
    text = payload_bytes(payload).decode("utf-8", "replace")
    if media_type(payload.get("observedContentType"), CSV) == JSON:
        try:
            answers = json.loads(text)["predictions"]
            labels = [a.get("predicted_label") for a in answers]
            proba = [a.get("probabilities") for a in answers]
            proba = np.asarray(proba, dtype=float) if all(p is not None for p in proba) else None
        except (ValueError, KeyError, TypeError, AttributeError):
            return [None] * rows, None
    else:
        labels = [line.split(",")[0] for line in text.splitlines() if line.strip()]
        proba = None
    if len(labels) != rows:
        return [None] * rows, None
    return labels, proba


def encode_labels(labels: list, problem: dict) -> np.ndarray:
    """Labels as the job encodes them (class i is ``classes[i]``, compared as trimmed text; numbers for
    regression); NaN for a missing label or one that is not a class."""
    if problem["problem_type"] == "regression":
        return pd.to_numeric(pd.Series(labels, dtype=object), errors="coerce").to_numpy(dtype=float)
    index = {str(c): i for i, c in enumerate(problem["classes"])}
    return np.array([np.nan if pd.isna(v) else index.get(str(v).strip(), np.nan) for v in labels], dtype=float)


def file_truth(path: str | Path, target: str) -> pd.Series:
    """The target column of a CSV or Parquet file (or folder), one label per data row."""
    columns = []
    for table in input_tables(path):
        if target not in table.column_names:
            raise DataError(f"{path}: the ground truth has no column '{target}' (the job's target)")
        columns.append(table.column(target).to_pandas())
    return pd.concat(columns, ignore_index=True) if columns else pd.Series(dtype=object)


def truth_records(path: str | Path) -> list[dict]:
    """Ground-truth JSON lines from a file or a folder of ``.jsonl`` files; malformed lines raise, naming them."""
    path = Path(path)
    files = sorted(path.rglob("*.jsonl")) if path.is_dir() else [path]
    if not path.exists() or not files:
        raise DataError(f"{path}: no ground-truth JSON lines (.jsonl) found")
    records = []
    for file in files:
        for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                record["groundTruthData"]["data"], record["eventMetadata"]["eventId"]
            except (ValueError, KeyError, TypeError):
                raise DataError(
                    f"{file} line {number}: not a ground-truth record (groundTruthData, eventMetadata)"
                ) from None
            records.append(record)
    return records


def join_truth(path: str | Path, captured: CaptureRows) -> tuple[pd.Series, str]:
    """Labels for the captured rows, joined on inferenceId when the capture has one, else eventId; and a note
    with the counts matched."""
    if Path(path).suffix.lower() != ".jsonl" and not Path(path).is_dir():
        raise DataError(f"{path}: for a capture folder, give ground truth as JSON lines (.jsonl), file or folder")
    by_id, records = {}, truth_records(path)
    for record in records:
        values = record["groundTruthData"]["data"].splitlines() or [""]
        by_id[record["eventMetadata"]["eventId"]] = values
        if record["eventMetadata"].get("inferenceId"):
            by_id[record["eventMetadata"]["inferenceId"]] = values
    labels: list = [None] * len(captured.event_ids)
    keys = [i if i else e for e, i in zip(captured.event_ids, captured.inference_ids, strict=True)]
    matched, position = set(), {}
    for row, key in enumerate(keys):
        values = by_id.get(key)
        offset = position.get(key, 0)
        position[key] = offset + 1
        if values is not None and offset < len(values):
            labels[row] = values[offset]
            matched.add(key)
    events = len(set(keys))
    note = (
        f"ground truth matched {len(matched):,} of {events:,} captured events ({len(records):,} ground-truth records)"
    )
    if not matched:
        note = f"ground truth matched none of the {events:,} captured events; check its eventId or inferenceId values"
    return pd.Series(labels, dtype=object), note
