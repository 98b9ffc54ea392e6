"""Read CSV or Parquet into a pyarrow Table, detecting delimiter and encoding, with one-line errors for bad files."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.dataset as pads
import pyarrow.parquet as pq

from autopilot.data.heap import release_free_memory
from autopilot.data.numbers import parse_written_numbers
from autopilot.data.types import parse_datetime_strings
from autopilot.data.values import decode, text_column
from autopilot.errors import DataError

CSV_SUFFIXES = (".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz", ".txt.gz")
PARQUET_SUFFIXES = (".parquet", ".pq")
DELIMITERS = (",", ";", "\t", "|")
SAMPLE_BYTES = 256 * 1024
MAX_HEADER_BYTES = 64 << 20  # a header row may be this long (about four million columns)
BLOCK_BYTES = 4 << 20  # measured on 2 cores: as fast as larger blocks, with a lower peak
POOL = pa.system_memory_pool()
# Cells read as missing: pyarrow's default list without the old MSVC spellings ("1.#IND", "-1.#QNAN", ...) and
# "-nan"/"-NaN". Tokens that start like a number are tried against every number cell, which cost ~8% of the read;
# "-nan" still ends up missing in a number column (it parses as NaN, and NaN is made missing).
NULL_TOKENS = ["", "#N/A", "#N/A N/A", "#NA", "<NA>", "N/A", "NA", "NULL", "NaN", "-NaN", "None", "n/a", "nan", "null"]


@dataclass(frozen=True)
class SourceInfo:
    """Where a table came from and how it was read; recorded in job.json."""

    path: str
    format: str
    bytes: int
    encoding: str | None = None
    delimiter: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def read_table(path: str | Path) -> tuple[pa.Table, SourceInfo]:
    """Read a CSV file, a Parquet file or a folder of Parquet parts.

    >>> table, source = read_table("datasets/penguins.csv")  # doctest: +SKIP
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file or folder; check the path")
    if path.is_dir():
        table, info = _read_parquet_folder(path)
    else:
        name = path.name.lower()
        if name.endswith(PARQUET_SUFFIXES):
            table, info = _read_parquet_file(path), SourceInfo(str(path), "parquet", path.stat().st_size)
        elif name.endswith(CSV_SUFFIXES):
            table, info = _read_csv(path)
        else:
            raise DataError(
                f"{path}: unsupported file type '{path.suffix}'; give a .csv/.tsv/.txt file, a .parquet file "
                "or a folder of Parquet parts"
            )
    return normalize_table(table, str(path), decimal_comma=info.delimiter == ";"), info


def table_from_pandas(df: pd.DataFrame) -> pa.Table:
    """Convert a user's DataFrame with the same checks as a file."""
    names = [str(c) for c in df.columns]
    _check_names(names, "the DataFrame")
    try:
        table = pa.Table.from_pandas(df.set_axis(names, axis=1), preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise DataError(f"the DataFrame has a column of mixed types ({exc}); cast it to one type") from None
    return normalize_table(table, "the DataFrame")


def normalize_table(table: pa.Table, where: str, decimal_comma: bool = False) -> pa.Table:
    """Decode dictionaries, widen half floats, read times of day as seconds since midnight, make float NaN missing
    (as pandas does), parse date strings and written numbers (``decimal_comma``: a comma is the decimal mark where
    both read, as in a ``;``-separated export), and refuse empty tables."""
    if table.num_columns == 0:
        raise DataError(f"{where} has no columns; give a file with a header row and data")
    if table.num_rows == 0:
        raise DataError(f"{where} has a header but no data rows; give a file with at least one row")
    for i, field in enumerate(table.schema):
        if pa.types.is_dictionary(field.type):
            table = table.set_column(i, field.name, table.column(i).cast(field.type.value_type))
        elif pa.types.is_float16(field.type):
            table = table.set_column(i, field.name, table.column(i).cast(pa.float32()))
        elif pa.types.is_time(field.type):  # new rows' times are read the same way (``seconds_of_day``)
            table = table.set_column(i, field.name, _seconds_since_midnight(table.column(i)))
    for i, field in enumerate(table.schema):
        if pa.types.is_floating(field.type) and _has_nan(table.column(i)):
            column = table.column(i)
            table = table.set_column(i, field.name, pc.if_else(pc.is_nan(column), None, column))
    return parse_written_numbers(parse_datetime_strings(table), decimal_comma)


def _seconds_since_midnight(column: pa.ChunkedArray) -> pa.ChunkedArray:
    unit = {"s": 1, "ms": 1e3, "us": 1e6, "ns": 1e9}[column.type.unit]
    ticks = column.cast(pa.int32() if column.type.bit_width == 32 else pa.int64())
    return pc.divide(ticks.cast(pa.float64()), unit)


def _has_nan(column: pa.ChunkedArray) -> bool:
    """Whether a float column holds NaN. First a max over each chunk's raw values, which propagates NaN without a
    temporary array (a third of ``pc.is_nan``'s time); only if that finds one (a missing slot may hold any bits) is
    it checked exactly."""
    for chunk in column.chunks:
        width = chunk.type.byte_width
        raw = np.frombuffer(chunk.buffers()[1], f"<f{width}", len(chunk), chunk.offset * width) if len(chunk) else []
        if len(raw) and np.isnan(np.max(raw)):
            return bool(pc.any(pc.is_nan(column)).as_py())
    return False


def column_names(header: list[str]) -> list[str]:
    """The header's names, an empty one named ``unnamed_<position>`` (with a suffix if that name is taken)."""
    taken, names = set(header), []
    for i, name in enumerate(header):
        if not name:
            name, suffix = f"unnamed_{i}", 1
            while name in taken:
                name, suffix = f"unnamed_{i}_{suffix}", suffix + 1
            taken.add(name)
        names.append(name)
    return names


def _check_names(names: list[str], where: str) -> None:
    seen: set[str] = set()
    dups = sorted({n for n in names if n in seen or seen.add(n)})
    if dups:
        raise DataError(f"{where} has duplicate column names {dups}; rename them so each column is unique")


# ---------------------------------------------------------------- CSV


@dataclass(frozen=True)
class _Dialect:
    encoding: str
    delimiter: str
    header: list[str]
    newlines_in_values: bool
    header_lines: int = 1  # lines the header row takes (a quoted name may hold a newline); pyarrow skips lines


def read_sample(path: Path) -> bytes:
    """The file's first SAMPLE_BYTES (decompressed), read on to the end of the header when it is wider than that."""
    with pa.input_stream(str(path)) as stream:  # decompresses .gz transparently
        sample = stream.read(SAMPLE_BYTES)
        while b"\n" not in sample and len(sample) < MAX_HEADER_BYTES:
            more = stream.read(SAMPLE_BYTES)
            if not more:
                break
            sample += more
    return sample


@contextmanager
def _long_fields() -> Iterator[None]:
    """Python's csv module refuses fields over 128 KiB (a long text, or a wide header split on the wrong delimiter)."""
    limit = csv.field_size_limit()
    csv.field_size_limit(MAX_HEADER_BYTES)
    try:
        yield
    finally:
        csv.field_size_limit(limit)


def _read_csv(path: Path) -> tuple[pa.Table, SourceInfo]:
    size = path.stat().st_size
    sample = read_sample(path)
    dialect = sniff_dialect(sample, path)
    table = _pyarrow_read(path, dialect, sample)
    if dialect.encoding.startswith("utf-8") and any(pa.types.is_binary(f.type) for f in table.schema):
        # pyarrow keeps a column with bytes that are not UTF-8 as binary: its values are decoded one by one, so the
        # Latin-1 (or Windows-1252) ones read as such and the UTF-8 ones, in the same file, stay clean
        binary = [i for i, f in enumerate(table.schema) if pa.types.is_binary(f.type)]
        for i in binary:
            table = table.set_column(i, table.schema.field(i).name, text_column(table.column(i)))
        dialect = replace(dialect, encoding="latin-1")
    release_free_memory()  # the parser's freed buffers, so the steps after loading do not grow the process
    return table, SourceInfo(str(path), "csv", size, dialect.encoding, dialect.delimiter)


def sniff_dialect(sample: bytes, path: Path) -> _Dialect:
    if not sample.strip():
        raise DataError(f"{path}: the file is empty; give a CSV with a header row and data")
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in sample:
        raise DataError(f"{path}: the file is not readable text (binary content or UTF-16/32); re-save it as UTF-8 CSV")
    encoding = "utf-8-sig" if sample.startswith(codecs.BOM_UTF8) else "utf-8"
    try:
        text = codecs.getincrementaldecoder(encoding)().decode(sample, final=False)
    except UnicodeDecodeError:  # Latin-1 (or Windows-1252) bytes, maybe beside UTF-8 ones: pyarrow keeps a column
        lines = sample.removeprefix(codecs.BOM_UTF8).split(b"\n")  # holding them as bytes, decoded value by value
        encoding, text = "utf-8", "\n".join(decode(line) for line in lines)  # (pyarrow skips a BOM itself)
    if len(sample) >= SAMPLE_BYTES:  # drop the last, probably cut, line
        text = text[: text.rfind("\n") + 1] or text
    with _long_fields():
        delimiter = _sniff_delimiter(text)
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        header = [h.strip() for h in next(reader, [])]
        header_lines = max(reader.line_num, 1)
        rows = [header, *reader]
    _check_names(column_names(header), str(path))  # blank names are named first: "a,b,,"
    multiline = any("\n" in field or "\r" in field for row in rows for field in row)
    return _Dialect(encoding, delimiter, header, multiline, header_lines)


def _sniff_delimiter(text: str) -> str:
    """The delimiter that splits the sample into the most columns, consistently across rows."""
    best, best_score = ",", 0.0
    for delimiter in DELIMITERS:
        rows = [r for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter) if r][:50]
        if not rows or len(rows[0]) < 2:
            continue
        consistent = sum(len(r) == len(rows[0]) for r in rows) / len(rows)
        score = len(rows[0]) * consistent
        if consistent >= 0.9 and score > best_score:
            best, best_score = delimiter, score
    return best


def _pyarrow_read(path: Path, dialect: _Dialect, sample: bytes) -> pa.Table:
    """Read in 4 MB blocks (the default 1 MB is slower, larger blocks raise the peak) into the system allocator, which
    hands freed parse buffers back to the OS; that keeps peak memory down on large files."""
    names = column_names(dialect.header)
    read = pacsv.ReadOptions(
        encoding=dialect.encoding,
        column_names=names or None,
        skip_rows=dialect.header_lines if names else 0,
        block_size=BLOCK_BYTES,
    )
    for multiline in dict.fromkeys((dialect.newlines_in_values, True)):
        parse = pacsv.ParseOptions(delimiter=dialect.delimiter, newlines_in_values=multiline)
        try:
            return _read_typed(path, read, parse, sample)
        except pa.ArrowInvalid as exc:
            error = exc
            if "columns, got" not in str(exc):
                break
    if "columns, got" in str(error):
        raise DataError(_ragged_message(path, dialect)) from None
    raise DataError(f"{path}: cannot be read as CSV ({error}); check that it is a delimited text file") from None


def _read_typed(path: Path, read: pacsv.ReadOptions, parse: pacsv.ParseOptions, sample: bytes) -> pa.Table:
    """Read with the column types pyarrow infers from the sample fixed up front, which skips inference in every block
    (about 10% faster on a 500 MB file); if a later value does not fit its type, read again inferring throughout.
    Columns of codes with leading zeros in the sample (ZIP codes: ``02134``) are read as text, keeping the zeros."""
    codes = {name: pa.string() for name in _zero_led_columns(sample, read, parse)}
    types = _sample_types(sample, read, parse) if path.stat().st_size > BLOCK_BYTES else {}
    if types:
        types |= codes
        convert = pacsv.ConvertOptions(strings_can_be_null=True, column_types=types, null_values=NULL_TOKENS)
        try:
            return pacsv.read_csv(str(path), read, parse, convert, memory_pool=POOL)
        except pa.ArrowInvalid as exc:
            if "conversion error" not in str(exc):
                raise
    convert = pacsv.ConvertOptions(strings_can_be_null=True, column_types=codes, null_values=NULL_TOKENS)
    return pacsv.read_csv(str(path), read, parse, convert, memory_pool=POOL)


def _zero_led_columns(sample: bytes, read: pacsv.ReadOptions, parse: pacsv.ParseOptions) -> list[str]:
    """Columns whose sample values are all digits, some with a leading zero (``02134``): codes, not numbers."""
    if not read.column_names:
        return []
    complete = sample[: sample.rfind(b"\n") + 1]
    options = pacsv.ReadOptions(encoding=read.encoding, column_names=read.column_names, skip_rows=read.skip_rows)
    as_text = pacsv.ConvertOptions(column_types=dict.fromkeys(read.column_names, pa.string()), null_values=NULL_TOKENS)
    try:
        table = pacsv.read_csv(pa.py_buffer(complete), options, parse, as_text)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return []
    out = []
    for name, column in zip(table.column_names, table.columns, strict=True):
        values = column.drop_null()
        digits = len(values) and pc.all(pc.match_substring_regex(values, r"^\d+$")).as_py()
        if digits and pc.any(pc.match_substring_regex(values, r"^0\d")).as_py():
            out.append(name)
    return out


def _sample_types(sample: bytes, read: pacsv.ReadOptions, parse: pacsv.ParseOptions) -> dict[str, pa.DataType]:
    """Column types of the sample's complete lines; {} if the sample does not parse on its own."""
    complete = sample[: sample.rfind(b"\n") + 1]
    options = pacsv.ReadOptions(encoding=read.encoding, column_names=read.column_names, skip_rows=read.skip_rows)
    try:
        convert = pacsv.ConvertOptions(strings_can_be_null=True, null_values=NULL_TOKENS)
        table = pacsv.read_csv(pa.py_buffer(complete), options, parse, convert)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return {}
    return {f.name: f.type for f in table.schema if not pa.types.is_null(f.type)}


def _ragged_message(path: Path, dialect: _Dialect) -> str:
    """Find the first row whose field count differs from the header, by line number (slow path, errors only)."""
    with pa.input_stream(str(path)) as raw, _long_fields():
        handle = io.TextIOWrapper(raw, encoding=dialect.encoding, errors="replace", newline="")
        reader = csv.reader(handle, delimiter=dialect.delimiter)
        width = len(next(reader, []))
        for row in reader:
            if row and len(row) != width:
                return (
                    f"{path}: line {reader.line_num} has {len(row)} fields but the header has {width}; "
                    "fix that row (a missing quote or an extra delimiter)"
                )
    return f"{path}: rows have different numbers of fields than the header; check quoting and delimiters"


# ---------------------------------------------------------------- Parquet


def _read_parquet_file(path: Path) -> pa.Table:
    try:
        _check_names(pq.read_schema(path).names, str(path))
        return pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise DataError(f"{path}: not a readable Parquet file ({exc})") from None


def _read_parquet_folder(path: Path) -> tuple[pa.Table, SourceInfo]:
    parts = sorted(
        p
        for p in path.rglob("*")
        if p.is_file() and p.name.lower().endswith(PARQUET_SUFFIXES) and not p.name.startswith((".", "_"))
    )
    if not parts:
        raise DataError(f"{path}: the folder holds no .parquet files; give a CSV, a Parquet file or Parquet parts")
    try:
        schemas = [(p, pq.read_schema(p)) for p in parts]
    except (pa.ArrowInvalid, OSError) as exc:
        raise DataError(f"{path}: a part is not a readable Parquet file ({exc})") from None
    first_path, first = schemas[0]
    _check_names(first.names, str(first_path))
    for part, schema in schemas[1:]:
        if not schema.equals(first, check_metadata=False):
            raise DataError(
                f"{path}: Parquet parts disagree: {part.name} has {_schema_text(schema)} but {first_path.name} has "
                f"{_schema_text(first)}; rewrite the parts with one schema"
            )
    hive = pads.HivePartitioning.discover(infer_dictionary=False)  # col=value/ folders give their column back
    dataset = pads.dataset([str(p) for p in parts], format="parquet", partitioning=hive, partition_base_dir=str(path))
    return dataset.to_table(), SourceInfo(str(path), "parquet", sum(p.stat().st_size for p in parts))


def _schema_text(schema: pa.Schema) -> str:
    return "(" + ", ".join(f"{f.name}: {f.type}" for f in schema) + ")"
