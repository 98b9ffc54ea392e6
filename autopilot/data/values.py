"""The rules every value takes, at training (``tidy_values``) and for new rows (``ColumnCoercer``): infinite numbers
are missing, text loses the spaces around it and a blank cell is missing; bytes that are not UTF-8 read as Latin-1,
value by value."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc


def tidy_values(table: pa.Table) -> tuple[pa.Table, list[tuple[str, str, str]]]:
    """The table with its values tidied: an infinite float (``inf``, ``-Infinity``, ``1e400``) is missing, and text
    loses the spaces around it (``' yes'`` is ``'yes'``; a blank cell is missing). Also returns, per column changed,
    a warning (column, kind, message) saying what was done."""
    said = []
    for i, field in enumerate(table.schema):
        column = table.column(i)
        if pa.types.is_floating(field.type):
            changed = pc.is_inf(column)
            tidy, kind = pc.if_else(changed, pa.scalar(None, field.type), column), "infinite"
        elif pa.types.is_string(field.type) or pa.types.is_large_string(field.type):
            trimmed = pc.utf8_trim_whitespace(column)
            tidy = pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, field.type), trimmed)  # blank is missing
            changed, kind = pc.or_(pc.not_equal(column, trimmed), pc.equal(trimmed, "")), "spaces_trimmed"
        else:
            continue
        count = pc.sum(changed).as_py() or 0
        if count:
            table = table.set_column(i, field, tidy)
            values = f"{count:,} {'infinite ' * (kind == 'infinite')}value{'s' * (count != 1)}"
            done = "; read as missing" if kind == "infinite" else " with spaces around them or blank; trimmed"
            said.append((field.name, kind, f"had {values}{done}"))
    return table, said


def text_column(column: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Bytes as text: UTF-8 where they are (checked at Arrow's speed), else value by value, Latin-1 for a value that
    is not UTF-8."""
    try:
        return column.cast(pa.string())
    except pa.ArrowInvalid:
        return pa.array([None if v is None else decode(v) for v in column.to_pylist()], pa.string())


def decode(value: bytes) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")
