"""The generated notebooks: their content for each problem type, running them with nbclient, score reproduction,
pilot mode (candidates only) and regeneration from the job folder."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest

from autopilot import AutoPilot, load_job
from autopilot.cli import main
from autopilot.reproduce import candidate_pipeline, rebuild_pipeline, retrain_trial, split_frames

DATASETS = Path(__file__).resolve().parents[1] / "datasets"
JOBS = {  # problem type -> data file, target
    "binary": (DATASETS / "breast_cancer.csv", "diagnosis"),
    "multiclass": (DATASETS / "penguins.csv", "species"),
    "regression": (DATASETS / "diabetes.csv", "progression"),
}
QUICK = {"mode": "hpo", "strategy": "defaults", "seed": 5, "verbose": False}


@pytest.fixture(scope="module")
def jobs(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("nb")
    return {
        kind: AutoPilot(target=target, output=root / kind, algorithms=["linear-learner", "xgboost"], **QUICK).fit(data)
        for kind, (data, target) in JOBS.items()
    }


def _cells(path: Path) -> tuple[str, list[str]]:
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    markdown = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    return markdown, [c.source for c in notebook.cells if c.cell_type == "code"]


def _execute(path: Path) -> nbformat.NotebookNode:
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    return notebook


def _printed(notebook: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") for c in notebook.cells if c.cell_type == "code" for o in c.outputs)


@pytest.mark.parametrize("kind", list(JOBS))
def test_both_notebooks_are_generated_for_each_problem_type(jobs: dict, kind: str) -> None:
    job = jobs[kind]
    problem = job.problem
    markdown, code = _cells(job.path / "notebooks" / "data_exploration.ipynb")
    assert problem.problem_type in markdown and f"`{problem.target}`" in markdown and problem.metric in markdown
    assert (
        f"{job.info['resolved']['train_rows']} train / {job.info['resolved']['validation_rows']} validation" in markdown
    )
    assert "## Suggestions" in markdown and "## Prediction power" in markdown
    for source in code:
        compile(source, "cell", "exec")  # every code cell is valid Python
    markdown, code = _cells(job.path / "notebooks" / "candidate_definitions.ipynb")
    assert "### dpp0: linear-learner" in markdown and "### dpp1: xgboost" in markdown
    assert "| `eta` | 0.01 to 0.5 | log |" in markdown  # XGBoost's search range, from its search space
    assert "one-hot" in markdown and "mode | hpo" in markdown
    assert any("retrain_trial(JOB" in source for source in code)
    assert any("dpp1 = candidate_pipeline(JOB, 'xgboost')" in source for source in code)


def test_binary_notebook_names_the_positive_class(jobs: dict) -> None:
    markdown, _ = _cells(jobs["binary"].path / "notebooks" / "candidate_definitions.ipynb")
    assert f"(positive: {jobs['binary'].problem.positive_label})" in markdown


def test_notebooks_run_top_to_bottom_and_reproduce_the_best_score(jobs: dict) -> None:
    job = jobs["multiclass"]
    exploration = _execute(job.path / "notebooks" / "data_exploration.ipynb")
    images = [
        o for c in exploration.cells if c.cell_type == "code" for o in c.outputs if "image/png" in o.get("data", {})
    ]
    assert len(images) >= 3  # target, missing values, prediction power, histograms
    assert "344 rows (train + validation)" in _printed(exploration)
    candidates = _execute(job.path / "notebooks" / "candidate_definitions.ipynb")
    printed = _printed(candidates)
    assert f"{job.problem.metric}: retrained" in printed  # the cell asserts the difference is within 1e-6


def test_retraining_every_trial_reproduces_its_leaderboard_score(jobs: dict) -> None:
    job = jobs["regression"]
    board = job.leaderboard
    for row in board.itertuples():
        _, metrics = retrain_trial(job.path, row.trial)
        assert metrics["MSE"] == pytest.approx(row.MSE, abs=1e-6)
    pd.testing.assert_frame_equal(
        split_frames(job.path)[0].reset_index(drop=True), pd.read_parquet(job.path / "data" / "train.parquet")
    )
    assert rebuild_pipeline(job.path, board["trial"].iloc[0]).model.seed == 5
    candidate = candidate_pipeline(job.path, "xgboost", {"max_depth": 3})
    assert (candidate.model.max_depth, candidate.model.seed) == (3, 5)


@pytest.mark.slow
def test_cross_validated_mlp_trial_is_reproduced(tmp_path: Path) -> None:
    data, target = JOBS["multiclass"]
    job = AutoPilot(
        target=target, output=tmp_path / "cv", mode="hpo", max_trials=2, algorithms=["mlp"], seed=2, verbose=False
    ).fit(data)
    assert job.info["resolved"]["scored_by"].startswith("5-fold cross-validation")
    for row in job.leaderboard.itertuples():
        _, metrics = retrain_trial(job.path, row.trial)
        assert metrics["Accuracy"] == pytest.approx(row.Accuracy, abs=1e-6)


def test_pilot_mode_writes_notebooks_and_the_candidate_notebook_trains(tmp_path: Path) -> None:
    data, target = JOBS["multiclass"]
    out = tmp_path / "pilot"
    job = AutoPilot(target=target, output=out, candidates_only=True, algorithms=["linear-learner"], **QUICK).fit(data)
    assert job.info["status"] == "candidates"
    assert not (out / "trials").exists() and not (out / "leaderboard.csv").exists()
    assert "best: none" in repr(job)
    markdown, code = _cells(out / "notebooks" / "candidate_definitions.ipynb")
    assert "nothing has been trained yet" in markdown and any("RERUN_SEARCH = True" in c for c in code)
    _execute(out / "notebooks" / "candidate_definitions.ipynb")
    trained = load_job(out)
    assert trained.info["status"] == "completed" and len(trained.leaderboard) == 1
    assert "RERUN_SEARCH = False" in "".join(_cells(out / "notebooks" / "candidate_definitions.ipynb")[1])


def test_notebooks_command_regenerates_them(jobs: dict, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(jobs["binary"].path, copy)
    shutil.rmtree(copy / "notebooks")
    assert main(["notebooks", str(copy)]) == 0
    assert (copy / "notebooks" / "data_exploration.ipynb").exists()
    assert "candidate_definitions.ipynb" in capsys.readouterr().out
    assert main(["notebooks", str(tmp_path / "nowhere")]) == 2


def test_a_job_given_a_dataframe_reuses_its_saved_split(tmp_path: Path) -> None:
    frame = pd.read_csv(JOBS["regression"][0])
    job = AutoPilot(target="progression", output=tmp_path / "df", algorithms=["linear-learner"], **QUICK).fit(frame)
    train, _ = split_frames(job.path)
    assert len(train) == job.info["resolved"]["train_rows"]
    assert json.loads((job.path / "notebooks" / "candidate_definitions.ipynb").read_text())["cells"]


HOSTILE = "x\n# %%\nimport os; os.system('touch PWNED')\n# %% [markdown]\n<script>alert(1)</script>"


def test_names_and_labels_from_the_data_never_become_code(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    plain = pd.DataFrame({"a": rng.normal(size=120), "b": rng.normal(size=120)})
    plain["y"] = np.where(plain["a"] > 0, "yes", "no")
    hostile = plain.rename(columns={"b": HOSTILE, "y": "y\n# %%\nprint('pwned')"})
    hostile.iloc[:, 2] = hostile.iloc[:, 2].map({"yes": "</p><script>alert(2)</script>", "no": "no\n# %%\n1/0"})
    notebooks = {}
    for name, frame in (("plain", plain), ("hostile", hostile)):
        target = frame.columns[2]
        options = {"target": target, "output": tmp_path / name, "candidates_only": True, "algorithms": ["xgboost"]}
        job = AutoPilot(**options, **QUICK).fit(frame)
        notebooks[name] = [nbformat.read(p, as_version=4) for p in sorted((job.path / "notebooks").glob("*.ipynb"))]
    for safe, attacked in zip(notebooks["plain"], notebooks["hostile"], strict=True):
        assert [c.cell_type for c in attacked.cells] == [c.cell_type for c in safe.cells]  # no cell was added
        for cell in attacked.cells:
            lines = cell.source.splitlines()
            assert not any(line.startswith(("import os;", "print('pwned')", "1/0")) for line in lines), cell.source
            assert "<script>" not in cell.source
