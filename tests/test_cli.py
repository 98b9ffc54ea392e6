"""The command line: a run, predictions, and every bad input as one line, exit code 2, no job folder."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from autopilot.cli import main

DATASETS = Path(__file__).resolve().parents[1] / "datasets"
PENGUINS = DATASETS / "penguins.csv"


def _run(out: Path, *extra: str, data: Path = PENGUINS, target: str = "species") -> list[str]:
    """The argv of a quick `autopilot run` (each candidate once, with its defaults)."""
    return ["run", str(data), "--target", target, "--strategy", "defaults", "--output", str(out), *extra]


def test_run_then_predict(tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    job = tmp_path / "job"
    assert main(_run(Path("job"), "--seed", "1")) == 0  # a relative --output
    shown = capsys.readouterr().out
    for words in ["344 rows", "multiclass", "Accuracy", "Leaderboard", "xgboost", "Job folder: job"]:
        assert words in shown
    rows = pd.read_csv(PENGUINS).drop(columns="species").head(4)
    rows.to_csv(tmp_path / "new.csv", index=False)
    out = tmp_path / "pred.csv"
    assert main(["predict", str(job), str(tmp_path / "new.csv"), "--output", str(out)]) == 0
    predictions = pd.read_csv(out)
    assert len(predictions) == 4 and "proba_Gentoo" in predictions.columns
    assert main(["predict", str(job), str(tmp_path / "new.csv"), "--output", str(out)]) == 2  # exists
    assert "already exists" in capsys.readouterr().err
    command = re.search(r"<code>autopilot predict (\S+) new_rows.csv</code>", (job / "report.html").read_text())
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the report's commands run from any folder
    rows.to_csv("new_rows.csv", index=False)
    assert main(["predict", command.group(1), "new_rows.csv"]) == 0
    assert len(pd.read_csv("predictions.csv")) == 4


def test_algorithms_option(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    job = tmp_path / "job"
    assert main(_run(job, "--algorithms", "XGBoost,Linear_Learner")) == 0
    assert sorted(pd.read_csv(job / "leaderboard.csv")["candidate"]) == ["linear-learner", "xgboost"]
    capsys.readouterr()
    code = main(_run(tmp_path / "j2", "--algorithms", "lightgbm"))
    assert code == 2 and "not available" in capsys.readouterr().err
    assert not (tmp_path / "j2").exists()


def test_device_cuda_without_a_gpu_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from autopilot.device import cuda_available

    if cuda_available():
        pytest.skip("this machine has a CUDA GPU")  # the refusal is only observable where there is none
    code = main(_run(tmp_path / "j", "--device", "cuda"))
    err = capsys.readouterr().err
    assert code == 2 and "no CUDA GPU" in err and "--device auto" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "j").exists()


def test_predict_refuses_rows_missing_a_column(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    job = tmp_path / "job"
    main(_run(job))
    pd.read_csv(PENGUINS).drop(columns=["species", "island"]).to_csv(tmp_path / "bad.csv", index=False)
    assert main(["predict", str(job), str(tmp_path / "bad.csv"), "--output", str(tmp_path / "p.csv")]) == 2
    err = capsys.readouterr().err
    assert "island" in err and not (tmp_path / "p.csv").exists()


BAD_CASES = [
    "missing file",
    "unsupported extension",
    "empty file",
    "header only",
    "ragged rows",
    "target absent",
    "target all missing",
    "single class",
    "duplicate columns",
    "unreadable encoding",
    "parquet parts disagree",
    "class with one row",
]


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _bad_inputs(tmp: Path) -> dict[str, tuple[Path, str, str]]:
    """name -> (data path, target, words the error must contain)."""
    parts = tmp / "parts"
    parts.mkdir()
    pq.write_table(pa.table({"a": [1, 2], "y": ["p", "q"]}), parts / "part-0.parquet")
    pq.write_table(pa.table({"a": ["x", "z"], "y": ["p", "q"]}), parts / "part-1.parquet")
    rows = "".join(f"{i},{'a' if i % 2 else 'b'}\n" for i in range(20))
    return {
        "missing file": (tmp / "nope.csv", "y", "no such file"),
        "unsupported extension": (_write(tmp / "d.xlsx", b"x"), "y", "unsupported file type"),
        "empty file": (_write(tmp / "e.csv", b""), "y", "empty"),
        "header only": (_write(tmp / "h.csv", b"a,y\n"), "y", "no data rows"),
        "ragged rows": (_write(tmp / "r.csv", b"a,y\n1,p\n2,q\n3,p,9\n4,q\n"), "y", "line 4"),
        "target absent": (_write(tmp / "t.csv", b"a,label\n1,p\n2,q\n"), "lable", "'label'"),
        "target all missing": (_write(tmp / "m.csv", b"a,y\n1,\n2,\n3,\n"), "y", "entirely missing"),
        "single class": (_write(tmp / "s.csv", ("a,y\n" + "1,p\n" * 20).encode()), "y", "single value"),
        "duplicate columns": (_write(tmp / "dup.csv", b"a,a,y\n1,2,p\n"), "y", "duplicate column names"),
        "unreadable encoding": (_write(tmp / "u.csv", "a,y\n1,p\n".encode("utf-16")), "y", "UTF-8"),
        "parquet parts disagree": (parts, "y", "part-1.parquet"),
        "class with one row": (_write(tmp / "c.csv", ("a,y\n" + rows + "5,c\n").encode()), "y", "single row"),
    }


@pytest.mark.parametrize("case", BAD_CASES)
def test_bad_input_is_one_line_exit_2_and_no_job_folder(tmp_path: Path, capsys, case: str) -> None:
    data, target, words = _bad_inputs(tmp_path)[case]
    out = tmp_path / "job"
    code = main(_run(out, data=data, target=target))
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("autopilot: error: ") and err.count("\n") == 1, err
    assert words in err, err
    assert "Traceback" not in err
    assert not out.exists(), "a bad input must not leave a job folder"


BAD_OPTIONS = {  # each refused before anything is read or written, naming the option
    ("--time-limit", "0"): "--time-limit must be a number above 0",
    ("--time-limit", "-5"): "--time-limit must be a number above 0",
    ("--time-limit", "inf"): "--time-limit must be a number above 0",
    ("--trial-time-limit", "nan"): "--trial-time-limit must be a number above 0",
    ("--trial-time-limit", "0"): "--trial-time-limit must be a number above 0",
    ("--ensembling-max-mb", "0"): "--ensembling-max-mb must be a number above 0",
    ("--max-trials", "0"): "--max-trials must be at least 1",
    ("--parallel", "0"): "--parallel must be at least 1",
    ("--validation-fraction", "1.5"): "--validation-fraction must be between 0 and 1",
    ("--algorithms", ","): "--algorithms names no algorithm",
    ("--job-name", "../../x"): "--job-name must be a plain folder name",
}


@pytest.mark.parametrize("option", list(BAD_OPTIONS), ids=" ".join)
def test_bad_options_are_one_line_exit_2_and_nothing_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys, option: tuple[str, str]
) -> None:
    monkeypatch.chdir(tmp_path)  # --job-name writes under ./autopilot-output
    argv = ["run", str(PENGUINS), "--target", "species", *option]
    if option[0] != "--job-name":
        argv += ["--output", str(tmp_path / "job")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("autopilot: error: ") and err.count("\n") == 1 and BAD_OPTIONS[option] in err, err
    assert list(tmp_path.iterdir()) == []


def test_real_process_prints_no_traceback(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "autopilot.cli", "run", str(tmp_path / "none.csv"), "--target", "y"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("autopilot: error:") and "Traceback" not in proc.stderr


def test_the_command_exits_with_its_code_after_the_exit_handlers_and_all_its_output(tmp_path: Path) -> None:
    folder = tmp_path / "jobs"
    for i in range(200):  # a listing longer than a pipe's buffer
        (folder / f"job{i:03d}").mkdir(parents=True)
        (folder / f"job{i:03d}" / "job.json").write_text(json.dumps({"status": "completed", "name": f"job{i:03d}"}))
    script = "import atexit, sys; atexit.register(print, 'handlers ran'); from autopilot.cli import entry; entry()"
    for argv, code in ((["jobs", str(folder)], 0), (["run", str(tmp_path / "none.csv"), "--target", "y"], 2)):
        proc = subprocess.run(
            [sys.executable, "-c", script, *argv], capture_output=True, text=True, check=False, cwd=tmp_path
        )
        assert proc.returncode == code, proc.stderr
        assert proc.stdout.rstrip().endswith("handlers ran")
        assert code or ("job000" in proc.stdout and "job199" in proc.stdout)  # every line, though piped


def test_a_local_run_starts_the_trials_server_before_the_job(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The server trials fork from imports its libraries while this process imports the job's; a job whose trials
    run on a cluster, or that trains nothing, starts none."""
    calls = []
    monkeypatch.setattr("autopilot.search.processes.warm_up", lambda: calls.append("server"))
    monkeypatch.setattr("autopilot.job.run_job", lambda *args, **kwargs: calls.append("job"))
    assert main(_run(tmp_path / "job")) == 0
    assert main(_run(tmp_path / "job", "--cluster", "tcp://127.0.0.1:1")) == 0
    assert main(_run(tmp_path / "job", "--candidates-only")) == 0
    assert calls == ["server", "job", "job", "job"]


MISTYPED = {
    ("--max-trial", "5"): "unknown option --max-trial; did you mean --max-trials?",  # no abbreviations
    ("--traget", "species"): "unknown option --traget; did you mean --target?",
    ("--time-limit", "abc"): "argument --time-limit: invalid float value: 'abc'",
    ("--no-such-option",): "unknown option --no-such-option (see autopilot run --help)",
}


@pytest.mark.parametrize("option", list(MISTYPED), ids=" ".join)
def test_a_mistyped_option_is_named_in_one_line_with_its_closest_match(
    tmp_path: Path, capsys: pytest.CaptureFixture, option: tuple[str, ...]
) -> None:
    argv = ["run", str(PENGUINS), *option, "--output", str(tmp_path / "job")]
    if option[0] != "--traget":
        argv += ["--target", "species"]
    with pytest.raises(SystemExit) as stop:
        main(argv)
    err = capsys.readouterr().err
    assert stop.value.code == 2 and err.count("\n") == 1 and "usage:" not in err
    assert err.startswith("autopilot run: error: ") and MISTYPED[option] in err, err
    assert list(tmp_path.iterdir()) == []
