"""Per-column statistics and data warnings, computed with Arrow kernels; the result is profile.json."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from autopilot.data.types import ColumnKind, boolean_true_value, classify

TOP_VALUES = 5
WORD_SAMPLE = 1000
TARGET_SAMPLE = 100_000
MOSTLY_MISSING_PCT = 50.0
HIGH_CARDINALITY = 100
IMBALANCE_RATIO = 0.1
LEAK_CORRELATION = 0.98
LEAK_PURITY = 0.99


def profile_table(table: pa.Table, target: str | None = None, file_bytes: int | None = None) -> dict:
    """Profile every column; warnings name the column, what was seen and what autopilot does about it.

    >>> import pyarrow as pa
    >>> profile_table(pa.table({"x": [1, 2, 2]}))["columns"][0]["unique"]
    2
    """
    columns = [_column_profile(name, table.column(name)) for name in table.column_names]
    warnings = [w for c in columns for w in _column_warnings(c, target)]
    duplicates = _duplicate_rows(table)
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


def _column_profile(name: str, column: pa.ChunkedArray) -> dict:
    dtype, rows = column.type, len(column)
    stats: dict = {"count": rows - column.null_count}
    if pa.types.is_string(dtype) or pa.types.is_large_string(dtype) or pa.types.is_boolean(dtype):
        counts = pc.value_counts(column.drop_null())
        order = np.argsort(-counts.field("counts").to_numpy(), kind="stable")[:TOP_VALUES]
        values, freq = counts.field("values").to_pylist(), counts.field("counts").to_pylist()
        stats["unique"] = len(counts)
        stats["top_values"] = [{"value": _plain(values[i]), "count": freq[i]} for i in order]
        if not pa.types.is_boolean(dtype):
            sample = column.drop_null().slice(0, WORD_SAMPLE).to_pylist()
            stats["mean_words"] = float(np.mean([len(v.split()) for v in sample])) if sample else 0.0
            stats["true_value"] = boolean_true_value(values) if len(values) == 2 else None
    else:
        stats["unique"] = pc.count_distinct(column).as_py() if _hashable(dtype) else None
        if _numeric_or_temporal(dtype):
            stats.update(_range_stats(column))
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
    return profile


def _range_stats(column: pa.ChunkedArray) -> dict:
    bounds = pc.min_max(column)
    out = {"min": _plain(bounds["min"].as_py()), "max": _plain(bounds["max"].as_py())}
    if pa.types.is_integer(column.type) or pa.types.is_floating(column.type) or pa.types.is_decimal(column.type):
        numbers = column.cast(pa.float64()) if pa.types.is_decimal(column.type) else column
        out["mean"] = _plain(pc.mean(numbers).as_py())
        out["std"] = _plain(pc.stddev(numbers, ddof=1).as_py())
    return out


def _duplicate_rows(table: pa.Table) -> int:
    hashable = [n for n in table.column_names if _hashable(table.schema.field(n).type)]
    if not hashable:
        return 0
    groups = table.select(hashable).group_by(hashable, use_threads=True).aggregate([]).num_rows
    return table.num_rows - groups


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
        purity = y[known].groupby(x[known], observed=True).agg(lambda s: s.value_counts().iloc[0]).sum() / known.sum()
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


def _plain(value: object) -> object:
    """A JSON-friendly scalar (dates as ISO strings, NaN as None)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)
