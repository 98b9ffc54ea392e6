"""Column kinds and the rules that assign them.

Rules, in order (n = non-missing values, u = distinct non-missing values):
- boolean: an Arrow bool column, or text with exactly two values that form a yes/no pair (yes/no, true/false, y/n, t/f).
- datetime: an Arrow date or timestamp (ISO strings are parsed by pyarrow; other common date formats by
  ``parse_datetime_strings``).
- identifier: a name like ``id``/``*_id``/``uuid``/``key`` with u/n >= 0.5; integers that are all distinct and form a
  contiguous run (a row number); text that is all distinct (u/n >= 0.95, n >= 20) with under 3 words a value;
  nested or binary Arrow types (unsupported, dropped).
- text: strings averaging 3+ words with u > 20 and u/n > 0.1 (free text, TF-IDF).
- numeric: any other integer, float or decimal column.
- categorical: any other string column.
"""

from __future__ import annotations

import re
from enum import Enum

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

BOOLEAN_PAIRS = [("true", "false"), ("yes", "no"), ("y", "n"), ("t", "f")]
ID_NAME = re.compile(r"(^|[_\s.-])(id|uuid|guid|key|identifier)$|^id[_\s]|^(uuid|guid)$", re.IGNORECASE)
DATE_FORMATS = [
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%m/%d/%Y",
    "%d/%m/%Y",
    "%Y/%m/%d",
    "%d.%m.%Y",
    "%m/%d/%Y %H:%M",
    "%d-%b-%Y",
]
SCREEN_ROWS = 2_000  # first rows looked at before a text column's distinct values are counted
DATE_SAMPLE = 10_000  # distinct values a text column's date format is chosen on
DATES_SHARE = 0.99  # of them that must read as dates
DATE_FORMAT_KEY = "autopilot.date_format"  # Arrow field metadata: the format learned at training
DATE_LOOK = re.compile(r"^\d{1,4}[/.\-]\w{1,3}[/.\-]\d{1,4}([ T]\d{1,2}:\d{2}(:\d{2})?)?$")


class ColumnKind(str, Enum):
    NUMERIC = "numeric"
    CATEGORICAL = "categorical"
    BOOLEAN = "boolean"
    DATETIME = "datetime"
    TEXT = "text"
    IDENTIFIER = "identifier"


def boolean_true_value(values: list[str]) -> str | None:
    """The value meaning True when ``values`` (two strings) form a yes/no pair, else None."""
    lowered = {v.strip().lower(): v for v in values}
    for true, false in BOOLEAN_PAIRS:
        if set(lowered) == {true, false}:
            return lowered[true]
    return None


def classify(name: str, dtype: pa.DataType, stats: dict) -> ColumnKind:
    """Assign a kind from a column's Arrow type and its statistics (see the module docstring)."""
    n, u = stats["count"], stats["unique"]
    named_id = bool(ID_NAME.search(name)) and n > 0 and u / n >= 0.5
    if pa.types.is_boolean(dtype) or stats.get("true_value") is not None:
        return ColumnKind.BOOLEAN
    if pa.types.is_timestamp(dtype) or pa.types.is_date(dtype):
        return ColumnKind.DATETIME
    if pa.types.is_integer(dtype) or pa.types.is_floating(dtype) or pa.types.is_decimal(dtype):
        contiguous = stats.get("max") is not None and stats["max"] - stats["min"] + 1 == n
        if named_id or (pa.types.is_integer(dtype) and n >= 20 and u == n and contiguous):
            return ColumnKind.IDENTIFIER
        return ColumnKind.NUMERIC
    if not (pa.types.is_string(dtype) or pa.types.is_large_string(dtype)):
        return ColumnKind.IDENTIFIER  # nested, binary or null-typed: not usable as a feature
    words = stats.get("mean_words", 0.0)
    if named_id or (n >= 20 and u / n >= 0.95 and words < 3):
        return ColumnKind.IDENTIFIER
    if words >= 3 and u > 20 and u / n > 0.1:
        return ColumnKind.TEXT
    return ColumnKind.CATEGORICAL


def parse_datetime_strings(table: pa.Table) -> pa.Table:
    """Turn string columns whose values are dates in a common format into timestamps (pyarrow's CSV reader does
    ISO dates itself; DataFrames and Parquet files need this). The format is chosen on the column's distinct values
    (up to DATE_SAMPLE, each weighed by its rows), so a day-first file whose first rows all have days up to 12 still
    reads day first; a column of dates with a few stray values (under 1% of rows) is still dates, those missing."""
    for i, field in enumerate(table.schema):
        if not (pa.types.is_string(field.type) or pa.types.is_large_string(field.type)):
            continue
        head = [v.strip() for v in table.column(i).slice(0, SCREEN_ROWS).drop_null().to_pylist()]
        if not head or sum(bool(DATE_LOOK.match(v)) for v in head) < DATES_SHARE * len(head):
            continue  # a cheap look at the first rows first: most text columns are not dates
        counts = pc.value_counts(table.column(i).drop_null()).slice(0, DATE_SAMPLE)
        values, rows = counts.field("values").to_pylist(), np.asarray(counts.field("counts"), dtype=np.float64)
        looks = np.array([bool(DATE_LOOK.match(v.strip())) for v in values], dtype=bool)
        if not values or rows[looks].sum() < DATES_SHARE * rows.sum():
            continue
        fmt = _date_format([v.strip() for v in values], rows / rows.sum())
        if fmt is not None:
            text = pc.utf8_trim_whitespace(table.column(i))
            parsed = pc.strptime(text, format=fmt, unit="s", error_is_null=True)
            table = table.set_column(i, pa.field(field.name, parsed.type, metadata={DATE_FORMAT_KEY: fmt}), parsed)
    return table


def date_format(field: pa.Field) -> str:
    """The format a datetime column's text was read with (kept in the field's metadata), else ISO 8601."""
    fmt = (field.metadata or {}).get(DATE_FORMAT_KEY.encode())
    return fmt.decode() if fmt else "ISO8601"


def _date_format(values: list[str], weights: np.ndarray) -> str | None:
    """The format that reads the most of the rows (``weights``: each value's share of them), at least DATES_SHARE;
    the first listed on a tie."""
    best, best_share = None, DATES_SHARE
    for fmt in DATE_FORMATS:
        share = float(weights[pd.to_datetime(pd.Series(values), format=fmt, errors="coerce").notna().to_numpy()].sum())
        if share > best_share or (best is None and share >= best_share):
            best, best_share = fmt, share
    return best
