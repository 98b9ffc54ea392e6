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
from autopilot.data.types import ColumnKind, boolean_true_value, classify

TOP_VALUES = 5
WORD_SAMPLE = 1000
TARGET_SAMPLE = 20_000
MOSTLY_MISSING_PCT = 50.0
HIGH_CARDINALITY = 100
IMBALANCE_RATIO = 0.1
LEAK_CORRELATION = 0.98
LEAK_PURITY = 0.99
EXACT_DUPLICATE_CHECK = 1_000_000
ESTIMATE_DISTINCT_ABOVE = 1_000_000  # float columns with more values get an estimated distinct count
ESTIMATE_SAMPLE_SHIFT = 5  # the estimate keeps 1/2**5 of the distinct values
ESTIMATE_MIN_KEPT = 4096  # fewer kept than this: count exactly instead
DUPLICATE_BUCKET_BITS = 24  # 16M buckets: a 128 MB count array at most
NULL_BITS = -0x7A5F3C1D2B4E6F01  # the pattern a missing integer or date hashes as


def profile_table(table: pa.Table, target: str | None = None, file_bytes: int | None = None) -> dict:
    """Profile every column; warnings name the column, what was seen and what autopilot does about it.

    >>> import pyarrow as pa
    >>> profile_table(pa.table({"x": [1, 2, 2]}))["column_profiles"][0]["unique"]
    2
    """
    workers = os.cpu_count() or 1
    with reuse_freed_memory(), ThreadPoolExecutor(max_workers=workers) as pool:  # the kernels release the GIL
        duplicates = pool.submit(_duplicate_rows, table)  # alongside the column jobs: it needs none of their output
        columns = list(pool.map(_column_profile, table.column_names, table.columns))
        kinds = {c["name"]: c["kind"] for c in columns}
        has_target = target is not None and target in table.column_names
        target_warnings = _target_warnings(table, target, kinds) if has_target else []
    warnings = [w for c in columns for w in _column_warnings(c, target)]
    if duplicates.result():
        pct = 100 * duplicates.result() / table.num_rows
        warnings.append(
            _warning(None, "duplicate_rows", f"{duplicates.result()} rows ({pct:.1f}%) repeat an earlier row")
        )
    warnings += target_warnings
    return {
        "rows": table.num_rows,
        "columns": table.num_columns,
        "bytes": file_bytes if file_bytes is not None else table.nbytes,
        "memory_bytes": table.nbytes,
        "duplicate_rows": duplicates.result(),
        "target": target,
        "column_profiles": columns,
        "warnings": warnings,
    }


def _column_profile(name: str, column: pa.ChunkedArray) -> dict:
    """A column's statistics and kind.

    Float NaN is taken as missing only if the loader made it null (``read_table`` and ``table_from_pandas`` do)."""
    dtype, rows = column.type, len(column)
    stats: dict = {"count": rows - column.null_count}
    if _categorical_type(dtype):
        _categorical_stats(column, stats)
    elif _hashable(dtype):
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
    values, codes = _codes(column)
    counts = np.bincount(codes[codes >= 0], minlength=len(values))
    order = np.argsort(-counts, kind="stable")[:TOP_VALUES]
    stats["unique"] = len(values)
    stats["top_values"] = [{"value": _top_value(values[i], column.type), "count": int(counts[i])} for i in order]
    if not pa.types.is_boolean(column.type):
        sample = column.drop_null().slice(0, WORD_SAMPLE).to_pylist()
        stats["mean_words"] = float(np.mean([len(v.split()) for v in sample])) if sample else 0.0
        stats["true_value"] = boolean_true_value(values) if len(values) == 2 else None


def _codes(column: pa.ChunkedArray) -> tuple[list, np.ndarray]:
    """Distinct values of a string or boolean column and each row's index into them (-1 where missing)."""
    encoded = pc.dictionary_encode(column.cast(pa.string()) if pa.types.is_boolean(column.type) else column)
    values = encoded.chunk(0).dictionary.to_pylist() if encoded.num_chunks else []
    codes = pc.fill_null(pa.chunked_array([c.indices for c in encoded.chunks], pa.int32()), -1).to_numpy()
    return values, codes


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
    if high - low < max(4 * len(values), 1 << 16):
        return int(np.count_nonzero(np.bincount(values - low))), False
    return len(pd.unique(values)), False


def _estimate_distinct(values: np.ndarray) -> int | None:
    """Distinct floats estimated by hash sampling: the values whose hash falls in the lowest 1/32 of its range are
    kept (every copy of a value alike), and their exact distinct count is multiplied by 32. The relative error is
    about 1/sqrt(distinct values kept), under 1.6% when used; None when fewer than ``ESTIMATE_MIN_KEPT`` are kept, as
    an exact count of so few distinct values is cheap. Deterministic: the same column gives the same estimate."""
    hashes = _mixed((values + 0.0).view(np.uint64), 0)  # + 0.0 turns -0.0 into 0.0, as pandas counts them
    kept = pd.unique(values[hashes < np.uint64(1 << (64 - ESTIMATE_SAMPLE_SHIFT))])
    kept_distinct = int(np.count_nonzero(~np.isnan(kept)))
    return kept_distinct << ESTIMATE_SAMPLE_SHIFT if kept_distinct >= ESTIMATE_MIN_KEPT else None


def _range_stats(column: pa.ChunkedArray, bits: np.ndarray) -> dict:
    if pa.types.is_decimal(column.type):
        column = column.cast(pa.float64())
    if pa.types.is_floating(column.type) and len(
        bits
    ):  # NaN-skipping numpy is ten times faster than Arrow's float min_max here
        values = bits.view(np.float64)
        out = {"min": _plain(float(np.fmin.reduce(values))), "max": _plain(float(np.fmax.reduce(values)))}
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
    names = sorted((f.name for f in table.schema if _hashable(f.type)), key=lambda n: _hash_order(table, n))
    rows = np.arange(table.num_rows)
    row_hash = np.zeros(table.num_rows, dtype=np.uint64)
    for position, column in enumerate(table.select(names).columns):
        row_hash += _mixed(_row_bits(column if len(rows) == table.num_rows else column.take(rows)), position)
        if position + 1 not in (2, 4, 8, 16) and position < len(names) - 1:
            continue
        repeated = _repeated(row_hash)
        rows, row_hash = rows[repeated], row_hash[repeated]
        if len(rows) == 0:
            return 0
    if len(rows) > EXACT_DUPLICATE_CHECK:
        return len(rows) - len(pd.unique(row_hash))
    subset = table.select(names).take(pa.array(rows))
    return len(rows) - subset.group_by(names, use_threads=False).aggregate([]).num_rows


def _hash_order(table: pa.Table, name: str) -> int:
    dtype = table.schema.field(name).type
    if pa.types.is_floating(dtype) or pa.types.is_decimal(dtype):
        return 0
    return 2 if _categorical_type(dtype) else 1


def _row_bits(column: pa.ChunkedArray) -> np.ndarray:
    if _categorical_type(column.type):
        return _codes(column)[1].astype(np.int64).view(np.uint64)
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
    mixed *= np.uint64((0x9E3779B97F4A7C15 + 2 * position * 0xBF58476D1CE4E5B9) % (1 << 64) | 1)
    mixed ^= mixed >> np.uint64(29)
    return mixed


def _column_warnings(col: dict, target: str | None) -> list[dict]:
    name, kind, out = col["name"], col["kind"], []
    if name == target:
        return out
    if col["constant"]:
        out.append(_warning(name, "constant", "has a single value; dropped from the features"))
    elif kind == ColumnKind.IDENTIFIER.value:
        out.append(_warning(name, "id_like", "looks like an identifier or is unsupported; dropped from the features"))
    if col["missing_pct"] >= MOSTLY_MISSING_PCT:
        out.append(_warning(name, "mostly_missing", f"is {col['missing_pct']:.1f}% missing; imputed with an indicator"))
    if kind == ColumnKind.CATEGORICAL.value and (col["unique"] or 0) > HIGH_CARDINALITY:
        out.append(_warning(name, "high_cardinality", f"has {col['unique']} categories; rare ones are grouped"))
    return out


def _target_warnings(table: pa.Table, target: str, kinds: dict[str, str]) -> list[dict]:
    sample = _sample(table, TARGET_SAMPLE)
    y = sample[target]
    sample = sample[y.notna()]
    y = sample[target]
    out: list[dict] = []
    if y.empty:
        return out
    class_like = kinds[target] in ("categorical", "boolean") or y.nunique() <= 20
    if class_like:
        counts = y.value_counts()
        if len(counts) >= 2 and counts.iloc[-1] / counts.iloc[0] < IMBALANCE_RATIO:
            share = 100 * counts.iloc[-1] / counts.sum()
            out.append(_warning(target, "class_imbalance", f"class '{counts.index[-1]}' is only {share:.1f}% of rows"))
    y_num = _as_number(y)
    for name, kind in kinds.items():
        if name == target or kind not in ("numeric", "categorical", "boolean"):
            continue
        reason = _leak_reason(sample[name], y, y_num, class_like)
        if reason:
            out.append(
                _warning(
                    name,
                    "target_leakage",
                    f"{reason}; possible target leakage, check it is known at prediction time",
                )
            )
    return out


def _leak_reason(x: pd.Series, y: pd.Series, y_num: pd.Series | None, class_like: bool) -> str | None:
    x_num = _as_number(x)
    if x_num is not None and y_num is not None and x_num.nunique() > 2 and y_num.nunique() > 1:
        corr = x_num.corr(y_num)
        if not math.isnan(corr) and abs(corr) >= LEAK_CORRELATION:
            return f"correlation with the target is {corr:.3f}"
    known = x.notna()
    if class_like and 2 <= x.nunique() <= 50 and known.sum() > 0:
        pairs = pd.DataFrame({"x": x[known], "y": y[known]}).groupby(["x", "y"], observed=True).size()
        purity = pairs.groupby(level=0).max().sum() / known.sum()
        if purity >= LEAK_PURITY:
            return f"its value determines the target on {100 * purity:.1f}% of rows"
    return None


def _sample(table: pa.Table, n: int) -> pd.DataFrame:
    if table.num_rows > n:
        idx = np.sort(np.random.default_rng(0).choice(table.num_rows, n, replace=False))
        table = table.take(pa.array(idx))
    hashable = [c for c in table.column_names if _hashable(table.schema.field(c).type)]
    return table.select(hashable).to_pandas()


def _as_number(s: pd.Series) -> pd.Series | None:
    if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
        return s.astype("float64")
    if s.nunique() == 2:
        return (s == sorted(s.dropna().unique())[1]).astype("float64").where(s.notna())
    return None


def _warning(column: str | None, kind: str, message: str) -> dict:
    text = f"'{column}' {message}" if column else message
    return {"column": column, "kind": kind, "message": text}


def _categorical_type(dtype: pa.DataType) -> bool:
    return pa.types.is_string(dtype) or pa.types.is_large_string(dtype) or pa.types.is_boolean(dtype)


def _hashable(dtype: pa.DataType) -> bool:
    nested = pa.types.is_nested(dtype) or pa.types.is_binary(dtype) or pa.types.is_large_binary(dtype)
    return not nested and not pa.types.is_null(dtype)


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
