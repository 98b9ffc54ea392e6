"""HPO jobs end to end: search, strategy by size, time limits, faults, resume."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pandas as pd
import pytest

import autopilot.job
import autopilot.search.plan
from autopilot import AutoPilot
from autopilot.errors import NoSuccessfulTrialError
from autopilot.search.processes import TrialFailed, TrialProcessDied, TrialProcessExecutor, TrialTimeout

PENGUINS = Path(__file__).resolve().parents[2] / "datasets" / "penguins.csv"


def _run(out: Path, **kw: object):
    return AutoPilot(target="species", verbose=False, output=out, mode="hpo", **kw).fit(PENGUINS)


def test_bayesian_job_writes_every_trial_and_its_journal(tmp_path: Path) -> None:
    job = _run(tmp_path / "j", max_trials=6, seed=2)
    board = job.leaderboard
    assert len(board) == 6 and (board["status"] == "succeeded").all()
    assert job.info["resolved"]["strategy"] == "bayesian" and job.info["resolved"]["mode"] == "hpo"
    assert (job.path / "search.journal").is_file()
    tuned = [json.loads(p) for p in board["params"] if p != "{}"]
    assert len(tuned) == 3 and all(tuned)  # three defaults, then three suggestions with hyperparameters
    assert (board[board.columns[3]].iloc[0]) == board["Accuracy"].max()


def test_cross_validation_below_the_row_threshold_holdout_above(tmp_path: Path, monkeypatch) -> None:
    small = _run(tmp_path / "cv", max_trials=3, algorithms=["xgboost", "linear-learner"])
    assert small.info["resolved"]["scored_by"] == "5-fold cross-validation over every labelled row (344)"  # <= 50,000
    assert (small.leaderboard["scored_by"] == small.info["resolved"]["scored_by"]).all()
    result = json.loads((small.path / "trials" / "001-xgboost" / "result.json").read_text())["metrics"]
    assert len(result["Accuracy_folds"]) == 5
    assert result["Accuracy"] == pytest.approx(sum(result["Accuracy_folds"]) / 5)
    assert "holdout_Accuracy" in result
    assert small.leaderboard.set_index("trial").loc["001-xgboost", "Accuracy"] == pytest.approx(result["Accuracy"])
    monkeypatch.setattr(autopilot.job, "CV_MAX_ROWS", 100)
    big = _run(tmp_path / "holdout", max_trials=2, algorithms=["xgboost"])
    assert big.info["resolved"]["scored_by"] == "holdout validation (69 rows)"
    result = json.loads((big.path / "trials" / "001-xgboost" / "result.json").read_text())["metrics"]
    assert "Accuracy_folds" not in result


def test_strategy_by_size_with_a_tiny_threshold(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(autopilot.search.plan, "MULTI_FIDELITY_ABOVE_BYTES", 1_000)  # penguins is 15 KB
    job = _run(tmp_path / "mf", max_trials=14, algorithms=["xgboost"])
    assert job.info["resolved"]["strategy"] == "multi-fidelity"
    board = job.leaderboard
    assert (board["budget"] < 1).sum() >= 9
    assert "stopped-early" in set(board["status"])
    assert board.iloc[0]["budget"] == 1.0  # a full-budget model is the best one
    assert (job.path / "best" / "pipeline.joblib").is_file()


def test_trial_time_limit_fails_the_slow_trial(tmp_path: Path) -> None:
    out = tmp_path / "slow"
    with pytest.raises(NoSuccessfulTrialError):
        _run(out, strategy="defaults", algorithms=["mlp"], trial_time_limit=0.2)
    result = json.loads((out / "trials" / "001-mlp" / "result.json").read_text())
    assert result["status"] == "failed" and "time limit" in result["error"]
    assert (out / "trials" / "001-mlp" / "error.txt").is_file()
    assert pd.read_csv(out / "leaderboard.csv").loc[0, "status"] == "failed"


def test_job_time_limit_stops_the_search_and_keeps_a_best_model(tmp_path: Path) -> None:
    job = _run(tmp_path / "tl", max_trials=1000, time_limit=10, strategy="random", algorithms=["linear-learner"])
    board = job.leaderboard
    assert (board["status"] == "succeeded").sum() >= 1 and len(board) < 1000
    assert (job.path / "best" / "pipeline.joblib").is_file() and job.info["status"] == "completed"
    killed = board[board["status"] == "failed"]
    # only trials cut off at the deadline fail (the cost-aware search may start none that would be)
    assert killed["error"].astype(str).str.contains("time limit").all()


def test_interrupted_job_resumes_without_repeating_a_finished_trial(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from autopilot.console import SilentReporter

    def stop_at_004(self: SilentReporter, spec: object) -> None:
        if spec.id.startswith("004"):
            raise KeyboardInterrupt  # as if killed while 004 runs

    out = tmp_path / "r"
    with monkeypatch.context() as m:
        m.setattr(SilentReporter, "trial_started", stop_at_004)
        with pytest.raises(KeyboardInterrupt):
            _run(out, max_trials=6, seed=1)
    before = {p.parent.name: p.read_text() for p in (out / "trials").glob("*/result.json")}
    assert {"001-linear-learner", "002-mlp", "003-xgboost"} <= set(before)
    assert json.loads((out / "job.json").read_text())["status"] == "running"
    job = _run(out, max_trials=6, seed=1)
    after = {p.parent.name: p.read_text() for p in (out / "trials").glob("*/result.json")}
    assert len(after) == 6 and sorted(after)[3].startswith("004")
    assert all(after[trial] == text for trial, text in before.items())  # finished trials were not repeated
    assert job.info["status"] == "completed" and len(job.leaderboard) == 6


def test_resume_refuses_other_settings(tmp_path: Path) -> None:
    out = tmp_path / "o"
    _run(out, max_trials=3)
    job_file = out / "job.json"
    job_file.write_text(json.dumps({**json.loads(job_file.read_text()), "status": "running"}))
    with pytest.raises(Exception, match="other settings \\(seed\\)"):
        _run(out, max_trials=3, seed=9)


# ---------------------------------------------------------------- the process executor's faults


def test_executor_results_and_faults() -> None:
    with TrialProcessExecutor(time_limit=1.0) as ex:
        ok, raises, dies, hangs = (
            ex.submit(pow, 2, 10),
            ex.submit(int, "x"),
            ex.submit(os._exit, 3),
            ex.submit(time.sleep, 30),
        )
        assert ok.result() == 1024
        with pytest.raises(TrialFailed, match="ValueError") as info:
            raises.result()
        assert "Traceback" in info.value.details
        with pytest.raises(TrialProcessDied, match="exit code 3"):
            dies.result()
        with pytest.raises(TrialTimeout, match="time limit"):
            hangs.result()


@pytest.mark.slow
def test_kill_minus_nine_then_rerun_continues(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys

    out = tmp_path / "k"
    cmd = [
        sys.executable,
        "-m",
        "autopilot.cli",
        "run",
        str(PENGUINS),
        "--target",
        "species",
        "--output",
        str(out),
        "--mode",
        "hpo",
        "--max-trials",
        "15",
        "--seed",
        "3",
    ]
    process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while len(list((out / "trials").glob("*/result.json"))) < 5 if out.exists() else True:
        time.sleep(0.2)
    process.send_signal(signal.SIGKILL)
    process.wait()
    before = {p.parent.name: p.read_text() for p in (out / "trials").glob("*/result.json")}
    assert subprocess.run(cmd, capture_output=True, text=True).returncode == 0
    after = {p.parent.name: p.read_text() for p in (out / "trials").glob("*/result.json")}
    assert len(after) == 15 and all(after[k] == v for k, v in before.items())
