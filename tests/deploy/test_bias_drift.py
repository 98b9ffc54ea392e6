"""Bias drift in autopilot monitor: the post-training bias metrics of new labelled rows against the job's
explain/bias.json. Quiet on new rows drawn like the training rows; fires on a shift built against one group."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from autopilot import AutoPilot
from autopilot.cli import main
from autopilot.deploy.monitor import monitor
from tests.bias.test_bias_job import _credit


@pytest.fixture(scope="module")
def job(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bias-drift")
    _credit(2000, seed=1).to_csv(root / "credit.csv", index=False)
    quick = {"mode": "hpo", "strategy": "defaults", "algorithms": ["linear-learner"], "verbose": False}
    pilot = AutoPilot(target="approved", output=root / "job", facets=["sex=Female"], group_variable="region", **quick)
    return pilot.fit(root / "credit.csv").path


@pytest.fixture()
def fresh(job: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(job, tmp_path / "job"))


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_new_rows_drawn_like_the_training_rows_raise_no_bias_drift(fresh: Path, tmp_path: Path, seed: int) -> None:
    new = tmp_path / "new.csv"
    _credit(800, seed=seed).to_csv(new, index=False)
    (run,) = monitor(fresh, new, attribution=False)
    assert run.bias is not None and run.bias_violations == []
    names = [m["name"] for m in run.bias["post_training_bias_metrics"]["facets"]["sex"][0]["metrics"]]
    assert "DPPL" in names and "CDDPL" in names
    written = json.loads((fresh / "monitor" / run.name / "bias_drift_violations.json").read_text())
    assert written == {"version": "1.0", "violations": []}


def test_a_shift_against_one_group_is_a_bias_drift_violation(fresh: Path, tmp_path: Path, capsys) -> None:
    frame = _credit(800, seed=21)
    women = frame["sex"] == "Female"
    frame.loc[women, "income"] -= 25  # the model now approves far fewer women; their labels stay as drawn
    new = tmp_path / "shifted.csv"
    frame.to_csv(new, index=False)
    assert main(["monitor", str(fresh), str(new), "--no-attribution"]) == 3
    said = capsys.readouterr().out
    assert "bias drift: DPPL for sex = Female" in said
    run_folder = next(p for p in (fresh / "monitor").iterdir() if (p / "bias_drift_violations.json").exists())
    violations = json.loads((run_folder / "bias_drift_violations.json").read_text())["violations"]
    flagged = {v["metric_name"] for v in violations}
    assert {"DPPL", "DI"} <= flagged
    assert all(v["constraint_check_type"] == "bias_drift_check" and v["facet"] == "sex" for v in violations)
    page = next((fresh / "monitor").glob("report-*.html")).read_text()
    assert "Bias drift" in page and "bias_drift_check" in page


def test_a_job_without_a_bias_baseline_checks_no_bias(fresh: Path, tmp_path: Path) -> None:
    (fresh / "explain" / "bias.json").unlink()
    new = tmp_path / "new.csv"
    _credit(200, seed=3).to_csv(new, index=False)
    (run,) = monitor(fresh, new, attribution=False)
    assert run.bias is None and run.quality is not None
