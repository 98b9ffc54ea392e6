"""The inference server (SageMaker's contract) and batch transform."""

from __future__ import annotations

import asyncio
import io
import json
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from autopilot import AutoPilot
from autopilot.cli import main
from autopilot.deploy.batch import batch_predict, parquet_rows
from autopilot.deploy.serve import InferenceApp, Model, output_keys
from autopilot.errors import ConfigError

DATASETS = Path(__file__).resolve().parents[2] / "datasets"
JOBS = {
    "binary": (DATASETS / "breast_cancer.csv", "diagnosis"),
    "multiclass": (DATASETS / "penguins.csv", "species"),
    "regression": (DATASETS / "diabetes.csv", "progression"),
}


@pytest.fixture(scope="module")
def jobs(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("serve")
    quick = {"mode": "hpo", "strategy": "defaults", "algorithms": ["linear-learner"], "verbose": False}
    return {kind: AutoPilot(target=t, output=root / kind, **quick).fit(data) for kind, (data, t) in JOBS.items()}


def _call(app: InferenceApp, method: str, path: str, body: bytes = b"", **headers: str) -> tuple[int, str, str]:
    """One request through the ASGI app, in process; returns status, content type and body."""
    sent: list[dict] = []
    chunks = [body[i : i + 4096] for i in range(0, len(body), 4096)] or [b""]

    async def receive() -> dict:
        part = chunks.pop(0)
        return {"type": "http.request", "body": part, "more_body": bool(chunks)}

    async def send(message: dict) -> None:
        sent.append(message)

    raw = [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]
    scope = {"type": "http", "method": method, "path": path, "headers": raw}
    asyncio.run(app(scope, receive, send))
    media = dict(sent[0]["headers"])[b"content-type"].decode()
    return sent[0]["status"], media, sent[1]["body"].decode()


def _app(job: object, keys: str | None = None, max_bytes: int = 6 << 20) -> InferenceApp:
    return InferenceApp(Model(job.path, keys), max_bytes)


def _rows(kind: str, n: int = 3) -> pd.DataFrame:
    data, target = JOBS[kind]
    return pd.read_csv(data).drop(columns=[target]).head(n)


@pytest.mark.parametrize("kind", list(JOBS))
def test_csv_and_json_requests_answer_like_predict(jobs: dict, kind: str) -> None:
    job, rows = jobs[kind], _rows(kind)
    app = _app(job)
    assert _call(app, "GET", "/ping")[0] == 200
    expected = job.predict(rows)["predicted_label"].tolist()
    headerless = rows.to_csv(index=False, header=False).encode()
    status, media, body = _call(app, "POST", "/invocations", headerless, content_type="text/csv")
    assert (status, media) == (200, "text/csv")
    answered = [line for line in body.splitlines()]
    if kind == "regression":
        np.testing.assert_allclose([float(v) for v in answered], expected)
    else:
        assert answered == [str(v) for v in expected]
    with_header = rows.to_csv(index=False).encode()
    assert _call(app, "POST", "/invocations", with_header, content_type="text/csv")[2] == body
    records = json.dumps({"instances": rows.to_dict(orient="records")}).encode()
    status, media, body = _call(
        app, "POST", "/invocations", records, content_type="application/json", accept="application/json"
    )
    predictions = json.loads(body)["predictions"]
    assert media == "application/json" and len(predictions) == len(rows)
    lists = json.dumps(rows.astype(object).where(rows.notna(), None).to_numpy().tolist()).encode()
    assert (
        _call(app, "POST", "/invocations", lists, content_type="application/json", accept="application/json")[2] == body
    )


def test_output_keys_follow_the_environment_variable(jobs: dict) -> None:
    job, rows = jobs["multiclass"], _rows("multiclass", 2)
    app = _app(job, "predicted_label,probability,probabilities,labels")
    body = _call(
        app,
        "POST",
        "/invocations",
        rows.to_csv(index=False).encode(),
        content_type="text/csv",
        accept="application/json",
    )[2]
    first = json.loads(body)["predictions"][0]
    assert list(first) == ["predicted_label", "probability", "probabilities", "labels"]
    assert first["labels"] == ["Adelie", "Chinstrap", "Gentoo"] and sum(first["probabilities"]) == pytest.approx(1)
    assert first["probability"] == max(first["probabilities"])
    line = _call(app, "POST", "/invocations", rows.head(1).to_csv(index=False).encode(), content_type="text/csv")[2]
    assert line.startswith(first["predicted_label"] + ",") and '"[""Adelie""' in line
    with pytest.raises(ConfigError, match="regression"):
        output_keys("predicted_label,probability", classification=False)
    with pytest.raises(ConfigError, match="unknown key"):
        output_keys("score", classification=True)


def test_malformed_requests_get_4xx_and_the_server_goes_on(jobs: dict) -> None:
    app = _app(jobs["multiclass"], max_bytes=1000)
    good = _rows("multiclass", 1).to_csv(index=False, header=False).encode()
    cases = [
        (b"Dream,1,2\n", "text/csv", 400, "has 3 values; expected 7"),
        (b"Dream,abc,18,190,3700,male,2008\n", "text/csv", 400, "'bill_length_mm' row 1: 'abc' is not a number"),
        (b"", "text/csv", 400, "empty body"),
        (b"  \n", "application/json", 400, "empty body"),
        (b"\xef\xbb\xbf", "text/csv", 400, "empty body"),  # a byte-order mark and nothing else
        (b"{not json", "application/json", 400, "unreadable JSON"),
        (b'{"instances": []}', "application/json", 400, "at least one"),
        (b'[{"island": "Dream"}]', "application/json", 400, "lacks column"),
        (good * 60, "text/csv", 413, "body over"),
        (good, "text/plain", 415, "unsupported content type"),
    ]
    for body, content_type, status, reason in cases:
        answer = _call(app, "POST", "/invocations", body, content_type=content_type)
        assert answer[0] == status and reason in answer[2], (body[:40], answer)
        assert "\n" not in answer[2].strip()  # one line
    assert _call(app, "POST", "/invocations", good, content_type="text/csv", accept="text/html")[0] == 406
    for accept, media in (("text/csv, */*", "text/csv"), ("text/html, application/json;q=0.9", "application/json")):
        assert _call(app, "POST", "/invocations", good, content_type="text/csv", accept=accept)[:2] == (200, media)
    assert _call(app, "GET", "/invocations")[0] == 405 and _call(app, "GET", "/nowhere")[0] == 404
    assert _call(app, "POST", "/invocations", good, content_type="text/csv")[0] == 200  # still serving


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_command_runs_a_real_server_with_workers(jobs: dict) -> None:
    job, port = jobs["binary"], _free_port()
    command = [sys.executable, "-m", "autopilot.cli", "serve", str(job.path), "--port", str(port), "--workers", "2"]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if urllib.request.urlopen(f"{url}/ping", timeout=1).status == 200:
                    break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        rows = _rows("binary", 5).to_csv(index=False, header=False).encode()
        request = urllib.request.Request(f"{url}/invocations", rows, {"Content-Type": "text/csv"})
        lines = urllib.request.urlopen(request, timeout=10).read().decode().splitlines()
        assert lines == job.predict(_rows("binary", 5))["predicted_label"].tolist()
        bad = urllib.request.Request(f"{url}/invocations", b"1,2\n", {"Content-Type": "text/csv"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(bad, timeout=10)
        assert refused.value.code == 400
        assert urllib.request.urlopen(request, timeout=10).status == 200
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_chunked_batch_predictions_equal_in_memory_ones(jobs: dict, tmp_path: Path) -> None:
    job = AutoPilot(
        target="Species",
        output=tmp_path / "raw",
        mode="hpo",
        strategy="defaults",
        algorithms=["xgboost"],
        verbose=False,
    ).fit(DATASETS / "penguins_raw.csv")  # dates, text, NA
    expected = job.predict(DATASETS / "penguins_raw.csv")
    out = tmp_path / "chunked.csv"
    assert batch_predict(job.path, DATASETS / "penguins_raw.csv", out, chunk_bytes=4096) == len(expected)
    in_memory = pd.read_csv(io.StringIO(expected.to_csv(index=False)))  # the same CSV formatting
    pd.testing.assert_frame_equal(pd.read_csv(out), in_memory, check_exact=True)
    folder = tmp_path / "parts"
    folder.mkdir()
    frame = pd.read_csv(DATASETS / "penguins_raw.csv")
    frame.iloc[:200].to_parquet(folder / "a.parquet")
    frame.iloc[200:].to_csv(folder / "b.csv", index=False)
    assert main(["predict", str(job.path), str(folder), "--output", str(tmp_path / "f.csv"), "--chunk-mb", "0.01"]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "f.csv"), pd.read_csv(out))
    assert main(["predict", str(job.path), str(tmp_path / "missing"), "--output", str(tmp_path / "g.csv")]) == 2
    assert not (tmp_path / "g.csv").exists()


def test_parquet_chunks_follow_the_chunk_size(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    from autopilot.deploy.batch import chunks

    frame = pd.DataFrame({"a": np.arange(10_000, dtype=float), "b": np.arange(10_000) % 7})
    frame.to_parquet(tmp_path / "rows.parquet")
    metadata = pq.ParquetFile(tmp_path / "rows.parquet").metadata
    small = [len(c) for c in chunks(tmp_path / "rows.parquet", chunk_bytes=16_000)]
    assert sum(small) == 10_000 and len(small) > 5 and max(small) == parquet_rows(metadata, 16_000)
    assert [len(c) for c in chunks(tmp_path / "rows.parquet", chunk_bytes=64 << 20)] == [10_000]


def test_a_header_only_file_is_refused_and_nothing_written(jobs: dict, tmp_path: Path, capsys) -> None:
    job = jobs["multiclass"]
    header = ",".join(pd.read_csv(DATASETS / "penguins.csv").columns) + "\n"
    (tmp_path / "empty.csv").write_text(header)
    assert main(["predict", str(job.path), str(tmp_path / "empty.csv"), "--output", str(tmp_path / "p.csv")]) == 2
    assert "no rows to predict" in capsys.readouterr().err and not (tmp_path / "p.csv").exists()


class _SlowModel:
    """Stands in for a model whose prediction takes until ``release`` is set."""

    def __init__(self) -> None:
        self.started, self.release = threading.Event(), threading.Event()

    def rows(self, body: bytes, content_type: str) -> bytes:
        return body

    def answer(self, rows: bytes, accept: str) -> tuple[bytes, str]:
        self.started.set()
        assert self.release.wait(30)
        return b"done\n", "text/csv"


def test_ping_answers_while_a_long_prediction_runs() -> None:
    model = _SlowModel()
    app = InferenceApp(model, 1 << 20)

    async def request(path: str, method: str) -> int:
        sent: list[dict] = []

        async def receive() -> dict:
            return {"type": "http.request", "body": b"1,2\n", "more_body": False}

        async def send(message: dict) -> None:
            sent.append(message)

        await app({"type": "http", "method": method, "path": path, "headers": []}, receive, send)
        return sent[0]["status"]

    async def scenario() -> tuple[int, int]:
        slow = asyncio.create_task(request("/invocations", "POST"))
        while not model.started.is_set():
            await asyncio.sleep(0.01)
        ping = await request("/ping", "GET")  # answered while the prediction still runs
        model.release.set()
        return ping, await slow

    assert asyncio.run(scenario()) == (200, 200)


def test_a_500_is_logged_for_the_operator(jobs: dict, caplog: pytest.LogCaptureFixture) -> None:
    app = _app(jobs["multiclass"])
    app.model.answer = lambda *args: 1 / 0  # a bug past the request checks
    good = _rows("multiclass", 1).to_csv(index=False, header=False).encode()
    with caplog.at_level("ERROR", logger="autopilot.deploy.serve"):
        assert _call(app, "POST", "/invocations", good, content_type="text/csv")[0] == 500
    assert "ZeroDivisionError" in caplog.text and "500 on POST /invocations" in caplog.text


def test_a_hive_partitioned_folder_trains_and_predicts_with_its_partition_column(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from autopilot.data import read_table

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=120), "region": rng.choice(["north", "south"], 120)})
    frame["y"] = np.where(frame["region"] == "north", 1.0, -1.0) + frame["x"] / 10
    pq.write_to_dataset(pa.Table.from_pandas(frame, preserve_index=False), tmp_path / "data", ["region"])
    quick = {"mode": "hpo", "strategy": "defaults", "algorithms": ["linear-learner"], "verbose": False}
    job = AutoPilot(target="region", output=tmp_path / "by-region", **quick).fit(tmp_path / "data")
    assert sorted(job.problem.classes) == ["north", "south"]  # the partition column is a column
    job = AutoPilot(target="y", output=tmp_path / "job", **quick).fit(tmp_path / "data")
    out = tmp_path / "predictions.csv"
    assert main(["predict", str(job.path), str(tmp_path / "data"), "--output", str(out)]) == 0
    rows = read_table(tmp_path / "data")[0].to_pandas().drop(columns="y")
    np.testing.assert_allclose(pd.read_csv(out)["predicted_label"], job.predict(rows)["predicted_label"])
