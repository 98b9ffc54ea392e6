"""Data capture: SageMaker's JSON-line shape, sampling, hour folders, several writer processes side by side, and no
answered request lost when the server is stopped under load."""

from __future__ import annotations

import http.client
import json
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from autopilot import AutoPilot
from autopilot.deploy.capture import CaptureWriter, capture_hours, capture_line, payload_bytes, read_hour
from autopilot.deploy.serve import InferenceApp, Model
from tests.deploy.test_serve import _call, _free_port

DATASETS = Path(__file__).resolve().parents[2] / "datasets"


@pytest.fixture(scope="module")
def job(tmp_path_factory: pytest.TempPathFactory) -> Path:
    quick = {"mode": "hpo", "strategy": "defaults", "algorithms": ["linear-learner"], "verbose": False}
    root = tmp_path_factory.mktemp("capture")
    return AutoPilot(target="species", output=root / "job", **quick).fit(DATASETS / "penguins.csv").path


def _rows(n: int) -> bytes:
    return (
        pd.read_csv(DATASETS / "penguins.csv")
        .drop(columns=["species"])
        .head(n)
        .to_csv(index=False, header=False)
        .encode()
    )


def test_a_capture_line_has_sagemakers_shape() -> None:
    when = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    line = capture_line(b"1,2\n", "text/csv", b'{"predictions": []}', "application/json", "abc", when)
    assert line.endswith("\n") and line.count("\n") == 1
    record = json.loads(line)
    assert record["captureData"]["endpointInput"] == {
        "observedContentType": "text/csv",
        "mode": "INPUT",
        "data": "1,2\n",
        "encoding": "CSV",
    }
    assert record["captureData"]["endpointOutput"]["encoding"] == "JSON"
    meta = record["eventMetadata"]
    assert (
        meta["inferenceId"] == "abc"
        and meta["inferenceTime"] == "2026-01-02T03:04:05.678Z"
        and len(meta["eventId"]) == 36
    )
    assert record["eventVersion"] == "0"
    binary = json.loads(capture_line(b"\xff\x00", "application/x-npy", b"1", "text/csv", None, when))
    assert (
        binary["captureData"]["endpointInput"]["encoding"] == "BASE64" and "inferenceId" not in binary["eventMetadata"]
    )
    assert payload_bytes(binary["captureData"]["endpointInput"]) == b"\xff\x00"


def test_the_app_captures_answered_requests_with_the_clients_id(job: Path, tmp_path: Path) -> None:
    app = InferenceApp(Model(job), 6 << 20, CaptureWriter(tmp_path / "cap"))
    status, _, answer = _call(
        app, "POST", "/invocations", _rows(2), content_type="text/csv", x_amzn_sagemaker_inference_id="req-1"
    )
    assert status == 200
    assert _call(app, "POST", "/invocations", b"1,2\n", content_type="text/csv")[0] == 400  # refused: not captured
    (hour,) = capture_hours(tmp_path / "cap")
    assert hour == datetime.now(UTC).strftime("%Y/%m/%d/%H") or hour < datetime.now(UTC).strftime("%Y/%m/%d/%H")
    (record,) = read_hour(tmp_path / "cap", hour).records
    assert record["captureData"]["endpointInput"]["data"] == _rows(2).decode()
    assert record["captureData"]["endpointOutput"]["data"] == answer
    assert record["eventMetadata"]["inferenceId"] == "req-1"


def test_sampling_and_a_failing_capture_never_fails_a_request(job: Path, tmp_path: Path) -> None:
    none = CaptureWriter(tmp_path / "none", percent=0)
    app = InferenceApp(Model(job), 6 << 20, none)
    assert _call(app, "POST", "/invocations", _rows(1), content_type="text/csv")[0] == 200
    assert not (tmp_path / "none").exists()
    half = CaptureWriter(tmp_path / "half", percent=50)
    for _ in range(400):
        half.record(b"1", "text/csv", b"a", "text/csv", None)
    lines = sum(len(read_hour(tmp_path / "half", h).records) for h in capture_hours(tmp_path / "half"))
    assert 120 < lines < 280
    (tmp_path / "blocked").write_text("a file where the folder should be")
    app = InferenceApp(Model(job), 6 << 20, CaptureWriter(tmp_path / "blocked"))
    assert _call(app, "POST", "/invocations", _rows(1), content_type="text/csv")[0] == 200


WRITER = """
import sys
from autopilot.deploy.capture import CaptureWriter
writer = CaptureWriter(sys.argv[1])
for i in range(300):
    writer.record(("row %d from %s," % (i, sys.argv[2]) * 50).encode(), "text/csv", b"Adelie", "text/csv", sys.argv[2])
"""


def test_several_worker_processes_write_side_by_side(tmp_path: Path) -> None:
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), f"w{i}"]) for i in range(3)]
    assert [w.wait(timeout=60) for w in writers] == [0, 0, 0]
    hours = capture_hours(tmp_path)
    read = [read_hour(tmp_path, h) for h in hours]
    assert not any(r.bad for r in read)
    records = [r for h in read for r in h.records]
    assert len(records) == 900
    assert {r["eventMetadata"]["inferenceId"] for r in records} == {"w0", "w1", "w2"}


def _client(port: int, stop: threading.Event, answered: list, name: str) -> None:
    body, i = _rows(1), 0
    while not stop.is_set():
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request(
                "POST",
                "/invocations",
                body,
                {"Content-Type": "text/csv", "X-Amzn-SageMaker-Inference-Id": f"{name}-{i}"},
            )
            if connection.getresponse().status == 200:
                answered.append(f"{name}-{i}")
        except (OSError, http.client.HTTPException):
            time.sleep(0.01)
        i += 1


def test_a_server_stopped_under_load_loses_no_answered_line(job: Path, tmp_path: Path) -> None:
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "autopilot.cli",
        "serve",
        str(job),
        "--port",
        str(port),
        "--workers",
        "2",
        "--capture",
        str(tmp_path / "cap"),
    ]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    answered: list[str] = []
    stop = threading.Event()
    try:
        for _ in range(600):
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                connection.request("GET", "/ping")
                if connection.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.1)
        clients = [threading.Thread(target=_client, args=(port, stop, answered, f"c{i}")) for i in range(4)]
        for thread in clients:
            thread.start()
        while len(answered) < 200:
            time.sleep(0.05)
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    finally:
        stop.set()
        server.kill()
    captured = {
        r["eventMetadata"]["inferenceId"]
        for h in capture_hours(tmp_path / "cap")
        for r in read_hour(tmp_path / "cap", h).records
    }
    assert len(answered) >= 200
    assert set(answered) <= captured
