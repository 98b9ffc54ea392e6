"""Column kinds (numeric, categorical, boolean, datetime, text, identifier) on files and DataFrames."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from autopilot.data.load import read_table, table_from_pandas
from autopilot.data.profile import profile_table

DATASETS = Path(__file__).resolve().parents[2] / "datasets"


def _write(path: Path, data: str | bytes) -> Path:
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)
    return path


def _kinds(table: pa.Table) -> dict[str, str]:
    return {c["name"]: c["kind"] for c in profile_table(table)["column_profiles"]}


def test_column_kinds_from_csv(tmp_path: Path) -> None:
    n = 40
    rng = np.random.default_rng(1)
    ids = rng.permutation(np.arange(1000, 1000 + 3 * n, 3))  # distinct, not contiguous
    rows = np.arange(1, n + 1)
    rng.shuffle(rows)
    words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]
    df = pd.DataFrame(
        {
            "price": np.round(rng.normal(10, 3, n), 3),
            "spaced": np.arange(0, 3 * n, 3),  # distinct integers but not a contiguous run
            "color": [["red", "green", "blue"][i % 3] for i in range(n)],
            "answer": ["Yes" if i % 3 else "No" for i in range(n)],
            "flag": ["true" if i % 2 else "false" for i in range(n)],
            "day": [f"2026-01-{1 + i % 28:02d}" for i in range(n)],
            "us_day": [f"11/{1 + i % 28:02d}/2026" for i in range(n)],
            "review": [f"the {words[i % 8]} item number {i} was {words[(i * 3) % 8]}" for i in range(n)],
            "id": ids,
            "row": rows,
            "code": [f"C{i:03d}Z" for i in range(n)],
        }
    )
    path = tmp_path / "kinds.csv"
    df.to_csv(path, index=False)
    table, _ = read_table(path)
    assert _kinds(table) == {
        "price": "numeric",
        "spaced": "numeric",
        "color": "categorical",
        "answer": "boolean",
        "flag": "boolean",
        "day": "datetime",
        "us_day": "datetime",
        "review": "text",
        "id": "identifier",
        "row": "identifier",
        "code": "identifier",
    }
    assert table.column("us_day")[0].as_py() == dt.datetime(2026, 11, 1)
    assert table.column("day")[1].as_py() in (dt.date(2026, 1, 2), dt.datetime(2026, 1, 2))


def test_arrow_bool_column_is_boolean(tmp_path: Path) -> None:
    pq.write_table(pa.table({"b": [True, False, None, True], "x": [1.0, 2.0, 3.0, 4.5]}), tmp_path / "b.parquet")
    table, _ = read_table(tmp_path / "b.parquet")
    assert pa.types.is_boolean(table.schema.field("b").type)
    assert _kinds(table) == {"b": "boolean", "x": "numeric"}


def test_yes_no_strings_are_boolean_but_other_pairs_are_categorical(tmp_path: Path) -> None:
    text = "yn,pair\n" + "".join(f"{'Yes' if i % 2 else 'No'},{'up' if i % 2 else 'down'}\n" for i in range(30))
    table, _ = read_table(_write(tmp_path / "yn.csv", text))
    assert _kinds(table) == {"yn": "boolean", "pair": "categorical"}


def test_contiguous_integers_are_identifier_only_with_enough_rows(tmp_path: Path) -> None:
    text = "row\n" + "".join(f"{i}\n" for i in range(1, 26))
    table, _ = read_table(_write(tmp_path / "rows.csv", text))
    assert _kinds(table) == {"row": "identifier"}
    table, _ = read_table(_write(tmp_path / "few.csv", "row\n1\n2\n3\n"))
    assert _kinds(table) == {"row": "numeric"}


def test_non_iso_dates_from_pandas_and_pandas_parquet_are_datetime(tmp_path: Path) -> None:
    df = pd.DataFrame({"when": [f"11/{1 + i % 28:02d}/2026" for i in range(30)], "x": range(30)})
    from_df = table_from_pandas(df)
    df.to_parquet(tmp_path / "dates.parquet")
    from_parquet, _ = read_table(tmp_path / "dates.parquet")
    assert _kinds(from_df)["when"] == "datetime"
    assert _kinds(from_parquet)["when"] == "datetime"


def test_non_iso_dates_in_arrow_string_column_are_parsed() -> None:
    df = pd.DataFrame({"when": [f"11/{1 + i % 28:02d}/2026" for i in range(30)]}).astype(object)
    table = table_from_pandas(df)
    assert _kinds(table) == {"when": "datetime"}
    assert table.column("when")[2].as_py() == dt.datetime(2026, 11, 3)


def test_iso_date_strings_from_pandas_are_datetime() -> None:
    df = pd.DataFrame({"when": [f"2026-01-{1 + i % 28:02d}" for i in range(30)]}).astype(object)
    assert _kinds(table_from_pandas(df)) == {"when": "datetime"}


def test_penguins_raw_kinds() -> None:
    table, source = read_table(DATASETS / "penguins_raw.csv")
    assert source.delimiter == ","
    assert table.num_rows == 344
    kinds = _kinds(table)
    assert kinds["Individual ID"] == "identifier"
    assert kinds["Clutch Completion"] == "boolean"
    assert kinds["Date Egg"] == "datetime"
    assert kinds["Culmen Length (mm)"] == "numeric"
    assert kinds["Species"] == "categorical"
    assert table.column("Stage")[0].as_py() == "Adult, 1 Egg Stage"


def test_a_day_first_column_whose_first_rows_read_either_way_is_read_day_first(tmp_path) -> None:
    from autopilot.data import read_table

    early = [f"{d:02d}/{m:02d}/2020" for m in range(1, 13) for d in range(1, 13)] * 2  # 288 rows, days <= 12
    later = [f"{d:02d}/{m:02d}/2021" for m in range(1, 13) for d in range(13, 29)]
    path = tmp_path / "dates.csv"
    path.write_text("when,y\n" + "".join(f"{v},{i % 2}\n" for i, v in enumerate(early + later)))
    when = read_table(path)[0].column("when")
    assert when.null_count == 0 and pa.types.is_timestamp(when.type)
    assert when[1].as_py().month == 1 and when[1].as_py().day == 2  # 02/01/2020 is 2 January


def test_a_stray_value_does_not_turn_a_date_column_into_text() -> None:
    from autopilot.data.load import table_from_pandas

    values = [f"2020-01-{d:02d}" for d in range(1, 29)] * 10 + ["not a date"]
    when = table_from_pandas(pd.DataFrame({"when": values})).column("when")
    assert pa.types.is_timestamp(when.type) and when.null_count == 1
