"""autopilot monitor: a job's baseline, files and capture folders checked against it, model quality with ground
truth, attribution drift, the report and the exit codes."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from autopilot import AutoPilot
from autopilot.cli import main
from autopilot.deploy.attribution import ndcg
from autopilot.deploy.capture import capture_line
from autopilot.deploy.model_quality import (
    quality_metrics,
    quality_violations,
    standard_errors,
    suggest_quality_constraints,
)
from autopilot.deploy.monitor import monitor

DATASETS = Path(__file__).resolve().parents[2] / "datasets"
NOW = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def job(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("monitor")
    quick = {"mode": "hpo", "strategy": "defaults", "algorithms": ["linear-learner"], "verbose": False}
    return AutoPilot(target="species", output=root / "job", **quick).fit(DATASETS / "penguins.csv").path


@pytest.fixture()
def fresh(job: Path, tmp_path: Path) -> Path:
    """A copy of the job, so each test's monitoring state starts empty."""
    return Path(shutil.copytree(job, tmp_path / "job"))


def _penguins() -> pd.DataFrame:
    return pd.read_csv(DATASETS / "penguins.csv")


def test_every_job_writes_a_baseline(job: Path) -> None:
    for name in (
        "statistics.json",
        "constraints.json",
        "model_quality_statistics.json",
        "model_quality_constraints.json",
    ):
        assert (job / "monitor" / name).exists()
    stats = json.loads((job / "monitor" / "statistics.json").read_text())
    assert stats["dataset"]["item_count"] == 344
    types = {f["name"]: f["inferred_type"] for f in stats["features"]}
    assert types["bill_length_mm"] == "Fractional" and types["flipper_length_mm"] == "Integral"
    assert types["island"] == "String" and "species" not in types
    quality = json.loads((job / "monitor" / "model_quality_constraints.json").read_text())
    assert quality["multiclass_classification_constraints"]["accuracy"]["comparison_operator"] == "LessThanThreshold"


def test_a_random_sample_is_clean_and_a_shift_is_flagged(fresh: Path, tmp_path: Path, capsys) -> None:
    _penguins().sample(170, random_state=2).to_csv(tmp_path / "same.csv", index=False)
    assert main(["monitor", str(fresh), str(tmp_path / "same.csv")]) == 0
    shifted = _penguins()
    shifted["bill_length_mm"] += 8
    shifted["colour"] = "blue"
    shifted.drop(columns=["sex"]).to_csv(tmp_path / "shifted.csv", index=False)
    assert main(["monitor", str(fresh), str(tmp_path / "shifted.csv")]) == 3
    out = capsys.readouterr().out
    assert "bill_length_mm: baseline_drift_check" in out and "model quality" in out
    run = sorted(p for p in (fresh / "monitor").iterdir() if p.is_dir())[-1]
    found = {
        (v["feature_name"], v["constraint_check_type"])
        for v in json.loads((run / "constraint_violations.json").read_text())["violations"]
    }
    assert {
        ("bill_length_mm", "baseline_drift_check"),
        ("sex", "missing_column_check"),
        ("colour", "extra_column_check"),
    } <= found
    assert json.loads((run / "model_quality_violations.json").read_text())["violations"]
    page = (fresh / "monitor" / f"report-{run.name}.html").read_text()
    assert page.index('id="violations"') < page.index('id="features"') and "<svg" in page and "<script" not in page
    assert f"monitor/report-{run.name}.html" in (fresh / "report.html").read_text()


def test_bad_input_is_one_line_and_exit_2(fresh: Path, tmp_path: Path, capsys) -> None:
    (tmp_path / "empty").mkdir()
    assert main(["monitor", str(fresh), str(tmp_path / "empty")]) == 2
    assert main(["monitor", str(fresh), str(tmp_path / "nowhere")]) == 2
    constraints = fresh / "monitor" / "constraints.json"
    edited = json.loads(constraints.read_text())
    edited["monitoring_config"]["distribution_constraints"]["comparison_threshold"] = "loose"
    constraints.write_text(json.dumps(edited))
    _penguins().to_csv(tmp_path / "rows.csv", index=False)
    assert main(["monitor", str(fresh), str(tmp_path / "rows.csv")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert all(line.startswith("autopilot: error: ") for line in err) and len(err) == 3
    assert "comparison_threshold" in err[-1]
    shutil.rmtree(fresh / "monitor")
    assert main(["monitor", str(fresh), str(tmp_path / "rows.csv")]) == 2
    assert "autopilot baseline" in capsys.readouterr().err
    assert main(["baseline", str(fresh)]) == 0 and (fresh / "monitor" / "constraints.json").exists()


def _capture(
    folder: Path, hour: str, rows: pd.DataFrame, labels: list[str] | None = None, ids: bool = False
) -> list[str]:
    """Capture lines for ``rows``, one request per row, in the hour's folder; returns their event ids."""
    when = datetime.strptime(hour, "%Y/%m/%d/%H").replace(tzinfo=UTC)
    path = folder / hour / "00-00-1-test.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    events = []
    with open(path, "a", encoding="utf-8") as out:
        for i, (_, row) in enumerate(rows.iterrows()):
            body = row.to_frame().T.to_csv(index=False, header=False).encode()
            answer = (labels[i] if labels else "Adelie").encode() + b"\n"
            line = capture_line(body, "text/csv", answer, "text/csv", f"inf-{hour}-{i}" if ids else None, when)
            events.append(json.loads(line)["eventMetadata"]["eventId"])
            out.write(line)
    return events


def test_a_capture_folder_is_monitored_hour_by_hour_and_only_once(fresh: Path, tmp_path: Path) -> None:
    rows = _penguins().drop(columns=["species"])
    captures = tmp_path / "captures"
    _capture(captures, "2026/03/01/10", rows.sample(60, random_state=1))
    _capture(captures, "2026/03/01/11", rows.sample(60, random_state=2))
    _capture(captures, "2026/03/01/12", rows.sample(60, random_state=3))  # the hour still being written
    runs = monitor(fresh, captures, now=NOW)
    assert [r.name for r in runs] == ["20260301T10", "20260301T11"]
    assert all(r.statistics["dataset"]["item_count"] == 60 and not r.violations for r in runs)
    assert monitor(fresh, captures, now=NOW) == []
    _capture(captures, "2026/03/01/09", rows.sample(60, random_state=4))  # late files for an unseen hour
    later = monitor(fresh, captures, now=NOW.replace(hour=13))
    assert [r.name for r in later] == ["20260301T09", "20260301T12"]
    state = json.loads((fresh / "monitor" / "state.json").read_text())
    assert list(state["captures"].values()) == [["2026/03/01/09", "2026/03/01/10", "2026/03/01/11", "2026/03/01/12"]]


def test_malformed_lines_are_counted_and_another_schema_is_violations(fresh: Path, tmp_path: Path) -> None:
    captures = tmp_path / "captures"
    _capture(captures, "2026/03/01/10", _penguins().drop(columns=["species"]).head(30))
    with open(captures / "2026/03/01/10" / "00-00-1-test.jsonl", "a") as out:
        out.write('{"captureData": {"endpointInput": {"data": "trunc\n')
        out.write("not json at all\n")
    other = captures / "2026/03/01/11" / "x.jsonl"
    other.parent.mkdir(parents=True)
    other.write_text("".join(capture_line(b"1,2,3\n", "text/csv", b"0\n", "text/csv", None, NOW) for _ in range(5)))
    first, second = monitor(fresh, captures, attribution=False, now=NOW)
    assert first.notes[0] == "2 capture lines unreadable and skipped" and "00-00-1-test.jsonl line 31" in first.notes[1]
    assert first.statistics["dataset"]["item_count"] == 30
    kinds = {v["constraint_check_type"] for v in second.violations}
    assert {"missing_column_check", "extra_column_check"} <= kinds


def test_ground_truth_lines_join_on_inference_or_event_id(fresh: Path, tmp_path: Path) -> None:
    data = _penguins().sample(80, random_state=5)
    captures = tmp_path / "captures"
    predicted = ["Adelie"] * 80
    events = _capture(captures, "2026/03/01/10", data.drop(columns=["species"]), predicted, ids=True)
    truth = tmp_path / "truth.jsonl"
    with open(truth, "w") as out:
        for i, label in enumerate(data["species"]):
            key = (
                {"eventId": f"inf-2026/03/01/10-{i}"}
                if i % 2
                else {"eventId": "x", "inferenceId": f"inf-2026/03/01/10-{i}"}
            )
            out.write(
                json.dumps(
                    {"groundTruthData": {"data": label, "encoding": "CSV"}, "eventMetadata": key, "eventVersion": "0"}
                )
                + "\n"
            )
    (run,) = monitor(fresh, captures, ground_truth=truth, attribution=False, now=NOW)
    accuracy = run.quality["multiclass_classification_metrics"]["accuracy"]["value"]
    assert accuracy == pytest.approx((data["species"] == "Adelie").mean())
    assert "matched 80 of 80" in " ".join(run.notes)
    assert events and run.quality_violations  # always answering Adelie is far below the baseline
    unmatched = tmp_path / "other.jsonl"
    unmatched.write_text(
        json.dumps({"groundTruthData": {"data": "Adelie"}, "eventMetadata": {"eventId": "nope"}}) + "\n"
    )
    _capture(captures, "2026/03/01/11", data.drop(columns=["species"]).head(5))
    (run,) = monitor(fresh, captures, ground_truth=unmatched, attribution=False, now=NOW)
    assert run.quality is None and "matched none of the 5 captured events" in " ".join(run.notes)


def test_model_quality_metrics_have_deviations_and_operators() -> None:
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 2, 300)
    proba = np.clip(truth * 0.4 + rng.random(300) * 0.6, 0, 1)
    predicted = (proba >= 0.5).astype(int)
    problem = {"problem_type": "binary", "classes": ["no", "yes"]}
    metrics = quality_metrics(problem, truth, predicted, np.column_stack([1 - proba, proba]))[
        "binary_classification_metrics"
    ]
    for name in (
        "recall",
        "precision",
        "accuracy",
        "auc",
        "f0_5",
        "f1",
        "f2",
        "true_positive_rate",
        "f1_best_constant_classifier",
    ):
        assert name in metrics
    assert metrics["accuracy"]["standard_deviation"] > 0
    assert metrics["recall_best_constant_classifier"]["value"] == 1.0
    assert sum(sum(row.values()) for row in metrics["confusion_matrix"].values()) == 300
    small = quality_metrics(problem, truth[:100], predicted[:100], None)["binary_classification_metrics"]
    assert small["f1"]["standard_deviation"] is None and "auc" not in small
    stats = {"binary_classification_metrics": metrics}
    errors = standard_errors("binary", truth, predicted, np.column_stack([1 - proba, proba]))
    assert 0 < errors["f1"] < 0.1 and set(errors) == {"accuracy", "precision", "recall", "f1", "auc"}
    constraints = suggest_quality_constraints("binary", stats, errors)
    assert quality_violations(constraints, stats) == []
    worse = {"binary_classification_metrics": {**metrics, "f1": {"value": 0.1, "standard_deviation": None}}}
    assert [v["metric_name"] for v in quality_violations(constraints, worse)] == ["f1"]
    regression = quality_metrics({"problem_type": "regression"}, np.arange(10.0), np.arange(10.0) + 1, None)
    assert regression["regression_metrics"]["mae"]["value"] == pytest.approx(1.0)
    rules = suggest_quality_constraints("regression", regression, {"rmse": 0.5})["regression_constraints"]
    assert rules["rmse"]["threshold"] == pytest.approx(1.0 + 3 * np.sqrt(2) * 0.5)
    perfect = standard_errors("binary", truth, truth, None)
    assert perfect["accuracy"] > 0  # a perfect validation score still leaves room for one miss
    assert rules["rmse"]["comparison_operator"] == "GreaterThanThreshold"


def test_ndcg_on_known_rankings() -> None:
    baseline = pd.Series({"a": 4.0, "b": 3.0, "c": 2.0, "d": 1.0})
    assert ndcg(baseline, ["a", "b", "c", "d"]) == pytest.approx(1.0)
    ideal = 4 + 3 / np.log2(3) + 2 / 2 + 1 / np.log2(5)
    reversed_ = 1 + 2 / np.log2(3) + 3 / 2 + 4 / np.log2(5)
    assert ndcg(baseline, ["d", "c", "b", "a"]) == pytest.approx(reversed_ / ideal)
    assert ndcg(baseline, ["d", "c", "b", "a"]) < 0.9


@pytest.mark.slow
def test_monitor_report_renders_offline_in_headless_chromium(fresh: Path, tmp_path: Path) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    assert browser, "this check needs Debian's chromium package: apt-get install chromium"
    shifted = _penguins()
    shifted["bill_length_mm"] += 8
    shifted.to_csv(tmp_path / "shifted.csv", index=False)
    (run,) = monitor(fresh, tmp_path / "shifted.csv")
    page = run.report
    assert "http://" not in page.read_text() and "https://" not in page.read_text()  # nothing fetched
    headless = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--window-size=1200,2400"]
    dom = subprocess.run([*headless, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120).stdout
    assert "Monitoring run" in dom and "bill_length_mm" in dom and "baseline_drift_check" in dom
    assert dom.index("Violations") < dom.index("Features") and dom.count("<svg") >= 5
    shot = tmp_path / "monitor.png"
    subprocess.run([*headless, f"--screenshot={shot}", page.as_uri()], capture_output=True, timeout=120)
    assert shot.stat().st_size > 30_000  # a page with its tables and plots, not a blank one
    print(f"screenshot: {shot}")  # for a person to look at (pytest -s)


def test_the_hour_still_being_written_is_said_and_left(fresh: Path, tmp_path: Path, capsys) -> None:
    hour = datetime.now(UTC).strftime("%Y/%m/%d/%H")
    _capture(tmp_path / "captures", hour, _penguins().drop(columns=["species"]).head(5))
    assert main(["monitor", str(fresh), str(tmp_path / "captures")]) == 0
    out = capsys.readouterr().out
    assert "Nothing new to monitor" in out and f"Capture hour {hour} (UTC) is still being written" in out


def test_edits_are_checked_kept_by_baseline_and_runs_never_overwrite(fresh: Path, tmp_path: Path, capsys) -> None:
    rows = tmp_path / "rows.csv"
    _penguins().head(100).to_csv(rows, index=False)
    constraints = fresh / "monitor" / "constraints.json"
    edited = json.loads(constraints.read_text())
    edited["monitoring_config"]["distribution_constraints"]["comparison_threshold"] = 0.3
    edited["features"][1]["monitoringConfigOverrides"] = {"comparison_threshold": "0.5x"}
    constraints.write_text(json.dumps(edited))
    assert main(["monitor", str(fresh), str(rows)]) == 2
    assert "monitoringConfigOverrides.comparison_threshold must be a number" in capsys.readouterr().err
    edited["features"][1]["monitoringConfigOverrides"] = {}
    constraints.write_text(json.dumps(edited))
    quality = fresh / "monitor" / "model_quality_constraints.json"
    saved = quality.read_text()
    quality.write_text(saved.replace('"threshold": 0', '"threshold": "abc", "x": 0', 1))
    assert main(["monitor", str(fresh), str(rows)]) == 2
    assert "threshold must be a number" in capsys.readouterr().err
    quality.write_text(saved)
    pd.DataFrame({"foo": [1, 2], "bar": [3, 4]}).to_csv(tmp_path / "unrelated.csv", index=False)
    assert main(["baseline", str(fresh), str(tmp_path / "unrelated.csv")]) == 2
    assert "lacks the job's column(s)" in capsys.readouterr().err
    assert main(["baseline", str(fresh)]) == 0
    kept = json.loads(constraints.read_text())["monitoring_config"]["distribution_constraints"]["comparison_threshold"]
    assert kept == 0.3
    first = monitor(fresh, rows, attribution=False, now=NOW)[0]
    second = monitor(fresh, rows.with_name("rows.csv"), attribution=False, now=NOW)[0]
    assert (first.name, second.name) == ("20260301T123000Z", "20260301T123000Z-2")
    assert second.notes == [] and first.quality is not None
    _penguins().drop(columns=["species"]).head(50).to_csv(tmp_path / "unlabelled.csv", index=False)
    (run,) = monitor(fresh, tmp_path / "unlabelled.csv", attribution=False)
    assert run.quality is None and "model quality not checked" in run.notes[0]
