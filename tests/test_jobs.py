"""autopilot jobs: the job folders under a folder as a table, and --compare with what differs."""

from __future__ import annotations

from pathlib import Path

import pytest

from autopilot import AutoPilot
from autopilot.cli import main
from autopilot.jobs import compare, list_jobs

DATASETS = Path(__file__).resolve().parents[1] / "datasets"


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("jobs")
    quick = {"mode": "hpo", "strategy": "defaults", "algorithms": ["linear-learner"], "verbose": False}
    AutoPilot(target="species", output=root / "accuracy", **quick).fit(DATASETS / "penguins.csv")
    AutoPilot(target="species", output=root / "logloss", metric="LogLoss", seed=3, **quick).fit(
        DATASETS / "penguins.csv"
    )
    return root


def test_jobs_lists_every_job_folder(root: Path, capsys: pytest.CaptureFixture) -> None:
    broken = root / "broken"
    broken.mkdir(exist_ok=True)
    (broken / "job.json").write_text("{not json")
    table = list_jobs(root).set_index("name")
    assert set(table.index) == {"accuracy", "logloss", "broken"}
    assert table.loc["accuracy", "metric"] == "Accuracy" and table.loc["logloss", "metric"] == "LogLoss"
    assert 0.5 < table.loc["accuracy", "best score"] <= 1 and table.loc["logloss", "best score"] > 0
    assert table.loc["accuracy", "status"] == "completed" and table.loc["broken", "status"] == "unreadable job.json"
    assert table.loc["accuracy", "data"] == "penguins.csv" and table.loc["accuracy", "mode"] == "hpo"
    assert main(["jobs", str(root)]) == 0
    out = capsys.readouterr().out
    assert "logloss" in out and "penguins.csv" in out and "best score" in out


def test_compare_shows_what_differs(root: Path, capsys: pytest.CaptureFixture) -> None:
    found = compare([root / "accuracy", root / "logloss"])
    said = "\n".join(found["differs"])
    assert "config.metric: accuracy -, logloss LogLoss" in said and "config.seed: accuracy 0, logloss 3" in said
    assert "config.target" not in said  # the same in both
    assert list(found["leaderboards"]["logloss"].columns)[:4] == ["rank", "trial", "candidate", "LogLoss"]
    assert main(["jobs", "--compare", str(root / "accuracy"), str(root / "logloss")]) == 0
    assert "What differs:" in capsys.readouterr().out


def test_bad_folders_are_one_line_errors(root: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["jobs", str(tmp_path / "nowhere")]) == 2
    assert "no such folder" in capsys.readouterr().err
    assert main(["jobs", "--compare", str(root / "accuracy"), str(tmp_path)]) == 2
    assert "not an autopilot job folder" in capsys.readouterr().err
    assert main(["jobs", "--compare", str(root / "accuracy")]) == 2
    assert main(["jobs", str(tmp_path)]) == 0
    assert "No job folders" in capsys.readouterr().out
