"""A job's best pipeline behind SageMaker's inference container contract, as an ASGI app served by uvicorn.

``GET /ping`` answers 200 (the model is loaded, and has predicted a row of the job's validation data, before the
worker accepts connections; a model that cannot load stops the worker instead). Predictions run in a thread, one at
a time per worker, so /ping answers during a long one. ``POST /invocations`` takes
``text/csv`` (rows in the training column order without a header, or with a header row) or ``application/json`` (a
list of records, or ``{"instances": [...]}`` of records or value lists) and answers in the type ``Accept`` asks for.
Each answer holds the keys named in ``SAGEMAKER_INFERENCE_OUTPUT`` (comma-separated: predicted_label, probability,
probabilities, labels; default predicted_label). A bad request gets a 4xx and a one-line reason; the worker goes on.

    autopilot serve autopilot-output/penguins --port 8080 --workers 2
    curl -s localhost:8080/invocations -H 'Content-Type: text/csv' --data-binary @rows.csv
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd

from autopilot.deploy.capture import INFERENCE_ID_HEADER, CaptureWriter
from autopilot.errors import AutopilotError, ConfigError
from autopilot.io import read_json
from autopilot.pipeline import AutopilotPipeline
from autopilot.preprocess import feature_kinds, make_coercer

JOB_ENV, OUTPUT_ENV, MAX_MB_ENV = "AUTOPILOT_JOB", "SAGEMAKER_INFERENCE_OUTPUT", "AUTOPILOT_MAX_PAYLOAD_MB"
CAPTURE_ENV, CAPTURE_PERCENT_ENV = "AUTOPILOT_CAPTURE_DIR", "AUTOPILOT_CAPTURE_PERCENT"
OUTPUT_KEYS = ("predicted_label", "probability", "probabilities", "labels")
CLASSIFICATION_KEYS = ("probability", "probabilities", "labels")
CSV, JSON = "text/csv", "application/json"
MAX_CONNECTIONS = 100  # per worker; more get 503 (uvicorn's limit_concurrency)
LOG = logging.getLogger("autopilot.deploy.serve")


class RequestError(Exception):
    """A request the server refuses: an HTTP status and a one-line reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


def output_keys(value: str | None, classification: bool) -> list[str]:
    """The answer's keys from ``SAGEMAKER_INFERENCE_OUTPUT``; raises ConfigError for an unknown or unusable key."""
    keys = [k.strip().lower() for k in (value or "predicted_label").split(",") if k.strip()]
    for key in keys:
        if key not in OUTPUT_KEYS:
            raise ConfigError(f"{OUTPUT_ENV} has unknown key '{key}'; choose from {', '.join(OUTPUT_KEYS)}")
        if key in CLASSIFICATION_KEYS and not classification:
            raise ConfigError(f"{OUTPUT_ENV} asks for '{key}', which a regression model has not; use predicted_label")
    return keys


class Model:
    """The pipeline with what the contract needs: the column order, the feature kinds and the output keys."""

    def __init__(self, job_dir: str | Path, keys: str | None = None) -> None:
        job_dir = Path(job_dir)
        self.pipeline = AutopilotPipeline.load(job_dir / "best" / "pipeline.joblib")
        profile, problem = read_json(job_dir / "profile.json"), read_json(job_dir / "problem.json")
        self.columns = [c["name"] for c in profile["column_profiles"] if c["name"] != problem["target"]]
        self.numeric = [n for n, k in feature_kinds(profile, problem["target"]).items() if k == "numeric"]
        self.cast = make_coercer(profile, problem["target"])  # numbers are checked as the model will read them
        self.keys = output_keys(keys, self.pipeline.problem.is_classification)
        validation = job_dir / "data" / "validation.parquet"
        if validation.exists():  # load everything now (AutoGluon loads its models on first use), not at a request
            self.pipeline.predict_encoded(pd.read_parquet(validation).head(1))

    def rows(self, body: bytes, content_type: str) -> pd.DataFrame:
        """The request body as a frame with named columns, numbers checked; RequestError when it is malformed."""
        frame = parse_rows(body, content_type, self.columns, self.pipeline.required_columns)
        for name in self.numeric:
            if name in frame.columns:
                self._check_numbers(frame, name)
        return frame

    def _check_numbers(self, frame: pd.DataFrame, name: str) -> None:
        """Refuse a value the model cannot read as a number (its written format, a time of day and an infinity,
        read as missing, are numbers)."""
        values = frame[name]
        numbers = self.cast.transform_column(values.rename(name), "numeric")
        bad = numbers.isna() & values.notna() & (values.astype(str).str.strip() != "")
        if bad.any():
            bad &= ~values[bad].map(_float_like)
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise RequestError(400, f"column '{name}' row {row + 1}: {values.iloc[row]!r} is not a number")

    def answer(self, frame: pd.DataFrame, accept: str) -> tuple[bytes, str]:
        codes, proba = self.pipeline.predict_encoded(frame)
        records = self._records(codes, proba)
        if accept == JSON:
            return json.dumps({"predictions": records}, default=_plain).encode(), JSON
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        for record in records:
            writer.writerow([json.dumps(v, default=_plain) if isinstance(v, list) else v for v in record.values()])
        return out.getvalue().encode(), CSV

    def _records(self, codes: np.ndarray, proba: np.ndarray | None) -> list[dict]:
        if proba is None:
            return [{"predicted_label": float(v)} for v in codes]
        labels = [_plain(c) for c in self.pipeline.classes]
        out = []
        for code, row in zip(codes, proba, strict=True):
            full = {
                "predicted_label": labels[code],
                "probability": float(row[code]),
                "probabilities": [float(p) for p in row],
                "labels": labels,
            }
            out.append({k: full[k] for k in self.keys})
        return out


def parse_rows(body: bytes, content_type: str, columns: list[str], required: list[str]) -> pd.DataFrame:
    """A request body as a frame with named columns: CSV rows in ``columns``' order, or with a header naming every
    ``required`` column; JSON records or value lists. RequestError when it is malformed."""
    if not body.strip():
        raise RequestError(400, "empty body; send at least one row")
    if content_type == CSV:
        return _csv(body, columns, required)
    if content_type == JSON:
        return _json(body, columns)
    raise RequestError(415, f"unsupported content type '{content_type}'; send {CSV} or {JSON}")


def _csv(body: bytes, columns: list[str], required: list[str]) -> pd.DataFrame:
    try:
        lines = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise RequestError(400, f"unreadable CSV: {exc}") from None
    lines = [line for line in lines if line]
    if not lines:
        raise RequestError(400, "empty body; send at least one row")
    header = [v.strip() for v in lines[0]]
    if set(required) <= set(header):
        return _frame(lines[1:], header, "line", first=2)
    return _frame(lines, columns, "line", first=1)


def _json(body: bytes, columns: list[str]) -> pd.DataFrame:
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RequestError(400, f"unreadable JSON: {exc}") from None
    records = data.get("instances") if isinstance(data, dict) else data
    if not isinstance(records, list) or not records:
        raise RequestError(400, 'JSON must be a list of records or {"instances": [...]} with at least one')
    if all(isinstance(r, dict) for r in records):
        return pd.DataFrame.from_records(records)
    if all(isinstance(r, list) for r in records):
        return _frame(records, columns, "instance", first=0)
    raise RequestError(400, "each instance must be a record (object) or a list of values in training order")


def _frame(rows: list, columns: list[str], what: str, first: int) -> pd.DataFrame:
    for i, row in enumerate(rows):
        if len(row) != len(columns):
            raise RequestError(
                400, f"{what} {i + first} has {len(row)} values; expected {len(columns)} ({', '.join(columns)})"
            )
    if not rows:
        raise RequestError(400, "no rows after the header; send at least one row")
    frame = pd.DataFrame(rows, columns=columns, dtype=object)
    return frame.replace({"": None})


def _float_like(value: object) -> bool:
    try:
        float(str(value))
    except ValueError:
        return False
    return True


def _plain(value: object) -> object:
    return value.item() if isinstance(value, np.generic) else value


def media_type(value: str | None, default: str) -> str:
    media = (value or "").split(";")[0].strip().lower()
    return default if media in ("", "*/*") else media


def _accepted(value: str | None) -> str:
    """The answer's type from an Accept header (a list, in the client's order of preference; ``*/*`` is CSV)."""
    offered = [media_type(part, CSV) for part in (value or "").split(",")]
    chosen = next((m for m in offered if m in (CSV, JSON)), None)
    if chosen is None:
        raise RequestError(406, f"cannot answer in '{value}'; accept {CSV} or {JSON}")
    return chosen


class InferenceApp:
    """The ASGI app: /ping and /invocations; with ``capture``, answered requests are captured (Data Capture)."""

    def __init__(self, model: Model, max_bytes: int, capture: CaptureWriter | None = None) -> None:
        self.model, self.max_bytes, self.capture = model, max_bytes, capture
        self._predicting = asyncio.Semaphore(1)  # one prediction at a time per worker: each uses every core

    async def __call__(self, scope: dict, receive: object, send: object) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            if self.capture:
                self.capture.close()
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] != "http":
            return
        try:
            status, body, media = await self._handle(scope, receive)
        except RequestError as exc:
            status, body, media = exc.status, f"{exc}\n".encode(), "text/plain"
        except AutopilotError as exc:  # e.g. a record without a column the model needs
            status, body, media = 400, f"{exc}\n".encode(), "text/plain"
        except Exception as exc:  # a bug must not take the worker down: answer 500, log it for the operator, go on
            LOG.exception("500 on %s %s", scope.get("method"), scope.get("path"))
            status, body, media = 500, f"{type(exc).__name__}: {exc}".splitlines()[0].encode() + b"\n", "text/plain"
        headers = [(b"content-type", media.encode()), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _handle(self, scope: dict, receive: object) -> tuple[int, bytes, str]:
        path, method = scope["path"], scope["method"]
        if path == "/ping":
            return 200, b"", "text/plain"
        if path != "/invocations":
            raise RequestError(404, f"no such path '{path}'; use /ping or /invocations")
        if method != "POST":
            raise RequestError(405, "/invocations takes POST")
        headers = {k.decode().lower(): v.decode() for k, v in scope.get("headers", [])}
        accept = _accepted(headers.get("accept"))
        content_type = media_type(headers.get("content-type"), CSV)
        body = await self._body(receive)
        async with self._predicting:
            answer, media = await asyncio.to_thread(self._predict, body, content_type, accept)
        if self.capture:  # before the answer is sent: an answered request is never lost from the capture
            observed = headers.get("content-type") or CSV
            self.capture.record(body, observed, answer, media, headers.get(INFERENCE_ID_HEADER))
        return 200, answer, media

    def _predict(self, body: bytes, content_type: str, accept: str) -> tuple[bytes, str]:
        return self.model.answer(self.model.rows(body, content_type), accept)

    async def _body(self, receive: object) -> bytes:
        chunks, size = [], 0
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_bytes:
                raise RequestError(413, f"body over {self.max_bytes // (1 << 20)} MB; send fewer rows per request")
            if not message.get("more_body"):
                return b"".join(chunks)


def create_app() -> InferenceApp:
    """The app for the job in ``AUTOPILOT_JOB`` (uvicorn's factory; each worker process loads the model once)."""
    model = Model(os.environ[JOB_ENV], os.environ.get(OUTPUT_ENV))
    capture = None
    if os.environ.get(CAPTURE_ENV):
        capture = CaptureWriter(os.environ[CAPTURE_ENV], float(os.environ.get(CAPTURE_PERCENT_ENV, "100")))
    return InferenceApp(model, int(float(os.environ.get(MAX_MB_ENV, "6")) * (1 << 20)), capture)
