"""Bias in a job: --facet on autopilot run writes explain/bias.json (Clarify's analysis.json shape), the report's Bias
section and the data notebook's; autopilot bias re-measures a finished job or new labelled data without retraining;
bad facets are refused before anything trains."""

from __future__ import annotations

import html
import json
import re
import shlex
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from autopilot import AutoPilot
from autopilot.api import load_job
from autopilot.cli import main
from autopilot.report import bias_section


def _credit(rows: int = 600, seed: int = 0) -> pd.DataFrame:
    """Loan decisions that favour men: the disparity the metrics must find."""
    rng = np.random.default_rng(seed)
    sex = rng.choice(["Female", "Male"], rows)
    income = rng.normal(50, 15, rows)
    score = (income - 50) / 10 + 1.2 * (sex == "Male") - 0.6
    approved = np.where(rng.random(rows) < 1 / (1 + np.exp(-score)), "yes", "no")
    frame = {"sex": sex, "age": rng.integers(18, 76, rows), "region": rng.choice(["N", "S", "E"], rows)}
    return pd.DataFrame(frame | {"income": income.round(1), "approved": approved})


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("credit") / "credit.csv"
    _credit().to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def job(data: Path) -> Path:
    quick = {"mode": "hpo", "strategy": "defaults", "algorithms": ["linear-learner"], "verbose": False}
    pilot = AutoPilot(
        target="approved", output=data.parent / "job", facets=["sex=Female", "age>50"], group_variable="region", **quick
    )
    return pilot.fit(data).path


@pytest.fixture()
def fresh(job: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(job, tmp_path / "job"))


def _metric(entry: dict, name: str) -> float | None:
    return next(m["value"] for m in entry["metrics"] if m["name"] == name)


def test_a_job_with_facets_writes_clarify_analysis(job: Path) -> None:
    analysis = json.loads((job / "explain" / "bias.json").read_text())
    assert analysis["label"] == "approved" and analysis["label_value_or_threshold"] == "yes"
    pre, post = analysis["pre_training_bias_metrics"], analysis["post_training_bias_metrics"]
    assert set(pre["facets"]) == set(post["facets"]) == {"sex", "age"}
    (female,) = pre["facets"]["sex"]
    assert female["value_or_threshold"] == "Female"
    assert [m["name"] for m in female["metrics"]] == ["CI", "DPL", "KL", "JS", "LP", "TVD", "KS", "CDDL"]
    train = pd.read_parquet(job / "data" / "train.parquet")
    women = train["sex"] == "Female"
    assert female["counts"]["d"] == {"n": int(women.sum()), "positives": int((women & (train.approved == "yes")).sum())}
    assert _metric(female, "DPL") > 0.1  # the built-in disparity, in the labels
    (post_female,) = post["facets"]["sex"]
    names = [m["name"] for m in post_female["metrics"]]
    assert names == ["DPPL", "DI", "DCAcc", "DCR", "RD", "DAR", "DRR", "SD", "AD", "TE", "CDDPL", "GE", "FT"]
    assert _metric(post_female, "DI") < 1  # the model learned it: women are approved less often
    validation = pd.read_parquet(job / "data" / "validation.parquet")
    assert post_female["counts"]["d"]["n"] == int((validation["sex"] == "Female").sum())
    assert post["facets"]["age"][0]["value_or_threshold"] == "(50, inf]"


def test_the_report_and_the_data_notebook_show_the_bias(job: Path) -> None:
    page = (job / "report.html").read_text()
    section = page[page.index('<h2 id="bias">') : page.index("<!--/bias-->")]
    assert "d: Female" in section and "DPPL" in section and "d: (50, inf]" in section
    assert "points lower for group d" in section  # a plain sentence, not just numbers
    assert "confusion matrices" in section
    notebook = json.loads((job / "notebooks" / "data_exploration.ipynb").read_text())
    text = "".join("".join(c["source"]) for c in notebook["cells"])
    assert "## Bias" in text and "'sex=Female'" in text and "analyze_job(JOB, options)" in text


def test_autopilot_bias_remeasures_a_job_and_updates_its_report(fresh: Path, capsys: pytest.CaptureFixture) -> None:
    before = (fresh / "report.html").read_text()
    assert main(["bias", str(fresh), "--facet", "region", "--facet", "sex"]) == 0
    said = capsys.readouterr().out
    assert "region = N" in said and "DPPL" in said and "Bias section" in said and "--output FILE keeps it" in said
    analysis = json.loads((fresh / "explain" / "bias.json").read_text())
    groups = {e["value_or_threshold"] for e in analysis["pre_training_bias_metrics"]["facets"]["sex"]}
    assert groups == {"Female", "Male"}  # without values: each value against the rest
    assert analysis["config"]["group_variable"] is None  # options given replace the job's own
    after = (fresh / "report.html").read_text()
    assert "d: N" in after and "d: Female" in after
    assert after[: after.index("<!--bias-->")] == before[: before.index("<!--bias-->")]  # the rest is untouched


def test_autopilot_bias_on_new_labelled_data(fresh: Path, tmp_path: Path) -> None:
    new = tmp_path / "new.csv"
    _credit(300, seed=5).to_csv(new, index=False)
    frame_analysis, frame_path = load_job(fresh).bias(["sex=Female"], data=pd.read_csv(new))
    assert frame_path.name == "bias-dataframe.json"
    assert frame_analysis["pre_training_bias_metrics"]["rows"] == "the 300 labelled rows of the DataFrame"
    analysis, path = load_job(fresh).bias(data=new)  # the job's own facets
    assert path == fresh / "explain" / "bias-new.json"
    assert analysis["pre_training_bias_metrics"]["rows"] == "the 300 labelled rows of new.csv"
    (female,) = analysis["post_training_bias_metrics"]["facets"]["sex"]
    assert female["counts"]["d"]["n"] + female["counts"]["a"]["n"] == 300
    unlabelled = tmp_path / "unlabelled.csv"
    _credit(50).drop(columns="approved").to_csv(unlabelled, index=False)
    assert main(["bias", str(fresh), str(unlabelled)]) == 2


def test_bad_facets_are_refused_before_anything_trains(data: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "never"
    for facet, said in (("sexx", "did you mean"), ("sex=Woman", "no row has sex = 'Woman'"), ("income", "threshold")):
        code = main(["run", str(data), "--target", "approved", "--output", str(out), "--facet", facet])
        err = capsys.readouterr().err
        assert code == 2 and said in err and err.count("\n") == 1
        assert not out.exists()
    assert main(["bias", str(data.parent / "job"), "--facet", "nope"]) == 2


def test_without_facets_the_report_suggests_the_sensitive_columns(fresh: Path) -> None:
    (fresh / "explain" / "bias.json").unlink()
    profile = json.loads((fresh / "profile.json").read_text())
    assert {c["name"] for c in profile["sensitive_columns"]} == {"sex", "age"}
    section = bias_section(fresh)
    assert "Columns that look sensitive" in section and "DPPL" not in section  # a suggestion, never a verdict
    command = html.unescape(re.search(r"<code>(autopilot bias [^<]*)</code>", section).group(1))
    assert "--facet sex" in command and "--facet 'age>" in command  # a number many-valued: split at its mean
    assert main(shlex.split(command)[1:]) == 0  # the suggested command runs as shown
