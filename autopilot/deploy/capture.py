"""Data capture in SageMaker's format: each sampled request the endpoint answered, with its answer, as one JSON line
under ``DIR/<yyyy>/<mm>/<dd>/<hh>/`` (UTC), and the reading of those files back for the monitor.

Each worker process writes its own file per hour, and each line with one ``write`` to a file opened for appending,
before the answer is sent: an answered request's line is in the operating system's hands even if the worker is
killed next. A failing write is logged and never fails the request.

    autopilot serve autopilot-output/penguins --capture captures --capture-percent 50
"""

from __future__ import annotations

import base64
import json
import logging
import os
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

INFERENCE_ID_HEADER = "x-amzn-sagemaker-inference-id"
LOG = logging.getLogger(__name__)


def encoding_of(content_type: str) -> str:
    media = content_type.split(";")[0].strip().lower()
    return {"text/csv": "CSV", "application/json": "JSON"}.get(media, "BASE64")


def _payload(data: bytes, content_type: str, mode: str) -> dict:
    encoding = encoding_of(content_type)
    text = None
    if encoding != "BASE64":
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            encoding = "BASE64"
    if text is None:
        text = base64.b64encode(data).decode("ascii")
    return {"observedContentType": content_type, "mode": mode, "data": text, "encoding": encoding}


def capture_line(
    body: bytes, content_type: str, answer: bytes, answer_type: str, inference_id: str | None, when: datetime
) -> str:
    """One request and its answer in Data Capture's JSON-line shape."""
    metadata = {"eventId": str(uuid.uuid4())}
    if inference_id:
        metadata["inferenceId"] = inference_id
    metadata["inferenceTime"] = when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"
    record = {
        "captureData": {
            "endpointInput": _payload(body, content_type, "INPUT"),
            "endpointOutput": _payload(answer, answer_type, "OUTPUT"),
        },
        "eventMetadata": metadata,
        "eventVersion": "0",
    }
    return json.dumps(record, ensure_ascii=False) + "\n"


class CaptureWriter:
    """Samples ``percent`` of the answered requests into this worker's file of the current hour."""

    def __init__(self, folder: str | Path, percent: float = 100.0) -> None:
        self.folder, self.percent = Path(folder), percent
        self._hour, self._fd = "", -1
        self._failed = False

    def record(self, body: bytes, content_type: str, answer: bytes, answer_type: str, inference_id: str | None) -> None:
        if self.percent < 100 and random.random() * 100 >= self.percent:
            return
        try:
            when = datetime.now(UTC)
            line = capture_line(body, content_type, answer, answer_type, inference_id, when)
            os.write(self._file(when), line.encode("utf-8"))
        except Exception:  # capture must never fail a request: log the first failure, go on serving
            if not self._failed:
                LOG.exception("data capture failed; requests are still answered")
            self._failed = True

    def _file(self, when: datetime) -> int:
        hour = when.strftime("%Y/%m/%d/%H")
        if hour != self._hour:
            self.close()
            folder = self.folder / hour
            folder.mkdir(parents=True, exist_ok=True)
            name = f"{when.strftime('%M-%S')}-{os.getpid()}-{uuid.uuid4().hex[:8]}.jsonl"
            self._fd = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o666)
            self._hour = hour
        return self._fd

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
        self._fd, self._hour = -1, ""


@dataclass
class CaptureHour:
    """One hour's captured lines: the valid records, and the lines that were not (file, line number, reason)."""

    hour: str  # "yyyy/mm/dd/hh"
    records: list[dict] = field(default_factory=list)
    bad: list[tuple[str, int, str]] = field(default_factory=list)


def capture_hours(folder: str | Path) -> list[str]:
    """The hours (``yyyy/mm/dd/hh``) a capture folder holds files for, oldest first."""
    folder = Path(folder)
    hours = {p.parent.relative_to(folder).as_posix() for p in folder.glob("*/*/*/*/*.jsonl")}
    return sorted(h for h in hours if _is_hour(h))


def _is_hour(hour: str) -> bool:
    try:
        datetime.strptime(hour, "%Y/%m/%d/%H")
    except ValueError:
        return False
    return True


def read_hour(folder: str | Path, hour: str) -> CaptureHour:
    """Every capture line of one hour; a truncated or malformed line is counted with its file and line number."""
    out = CaptureHour(hour)
    for path in sorted((Path(folder) / hour).glob("*.jsonl")):
        for number, line in _lines(path):
            reason = _problem(line)
            if reason:
                out.bad.append((str(path), number, reason))
            else:
                out.records.append(json.loads(line))
    return out


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    with open(path, encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                yield number, line


def _problem(line: str) -> str:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        return f"not JSON ({exc.msg})"
    data = record.get("captureData") if isinstance(record, dict) else None
    if not isinstance(data, dict) or not isinstance(data.get("endpointInput"), dict):
        return "no captureData.endpointInput"
    for part in ("endpointInput", "endpointOutput"):
        payload = data.get(part)
        if payload is not None and not (isinstance(payload, dict) and isinstance(payload.get("data"), str)):
            return f"captureData.{part} has no data"
    return ""


def payload_bytes(payload: dict) -> bytes:
    """A captured payload's bytes, decoded from its encoding."""
    if payload.get("encoding") == "BASE64":
        return base64.b64decode(payload["data"])
    return payload["data"].encode("utf-8")


def current_capture_hour(folder: Path) -> str | None:
    """The hour (yyyy/mm/dd/hh, UTC) a capture folder is still being written in, if it holds files for it."""
    if not folder.is_dir():
        return None
    hour = datetime.now(UTC).strftime("%Y/%m/%d/%H")
    return hour if hour in capture_hours(folder) else None
