"""A real MLflow tracking server (``mlflow server`` on a free loopback port): an ensembling job logged to it live,
its AutoGluon pipeline registered, and served by ``mlflow models serve`` with ``autopilot predict``'s answers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from autopilot import AutoPilot
from autopilot.deploy.batch import batch_predict
from tests.test_tracking import PENGUINS, _free_port, _runs

mlflow = pytest.importorskip("mlflow")
pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent  # mlflow's commands, and the uvicorn that `mlflow models serve` starts


def _started(args: list[str], url: str, log: Path, env: dict | None = None) -> subprocess.Popen:
    env = {**os.environ, **(env or {}), "PATH": f"{BIN}:{os.environ['PATH']}"}
    process = subprocess.Popen(args, stdout=log.open("w"), stderr=subprocess.STDOUT, env=env, start_new_session=True)
    for _ in range(240):
        try:
            with urllib.request.urlopen(url, timeout=2):
                return process
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.5)
    process.kill()
    raise AssertionError(f"{args[:3]} did not start:\n{log.read_text()[-2000:]}")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    args = [str(BIN / "mlflow"), "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    args += ["--backend-store-uri", f"sqlite:///{tmp_path / 'mlflow.db'}", "--artifacts-destination", str(tmp_path)]
    process = _started(args, f"http://127.0.0.1:{port}/health", tmp_path / "server.log")
    yield f"http://127.0.0.1:{port}"
    os.killpg(process.pid, 15)
    process.wait(timeout=30)


def test_an_ensembling_job_on_a_tracking_server_is_served_by_mlflow(server: str, tmp_path: Path) -> None:
    job = AutoPilot(
        target="species", output=tmp_path / "job", time_limit=40, verbose=False, tracking_uri=server,
        experiment="penguins-server", register_model="penguins-ensemble",
    ).fit(PENGUINS)  # fmt: skip
    assert job.info["resolved"]["mode"] == "ensembling"
    run, children = _runs(server, "penguins-server")
    assert run.info.status == "FINISHED" and len(children) == len(job.leaderboard)
    assert run.data.metrics["Accuracy"] == pytest.approx(job.leaderboard["Accuracy"].iloc[0])

    rows = pd.read_csv(PENGUINS).drop(columns=["species"]).head(20)
    rows.to_csv(tmp_path / "new.csv", index=False)
    batch_predict(job.path, tmp_path / "new.csv", tmp_path / "predictions.csv")
    expected = pd.read_csv(tmp_path / "predictions.csv")
    port = _free_port()
    args = [str(BIN / "mlflow"), "models", "serve", "-m", "models:/penguins-ensemble/1", "--env-manager", "local"]
    ping, env = f"http://127.0.0.1:{port}/ping", {"MLFLOW_TRACKING_URI": server}
    process = _started([*args, "-p", str(port)], ping, tmp_path / "serve.log", env)
    try:
        body = json.dumps({"dataframe_split": json.loads(rows.to_json(orient="split", index=False))}).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/invocations", body, {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=60) as answer:
            got = pd.DataFrame(json.loads(answer.read())["predictions"])
    finally:
        os.killpg(process.pid, 15)
        process.wait(timeout=30)
    assert (got["predicted_label"] == expected["predicted_label"]).all()
    numbers = [c for c in expected.columns if c != "predicted_label"]
    assert np.allclose(got[numbers], expected[numbers], atol=1e-9)
