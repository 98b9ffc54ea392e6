"""Kill a job (SIGKILL or SIGTERM) at seeded random points, rerun the same command, and compare with an uninterrupted
run: no trial lost, none duplicated, and (the search being deterministic: no time limit) the same leaderboard."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

PENGUINS = Path(__file__).resolve().parents[2] / "datasets" / "penguins.csv"
HPO = ["--mode", "hpo", "--strategy", "random", "--max-trials", "8", "--parallel", "2", "--seed", "0"]
KILLS = [(signal.SIGKILL, 0.3), (signal.SIGTERM, 0.5), (signal.SIGKILL, 0.8)]  # signal, share of a whole run
HPO_KILLS = [(signal.SIGKILL, 2), (signal.SIGTERM, 4), (signal.SIGKILL, 6)]  # signal, trials finished before it

pytestmark = pytest.mark.slow


def _command(out: Path) -> list[str]:
    return [sys.executable, "-m", "autopilot.cli", "run", str(PENGUINS), "--target", "species", "--output", str(out)]


def _run(out: Path, options: list[str], kill: tuple[signal.Signals, float] | None = None, after: int = 0) -> float:
    """Run the job; with ``kill``, stop it with that signal once ``after`` trials have results and a further
    ``kill[1]`` seconds have passed. Returns its wall time."""
    start = time.monotonic()
    process = subprocess.Popen(_command(out) + options, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if kill is None:
        _, err = process.communicate(timeout=900)
        assert process.returncode == 0, err.decode()[-2000:]
        return time.monotonic() - start
    while len(list(out.glob("trials/*/result.json"))) < after and process.poll() is None:
        time.sleep(0.05)
    try:
        process.wait(timeout=kill[1])
    except subprocess.TimeoutExpired:
        process.send_signal(kill[0])
        process.wait(timeout=60)
    return time.monotonic() - start


def _board(out: Path) -> pd.DataFrame:
    board = pd.read_csv(out / "leaderboard.csv")
    return board[["trial", "candidate", "status", "Accuracy", "params"]].sort_values("trial").reset_index(drop=True)


def test_hpo_killed_anywhere_resumes_to_the_uninterrupted_leaderboard(tmp_path: Path) -> None:
    _run(tmp_path / "reference", HPO)
    reference = _board(tmp_path / "reference")
    assert len(reference) == 8 and reference["trial"].is_unique
    chance = random.Random(0)
    for i, (stop, done) in enumerate(HPO_KILLS):  # by progress, not time: a loaded machine must not move the kill
        out = tmp_path / f"killed-{i}"
        _run(out, HPO, (stop, chance.uniform(0.0, 0.5)), after=done)
        job = json.loads((out / "job.json").read_text()) if (out / "job.json").exists() else {}
        assert job.get("status") != "completed", "the kill came after the job had ended; kill earlier"
        _run(out, HPO)  # the same command resumes it
        resumed = _board(out)
        pd.testing.assert_frame_equal(resumed, reference, check_exact=False, rtol=1e-9, obj=f"kill {i} ({stop.name})")
        trials = sorted(p.name for p in (out / "trials").iterdir())
        assert trials == reference["trial"].tolist()  # no stray or half-written trial folder left


def test_ensembling_killed_anywhere_resumes_with_every_model_scored(tmp_path: Path) -> None:
    options = ["--mode", "ensembling", "--algorithms", "lightgbm,linear-learner", "--time-limit", "60", "--seed", "0"]
    whole = _run(tmp_path / "reference", options)
    for i, (stop, share) in enumerate(KILLS):
        out = tmp_path / f"killed-{i}"
        _run(out, options, (stop, whole * share))
        _run(out, options)
        job = json.loads((out / "job.json").read_text())
        scored = json.loads((out / "autogluon" / "scored.json").read_text())["trials"]
        board = pd.read_csv(out / "leaderboard.csv")
        assert job["status"] == "completed" and (board["status"] == "succeeded").all()
        assert sorted(board["trial"]) == sorted(scored) == sorted(p.name for p in (out / "trials").iterdir())
