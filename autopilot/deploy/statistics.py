"""statistics.json: Model Monitor's data-quality statistics of a table, gathered chunk by chunk in bounded memory.

Each feature is numeric (``Integral`` or ``Fractional``) or ``String``, as the job's model reads it. Per numeric
feature: counts, mean, sum, std, min, max, 10 equal-width buckets between min and max, and 1,000 quantiles (our
addition, ``distribution.quantiles``: what the drift distances are computed from, so any figure the monitor shows can
be recomputed from two statistics files). Per string feature: counts, the distinct count and the most frequent
values with their counts.

Exact where the data is small: quantiles and buckets come from a uniform sample of at most 20,000 values per column
(every value when there are fewer), value counts keep the 10,000 most frequent values once a column has more, and
the distinct count is exact up to 4,096 values, a k-minimum-values estimate above. Our additions to ``common``:
``num_non_numeric`` (present values that are not numbers) and ``num_non_integral`` (numbers with a fraction), which
the data-type check reads.

>>> stats = TableStatistics({"age": "numeric", "city": "string"})
>>> stats.add(pa.table({"age": ["30", "41", None], "city": ["Paris", "Oslo", "Paris"]}))
>>> stats.to_json()["features"][0]["inferred_type"]
'Integral'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from autopilot.data.values import text_column

SAMPLE = 20_000  # values kept per numeric column (a uniform sample: the smallest random keys win)
QUANTILES = 1000
BUCKETS = 10
TOP_VALUES = 10_000  # string values counted per column; the rarest are dropped above twice this
WRITTEN_VALUES = 1000  # categorical buckets written per column
DISTINCT_K = 4096  # hashes kept for the distinct count

Cast = Callable[[pd.Series], pd.Series]  # text to numbers as the model reads them (written formats, times of day)


@dataclass(frozen=True)
class NumberReader:
    """How a numeric column's text is read: ``cast`` as the model reads it; ``plain`` when Arrow's own number
    parsing may be tried first (a column without a written format such as ``1.234,5``), the cast taking over
    where Arrow fails."""

    cast: Cast
    plain: bool = True


class NumericColumn:
    """Counts, moments, extremes and a uniform sample of one numeric column."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.present = self.missing = self.non_numeric = self.non_integral = self.count = 0
        self.total, self.mean, self.m2 = 0.0, 0.0, 0.0
        self.low, self.high = np.inf, -np.inf
        self.sample = np.empty(0)

    def add(self, values: np.ndarray, present: int, missing: int) -> None:
        """``values``: the chunk's present values as floats, NaN where a value is not a number."""
        self.present += present
        self.missing += missing
        numbers = values[~np.isnan(values)]
        self.non_numeric += len(values) - len(numbers)
        if not len(numbers):
            return
        self.non_integral += int(np.count_nonzero(numbers != np.floor(numbers)))
        with np.errstate(all="ignore"):  # numbers near the float limit overflow to inf, written as null
            n, mean = len(numbers), np.float64(numbers.mean())
            m2 = np.float64(((numbers - mean) ** 2).sum())
            delta, total = mean - self.mean, self.count + n  # Chan et al.'s merge of two partial variances
            self.mean += delta * n / total
            self.m2 += m2 + delta**2 * self.count * n / total
            self.count, self.total = total, self.total + np.float64(numbers.sum())
        self.low, self.high = min(self.low, float(numbers.min())), max(self.high, float(numbers.max()))
        self.sample = merge_samples(self.rng, self.sample, self.count - n, numbers, SAMPLE)

    def to_json(self, name: str) -> dict:
        integral = self.count > 0 and self.non_integral == 0
        common = {
            "num_present": self.present,
            "num_missing": self.missing,
            "num_non_numeric": self.non_numeric,
            "num_non_integral": self.non_integral,
        }
        block: dict = {"common": common}
        if self.count:
            with np.errstate(all="ignore"):
                std = np.sqrt(self.m2 / self.count)
            moments = {"mean": self.mean, "sum": self.total, "std_dev": std, "min": self.low, "max": self.high}
            block |= {k: float(v) if np.isfinite(v) else None for k, v in moments.items()}
            block["distribution"] = {"kll": {"buckets": self._buckets()}, "quantiles": self._quantiles()}
        return {"name": name, "inferred_type": "Integral" if integral else "Fractional", "numerical_statistics": block}

    def _buckets(self) -> list[dict]:
        share = np.linspace(0.0, 1.0, BUCKETS + 1)
        edges = self.low * (1 - share) + self.high * share  # no overflow near the float limit
        edges = np.maximum.accumulate(np.clip(edges, self.low, self.high))  # rounding never breaks the order
        counts, _ = np.histogram(self.sample, bins=edges)
        counts = counts * (self.count / len(self.sample))  # scaled up from the sample (exact when it holds all)
        return [
            {"lower_bound": float(lo), "upper_bound": float(hi), "count": round(float(c))}
            for lo, hi, c in zip(edges[:-1], edges[1:], counts, strict=True)
        ]

    def _quantiles(self) -> dict:
        probs = np.arange(1, QUANTILES + 1) / QUANTILES
        values = np.quantile(self.sample, probs, method="inverted_cdf")
        return {"count": QUANTILES, "sampled": len(self.sample) < self.count, "values": values.tolist()}


def merge_samples(rng: np.random.Generator, sample: np.ndarray, seen: int, new: np.ndarray, size: int) -> np.ndarray:
    """A uniform sample (without replacement) of at most ``size`` of the ``seen`` earlier values and ``new``, from
    ``sample`` (a uniform sample of the earlier ones)."""
    old, fresh = sample_positions(rng, len(sample), seen, len(new), size)
    return np.concatenate([sample[old], new[fresh]])


def sample_positions(rng: np.random.Generator, kept: int, seen: int, new: int, size: int) -> tuple:
    """Which of ``kept`` sampled earlier items (a uniform sample of ``seen``) and of ``new`` items stay in a uniform
    sample of at most ``size``: the count drawn from each side is hypergeometric."""
    if seen + new <= size:
        return np.arange(kept), np.arange(new)
    from_new = int(rng.hypergeometric(new, seen, size))
    old = np.sort(rng.choice(kept, size - from_new, replace=False)) if kept > size - from_new else np.arange(kept)
    return old, np.sort(rng.choice(new, from_new, replace=False))


class StringColumn:
    """Counts, the most frequent values and a distinct-count sketch of one string column."""

    def __init__(self) -> None:
        self.present = self.missing = 0
        self.counts = pd.Series(dtype="int64")
        self.hashes = np.empty(0, dtype=np.uint64)
        self.pruned = False

    def add(self, values: pa.Array) -> None:
        """``values``: text as read (trimmed here, distinct values only: blank is missing)."""
        counted = pc.value_counts(values.drop_null())
        raw = pd.Series(counted.field("counts").to_numpy(), index=counted.field("values").to_pylist(), dtype="int64")
        chunk = raw.groupby(raw.index.str.strip()).sum() if len(raw) else raw
        blank = int(chunk.pop("")) if "" in chunk.index else 0
        self.missing += values.null_count + blank
        self.present += len(values) - values.null_count - blank
        if not len(chunk):
            return
        self.counts = self.counts.add(chunk, fill_value=0).astype("int64")
        if len(self.counts) > 2 * TOP_VALUES:
            self.counts, self.pruned = self.counts.nlargest(TOP_VALUES), True
        hashes = pd.util.hash_array(np.asarray(chunk.index, dtype=object))
        self.hashes = np.unique(np.concatenate([self.hashes, hashes]))[:DISTINCT_K]

    def distinct(self) -> int:
        if len(self.hashes) < DISTINCT_K:
            return len(self.hashes)
        return round((DISTINCT_K - 1) / (float(self.hashes[-1]) / 2.0**64))  # k minimum values

    def to_json(self, name: str) -> dict:
        common = {"num_present": self.present, "num_missing": self.missing}
        top = self.counts.sort_values(ascending=False, kind="stable").head(WRITTEN_VALUES)
        buckets = [{"value": str(v), "count": int(c)} for v, c in top.items()]
        block = {"common": common, "distinct_count": self.distinct()}
        block["distribution"] = {"categorical": {"buckets": buckets, "values_dropped": self.pruned}}
        return {"name": name, "inferred_type": "String", "string_statistics": block}


class TableStatistics:
    """Statistics of the columns named in ``kinds`` (``numeric`` or ``string``), fed one Arrow table at a time;
    ``readers`` read a numeric column's text as the model does (columns without one: plain number parsing)."""

    def __init__(self, kinds: dict[str, str], readers: dict[str, NumberReader] | None = None, seed: int = 0) -> None:
        self.kinds, self.readers = kinds, readers or {}
        self.columns = {
            name: NumericColumn(seed + i) if kind == "numeric" else StringColumn()
            for i, (name, kind) in enumerate(kinds.items())
        }
        self.rows = 0
        self.seen: dict[str, None] = {}  # every column name met, in order (for the missing and extra column checks)

    def add(self, table: pa.Table) -> None:
        self.rows += table.num_rows
        self.seen |= dict.fromkeys(table.column_names)
        for name, column in self.columns.items():
            if name not in table.column_names:
                continue
            values = table.column(name).combine_chunks()
            if isinstance(column, NumericColumn):
                column.add(*numbers(values, self.readers.get(name)))
            else:
                column.add(as_text(values))

    def to_json(self) -> dict:
        features = [self.columns[n].to_json(n) for n in self.kinds if n in self.seen]
        return {"version": 0, "dataset": {"item_count": self.rows, "columns": list(self.seen)}, "features": features}


def as_text(values: pa.Array) -> pa.Array:
    """Values as text: bytes decoded (UTF-8, else Latin-1 value by value), anything else cast."""
    if pa.types.is_binary(values.type) or pa.types.is_large_binary(values.type):
        return text_column(values)
    return values if pa.types.is_string(values.type) else values.cast(pa.string())


def strings(values: pa.Array) -> pa.Array:
    """Values as trimmed text, blank missing (as at training)."""
    trimmed = pc.utf8_trim_whitespace(as_text(values))
    return pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)


def numbers(values: pa.Array, reader: NumberReader | None = None) -> tuple[np.ndarray, int, int]:
    """The present values as floats (NaN where one is not a number), and the present and missing counts. Infinities
    are missing, blank text is missing, as at training."""
    if pa.types.is_boolean(values.type):
        values = values.cast(pa.float64())
    if pa.types.is_integer(values.type) or pa.types.is_floating(values.type):
        floats = values.drop_null().cast(pa.float64()).to_numpy(zero_copy_only=False)
    else:
        floats = _plain_cast(as_text(values).drop_null()) if reader is None or reader.plain else None
        if floats is None:  # spaces, blanks, written formats or words: the careful way
            values = strings(values)
            floats = _text_numbers(values.drop_null(), reader or NumberReader(_plain_numbers))
    infinite = np.isinf(floats)
    floats = floats[~infinite]
    return floats, len(floats), len(values) - len(floats)


def _plain_cast(present: pa.Array) -> np.ndarray | None:
    try:
        return present.cast(pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def _text_numbers(present: pa.Array, reader: NumberReader) -> np.ndarray:
    floats = _plain_cast(present) if reader.plain else None  # trimmed text Arrow may now read
    if floats is not None:
        return floats
    text = pd.Series(present.to_numpy(zero_copy_only=False), dtype=object)
    floats = reader.cast(text).to_numpy(dtype=np.float64, copy=True)
    floats[np.isnan(floats) & text.map(_is_infinite).to_numpy(dtype=bool)] = np.inf  # missing, not a wrong type
    return floats


def _plain_numbers(text: pd.Series) -> pd.Series:
    return pd.to_numeric(text, errors="coerce").astype("float64")


def _is_infinite(value: str) -> bool:
    try:
        return bool(np.isinf(float(value)))
    except ValueError:
        return False
