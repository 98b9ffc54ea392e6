"""Tests for autopilot.data.load.read_table / table_from_pandas: formats, dialects, encodings, kinds and errors."""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from autopilot.data.load import SAMPLE_BYTES, read_table, table_from_pandas
from autopilot.errors import AutopilotError, DataError

DATASETS = Path(__file__).resolve().parents[2] / "datasets"

# One ASCII row of ~1 KB; 300 of them push later content past the 256 KB sniffing sample.
PAD = "x" * 1000
PAD_ROWS = 300


def _write(path: Path, data: str | bytes) -> Path:
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def _assert_one_line_data_error(exc_info: pytest.ExceptionInfo, *needles: str) -> str:
    exc = exc_info.value
    assert isinstance(exc, DataError)
    assert isinstance(exc, AutopilotError)
    message = str(exc)
    assert message.strip(), "the error message is empty"
    assert "\n" not in message and "\r" not in message, f"message is not one line: {message!r}"
    for needle in needles:
        assert needle in message, f"{needle!r} not in {message!r}"
    return message


def _padded_csv_lines(n: int = PAD_ROWS) -> list[str]:
    """Header plus n ASCII rows 'xxx…,i' (about n KB)."""
    return ["name,val"] + [f"{PAD},{i}" for i in range(n)]


# ------------------------------------------------------------------ delimiters


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"], ids=["comma", "semicolon", "tab", "pipe"])
def test_delimiter_is_detected_and_values_read(tmp_path: Path, delimiter: str) -> None:
    rows = [["city", "temp", "note"]] + [[f"town {i}", str(i * 1.5), f"n{i}"] for i in range(10)]
    text = "\n".join(delimiter.join(r) for r in rows) + "\n"
    table, source = read_table(_write(tmp_path / "data.csv", text))

    assert source.delimiter == delimiter
    assert source.format == "csv"
    assert table.column_names == ["city", "temp", "note"]
    assert table.num_rows == 10
    assert table.column("city").to_pylist() == [f"town {i}" for i in range(10)]
    assert table.column("temp").to_pylist() == pytest.approx([i * 1.5 for i in range(10)])
    assert table.column("note").to_pylist() == [f"n{i}" for i in range(10)]


def test_tsv_extension_with_tabs(tmp_path: Path) -> None:
    table, source = read_table(_write(tmp_path / "data.tsv", "a\tb\n1\t2\n3\t4\n"))
    assert source.delimiter == "\t"
    assert table.to_pydict() == {"a": [1, 3], "b": [2, 4]}


def test_semicolon_file_with_decimal_commas_keeps_semicolon(tmp_path: Path) -> None:
    text = "a;b;c\n" + "".join(f"{i},5;{i},25;x{i}\n" for i in range(10))
    table, source = read_table(_write(tmp_path / "eu.csv", text))
    assert source.delimiter == ";"
    assert table.column_names == ["a", "b", "c"]
    assert table.column("a").to_pylist() == [i + 0.5 for i in range(10)]  # decimal commas read as numbers
    assert table.column("b").to_pylist() == [i + 0.25 for i in range(10)]
    assert table.column("c").to_pylist() == [f"x{i}" for i in range(10)]


# ------------------------------------------------------------------ quoting


def test_quoted_fields_with_commas_and_newlines(tmp_path: Path) -> None:
    text = (
        'id,comment,score\n1,"hello, world",10\n2,"line one\nline two, with comma",20\n3,"say ""hi""",30\n4,plain,40\n'
    )
    table, source = read_table(_write(tmp_path / "q.csv", text))
    assert source.delimiter == ","
    assert table.num_rows == 4
    assert table.column("comment").to_pylist() == [
        "hello, world",
        "line one\nline two, with comma",
        'say "hi"',
        "plain",
    ]
    assert table.column("score").to_pylist() == [10, 20, 30, 40]


def test_first_multiline_field_after_the_sniffing_sample(tmp_path: Path) -> None:
    lines = [*_padded_csv_lines(), '"multi\nline, with comma",5', "last,6"]
    data = ("\n".join(lines) + "\n").encode()
    assert b'"' not in data[:SAMPLE_BYTES]
    table, _ = read_table(_write(tmp_path / "late_multi.csv", data))
    assert table.num_rows == PAD_ROWS + 2
    assert table.column("name")[-2].as_py() == "multi\nline, with comma"
    assert table.column("name")[-1].as_py() == "last"
    assert table.column("val").to_pylist()[-2:] == [5, 6]


def test_multiline_field_straddling_the_sniffing_sample_boundary(tmp_path: Path) -> None:
    head = "name,val\n" + "".join(f"{PAD},{i}\n" for i in range(250))
    filler = "f" * (SAMPLE_BYTES - len(head) - 100)
    quoted = '"' + "q\n" * 200 + 'end"'
    text = head + f"{filler},1\n{quoted},2\nlast,3\n"
    start = text.index('"')
    assert start < SAMPLE_BYTES < start + len(quoted)
    table, _ = read_table(_write(tmp_path / "straddle.csv", text))
    assert table.num_rows == 253
    assert table.column("name")[-2].as_py() == "q\n" * 200 + "end"
    assert table.column("val").to_pylist()[-3:] == [1, 2, 3]


# ------------------------------------------------------------------ Parquet and gzip


def test_parquet_file(tmp_path: Path) -> None:
    original = pa.table({"a": [1, 2, 3], "b": ["x", "y", None], "c": [0.5, 1.5, 2.5]})
    pq.write_table(original, tmp_path / "t.parquet")
    table, source = read_table(tmp_path / "t.parquet")
    assert source.format == "parquet"
    assert source.encoding is None and source.delimiter is None
    assert source.bytes == (tmp_path / "t.parquet").stat().st_size
    assert table.to_pydict() == original.to_pydict()


def test_parquet_dictionary_column_is_decoded(tmp_path: Path) -> None:
    original = pa.table({"c": pa.array(["a", "b", "a"]).dictionary_encode()})
    pq.write_table(original, tmp_path / "d.parquet")
    table, _ = read_table(tmp_path / "d.parquet")
    assert not pa.types.is_dictionary(table.schema.field("c").type)
    assert table.column("c").to_pylist() == ["a", "b", "a"]


def test_folder_of_parquet_parts_is_concatenated(tmp_path: Path) -> None:
    folder = tmp_path / "parts"
    folder.mkdir()
    pq.write_table(pa.table({"a": [1, 2], "b": ["x", "y"]}), folder / "part-0.parquet")
    pq.write_table(pa.table({"a": [3, 4, 5], "b": ["z", "w", "v"]}), folder / "part-1.parquet")
    (folder / "_SUCCESS").write_bytes(b"")
    table, source = read_table(folder)
    assert source.format == "parquet"
    assert source.bytes == sum(p.stat().st_size for p in folder.glob("*.parquet"))
    assert table.num_rows == 5
    assert sorted(table.column("a").to_pylist()) == [1, 2, 3, 4, 5]
    rows = sorted(table.to_pylist(), key=lambda r: r["a"])
    assert rows == [{"a": a, "b": b} for a, b in [(1, "x"), (2, "y"), (3, "z"), (4, "w"), (5, "v")]]


def test_gzip_csv(tmp_path: Path) -> None:
    text = "a;b\n" + "".join(f"{i};v{i}\n" for i in range(20))
    path = tmp_path / "t.csv.gz"
    path.write_bytes(gzip.compress(text.encode()))
    table, source = read_table(path)
    assert source.format == "csv"
    assert source.delimiter == ";"
    assert source.bytes == path.stat().st_size
    assert table.column("a").to_pylist() == list(range(20))
    assert table.column("b").to_pylist() == [f"v{i}" for i in range(20)]


# ------------------------------------------------------------------ errors


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError) as info:
        read_table(tmp_path / "nope.csv")
    _assert_one_line_data_error(info, "nope.csv", "no such file")


def test_unsupported_extension(tmp_path: Path) -> None:
    with pytest.raises(DataError) as info:
        read_table(_write(tmp_path / "book.xlsx", b"PK\x03\x04 not really a workbook"))
    _assert_one_line_data_error(info, "unsupported", ".xlsx")


@pytest.mark.parametrize("content", [b"", b"  \n\n"], ids=["zero-bytes", "blank-lines"])
def test_empty_file(tmp_path: Path, content: bytes) -> None:
    with pytest.raises(DataError) as info:
        read_table(_write(tmp_path / "empty.csv", content))
    _assert_one_line_data_error(info, "empty")


def test_header_only(tmp_path: Path) -> None:
    with pytest.raises(DataError) as info:
        read_table(_write(tmp_path / "header.csv", "a,b,c\n"))
    _assert_one_line_data_error(info, "no data rows")


@pytest.mark.parametrize(
    ("text", "line", "fields"),
    [
        ("a,b,c\n1,2,3\n4,5,6\n7,8\n9,10,11\n", 4, 2),
        ("a,b,c\n1,2,3\n4,5,6\n7,8,9,10\n9,10,11\n", 4, 4),
        ("a,b,c\n1,2,3\n7,8\n4,5,6\n9,10,11\n1,2,3\n", 3, 2),
        ('a,b,c\n1,"two\nlines",3\n4,5,6\n7,8\n', 5, 2),
    ],
    ids=["too-few", "too-many", "early", "after-multiline-field"],
)
def test_ragged_rows_name_the_line(tmp_path: Path, text: str, line: int, fields: int) -> None:
    with pytest.raises(DataError) as info:
        read_table(_write(tmp_path / "ragged.csv", text))
    message = _assert_one_line_data_error(info, f"line {line} ")
    assert f"{fields} fields" in message
    assert "header has 3" in message


def test_ragged_row_after_the_sniffing_sample(tmp_path: Path) -> None:
    lines = [*_padded_csv_lines(), "short"]  # header is line 1, the bad row is line PAD_ROWS + 2
    with pytest.raises(DataError) as info:
        read_table(_write(tmp_path / "late_ragged.csv", "\n".join(lines) + "\n"))
    _assert_one_line_data_error(info, f"line {PAD_ROWS + 2} ")


def test_duplicate_column_names(tmp_path: Path) -> None:
    with pytest.raises(DataError) as info:
        read_table(_write(tmp_path / "dup.csv", "a,b,a,c,b\n1,2,3,4,5\n"))
    message = _assert_one_line_data_error(info, "duplicate")
    assert "'a'" in message and "'b'" in message
    assert "'c'" not in message


def test_duplicate_column_names_after_stripping_spaces(tmp_path: Path) -> None:
    with pytest.raises(DataError) as info:
        read_table(_write(tmp_path / "dup_space.csv", "a, a\n1,2\n"))
    _assert_one_line_data_error(info, "duplicate", "'a'")


def test_parquet_duplicate_column_names(tmp_path: Path) -> None:
    pq.write_table(pa.table([pa.array([1, 2]), pa.array([3, 4])], names=["a", "a"]), tmp_path / "dup.parquet")
    with pytest.raises(DataError) as info:
        read_table(tmp_path / "dup.parquet")
    _assert_one_line_data_error(info, "duplicate", "'a'")


def test_utf16_with_bom(tmp_path: Path) -> None:
    with pytest.raises(DataError) as info:
        read_table(_write(tmp_path / "u16.csv", "a,b\n1,2\n".encode("utf-16")))
    _assert_one_line_data_error(info, "UTF-16")


def test_corrupt_parquet_file(tmp_path: Path) -> None:
    with pytest.raises(DataError) as info:
        read_table(_write(tmp_path / "bad.parquet", b"this is not parquet"))
    _assert_one_line_data_error(info, "bad.parquet", "Parquet")


def test_parquet_folder_with_disagreeing_parts(tmp_path: Path) -> None:
    folder = tmp_path / "parts"
    folder.mkdir()
    pq.write_table(pa.table({"a": [1, 2], "b": ["x", "y"]}), folder / "part-0.parquet")
    pq.write_table(pa.table({"a": [3], "b": [1.5]}), folder / "part-1.parquet")
    with pytest.raises(DataError) as info:
        read_table(folder)
    _assert_one_line_data_error(info, "part-1.parquet", "disagree")


def test_folder_without_parquet_files(tmp_path: Path) -> None:
    folder = tmp_path / "nothing"
    folder.mkdir()
    _write(folder / "notes.csv", "a,b\n1,2\n")
    _write(folder / "_SUCCESS", b"")
    with pytest.raises(DataError) as info:
        read_table(folder)
    _assert_one_line_data_error(info, "no .parquet files")


def test_table_from_pandas_duplicate_column_names() -> None:
    df = pd.DataFrame([[1, 2, 3]], columns=["x", "y", "x"])
    with pytest.raises(DataError) as info:
        table_from_pandas(df)
    message = _assert_one_line_data_error(info, "duplicate", "'x'")
    assert "'y'" not in message


def test_table_from_pandas_ok_and_empty() -> None:
    table = table_from_pandas(pd.DataFrame({"a": [1, 2], "b": ["u", "v"]}))
    assert table.to_pydict() == {"a": [1, 2], "b": ["u", "v"]}
    with pytest.raises(DataError) as info:
        table_from_pandas(pd.DataFrame({"a": pd.Series([], dtype="int64")}))
    _assert_one_line_data_error(info, "no data rows")


# ------------------------------------------------------------------ types fixed from the sample, for big files


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make a few-kilobyte file count as big, so the typed read (types fixed from the sample) is used."""
    import autopilot.data.load as load

    monkeypatch.setattr(load, "BLOCK_BYTES", 4096)


def _late_change_csv(late_value: str) -> str:
    rows = [f"{i},{i * 0.5},row{i},2024-01-{1 + i % 28:02d}" for i in range(12_000)]
    rows.append(f"{late_value},1.5,last,2024-02-01")
    return "n,x,name,day\n" + "\n".join(rows) + "\n"


@pytest.mark.parametrize(("late", "expected_type"), [("7", pa.int64()), ("2.5", pa.float64()), ("n/a?", pa.string())])
def test_typed_read_matches_full_inference(
    tmp_path: Path, small_blocks: None, late: str, expected_type: pa.DataType
) -> None:
    import pyarrow.csv as pacsv

    import autopilot.data.load as load

    path = _write(tmp_path / "late_type.csv", _late_change_csv(late))
    assert path.read_bytes().index(f"\n{late},1.5,last".encode()) > SAMPLE_BYTES  # outside the sample
    sampled = load._sample_types(path.read_bytes()[:SAMPLE_BYTES], pacsv.ReadOptions(), pacsv.ParseOptions())
    assert sampled["n"] == pa.int64()
    table, _ = read_table(path)
    inferred = pacsv.read_csv(path)
    assert table.schema.field("n").type == expected_type
    assert table.column("n").to_pylist() == inferred.column("n").to_pylist()
    assert table.column("day").type == pa.date32()
    assert table.num_rows == 12_001


def test_typed_read_latin1_byte_after_the_sample(tmp_path: Path, small_blocks: None) -> None:
    lines = [*_padded_csv_lines(), "café,999"]
    table, source = read_table(_write(tmp_path / "late.csv", ("\n".join(lines) + "\n").encode("latin-1")))
    assert source.encoding == "latin-1"
    assert table.column("name")[-1].as_py() == "café"


# ------------------------------------------------------------------ missing-value tokens


def test_missing_tokens_and_signed_nan_in_csv(tmp_path: Path) -> None:
    """The usual tokens (pandas' own, "-NaN" and "None" among them) read as missing; "-nan" parses as NaN in a
    number column and is made missing too. The old MSVC spellings ("1.#IND") are not tokens: in text they stay text."""
    text = "x,word\n1.5,a\nNA,1.#IND\n-nan,n/a\nNAN,null\n,b\n2.5,-NaN\n"
    table, _ = read_table(_write(tmp_path / "tokens.csv", text))
    assert table.column("x").type == pa.float64()
    assert table.column("x").to_pylist() == [1.5, None, None, None, None, 2.5]
    assert table.column("word").to_pylist() == ["a", "1.#IND", None, None, "b", None]
