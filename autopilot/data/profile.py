"""Per-column statistics and data warnings, computed with Arrow kernels; the result is profile.json."""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from autopilot.data.heap import reuse_freed_memory
from autopilot.data.leakage import hashable, take_sorted, target_findings, target_warnings, warning
from autopilot.data.numbers import field_number_format
from autopilot.data.sensitive import sensitive_columns
from autopilot.data.types import ColumnKind, boolean_true_value, classify, date_format

TOP_VALUES = 5
WORD_SAMPLE = 1000
MOSTLY_MISSING_PCT = 50.0
HIGH_CARDINALITY = 100
EXACT_DUPLICATE_CHECK = 1_000_000
ESTIMATE_DISTINCT_ABOVE = 1_000_000  # float columns with more values get an estimated distinct count
ESTIMATE_SAMPLE_SHIFT = 5  # the estimate keeps 1/2**5 of the distinct values
ESTIMATE_MIN_KEPT = 4096  # fewer kept than this: count exactly instead
DUPLICATE_BUCKET_BITS = 24  # 16M buckets: a 128 MB count array at most
FIBONACCI = 0x9E3779B97F4A7C15  # 2**64 / golden ratio, odd
NULL_BITS = -0x7A5F3C1D2B4E6F01  # the pattern a missing integer or date hashes as


def profile_table(table: pa.Table, target: str | None = None, file_bytes: int | None = None) -> dict:
    """Profile every column; warnings name the column, what was seen and what autopilot does about it.

    >>> import pyarrow as pa
    >>> profile_table(pa.table({"x": [1, 2, 2]}))["column_profiles"][0]["unique"]
    2
    """
    workers = os.cpu_count() or 1
    has_target = target is not None and target in table.column_names
    with reuse_freed_memory(), ThreadPoolExecutor(max_workers=workers) as pool:  # the kernels release the GIL
        duplicates = pool.submit(_duplicate_rows, table)  # these two need none of the column jobs' output
        findings = pool.submit(target_findings, table, target) if has_target else None
        costly_first = sorted(range(table.num_columns), key=lambda i: -_cost(table.schema.field(i).type))
        names = table.column_names  # built afresh on each access: once, not once per column
        jobs = {i: pool.submit(_column_profile, names[i], table.column(i)) for i in costly_first}
        columns = [jobs[i].result() for i in range(table.num_columns)]
        for field, column in zip(table.schema, columns, strict=True):
            if column["kind"] == ColumnKind.DATETIME.value:
                column["date_format"] = date_format(field)  # new rows are read with it, whatever their batch
            elif field_number_format(field):
                column["number_format"] = field_number_format(field)  # and numbers written as text, with this
        kinds = {c["name"]: c["kind"] for c in columns}
        target_warns = target_warnings(table, target, findings.result(), kinds) if findings else []
    warnings = [w for c in columns for w in _column_warnings(c, target)]
    if duplicates.result():
        pct = 100 * duplicates.result() / table.num_rows
        warnings.append(
            warning(None, "duplicate_rows", f"{duplicates.result()} rows ({pct:.1f}%) repeat an earlier row")
        )
    warnings += target_warns
    return {
        "rows": table.num_rows,
        "columns": table.num_columns,
        "bytes": file_bytes if file_bytes is not None else table.nbytes,
        "memory_bytes": table.nbytes,
        "duplicate_rows": duplicates.result(),
        "target": target,
        "column_profiles": columns,
        "warnings": warnings,
        "sensitive_columns": sensitive_columns(columns, target),  # a suggested --facet, never a verdict
    }


def _column_profile(name: str, column: pa.ChunkedArray) -> dict:
    """A column's statistics and kind.

    Float NaN is taken as missing only if the loader made it null (``read_table`` and ``table_from_pandas`` do)."""
    dtype, rows = column.type, len(column)
    stats: dict = {"count": rows - column.null_count}
    if _categorical_type(dtype):
        _categorical_stats(column, stats)
    elif hashable(dtype):
        bits = _number_bits(column)
        stats["unique"], stats["unique_estimated"] = _count_distinct(column, bits)
        if _numeric_or_temporal(dtype):
            stats.update(_range_stats(column, bits))
    else:
        stats["unique"] = None
    kind = classify(name, dtype, {**stats, "unique": stats["unique"] or 0})
    missing = column.null_count
    profile = {
        "name": name,
        "kind": kind.value,
        "arrow_type": str(dtype),
        "missing": missing,
        "missing_pct": round(100 * missing / rows, 4) if rows else 0.0,
        "unique_estimated": False,
        **{k: v for k, v in stats.items() if k != "count"},
        "constant": (stats["unique"] or 0) <= 1,
    }
    if kind is ColumnKind.BOOLEAN and pa.types.is_boolean(dtype):
        profile["true_value"] = True
    return profile


def _categorical_stats(column: pa.ChunkedArray, stats: dict) -> None:
    """Distinct values, top values and (for strings) words per value."""
    counted = pc.value_counts(column.cast(pa.string()) if pa.types.is_boolean(column.type) else column)
    counted = counted.filter(pc.is_valid(counted.field("values")))  # missing values are an entry of their own
    values, counts = counted.field("values"), counted.field("counts").to_numpy()
    order = np.argsort(-counts, kind="stable")[:TOP_VALUES]
    stats["unique"] = len(values)
    top = values.take(pa.array(order, pa.int64())).to_pylist()
    stats["top_values"] = [
        {"value": _top_value(v, column.type), "count": int(counts[i])} for v, i in zip(top, order, strict=True)
    ]
    if not pa.types.is_boolean(column.type):
        sample = column.drop_null().slice(0, WORD_SAMPLE).to_pylist()
        stats["mean_words"] = float(np.mean([len(v.split()) for v in sample])) if sample else 0.0
        stats["true_value"] = boolean_true_value(values.to_pylist()) if len(values) == 2 else None


def _codes(column: pa.ChunkedArray) -> np.ndarray:
    """Each row's index into the distinct values of a string or boolean column (-1 where missing)."""
    encoded = pc.dictionary_encode(column.cast(pa.string()) if pa.types.is_boolean(column.type) else column)
    return pc.fill_null(pa.chunked_array([c.indices for c in encoded.chunks], pa.int32()), -1).to_numpy()


def _number_bits(column: pa.ChunkedArray) -> np.ndarray:
    """Values as uint64 bit patterns (nulls share one pattern), for hashing rows and counting distinct values."""
    dtype = column.type
    if pa.types.is_decimal(dtype):
        column, dtype = column.cast(pa.float64()), pa.float64()
    if pa.types.is_floating(dtype):
        values = column.cast(pa.float64()).to_numpy()  # nulls become NaN
        return values.view(np.uint64)
    if pa.types.is_date32(dtype):
        column = column.cast(pa.int32())
    as_int = column.cast(pa.int64(), safe=False)  # uint64 past 2**63 wraps, which keeps values distinct
    return pc.fill_null(as_int, NULL_BITS).to_numpy().view(np.uint64)


def _count_distinct(column: pa.ChunkedArray, bits: np.ndarray) -> tuple[int, bool]:
    """Distinct non-missing values, and whether the count is an estimate: a bitmap for integers in a small range, else
    a hash (pandas is fastest); estimated for float columns of over ``ESTIMATE_DISTINCT_ABOVE`` values."""
    if pa.types.is_floating(column.type) or pa.types.is_decimal(column.type):
        values = bits.view(np.float64)
        if len(values) - column.null_count > ESTIMATE_DISTINCT_ABOVE:
            estimate = _estimate_distinct(values)
            if estimate is not None:
                return estimate, True
        return len(pd.unique(values)) - (1 if column.null_count else 0), False  # nulls are one NaN
    values = bits.view(np.int64)
    if column.null_count:
        values = values[pc.is_valid(column).to_numpy(zero_copy_only=False)]
    if len(values) == 0:
        return 0, False
    low, high = int(values.min()), int(values.max())
    limit = max(4 * len(values), 1 << 16)
    base = 0 if low >= 0 and high < limit else low  # small non-negative values index the bitmap directly
    if high - base < limit:
        seen = np.zeros(high - base + 1, dtype=bool)
        seen[values - base if base else values] = True
        return int(np.count_nonzero(seen)), False
    return len(pd.unique(values)), False


def _estimate_distinct(values: np.ndarray) -> int | None:
    """Distinct floats estimated by hash sampling: the values whose multiplicative (Fibonacci) hash falls in the lowest
    1/32 of its range are kept (every copy of a value alike), and their exact distinct count is multiplied by 32. The
    relative error is about 1/sqrt(distinct values kept), under 1.6% when used (measured within 0.6% on normal,
    uniform, integer, price-like and evenly spaced columns); -0.0 and 0.0 may count as two. None when fewer than
    ``ESTIMATE_MIN_KEPT`` are kept, as an exact count of so few distinct values is cheap. Deterministic."""
    hashes = values.view(np.uint64) * np.uint64(FIBONACCI)
    kept = pd.unique(values[hashes < np.uint64(1 << (64 - ESTIMATE_SAMPLE_SHIFT))])
    kept_distinct = int(np.count_nonzero(~np.isnan(kept)))
    return kept_distinct << ESTIMATE_SAMPLE_SHIFT if kept_distinct >= ESTIMATE_MIN_KEPT else None


def _range_stats(column: pa.ChunkedArray, bits: np.ndarray) -> dict:
    """min/max (with numpy where it can: NaN-skipping float reductions are ten times faster than Arrow's min_max),
    and mean/std for numbers."""
    if pa.types.is_decimal(column.type):
        column = column.cast(pa.float64())
    if pa.types.is_floating(column.type) and len(bits):
        values = bits.view(np.float64)
        out = {"min": _plain(float(np.fmin.reduce(values))), "max": _plain(float(np.fmax.reduce(values)))}
    elif pa.types.is_signed_integer(column.type) and not column.null_count and len(bits):
        values = bits.view(np.int64)  # the values themselves, as no null took the null pattern
        out = {"min": int(values.min()), "max": int(values.max())}
    else:
        bounds = pc.min_max(column)
        out = {"min": _plain(bounds["min"].as_py()), "max": _plain(bounds["max"].as_py())}
    if pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
        out["mean"] = _plain(pc.mean(column).as_py())
        out["std"] = _plain(pc.stddev(column, ddof=1).as_py())
    return out


def _duplicate_rows(table: pa.Table) -> int:
    """Rows equal to an earlier row, found without hashing every column of every row.

    Two equal rows agree on every column, so they share every partial row hash. Columns are hashed floats first
    (usually the most distinct), then integers and dates, then text; after the 2nd, 4th, 8th and 16th column and the
    last, only rows whose partial hash still repeats stay candidates, so usually two columns leave none. The
    candidates left after all columns are compared exactly with a group-by, so a hash collision never counts; past
    ``EXACT_DUPLICATE_CHECK`` candidate rows the 64-bit hash alone decides."""
    names = sorted((f.name for f in table.schema if hashable(f.type)), key=lambda n: _hash_order(table, n))
    rows = np.arange(table.num_rows)
    row_hash = np.zeros(table.num_rows, dtype=np.uint64)
    for position, column in enumerate(table.select(names).columns):
        if len(rows) < table.num_rows:
            column = take_sorted(table.select([names[position]]), rows).column(0)
        row_hash += _mixed(_row_bits(column), position)
        if position + 1 not in (2, 4, 8, 16) and position < len(names) - 1:
            continue
        repeated = _repeated(row_hash)
        rows, row_hash = rows[repeated], row_hash[repeated]
        if len(rows) == 0:
            return 0
    if len(rows) > EXACT_DUPLICATE_CHECK:
        return len(rows) - len(pd.unique(row_hash))
    subset = take_sorted(table.select(names), rows)
    return len(rows) - subset.group_by(names, use_threads=False).aggregate([]).num_rows


def _hash_order(table: pa.Table, name: str) -> int:
    dtype = table.schema.field(name).type
    if pa.types.is_floating(dtype) or pa.types.is_decimal(dtype):
        return 0
    return 2 if _categorical_type(dtype) else 1


def _row_bits(column: pa.ChunkedArray) -> np.ndarray:
    if _categorical_type(column.type):
        return _codes(column).astype(np.int64).view(np.uint64)
    return _number_bits(column)


def _repeated(row_hash: np.ndarray) -> np.ndarray:
    """Whether each hash occurs more than once. A hash alone in its top-bits bucket (about four buckets per row) is
    unique, so the exact check runs only over rows in shared buckets (about a fifth of them when all differ)."""
    bits = min(DUPLICATE_BUCKET_BITS, max(1, len(row_hash).bit_length() + 2))
    buckets = (row_hash >> np.uint64(64 - bits)).astype(np.intp)
    shared = np.flatnonzero(np.bincount(buckets, minlength=1 << bits)[buckets] > 1)
    repeated = np.zeros(len(row_hash), dtype=bool)
    repeated[shared] = pd.Series(row_hash[shared]).duplicated(keep=False).to_numpy()
    return repeated


def _mixed(bits: np.ndarray, position: int) -> np.ndarray:
    """One column's bits scrambled for the row hash (multiply-xorshift with a per-column odd constant)."""
    mixed = bits ^ (bits >> np.uint64(31))
    mixed *= np.uint64((FIBONACCI + 2 * position * 0xBF58476D1CE4E5B9) % (1 << 64) | 1)
    mixed ^= mixed >> np.uint64(29)
    return mixed


def _column_warnings(col: dict, target: str | None) -> list[dict]:
    name, kind, out = col["name"], col["kind"], []
    if name == target:
        return out
    if col["constant"]:
        out.append(warning(name, "constant", "has a single value; dropped from the features"))
    elif kind == ColumnKind.IDENTIFIER.value:
        out.append(warning(name, "id_like", "looks like an identifier or is unsupported; dropped from the features"))
    if col.get("number_format"):
        fmt = col["number_format"]
        how = f"decimal mark '{fmt['decimal']}'" + (", percentages as fractions" if fmt["percent"] else "")
        how += f", currency '{fmt['currency']}' dropped" if fmt["currency"] else ""
        out.append(warning(name, "number_format", f"holds numbers written as text; read as numbers ({how})"))
    if col["missing_pct"] >= MOSTLY_MISSING_PCT:
        out.append(warning(name, "mostly_missing", f"is {col['missing_pct']:.1f}% missing; imputed with an indicator"))
    if kind == ColumnKind.CATEGORICAL.value and (col["unique"] or 0) > HIGH_CARDINALITY:
        out.append(warning(name, "high_cardinality", f"has {col['unique']} categories; rare ones are grouped"))
    return out


def _cost(dtype: pa.DataType) -> int:
    """A column job's rough cost, to start the slow ones first: strings hash slowest, then floats."""
    return 2 if _categorical_type(dtype) else int(pa.types.is_floating(dtype) or pa.types.is_decimal(dtype))


def _categorical_type(dtype: pa.DataType) -> bool:
    return pa.types.is_string(dtype) or pa.types.is_large_string(dtype) or pa.types.is_boolean(dtype)


def _numeric_or_temporal(dtype: pa.DataType) -> bool:
    numeric = pa.types.is_integer(dtype) or pa.types.is_floating(dtype) or pa.types.is_decimal(dtype)
    return numeric or pa.types.is_timestamp(dtype) or pa.types.is_date(dtype)


def _top_value(value: object, dtype: pa.DataType) -> object:
    return value == "true" if pa.types.is_boolean(dtype) else _plain(value)


def _plain(value: object) -> object:
    """A JSON-friendly scalar (dates as ISO strings, NaN as None)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)
