"""read_table on files as real exports write them: encodings (UTF-8, BOMs, Latin-1, both in one file), headers
wider than the sniffing sample or with quoted newlines, old Mac line endings, blank names, times of day and half
floats."""

from __future__ import annotations

import codecs
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from autopilot.data.load import SAMPLE_BYTES, read_table
from tests.data.test_load import PAD, PAD_ROWS, _padded_csv_lines, _write

# ------------------------------------------------------------------ encodings


def test_utf8(tmp_path: Path) -> None:
    text = "name,word\ncafé,naïve\nZürich,Ångström\n"
    table, source = read_table(_write(tmp_path / "u.csv", text.encode("utf-8")))
    assert source.encoding == "utf-8"
    assert table.to_pydict() == {"name": ["café", "Zürich"], "word": ["naïve", "Ångström"]}


def test_utf8_with_bom_strips_bom_from_first_column_name(tmp_path: Path) -> None:
    data = codecs.BOM_UTF8 + "name,x\ncafé,1\nthé,2\n".encode()
    table, source = read_table(_write(tmp_path / "bom.csv", data))
    assert source.encoding == "utf-8-sig"
    assert table.column_names == ["name", "x"]
    assert "\ufeff" not in table.column_names[0]
    assert table.column("name").to_pylist() == ["café", "thé"]
    assert table.column("x").to_pylist() == [1, 2]


def test_latin1(tmp_path: Path) -> None:
    data = "name,n\ncafé,1\ncrème brûlée,2\n".encode("latin-1")
    table, source = read_table(_write(tmp_path / "l1.csv", data))
    assert source.encoding == "latin-1"
    assert table.column("name").to_pylist() == ["café", "crème brûlée"]
    assert pa.types.is_string(table.schema.field("name").type)
    assert table.column("n").to_pylist() == [1, 2]


def test_latin1_byte_only_after_the_sniffing_sample(tmp_path: Path) -> None:
    lines = [*_padded_csv_lines(), "café,999"]
    data = ("\n".join(lines) + "\n").encode("latin-1")
    assert data[:SAMPLE_BYTES].isascii()
    assert len(data) > SAMPLE_BYTES
    table, source = read_table(_write(tmp_path / "late.csv", data))

    assert source.encoding == "latin-1"
    assert table.num_rows == PAD_ROWS + 1
    assert pa.types.is_string(table.schema.field("name").type)
    assert table.column("name")[-1].as_py() == "café"
    assert table.column("name")[0].as_py() == PAD
    assert table.column("val")[-1].as_py() == 999


def test_bom_file_with_latin1_byte_has_clean_first_column_name(tmp_path: Path) -> None:
    data = codecs.BOM_UTF8 + b"name,x\n" + "café,1\n".encode("latin-1")
    table, _ = read_table(_write(tmp_path / "bom_latin.csv", data))
    assert table.column_names == ["name", "x"]
    assert table.column("name").to_pylist() == ["café"]


def test_a_header_wider_than_the_sample_and_a_long_text_field_read(tmp_path: Path) -> None:
    import csv

    wide = tmp_path / "wide.csv"
    names = [f"column_with_a_long_name_{i:05d}" for i in range(9000)]  # a 270 KB header
    wide.write_text(",".join([*names, "y"]) + "\n" + "\n".join(",".join(["1"] * 9001) for _ in range(3)) + "\n")
    table, _ = read_table(wide)
    assert table.num_columns == 9001 and table.column_names[-2:] == ["column_with_a_long_name_08999", "y"]
    long = tmp_path / "long.csv"
    long.write_text('t,y\n"' + "x" * 300_000 + '",1\nb,2\nc,3\n')
    assert read_table(long)[0].column("t").to_pylist()[1:] == ["b", "c"]
    assert csv.field_size_limit() == 131072  # the process's csv limit is left as it was


def test_old_mac_line_endings_and_an_empty_name_beside_its_default(tmp_path: Path) -> None:
    (tmp_path / "cr.csv").write_bytes(b"a,b,y\r1,2,x\r3,4,z\r5,6,x\r")
    table, _ = read_table(tmp_path / "cr.csv")
    assert table.column_names == ["a", "b", "y"] and table.column("y").to_pylist() == ["x", "z", "x"]
    (tmp_path / "names.csv").write_text("a,,unnamed_1,y\n1,2,3,x\n4,5,6,z\n")
    table, _ = read_table(tmp_path / "names.csv")
    assert table.column_names == ["a", "unnamed_1_1", "unnamed_1", "y"]


def test_times_of_day_and_half_floats_are_numbers(tmp_path: Path) -> None:
    import datetime

    import numpy as np

    from autopilot.data import profile_table
    from autopilot.preprocess import ColumnCoercer

    times = pa.array([datetime.time(1, 2, 3), datetime.time(13, 4)], pa.time32("s"))
    halves = pa.array(np.array([1.5, 2.5], np.float16))
    pq.write_table(pa.table({"t": times, "h": halves, "y": ["a", "b"]}), tmp_path / "odd.parquet")
    (tmp_path / "times.csv").write_text("t,y\n01:02:03,a\n13:04:00,b\n")
    for path in (tmp_path / "odd.parquet", tmp_path / "times.csv"):
        table, _ = read_table(path)
        assert table.column("t").to_pylist() == [3723.0, 47040.0]
        assert profile_table(table, "y")["column_profiles"][0]["kind"] == "numeric"
    assert read_table(tmp_path / "odd.parquet")[0].column("h").to_pylist() == [1.5, 2.5]
    new_rows = pd.DataFrame({"t": ["01:02:03", datetime.time(13, 4), "13:04", "7200", "noon"]})
    seconds = ColumnCoercer(kinds={"t": "numeric"}).transform(new_rows)["t"].tolist()
    assert seconds[:4] == [3723.0, 47040.0, 47040.0, 7200.0] and np.isnan(seconds[4])


def test_a_file_of_utf8_with_some_latin1_values_keeps_both_clean(tmp_path: Path) -> None:
    from autopilot.deploy.batch import chunks

    lines = [b"name,n"] + [f"crème brûlée {i},{i}".encode() for i in range(2000)] + ["café,1".encode("latin-1")]
    path = _write(tmp_path / "mixed.csv", b"\n".join(lines) + b"\n")
    table, _ = read_table(path)
    names = table.column("name").to_pylist()
    assert names[0] == "crème brûlée 0" and names[-1] == "café"  # neither garbled
    assert pd.concat(chunks(path, chunk_bytes=4096))["name"].tolist() == names  # batch reads them the same


def test_a_header_name_with_a_quoted_newline_reads_in_run_and_predict(tmp_path: Path) -> None:
    from autopilot.deploy.batch import chunks

    path = _write(tmp_path / "quoted.csv", b'"x\n# %%\nimport os",c\n1,a\n2,b\n')
    table, _ = read_table(path)
    assert table.column_names == ["x\n# %%\nimport os", "c"] and table.column("c").to_pylist() == ["a", "b"]
    assert next(chunks(path))["c"].tolist() == ["a", "b"]
