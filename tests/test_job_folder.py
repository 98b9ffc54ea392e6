"""The job folder is replaced only when it is provably a job, never while another run holds it, and resumed only on
the same data."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest

from autopilot import AutoPilot
from autopilot.errors import ConfigError
from autopilot.io import write_json
from autopilot.job_folder import LOCK_FILE, check_folder, data_fingerprint, hold_folder
from autopilot.leaderboard import load_results

PENGUINS = Path(__file__).resolve().parents[1] / "datasets" / "penguins.csv"
CONFIG = {"overwrite": False, "target": "species", "seed": 0}
DATA = {"columns": ["a", "b"], "rows": 10, "sha256": "x"}


def _job(folder: Path, status: str = "running", data: dict = DATA) -> Path:
    job = {"name": folder.name, "status": status, "config": CONFIG, "versions": {"autopilot": "0"}, "data": data}
    write_json(folder / "job.json", job)
    (folder / "trials").mkdir()
    return folder


def test_only_a_folder_that_is_provably_a_job_is_replaced(tmp_path: Path) -> None:
    other = tmp_path / "project"
    write_json(other / "job.json", {"name": "a CI job", "steps": []})  # some other tool's job.json
    (other / "notes.txt").write_text("keep me")
    with pytest.raises(ConfigError, match="not an autopilot job"):
        check_folder(other, {**CONFIG, "overwrite": True}, DATA)
    assert (other / "notes.txt").read_text() == "keep me"


def test_the_current_folder_and_its_parents_are_never_replaced(tmp_path: Path, monkeypatch) -> None:
    job = _job(tmp_path / "job")
    (job / "work").mkdir()
    for here, target in ((job, Path(".")), (job / "work", Path(".."))):
        monkeypatch.chdir(here)
        with pytest.raises(ConfigError, match="current folder"):
            check_folder(target, {**CONFIG, "overwrite": True}, DATA)
    assert (job / "job.json").exists()


def test_overwrite_moves_the_old_job_aside_and_leaves_nothing_of_it(tmp_path: Path) -> None:
    job = _job(tmp_path / "job", status="completed")
    (job / "trials" / "001-x").mkdir()
    assert check_folder(job, {**CONFIG, "overwrite": True}, DATA) is False
    with hold_folder(job, resume=False, overwrite=True):
        assert [p.name for p in job.iterdir()] == [LOCK_FILE]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["job"]  # nothing left aside


def test_a_second_run_on_a_held_folder_is_refused_naming_the_holder(tmp_path: Path) -> None:
    job = _job(tmp_path / "job")
    with hold_folder(job, resume=True):
        for overwrite in (False, True):  # neither resumed nor replaced while a run holds it
            with pytest.raises(ConfigError, match=f"in use by another autopilot run \\(pid {os.getpid()}\\)"):
                check_folder(job, {**CONFIG, "overwrite": overwrite}, DATA)
        with pytest.raises(ConfigError, match="in use"), hold_folder(job, resume=False, overwrite=True):
            pass
    assert (job / "job.json").exists()
    assert check_folder(job, CONFIG, DATA) is True  # free again once the run ended


def test_resume_refuses_other_data_and_names_the_difference(tmp_path: Path) -> None:
    job = _job(tmp_path / "job")
    cases = {
        "new columns 'c'; missing 'b'": {"columns": ["a", "c"], "rows": 10},
        "11 rows, the job had 10": {"columns": ["a", "b"], "rows": 11},
        "the same columns and row count, other values": {"columns": ["a", "b"], "rows": 10},
    }
    for words, data in cases.items():
        with pytest.raises(ConfigError, match=f"other data \\({words}"):
            check_folder(job, CONFIG, {**data, "sha256": "y"})
    assert check_folder(job, CONFIG, DATA) is True


def test_a_run_on_an_edited_file_does_not_resume_the_job(tmp_path: Path) -> None:
    data = tmp_path / "penguins.csv"
    data.write_bytes(PENGUINS.read_bytes())
    options = {"target": "species", "output": tmp_path / "job", "verbose": False, "algorithms": ["linear-learner"]}
    AutoPilot(**options, mode="hpo", candidates_only=True).fit(data)  # an unfinished job, resumable
    job = json.loads((tmp_path / "job" / "job.json").read_text())
    assert job["data"] == data_fingerprint(data, job["data"]["columns"], 344)
    frame = pd.read_csv(data)
    frame.loc[0, "bill_length_mm"] = 99.0
    frame.to_csv(data, index=False)
    with pytest.raises(ConfigError, match="other data \\(the same columns and row count, other values\\)"):
        AutoPilot(**options, mode="hpo").fit(data)


def test_a_dataframe_fingerprint_follows_its_values() -> None:
    frame = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    same = data_fingerprint(frame.copy(), ["a", "b"], 3)
    assert data_fingerprint(frame, ["a", "b"], 3) == same
    assert data_fingerprint(frame.assign(b=["x", "y", "w"]), ["a", "b"], 3) != same


def test_an_unreadable_result_counts_as_a_trial_not_run(tmp_path: Path) -> None:
    job = _job(tmp_path / "job")
    (job / "trials" / "001-x").mkdir()
    (job / "trials" / "001-x" / "result.json").write_text('{"spec": {"id": "001-x"')  # cut off mid-write
    assert load_results(job) == []


def test_a_folder_written_meanwhile_is_not_replaced_without_overwrite(tmp_path: Path) -> None:
    job = tmp_path / "job"
    assert check_folder(job, CONFIG, DATA) is False  # empty when the data was being profiled
    _job(job)  # then another run wrote a job there
    with pytest.raises(ConfigError, match="written by another run meanwhile"), hold_folder(job, resume=False):
        pass
    assert (job / "job.json").exists()
