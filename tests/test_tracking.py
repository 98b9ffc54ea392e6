"""MLflow tracking: a job and its trials as runs, best/ as a pyfunc model, resume without duplicates, failures as one
warning, ``autopilot track`` afterwards, and MLflow being optional."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from autopilot import AutoPilot
from autopilot.cli import main
from autopilot.console import SilentReporter
from autopilot.deploy.batch import batch_predict
from autopilot.tracking.tracker import PARENT_TAG, TRIAL_TAG, Tracker

mlflow = pytest.importorskip("mlflow")  # in [dev]; MLflow's absence is tested by hiding it
from mlflow.tracking import MlflowClient  # noqa: E402

PENGUINS = Path(__file__).resolve().parents[1] / "datasets" / "penguins.csv"
FAST = {"mode": "hpo", "strategy": "defaults", "algorithms": ["linear-learner", "xgboost"], "verbose": False}


def _run(out: Path, **kw: object):
    return AutoPilot(target="species", output=out, **{**FAST, **kw}).fit(PENGUINS)


def _runs(uri: str, experiment: str = "penguins") -> tuple[object, list]:
    """The job's run and its trials' nested runs."""
    client = MlflowClient(uri)
    found = client.search_runs([client.get_experiment_by_name(experiment).experiment_id])
    parents = [r for r in found if PARENT_TAG not in r.data.tags]
    assert len(parents) == 1
    children = [r for r in found if r.data.tags.get(PARENT_TAG) == parents[0].info.run_id]
    return parents[0], children


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def tracked(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("tracked")
    uri = (root / "mlruns").as_uri()
    job = _run(root / "job", tracking_uri=str(root / "mlruns"), register_model="penguins-best")
    return job, uri


def test_a_job_is_a_run_with_its_settings_scores_and_files(tracked) -> None:
    job, uri = tracked
    run, _ = _runs(uri)
    params, metrics, tags = run.data.params, run.data.metrics, run.data.tags
    assert params["target"] == "species" and params["mode"] == "hpo" and params["strategy"] == "defaults"
    assert params["metric"] == "Accuracy" and params["data.sha256"] == job.info["data"]["sha256"]
    top = job.leaderboard.iloc[0]
    for name in ("Accuracy", "AUC", "LogLoss", "fit_seconds"):
        assert metrics[name] == pytest.approx(top[name])
    assert metrics["job_seconds"] == pytest.approx(job.info["seconds"])
    assert tags["autopilot.status"] == "completed" and tags["best_trial"] == top["trial"]
    assert tags["version.autopilot"] and tags["device"] == "cpu" and run.info.status == "FINISHED"
    files = {a.path for a in MlflowClient(uri).list_artifacts(run.info.run_id)}
    assert {"leaderboard.csv", "report.html", "profile.json", "job.json", "notebooks"} <= files
    notebooks = {a.path for a in MlflowClient(uri).list_artifacts(run.info.run_id, "notebooks")}
    assert notebooks == {"notebooks/data_exploration.ipynb", "notebooks/candidate_definitions.ipynb"}
    assert (job.path / "tracking.json").is_file()


def test_each_trial_is_a_nested_run(tracked) -> None:
    job, uri = tracked
    _, children = _runs(uri)
    board = job.leaderboard.set_index("trial")
    assert sorted(r.data.tags[TRIAL_TAG] for r in children) == sorted(board.index)
    for child in children:
        row = board.loc[child.data.tags[TRIAL_TAG]]
        assert child.data.params["candidate"] == row["candidate"] and child.data.tags["status"] == "succeeded"
        assert child.data.metrics["Accuracy"] == pytest.approx(row["Accuracy"])
        assert child.data.metrics["fit_seconds"] > 0 and child.info.status == "FINISHED"


def test_the_pyfunc_model_predicts_what_autopilot_predict_writes(tracked, tmp_path: Path) -> None:
    job, uri = tracked
    rows = pd.read_csv(PENGUINS).drop(columns=["species"])
    rows.to_csv(tmp_path / "new.csv", index=False)
    batch_predict(job.path, tmp_path / "new.csv", tmp_path / "predictions.csv")
    expected = pd.read_csv(tmp_path / "predictions.csv")
    mlflow.set_tracking_uri(uri)
    for model_uri in (f"runs:/{_runs(uri)[0].info.run_id}/model", "models:/penguins-best/latest"):
        model = mlflow.pyfunc.load_model(model_uri)
        got = model.predict(rows)
        assert list(got.columns) == list(expected.columns)
        assert (got["predicted_label"] == expected["predicted_label"]).all()
        assert np.allclose(got.drop(columns="predicted_label"), expected.drop(columns="predicted_label"), atol=1e-12)
    schema = model.metadata.get_input_schema()
    assert set(schema.input_names()) == set(job.best.required_columns)
    assert model.metadata.get_output_schema().input_names()[0] == "predicted_label"


def test_trials_are_logged_as_they_finish_and_a_resumed_job_logs_none_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    uri, out, seen = (tmp_path / "mlruns").as_uri(), tmp_path / "resumed", []

    def count_then_stop_at_003(self: SilentReporter, spec: object) -> None:
        experiment = MlflowClient(uri).get_experiment_by_name("penguins")
        seen.append(len(_runs(uri)[1]) if experiment else 0)
        if spec.id.startswith("003"):
            raise KeyboardInterrupt  # as if killed while 003 runs

    settings = {"tracking_uri": uri, "algorithms": ["linear-learner", "xgboost", "mlp"], "parallel_trials": 1}
    with monkeypatch.context() as m:
        m.setattr(SilentReporter, "trial_started", count_then_stop_at_003)
        with pytest.raises(KeyboardInterrupt):
            _run(out, **settings)
    assert seen == [0, 1, 2]  # when each trial starts, every earlier one is in MLflow
    run, children = _runs(uri)
    assert run.info.status == "KILLED" and len(children) == 2
    job = _run(out, **settings)
    again, children = _runs(uri)
    assert again.info.run_id == run.info.run_id and again.info.status == "FINISHED"
    trials = sorted(r.data.tags[TRIAL_TAG] for r in children)
    assert trials == sorted(job.leaderboard["trial"]) and len(trials) == 3


def test_an_unreachable_server_is_one_warning_the_job_completes_and_track_logs_it_later(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    lines = []
    monkeypatch.setattr(SilentReporter, "plan", lambda self, text: lines.append(text))
    uri = f"http://127.0.0.1:{_free_port()}"  # nothing listens there
    job = _run(tmp_path / "down", tracking_uri=uri)
    warnings = [line for line in lines if "MLflow" in line]
    assert len(warnings) == 1 and "does not answer" in warnings[0] and "autopilot track" in warnings[0]
    assert job.info["status"] == "completed" and (job.path / "report.html").is_file()
    assert (job.path / "best" / "pipeline.joblib").is_file()
    monkeypatch.chdir(tmp_path)  # a SQLite store keeps its artifacts in ./mlruns
    logged_later = f"sqlite:///{tmp_path / 'mlflow.db'}"  # autopilot track, to another store and experiment
    assert "experiment trials-2026" in job.track(logged_later, experiment="trials-2026")
    run, children = _runs(logged_later, "trials-2026")
    assert len(children) == len(job.leaderboard) and run.data.tags["autopilot.status"] == "completed"
    assert job.track(str(tmp_path / "files"), experiment="trials-2026").startswith("Logged")  # a second place
    assert job.track(logged_later, experiment="trials-2026").startswith("Already logged")  # each place remembered
    assert len(_runs(logged_later, "trials-2026")[1]) == len(job.leaderboard)


def test_an_error_mid_job_is_one_warning_and_autopilot_track_logs_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    lines, uri = [], (tmp_path / "mlruns").as_uri()
    monkeypatch.setattr(SilentReporter, "plan", lambda self, text: lines.append(text))
    real = Tracker._log_trial

    def fail_the_second(self: Tracker, result: object) -> None:
        if result.spec.id.startswith("002"):
            raise OSError("disk full")
        real(self, result)

    with monkeypatch.context() as m:
        m.setattr(Tracker, "_log_trial", fail_the_second)
        job = _run(tmp_path / "flaky", tracking_uri=uri)
    warnings = [line for line in lines if "MLflow" in line]
    assert len(warnings) == 1 and "logging trial 002" in warnings[0] and "disk full" in warnings[0]
    assert job.info["status"] == "completed"
    assert len(_runs(uri)[1]) == 1
    assert main(["track", str(job.path), "--tracking-uri", uri]) == 0
    assert "Logged to MLflow" in capsys.readouterr().out
    run, children = _runs(uri)
    assert sorted(r.data.tags[TRIAL_TAG] for r in children) == sorted(job.leaderboard["trial"])
    assert run.info.status == "FINISHED"
    mlflow.set_tracking_uri(uri)
    assert mlflow.models.get_model_info(f"runs:/{run.info.run_id}/model").signature is not None
    assert main(["track", str(job.path), "--tracking-uri", uri]) == 0
    assert "Already logged" in capsys.readouterr().out
    run, children = _runs(uri)
    assert len(children) == len(job.leaderboard) and run.info.status == "FINISHED"


def test_without_mlflow_tracking_is_refused_before_anything_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "mlflow", None)  # import mlflow now raises ImportError
    out = tmp_path / "never"
    args = ["run", str(PENGUINS), "--target", "species", "--output", str(out), "--tracking-uri", str(tmp_path)]
    assert main(args) == 2
    assert capsys.readouterr().err.strip() == (
        "autopilot: error: --tracking-uri needs MLflow, which is not installed: "
        'pip install -c constraints.txt -e ".[mlflow]"'
    )
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")
    assert main(args[:-2]) == 2
    assert "MLFLOW_TRACKING_URI needs MLflow" in capsys.readouterr().err
    assert not out.exists()


def test_tracking_options_are_checked_before_anything_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    out = tmp_path / "never"
    base = ["run", str(PENGUINS), "--target", "species", "--output", str(out)]
    assert main([*base, "--register-model", "best"]) == 2
    assert "--register-model needs MLflow tracking: give --tracking-uri" in capsys.readouterr().err
    assert main([*base, "--tracking-uri", "nosuch://here"]) == 2
    assert "--tracking-uri nosuch://here: MLflow cannot track there; give a server" in capsys.readouterr().err
    assert main(["track", str(tmp_path)]) == 2
    assert "is not an autopilot job folder" in capsys.readouterr().err
    assert not out.exists()
