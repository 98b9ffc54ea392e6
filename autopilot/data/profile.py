"""Per-column statistics and data warnings, computed with Arrow kernels; the result is profile.json."""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor, as_completed

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from autopilot.data.types import ColumnKind, boolean_true_value, classify

TOP_VALUES = 5
WORD_SAMPLE = 1000
TARGET_SAMPLE = 50_000
MOSTLY_MISSING_PCT = 50.0
HIGH_CARDINALITY = 100
IMBALANCE_RATIO = 0.1
LEAK_CORRELATION = 0.98
LEAK_PURITY = 0.99
EXACT_DUPLICATE_CHECK = 1_000_000
NULL_BITS = -0x7A5F3C1D2B4E6F01  # the pattern a missing integer or date hashes as


def profile_table(table: pa.Table, target: str | None = None, file_bytes: int | None = None) -> dict:
    """Profile every column; warnings name the column, what was seen and what autopilot does about it.

    >>> import pyarrow as pa
    >>> profile_table(pa.table({"x": [1, 2, 2]}))["columns"][0]["unique"]
    2
    """
    columns, row_hash = _profile_columns(table)
    warnings = [w for c in columns for w in _column_warnings(c, target)]
    any_key = any(c["unique"] == table.num_rows for c in columns)  # a fully distinct column rules duplicates out
    duplicates = 0 if any_key else _duplicate_rows(table, row_hash)
    if duplicates:
        pct = 100 * duplicates / table.num_rows
        warnings.append(_warning(None, "duplicate_rows", f"{duplicates} rows ({pct:.1f}%) repeat an earlier row"))
    if target is not None and target in table.column_names:
        warnings += _target_warnings(table, target, {c["name"]: c["kind"] for c in columns})
    return {
        "rows": table.num_rows,
        "columns": table.num_columns,
        "bytes": file_bytes if file_bytes is not None else table.nbytes,
        "memory_bytes": table.nbytes,
        "duplicate_rows": duplicates,
        "target": target,
        "column_profiles": columns,
        "warnings": warnings,
    }


def _profile_columns(table: pa.Table) -> tuple[list[dict], np.ndarray]:
    """Profile columns on all cores (the hash kernels release the GIL), folding each column into the row hash as it
    finishes so that only a few columns' arrays are alive at once."""
    profiles: list[dict] = [{} for _ in table.column_names]
    row_hash = np.zeros(table.num_rows, dtype=np.uint64)
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        jobs = {pool.submit(_column_job, i, name, table.column(name)): i for i, name in enumerate(table.column_names)}
        for job in as_completed(jobs):
            profile, mixed = job.result()
            profiles[jobs[job]] = profile
            if mixed is not None:
                row_hash += mixed
    return profiles, row_hash


def _column_job(position: int, name: str, column: pa.ChunkedArray) -> tuple[dict, np.ndarray | None]:
    profile, bits = _column_profile(name, column)
    return profile, None if bits is None else _mixed(bits, position)


def _column_profile(name: str, column: pa.ChunkedArray) -> tuple[dict, np.ndarray | None]:
    """A column's statistics and kind, plus its values as uint64 bits for the duplicate-row hash.

    Float NaN is taken as missing only if the loader made it null (``read_table`` and ``table_from_pandas`` do)."""
    dtype, rows = column.type, len(column)
    stats: dict = {"count": rows - column.null_count}
    bits: np.ndarray | None = None
    if pa.types.is_string(dtype) or pa.types.is_large_string(dtype) or pa.types.is_boolean(dtype):
        bits = _categorical_stats(column, stats)
    elif _hashable(dtype):
        bits = _number_bits(column)
        stats["unique"] = _count_distinct(column, bits)
        if _numeric_or_temporal(dtype):
            stats.update(_range_stats(column))
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
        **{k: v for k, v in stats.items() if k != "count"},
        "constant": (stats["unique"] or 0) <= 1,
    }
    if kind is ColumnKind.BOOLEAN and pa.types.is_boolean(dtype):
        profile["true_value"] = True
    return profile, bits


def _categorical_stats(column: pa.ChunkedArray, stats: dict) -> np.ndarray:
    """Distinct values, top values and (for strings) words per value; returns dictionary codes as row bits."""
    encoded = pc.dictionary_encode(column.cast(pa.string()) if pa.types.is_boolean(column.type) else column)
    values = encoded.chunk(0).dictionary.to_pylist() if encoded.num_chunks else []
    codes = pc.fill_null(pa.chunked_array([c.indices for c in encoded.chunks], pa.int32()), -1).to_numpy()
    counts = np.bincount(codes[codes >= 0], minlength=len(values))
    order = np.argsort(-counts, kind="stable")[:TOP_VALUES]
    stats["unique"] = len(values)
    stats["top_values"] = [{"value": _top_value(values[i], column.type), "count": int(counts[i])} for i in order]
    if not pa.types.is_boolean(column.type):
        sample = column.drop_null().slice(0, WORD_SAMPLE).to_pylist()
        stats["mean_words"] = float(np.mean([len(v.split()) for v in sample])) if sample else 0.0
        stats["true_value"] = boolean_true_value(values) if len(values) == 2 else None
    return codes.astype(np.int64).view(np.uint64)


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


def _count_distinct(column: pa.ChunkedArray, bits: np.ndarray) -> int:
    """Distinct non-missing values: a bitmap for integers in a small range, else a hash (pandas is fastest)."""
    if pa.types.is_floating(column.type) or pa.types.is_decimal(column.type):
        return len(pd.unique(bits.view(np.float64))) - (1 if column.null_count else 0)  # nulls are one NaN
    values = bits.view(np.int64)
    if column.null_count:
        values = values[pc.is_valid(column).to_numpy(zero_copy_only=False)]
    if len(values) == 0:
        return 0
    low, high = int(values.min()), int(values.max())
    if high - low < max(4 * len(values), 1 << 16):
        return int(np.count_nonzero(np.bincount(values - low)))
    return len(pd.unique(values))


def _range_stats(column: pa.ChunkedArray) -> dict:
    if pa.types.is_decimal(column.type):
        column = column.cast(pa.float64())
    bounds = pc.min_max(column)
    out = {"min": _plain(bounds["min"].as_py()), "max": _plain(bounds["max"].as_py())}
    if pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
        out["mean"] = _plain(pc.mean(column).as_py())
        out["std"] = _plain(pc.stddev(column, ddof=1).as_py())
    return out


def _duplicate_rows(table: pa.Table, row_hash: np.ndarray) -> int:
    """Rows equal to an earlier row. Rows whose 64-bit hash repeats are compared exactly with a group-by, so a hash
    collision never counts; past ``EXACT_DUPLICATE_CHECK`` candidate rows the hash alone decides."""
    distinct = len(pd.unique(row_hash))
    if distinct == table.num_rows:
        return 0
    candidates = np.flatnonzero(pd.Series(row_hash).duplicated(keep=False).to_numpy())
    if len(candidates) > EXACT_DUPLICATE_CHECK:
        return table.num_rows - distinct
    names = [n for n in table.column_names if _hashable(table.schema.field(n).type)]
    subset = table.select(names).take(pa.array(candidates))
    return len(candidates) - subset.group_by(names, use_threads=False).aggregate([]).num_rows


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
