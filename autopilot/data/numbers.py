"""Numbers as people write them: ``1,234.5``, ``1.234,5`` (a European export), ``$1,200``, ``€ 5``, ``45%``.

A text column whose every value is such a number becomes a number column, and the format it was read with is kept
in the field's metadata (``NUMBER_FORMAT_KEY``), then in profile.json, so that new rows are read the same way
(``ColumnCoercer``). The rules:

- the decimal mark is the one every value allows: ``535,55`` or ``1.234,5`` say comma, ``1,234.5`` says point; when
  both read (``1,234``), a file split on ``;`` (a European export) says comma, anything else point;
- a currency sign before or after the number is dropped (``currency`` names the first one seen);
- a column whose every value ends in ``%`` is read as fractions: ``45%`` is 0.45.

>>> number_format(["1.234,5", "535,55"], decimal_comma=False)
{'decimal': ',', 'percent': False, 'currency': ''}
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pyarrow as pa

NUMBER_FORMAT_KEY = "autopilot.number_format"  # Arrow field metadata: the format learned at training
CURRENCY = "$€£¥"
SAMPLE = 10_000  # distinct values the format is chosen on
SCREEN_ROWS = 2_000  # first rows looked at before that
_WRITTEN = re.compile(rf"^([-+]?)\s*([{CURRENCY}]?)\s*([\d.,]+)\s*([{CURRENCY}]?)\s*(%?)$")
_POINT = re.compile(r"(\d{1,3}(,\d{3})+|\d+)(\.\d+)?")  # 1,234.5 or 1234.5
_COMMA = re.compile(r"(\d{1,3}(\.\d{3})+|\d+)(,\d+)?")  # 1.234,5 or 1234,5


def number_format(values: list[str], decimal_comma: bool) -> dict | None:
    """How ``values`` (text) write their numbers, or None when they are not all numbers, or plain ones."""
    parts = [_WRITTEN.match(v.strip()) for v in values]
    if not parts or not all(parts):
        return None
    cores = [p.group(3) for p in parts]
    point = all(_POINT.fullmatch(c) for c in cores)
    comma = all(_COMMA.fullmatch(c) for c in cores)
    if not (point or comma):
        return None
    percent = [bool(p.group(5)) for p in parts]
    if any(percent) and not all(percent):
        return None
    currency = next((p.group(2) or p.group(4) for p in parts if p.group(2) or p.group(4)), "")
    if not (any(percent) or currency or any("," in c for c in cores)):
        return None  # plain numbers: the reader types those itself
    decimal = "," if comma and (not point or decimal_comma) else "."
    return {"decimal": decimal, "percent": all(percent), "currency": currency}


def read_numbers(values: pd.Series, fmt: dict) -> pd.Series:
    """Text written in ``fmt`` as float64; NaN for a value that is not such a number."""
    text = values.astype("object").map(lambda v: v.strip() if isinstance(v, str) else v)
    parts = text.str.extract(_WRITTEN.pattern)
    core = parts[2]
    grammar = _COMMA if fmt["decimal"] == "," else _POINT
    valid = core.map(lambda c: isinstance(c, str) and grammar.fullmatch(c) is not None)
    valid &= (parts[4] == "%") == bool(fmt["percent"])
    thousands = "." if fmt["decimal"] == "," else ","
    plain = core.str.replace(thousands, "", regex=False).str.replace(fmt["decimal"], ".", regex=False)
    numbers = pd.to_numeric(parts[0].fillna("") + plain.where(valid), errors="coerce")
    return (numbers / 100 if fmt["percent"] else numbers).astype("float64")


def parse_written_numbers(table: pa.Table, decimal_comma: bool = False) -> pa.Table:
    """Turn text columns whose values are all written numbers into float64 columns, their format in the field."""
    for i, field in enumerate(table.schema):
        if not (pa.types.is_string(field.type) or pa.types.is_large_string(field.type)):
            continue
        head = table.column(i).slice(0, SCREEN_ROWS).drop_null().to_pylist()
        if number_format(head, decimal_comma) is None and not all(_WRITTEN.match(v.strip()) for v in head):
            continue  # a cheap look at the first rows first: most text columns are not numbers
        sample = table.column(i).drop_null().unique().slice(0, SAMPLE).to_pylist()
        fmt = number_format(sample, decimal_comma)
        if fmt is not None:
            numbers = read_numbers(table.column(i).to_pandas(), fmt).to_numpy(dtype=np.float64)
            column = pa.array(numbers, pa.float64(), from_pandas=True)
            table = table.set_column(i, pa.field(field.name, pa.float64(), metadata=_metadata(fmt)), column)
    return table


def field_number_format(field: pa.Field) -> dict | None:
    """The format a number column's text was read with (kept in the field's metadata), if it was text."""
    fmt = (field.metadata or {}).get(NUMBER_FORMAT_KEY.encode())
    return json.loads(fmt) if fmt else None


def _metadata(fmt: dict) -> dict:
    return {NUMBER_FORMAT_KEY: json.dumps(fmt)}
