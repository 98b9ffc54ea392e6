"""Target checks for profile.json: class imbalance and features that may leak the target, on a row sample.

The checks run beside the column statistics, so they cannot wait for the column kinds: reasons are found for every
column that might be a feature, and ``target_warnings`` keeps those of numeric, categorical and boolean columns once
the kinds are known.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

TARGET_SAMPLE = 20_000
IMBALANCE_RATIO = 0.1
LEAK_CORRELATION = 0.98
LEAK_PURITY = 0.99
FEATURE_KINDS = ("numeric", "categorical", "boolean")
CLASS_KINDS = ("categorical", "boolean")


@dataclass
class TargetFindings:
    """What the sample says about the target, before the column kinds are known."""

    class_kind: bool
    class_like: bool
    imbalance: dict | None = None
    leaks: dict[str, dict] = field(default_factory=dict)


def target_findings(table: pa.Table, target: str, class_kind: bool | None = None) -> TargetFindings | None:
    """Imbalance and leak reasons on a ``TARGET_SAMPLE``-row sample; None if the sample's target is all missing.

    ``class_kind``: whether the target's kind is categorical or boolean; None guesses it from the Arrow type (a
    string or boolean column), which ``target_warnings`` checks once the kinds are known."""
    sample = sample_rows(table, TARGET_SAMPLE)
    sample = sample[sample[target].notna()]
    y = sample[target]
    if y.empty:
        return None
    if class_kind is None:
        dtype = table.schema.field(target).type
        class_kind = pa.types.is_string(dtype) or pa.types.is_large_string(dtype) or pa.types.is_boolean(dtype)
    found = TargetFindings(class_kind, class_like=class_kind or y.nunique() <= 20)
    if found.class_like:
        counts = y.value_counts()
        if len(counts) >= 2 and counts.iloc[-1] / counts.iloc[0] < IMBALANCE_RATIO:
            share = 100 * counts.iloc[-1] / counts.sum()
            found.imbalance = warning(
                target, "class_imbalance", f"class '{counts.index[-1]}' is only {share:.1f}% of rows"
            )
    y_num = _as_number(y)
    for name in (f.name for f in table.schema if f.name != target and _may_be_feature(f.type)):
        reason = _leak_reason(sample[name], y, y_num, found.class_like)
        if reason:
            message = f"{reason}; possible target leakage, check it is known at prediction time"
            found.leaks[name] = warning(name, "target_leakage", message)
    return found


def target_warnings(table: pa.Table, target: str, found: TargetFindings | None, kinds: dict[str, str]) -> list[dict]:
    """The findings' warnings for the columns whose kinds can leak; checked again if the guessed target kind was
    wrong (a text or identifier target with over 20 values)."""
    if found is None:
        return []
    class_kind = kinds[target] in CLASS_KINDS
    if found.class_kind != class_kind:
        found = target_findings(table, target, class_kind)
        if found is None:
            return []
    out = [found.imbalance] if found.imbalance else []
    return out + [w for name, w in found.leaks.items() if kinds[name] in FEATURE_KINDS]


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


def sample_rows(table: pa.Table, n: int) -> pd.DataFrame:
    """A seeded sample of ``n`` rows (all rows if fewer) of the columns a profile can hash, as pandas."""
    table = table.select([f.name for f in table.schema if hashable(f.type)])
    if table.num_rows > n:
        rows = np.sort(np.random.default_rng(0).choice(table.num_rows, n, replace=False))
        table = take_sorted(table, rows)
    return table.to_pandas()


def take_sorted(table: pa.Table, rows: np.ndarray) -> pa.Table:
    """``table.take(rows)`` for sorted rows, batch by batch: Arrow's take on a many-chunk table first joins each
    column's chunks (copying the table), which made sampling 20,000 rows of a 4M-row table cost 70 ms."""
    batches = table.to_batches()
    starts = np.cumsum([0] + [b.num_rows for b in batches])
    cuts = np.searchsorted(rows, starts)
    parts = [
        batch.take(pa.array(rows[cuts[i] : cuts[i + 1]] - starts[i]))
        for i, batch in enumerate(batches)
        if cuts[i + 1] > cuts[i]
    ]
    return pa.Table.from_batches(parts, schema=table.schema)


def _may_be_feature(dtype: pa.DataType) -> bool:
    """Whether a column of this type can be of a kind that leaks: numbers, strings and booleans (not dates)."""
    number = pa.types.is_integer(dtype) or pa.types.is_floating(dtype) or pa.types.is_decimal(dtype)
    return number or pa.types.is_string(dtype) or pa.types.is_large_string(dtype) or pa.types.is_boolean(dtype)


def hashable(dtype: pa.DataType) -> bool:
    nested = pa.types.is_nested(dtype) or pa.types.is_binary(dtype) or pa.types.is_large_binary(dtype)
    return not nested and not pa.types.is_null(dtype)


def warning(column: str | None, kind: str, message: str) -> dict:
    text = f"'{column}' {message}" if column else message
    return {"column": column, "kind": kind, "message": text}


def _as_number(s: pd.Series) -> pd.Series | None:
    if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
        return s.astype("float64")
    if s.nunique() == 2:
        return (s == sorted(s.dropna().unique())[1]).astype("float64").where(s.notna())
    return None
