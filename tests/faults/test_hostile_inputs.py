"""A table of hostile inputs through ``run``, ``predict``, ``serve`` and the notebooks: each one either gets a one-line
error (exit 2, no job folder) or trains, and then predicts every row of the same file, answers a request and writes
both notebooks. Slow: about fifty small jobs."""

from __future__ import annotations

import codecs
import gzip
import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from autopilot.cli import main
from autopilot.deploy.serve import InferenceApp, Model
from tests.deploy.test_serve import _call

pytestmark = pytest.mark.slow
QUICK = ["--mode", "hpo", "--strategy", "defaults", "--algorithms", "linear-learner"]
ROWS = 60


def _frame(rows: int = ROWS) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    x = rng.normal(size=rows).round(3)
    return pd.DataFrame({"x": x, "c": rng.choice(["red", "blue"], rows), "y": np.where(x > 0, "yes", "no")})


def _csv(text: str, encoding: str = "utf-8") -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        (folder / "data.csv").write_bytes(text.encode(encoding))
        return folder / "data.csv"

    return write


def _bytes(data: bytes, name: str = "data.csv") -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        (folder / name).write_bytes(data)
        return folder / name

    return write


def _table(frame: pd.DataFrame, **to_csv: object) -> Callable[[Path], Path]:
    return _csv(frame.to_csv(index=False, **to_csv))


def _lines(header: str, row: Callable[[int], str], rows: int = ROWS, end: str = "\n") -> str:
    return header + end + "".join(row(i) + end for i in range(rows))


def _label(i: int) -> str:
    return "yes" if i % 3 else "no"


def _parquet(table: pa.Table) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        pq.write_table(table, folder / "data.parquet")
        return folder / "data.parquet"

    return write


def _parts(tables: list[pa.Table], hive: bool = False) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        if hive:
            pq.write_to_dataset(tables[0], folder / "parts", ["c"])
        else:
            (folder / "parts").mkdir()
            for i, table in enumerate(tables):
                pq.write_table(table, folder / "parts" / f"part-{i}.parquet")
        return folder / "parts"

    return write


def _gzip(text: str) -> Callable[[Path], Path]:
    return _bytes(gzip.compress(text.encode()), "data.csv.gz")


EU = _lines("x;amount;y", lambda i: f"{i % 7};{i * 3},{i % 10}5 €;{_label(i)}")
ERRORS: dict[str, tuple[Callable[[Path], Path], list[str], str]] = {  # writer, extra options, words of the error
    "empty file": (_csv(""), [], "empty"),
    "whitespace only": (_csv("  \n \n"), [], "empty"),
    "header only": (_csv("x,c,y\n"), [], "no data rows"),
    "a picture named .csv": (_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 4), [], "not readable text"),
    "UTF-16": (_csv("x,y\n1,a\n", "utf-16"), [], "UTF-8"),
    "target not in the header": (_table(_frame()), ["--target", "label"], "'label'"),
    "target all empty": (_csv(_lines("x,y", lambda i: f"{i},")), [], "entirely missing"),
    "target all None": (_csv(_lines("x,y", lambda i: f"{i},None")), [], "entirely missing"),
    "a single class": (_csv(_lines("x,y", lambda i: f"{i % 5},a")), [], "single value"),
    "a class of one row": (_csv(_lines("x,y", lambda i: f"{i % 5},{'z' if i == 0 else _label(i)}")), [], "single row"),
    "duplicate names": (_csv("x,x,y\n1,2,a\n3,4,b\n"), [], "duplicate column names"),
    "ragged rows": (_csv("x,y\n1,a\n2,b,3\n"), [], "line 3"),
    "only the target": (_csv(_lines("y", _label)), [], "no usable feature"),
    "constant features": (_csv(_lines("x,c,y", lambda i: f"1,k,{_label(i)}")), [], "no usable feature"),
    "three rows": (_csv("x,y\n1,a\n2,b\n3,a\n"), [], "too few"),
    "a spreadsheet": (_bytes(b"PK\x03\x04", "data.xlsx"), [], "unsupported file type"),
    "parquet parts disagree": (
        _parts([pa.table({"x": [1.0], "y": ["a"]}), pa.table({"x": ["z"], "y": ["b"]})]),
        [],
        "disagree",
    ),
    "--time-limit 0": (_table(_frame()), ["--time-limit", "0"], "--time-limit must be a number above 0"),
    "--time-limit -5": (_table(_frame()), ["--time-limit", "-5"], "--time-limit must be a number above 0"),
    "--max-trials 0": (_table(_frame()), ["--max-trials", "0"], "--max-trials must be at least 1"),
    "--parallel 0": (_table(_frame()), ["--parallel", "0"], "--parallel must be at least 1"),
    "--algorithms ,": (_table(_frame()), ["--algorithms", ","], "names no algorithm"),
    "--job-name ../x": (_table(_frame()), ["--job-name", "../x"], "plain folder name"),
    "--cluster notaurl": (_table(_frame()), ["--cluster", "notaurl"], "not a scheduler address"),
    "--validation-fraction 2": (_table(_frame()), ["--validation-fraction", "2"], "between 0 and 1"),
    "an unknown algorithm": (_table(_frame()), ["--algorithms", "svm"], "svm"),
    "the target in another case": (_table(_frame()), ["--target", "Y"], "'y'"),
    "a target of blanks": (_csv(_lines("x,y", lambda i: f"{i % 5},   ")), [], "entirely missing"),
    "a folder without data": (lambda folder: (folder / "empty").mkdir() or folder / "empty", [], "no .parquet files"),
    "only binary features": (_parquet(pa.table({"b": [b"\x00\x01"] * ROWS, "y": ["a", "b"] * 30})), [], "no usable"),
    "a positive label that is no class": (_table(_frame()), ["--positive-label", "maybe"], "maybe"),
    "an unknown metric": (_table(_frame()), ["--metric", "Happiness"], "Happiness"),
    "regression on text labels": (_table(_frame()), ["--problem-type", "regression"], "regression"),
    "--device cuda without a GPU": (_table(_frame()), ["--device", "cuda"], "cuda"),
}
INJECTION = "x\n# %%\nimport os; os.system('touch PWNED')"
TRAINS: dict[str, Callable[[Path], Path]] = {  # each trains and predicts every row of the same file
    "CR-only line endings": _csv(_lines("x,c,y", lambda i: f"{i % 7},{'ab'[i % 2]},{_label(i)}", end="\r")),
    "CRLF line endings": _csv(_lines("x,c,y", lambda i: f"{i % 7},{'ab'[i % 2]},{_label(i)}", end="\r\n")),
    "BOM, ; and decimal commas": _bytes(codecs.BOM_UTF8 + EU.encode()),
    "US thousands and dollars": _csv(_lines("x,amount,y", lambda i: f'{i % 7},"${i * 1000:,}",{_label(i)}')),
    "percentages": _csv(_lines("x,share,y", lambda i: f"{i % 7},{i % 100}%,{_label(i)}")),
    "ZIP codes": _csv(_lines("zip,x,y", lambda i: f"0{2100 + i % 9},{i % 7},{_label(i)}")),
    "infinities": _csv(
        _lines("x,z,y", lambda i: f"{['inf', '-Infinity', '1e400', '2', '3'][i % 5]},{i % 7},{_label(i)}")
    ),
    "labels with spaces and cases": _csv(_lines("x,y", lambda i: f"{i % 7},{[' yes', 'no ', 'Yes', 'no'][i % 4]}")),
    "None and NA tokens": _csv(_lines("x,c,y", lambda i: f"{i % 7},{['None', 'NA', 'red'][i % 3]},{_label(i)}")),
    "an empty name beside unnamed_1": _csv(_lines("x,,unnamed_1,y", lambda i: f"{i},{i % 3},{i % 5},{_label(i)}")),
    "a name that is notebook code": _table(_frame().rename(columns={"c": INJECTION})),
    "labels that are notebook code": _table(
        _frame().assign(y=lambda f: f["y"].map({"yes": "a\n# %%\n1/0", "no": "b"}))
    ),
    "unicode names": _table(_frame().rename(columns={"x": "température 🌡", "c": "颜色"})),
    "a 300 KB text field": _csv(
        "t,x,y\n" + '"' + "w" * 300_000 + '",1,yes\n' + _lines("", lambda i: f"a,{i},{_label(i)}")[1:]
    ),
    "3,000 columns": _table(
        pd.DataFrame({f"c{i}": np.arange(ROWS) % (i + 2) for i in range(3000)}).assign(y=_frame()["y"])
    ),
    "Latin-1": _csv(_lines("nom,x,y", lambda i: f"{['café', 'crème'][i % 2]},{i % 7},{_label(i)}"), "latin-1"),
    "mixed UTF-8 and Latin-1": _bytes(
        _lines("nom,x,y", lambda i: f"crème {i % 3},{i % 7},{_label(i)}").encode() + "café,1,yes\n".encode("latin-1")
    ),
    "day-first dates": _csv(
        _lines("when,y", lambda i: f"{1 + i % 12:02d}/{1 + i % 12:02d}/2020,{_label(i)}") + "25/12/2020,no\n"
    ),
    "ISO dates and a stray value": _csv(
        _lines("when,x,y", lambda i: f"2020-01-{1 + i % 28:02d},{i % 5},{_label(i)}") + "soon,1,no\n"
    ),
    "times of day": _csv(_lines("t,y", lambda i: f"{i % 24:02d}:{i % 60:02d}:00,{_label(i)}")),
    "tab separated": _csv(_lines("x\tc\ty", lambda i: f"{i % 7}\t{'ab'[i % 2]}\t{_label(i)}")),
    "pipe separated": _csv(_lines("x|c|y", lambda i: f"{i % 7}|{'ab'[i % 2]}|{_label(i)}")),
    "newlines inside quotes": _csv(_lines("note,x,y", lambda i: f'"line one\nline {i}",{i % 7},{_label(i)}')),
    "gzip": _gzip(_lines("x,c,y", lambda i: f"{i % 7},{'ab'[i % 2]},{_label(i)}")),
    "half floats and times (Parquet)": _parquet(
        pa.table(
            {
                "h": pa.array(np.arange(ROWS, dtype=np.float16)),
                "t": pa.array(np.arange(ROWS, dtype=np.int32) * 60, pa.time32("s")),
                "y": [_label(i) for i in range(ROWS)],
            }
        )
    ),
    "Hive partitions": _parts([pa.Table.from_pandas(_frame(), preserve_index=False)], hive=True),
    "a regression target with infinities": _csv(_lines("x,y", lambda i: f"{i % 7},{'inf' if i == 3 else i * 1.5}")),
    "a boolean target": _csv(_lines("x,y", lambda i: f"{i % 7},{['True', 'False'][i % 2]}")),
    "a column all missing": _csv(_lines("x,gone,y", lambda i: f"{i % 7},,{_label(i)}")),
    "duplicate rows": _csv(_lines("x,c,y", lambda i: f"{i % 3},a,{_label(i % 3)}")),
    "signed numbers": _csv(_lines("x,y", lambda i: f"{'+-'[i % 2]}{i % 7},{_label(i)}")),
    "quoted names with commas": _csv(_lines('"x, cm","c ""q""",y', lambda i: f"{i % 7},{'ab'[i % 2]},{_label(i)}")),
    "huge and tiny numbers": _csv(_lines("x,z,y", lambda i: f"{(i % 7) * 1e300},{(i % 5) * 1e-300},{_label(i)}")),
    "negative zero": _csv(_lines("x,y", lambda i: f"{'-0.0' if i % 2 else i % 7},{_label(i)}")),
    "names that are Python words": _csv(
        _lines("None,class,lambda,y", lambda i: f"{i % 7},{i % 3},{i % 5},{_label(i)}")
    ),
    "an ID column": _csv(_lines("id,x,y", lambda i: f"{1000 + i},{i % 7},{_label(i)}")),
    "emoji categories": _csv(_lines("c,x,y", lambda i: f"{'🐧🐳'[i % 2]},{i % 7},{_label(i)}")),
    "blank cells in a category": _csv(_lines("c,x,y", lambda i: f"{['  ', 'red', 'blue'][i % 3]},{i % 7},{_label(i)}")),
    "Windows-1252 quotes": _bytes(
        _lines("t,x,y", lambda i: f"q{i % 3},{i % 7},{_label(i)}").encode() + b"\x93hi\x94,1,no\n"
    ),
    "two blank header names": _csv(_lines("x,,,y", lambda i: f"{i % 7},{i % 3},{i % 4},{_label(i)}")),
    "spaces around the header names": _csv(_lines(" x , c ,y", lambda i: f"{i % 7},{'ab'[i % 2]},{_label(i)}")),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_hostile_input_is_one_line_and_writes_nothing(tmp_path: Path, capsys, case: str) -> None:
    write, options, words = ERRORS[case]
    data, out = write(tmp_path), tmp_path / "job"
    argv = ["run", str(data), "--target", "y", *QUICK, "--output", str(out), *options]  # a later --target wins
    code, err = main(argv), capsys.readouterr().err
    assert code == 2 and err.startswith("autopilot: error: ") and err.count("\n") == 1, err
    assert words in err and not out.exists(), err


@pytest.mark.parametrize("case", list(TRAINS))
def test_hostile_input_trains_predicts_serves_and_writes_notebooks(tmp_path: Path, capsys, case: str) -> None:
    data, out = TRAINS[case](tmp_path), tmp_path / "job"
    assert main(["run", str(data), "--target", "y", *QUICK, "--output", str(out)]) == 0, capsys.readouterr().err
    predictions = tmp_path / "predictions.csv"
    assert main(["predict", str(out), str(data), "--output", str(predictions)]) == 0, capsys.readouterr().err
    parts = [pd.read_parquet(out / "data" / f"{part}.parquet") for part in ("train", "validation")]
    assert len(pd.read_csv(predictions)) >= sum(map(len, parts))  # every row, those without a label too
    body = parts[1].drop(columns="y").head(3).to_json(orient="records", date_format="iso").encode()
    app = InferenceApp(Model(out), 6 << 20)
    status, _, answer = _call(app, "POST", "/invocations", body, content_type="application/json")
    assert status == 200 and len(pd.read_csv(io.StringIO(answer), header=None)) == 3, answer  # CSV rows
    assert {p.name for p in (out / "notebooks").iterdir()} == {"data_exploration.ipynb", "candidate_definitions.ipynb"}
