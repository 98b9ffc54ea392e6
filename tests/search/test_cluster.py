"""The Dask path: a real scheduler and two worker processes on 127.0.0.1 run a job's trials."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autopilot import AutoPilot
from autopilot.errors import ConfigError

distributed = pytest.importorskip("distributed")  # installed by the dev extra; the check runs wherever it is

PENGUINS = Path(__file__).resolve().parents[2] / "datasets" / "penguins.csv"


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as local:
        yield local


def test_job_runs_on_a_dask_cluster(tmp_path: Path, cluster) -> None:
    out = tmp_path / "dask"
    job = AutoPilot(
        target="species",
        verbose=False,
        output=out,
        max_trials=5,
        mode="hpo",
        cluster=cluster.scheduler_address,
        algorithms=["xgboost", "linear-learner"],
    ).fit(PENGUINS)
    board = job.leaderboard
    assert len(board) == 5 and (board["status"] == "succeeded").all()
    for trial in board["trial"]:
        assert (out / "trials" / trial / "pipeline.joblib").is_file()  # written here from what the workers sent
        assert json.loads((out / "trials" / trial / "spec.json").read_text())["id"] == trial
    assert job.predict(PENGUINS)["predicted_label"].notna().all()


def test_unreachable_cluster_is_refused_before_the_folder_exists(tmp_path: Path, monkeypatch) -> None:
    import autopilot.search.cluster

    monkeypatch.setattr(autopilot.search.cluster, "CONNECT_TIMEOUT", "2s")
    out = tmp_path / "none"
    with pytest.raises(ConfigError, match="no Dask scheduler answers"):
        AutoPilot(target="species", verbose=False, output=out, cluster="tcp://127.0.0.1:9").fit(PENGUINS)
    assert not out.exists()


@pytest.mark.parametrize("address", ["notaurl", "http://host:8786", "tcp://host", "tcp://a b:1"])
def test_an_address_that_is_not_one_is_refused_at_once(tmp_path: Path, address: str) -> None:
    out = tmp_path / "none"
    with pytest.raises(ConfigError, match="is not a scheduler address"):
        AutoPilot(target="species", verbose=False, output=out, cluster=address).fit(PENGUINS)
    assert not out.exists()
