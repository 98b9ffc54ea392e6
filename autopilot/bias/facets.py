"""What a bias analysis is asked about: the facets (``--facet COLUMN[=VALUE,...|>THRESHOLD]``), the group variable,
and which target values are the positive outcome; each checked against the data with a one-line error.

A facet names group d: the rows holding one of its values, or above its threshold. Group a is every other row. A
facet given without values is analysed value by value (each one against the rest): its 10 most frequent values, and
the rest together as one more group. Numbers with more than 10 distinct values need a threshold.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from autopilot.errors import ConfigError

MAX_GROUPS = 10  # a facet without values: its most frequent values, each a group, then the rest as one
MAX_CATEGORY_NUMBERS = 10  # a numeric facet with more distinct values than this needs a threshold


@dataclass(frozen=True)
class FacetSpec:
    """One ``--facet``: a column, and the values or threshold that pick group d (neither: every value in turn)."""

    column: str
    values: tuple[str, ...] = ()
    threshold: float | None = None

    @classmethod
    def parse(cls, text: str, columns: list[str] | None = None) -> FacetSpec:
        """``sex``, ``sex=Female``, ``race=Black,Other`` or ``age>40``. With ``columns``, a name holding ``=`` or ``>``
        is read as the column it names."""
        text = str(text).strip()
        if columns is not None and text in columns:
            return cls(text)
        cuts = [i for i, ch in enumerate(text) if ch in "=>"]
        if not cuts:
            if "<" in text:
                raise ConfigError(
                    f"--facet {text}: only COLUMN>T thresholds are supported (the values above T form group d)"
                )
            return cls(text)
        cut = next((i for i in cuts if columns is not None and text[:i].strip() in columns), cuts[0])
        column, rest = text[:cut].strip(), text[cut + 1 :].strip()
        if text[cut] == ">":
            if rest.startswith("="):
                raise ConfigError(
                    f"--facet {text}: write COLUMN>T (the values above T form group d); >= is not supported"
                )
            try:
                threshold = float(rest)
            except ValueError:
                raise ConfigError(f"--facet {text}: the threshold after '>' must be a number; got {rest!r}") from None
            if not math.isfinite(threshold):
                raise ConfigError(f"--facet {text}: the threshold must be a finite number")
            return cls(column, threshold=threshold)
        values = tuple(v.strip() for v in rest.split(",") if v.strip())
        if not values:
            raise ConfigError(f"--facet {text}: give the values after '=', comma-separated (e.g. sex=Female)")
        return cls(column, values=values)

    def text(self) -> str:
        if self.threshold is not None:
            return f"{self.column}>{self.threshold:g}"
        return f"{self.column}={','.join(self.values)}" if self.values else self.column


@dataclass(frozen=True)
class FacetGroup:
    """Group d of one facet: its column, its values or threshold, and the name shown (Clarify's
    ``value_or_threshold``)."""

    column: str
    values: tuple[str, ...] = ()
    threshold: float | None = None
    name: str = ""

    def mask(self, series: pd.Series) -> np.ndarray:
        if self.threshold is not None:
            numbers = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64)
            return np.nan_to_num(numbers, nan=-np.inf) > self.threshold
        return value_mask(series, self.values)

    def to_dict(self) -> dict:
        return {"column": self.column, "values": list(self.values), "threshold": self.threshold, "name": self.name}

    @classmethod
    def from_dict(cls, data: dict) -> FacetGroup:
        return cls(data["column"], tuple(data["values"]), data["threshold"], data["name"])


@dataclass(frozen=True)
class BiasConfig:
    """The facets, the group variable (for CDDL and CDDPL), and the positive outcome: label values or, for
    regression, a threshold (values above it)."""

    facets: tuple[FacetSpec, ...]
    group_variable: str | None = None
    label_values: tuple[str, ...] = ()
    label_threshold: float | None = None

    @classmethod
    def from_options(
        cls,
        facets: list[str] | tuple[str, ...] | str,
        group_variable: str | None = None,
        label_values: list[str] | tuple[str, ...] | str | None = None,
        label_threshold: float | None = None,
        columns: list[str] | None = None,
    ) -> BiasConfig:
        facets = [facets] if isinstance(facets, str) else list(facets or [])
        if not facets:
            raise ConfigError("give at least one --facet COLUMN[=VALUE,...|>THRESHOLD]")
        if isinstance(label_values, str):
            label_values = [v.strip() for v in label_values.split(",")]
        if label_threshold is not None and not math.isfinite(float(label_threshold)):
            raise ConfigError(f"--label-threshold must be a finite number; got {label_threshold}")
        return cls(
            tuple(FacetSpec.parse(f, columns) for f in facets),
            group_variable or None,
            tuple(str(v) for v in label_values or () if str(v).strip()),
            None if label_threshold is None else float(label_threshold),
        )

    def to_dict(self) -> dict:
        return {
            "facets": [f.text() for f in self.facets],
            "group_variable": self.group_variable,
            "label_values": list(self.label_values),
            "label_threshold": self.label_threshold,
        }


@dataclass(frozen=True)
class Outcome:
    """Which target values are the positive outcome: ``values`` (classes) or above ``threshold`` (regression)."""

    values: tuple[str, ...] = ()
    threshold: float | None = None

    def text(self) -> str:
        return f"(>{self.threshold:g})" if self.threshold is not None else ",".join(self.values)

    def mask(self, labels: pd.Series) -> np.ndarray:
        if self.threshold is not None:
            numbers = pd.to_numeric(labels, errors="coerce").to_numpy(dtype=np.float64)
            return np.nan_to_num(numbers, nan=-np.inf) > self.threshold
        return value_mask(labels, self.values)


def value_mask(series: pd.Series, values: tuple[str, ...]) -> np.ndarray:
    """Rows whose value is one of ``values`` (given as text): compared as text, and as numbers for a numeric column
    (``1`` matches 1.0)."""
    series = pd.Series(series).reset_index(drop=True)
    mask = series.astype("string").isin(list(values)).fillna(False).to_numpy(dtype=bool)
    wanted = [float(v) for v in values if _is_number(v)]
    if wanted and not pd.api.types.is_bool_dtype(series):
        mask |= pd.to_numeric(series, errors="coerce").isin(wanted).to_numpy(dtype=bool)
    return mask


def _numbers(series: pd.Series) -> pd.Series | None:
    """The column as numbers when every value it holds is one (numbers read as text included), else None."""
    if pd.api.types.is_bool_dtype(series):
        return None
    if not pd.api.types.is_numeric_dtype(series):  # text: a sample of it settles most columns at once
        sample = series.dropna().head(100)
        if pd.to_numeric(sample, errors="coerce").isna().any():
            return None
    numbers = pd.to_numeric(series, errors="coerce")
    return numbers if numbers.notna().sum() == series.notna().sum() else None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def positive_outcome(config: BiasConfig, problem: dict) -> Outcome:
    """The positive outcome for the problem: the given label values, or the binary problem's positive label; a
    regression needs ``--label-threshold`` and a multiclass problem ``--label-values``."""
    kind = problem["problem_type"]
    if kind != "regression" and config.label_threshold is not None:
        raise ConfigError("--label-threshold is for a regression target; name the positive classes with --label-values")
    if kind == "regression" and config.label_values:
        raise ConfigError(
            "--label-values is for classes; a regression target takes --label-threshold T (values above T)"
        )
    if kind == "regression":
        if config.label_threshold is None:
            raise ConfigError("a regression target needs --label-threshold T: values above T are the positive outcome")
        return Outcome(threshold=config.label_threshold)
    classes = [str(c) for c in problem["classes"]]
    values = config.label_values or ((str(problem["positive_label"]),) if kind == "binary" else ())
    if not values:
        raise ConfigError(
            f"a multiclass target needs --label-values naming the positive outcome, from {', '.join(classes[:20])}"
        )
    unknown = [v for v in values if not value_mask(pd.Series(problem["classes"]), (v,)).any()]
    if unknown:
        raise ConfigError(f"--label-values {', '.join(unknown)}: not a class of the target; classes are {classes[:20]}")
    return Outcome(values=tuple(values))


def check_column(name: str, columns: list[str], option: str) -> None:
    """Refuse a column the data lacks, naming close matches as the target check does."""
    if name in columns:
        return
    close = difflib.get_close_matches(name, columns, n=3, cutoff=0.5)
    close += [c for c in columns if c.lower() == name.lower() and c not in close]
    hint = f"did you mean {', '.join(repr(c) for c in close)}?" if close else f"columns are {columns[:20]}"
    raise ConfigError(f"{option} column '{name}' is not in the data; {hint}")


def facet_groups(spec: FacetSpec, series: pd.Series) -> list[FacetGroup]:
    """Group d of each analysis the facet asks for, checked against the column's values (one-line errors)."""
    option = f"--facet {spec.text()}"
    numeric = _numbers(series) is not None
    if spec.threshold is not None:
        if not numeric:
            raise ConfigError(f"{option}: '{spec.column}' is not numeric; give values (--facet {spec.column}=V1,V2)")
        group = FacetGroup(spec.column, threshold=spec.threshold, name=f"({spec.threshold:g}, inf]")
        return [_nonempty(group, series, option)]
    counts = series.dropna().astype("string").value_counts()
    if spec.values:
        return [_valued(spec, series, counts, option)]
    if numeric and len(counts) > MAX_CATEGORY_NUMBERS:
        raise ConfigError(
            f"{option}: '{spec.column}' is numeric with {len(counts):,} values; give a threshold "
            f"(--facet '{spec.column}>T') or values (--facet {spec.column}=V1,V2)"
        )
    if len(counts) < 2:
        raise ConfigError(
            f"{option}: '{spec.column}' has {'no values' if counts.empty else 'a single value'}; no groups"
        )
    top = [str(v) for v in counts.index[:MAX_GROUPS]]
    groups = [FacetGroup(spec.column, (v,), name=v) for v in top]
    rest = tuple(str(v) for v in counts.index[MAX_GROUPS:])
    if rest:
        groups.append(FacetGroup(spec.column, rest, name=f"(the other {len(rest):,} values)"))
    return groups


def _valued(spec: FacetSpec, series: pd.Series, counts: pd.Series, option: str) -> FacetGroup:
    """The group of a facet's given values, each of which some row must hold."""
    missing = [v for v in spec.values if not value_mask(series, (v,)).any()]
    if missing:
        numbers = _numbers(series)
        if numbers is not None:  # close spellings of numbers mislead; a threshold is what a number takes
            seen = f"values run from {numbers.min():g} to {numbers.max():g}"
            hint = f"{seen}; or give a threshold: --facet '{spec.column}>T'"
        else:
            close = difflib.get_close_matches(missing[0], list(counts.index), n=3, cutoff=0.5)
            hint = f"did you mean {', '.join(map(repr, close))}?" if close else f"values are {list(counts.index[:20])}"
        raise ConfigError(f"{option}: no row has {spec.column} = {missing[0]!r}; {hint}")
    return _nonempty(FacetGroup(spec.column, spec.values, name=",".join(spec.values)), series, option)


def _nonempty(group: FacetGroup, series: pd.Series, option: str) -> FacetGroup:
    """The group, refused when no row is in it or every row is (group a, the other rows, would be empty)."""
    inside = int(group.mask(series).sum())
    if inside == 0:
        numbers = _numbers(series)
        seen = f"; values run from {numbers.min():g} to {numbers.max():g}" if numbers is not None else ""
        raise ConfigError(f"{option}: no row is in group d{seen}")
    if inside == len(series):
        raise ConfigError(f"{option}: every row is in group d, so group a (the other rows) would be empty")
    return group
