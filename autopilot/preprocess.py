"""Feature pipelines built from a profile: coerce types, impute with indicators, scale, one-hot, dates, TF-IDF."""

from __future__ import annotations

import datetime

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, RobustScaler

from autopilot.data.numbers import read_numbers
from autopilot.data.types import ColumnKind
from autopilot.errors import DataError, PredictionError

DATE_PARTS = ("year", "month", "day", "day_of_week", "day_of_year", "hour")
MISSING_CATEGORY = "__missing__"


def feature_kinds(profile: dict, target: str) -> dict[str, str]:
    """The columns used as features and their kinds: the target, identifiers and constant columns are dropped."""
    kinds = {
        c["name"]: c["kind"]
        for c in profile["column_profiles"]
        if c["name"] != target and c["kind"] != ColumnKind.IDENTIFIER.value and not c["constant"]
    }
    if not kinds:
        raise DataError("no usable feature columns: every column besides the target is an ID, constant or unsupported")
    return kinds


def build_preprocessor(
    profile: dict, target: str, one_hot_min_frequency: float = 0.01, categorical_encoding: str = "onehot"
) -> Pipeline:
    """A scikit-learn pipeline taking a raw DataFrame to a feature matrix.

    ``categorical_encoding="ordinal"`` (for models with embeddings) turns each categorical column into one column of
    integer codes instead, placed last in a dense matrix: 0 for missing, unseen and rare values, then 1, 2, ...

    >>> pre = build_preprocessor(profile, "species")  # doctest: +SKIP
    >>> pre.fit_transform(train_df)  # doctest: +SKIP
    """
    coercer = make_coercer(profile, target)
    kinds = coercer.kinds
    by_kind = {k.value: [n for n, kind in kinds.items() if kind == k.value] for k in ColumnKind}
    parts: list[tuple] = []
    if by_kind["numeric"]:
        numeric = Pipeline([("impute", _imputer("median")), ("scale", RobustScaler())])
        parts.append(("numeric", numeric, by_kind["numeric"]))
    if by_kind["boolean"]:
        parts.append(("boolean", _imputer("most_frequent"), by_kind["boolean"]))
    if by_kind["categorical"] and categorical_encoding == "onehot":
        onehot = OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=one_hot_min_frequency)
        impute = SimpleImputer(strategy="constant", fill_value=MISSING_CATEGORY, keep_empty_features=True)
        parts.append(("categorical", Pipeline([("impute", impute), ("onehot", onehot)]), by_kind["categorical"]))
    if by_kind["datetime"]:
        dates = Pipeline([("parts", DateParts()), ("impute", _imputer("median")), ("scale", RobustScaler())])
        parts.append(("datetime", dates, by_kind["datetime"]))
    for name in by_kind["text"]:
        tfidf = TfidfVectorizer(max_features=2000, ngram_range=(1, 2), sublinear_tf=True, dtype=np.float32)
        parts.append((f"text_{name}", tfidf, name))
    if categorical_encoding not in ("onehot", "ordinal"):
        raise ValueError(f"categorical_encoding must be 'onehot' or 'ordinal'; got {categorical_encoding!r}")
    sparse_threshold = 0.3
    if categorical_encoding == "ordinal":
        sparse_threshold = 0.0
        if by_kind["categorical"]:
            parts.append(("categorical", CategoryCodes(one_hot_min_frequency), by_kind["categorical"]))
    features = ColumnTransformer(parts, remainder="drop", sparse_threshold=sparse_threshold)
    return Pipeline([("coerce", coercer), ("features", features)])


def make_coercer(profile: dict, target: str) -> ColumnCoercer:
    """The one cast every row takes to a trained pipeline (HPO and AutoGluon alike): each feature column to its
    training kind, booleans by their training true value, dates with the format learned when the data was read."""
    kinds = feature_kinds(profile, target)
    columns = [c for c in profile["column_profiles"] if c["name"] in kinds]
    true_values = {c["name"]: c.get("true_value") for c in columns}
    date_formats = {c["name"]: c["date_format"] for c in columns if c.get("date_format")}
    number_formats = {c["name"]: c["number_format"] for c in columns if c.get("number_format")}
    return ColumnCoercer(kinds, true_values, date_formats, number_formats)


def seconds_of_day(s: pd.Series) -> pd.Series:
    """Times of day (``datetime.time``, or text ``H:MM``, ``HH:MM:SS[.f]``) as seconds since midnight, as a time
    column is read at training; NaN for anything else."""
    text = s.map(lambda v: v.isoformat() if isinstance(v, datetime.time) else str(v).strip())
    parts = text.str.extract(r"^(\d{1,2}):(\d{2})(?::(\d{2}(?:\.\d+)?))?$").astype("float64")
    return parts[0] * 3600 + parts[1] * 60 + parts[2].fillna(0.0)


def _imputer(strategy: str) -> SimpleImputer:
    return SimpleImputer(strategy=strategy, add_indicator=True, keep_empty_features=True)


def require_columns(X: pd.DataFrame, columns: list[str]) -> None:
    """Refuse input that lacks any of ``columns``, naming them."""
    missing = [c for c in columns if c not in X.columns]
    if missing:
        raise PredictionError(f"input lacks column(s) {missing} used by the model; add them (values may be empty)")


class ColumnCoercer(TransformerMixin, BaseEstimator):
    """Cast each feature column to its training kind, so rows read another way (a new CSV, a JSON request, a typed
    DataFrame) reach the model as the same values. Dates are read with the format learned at training.

    Refuses input that lacks a feature column, naming the columns. Unparseable values become missing.
    """

    def __init__(
        self,
        kinds: dict[str, str] | None = None,
        true_values: dict | None = None,
        date_formats: dict | None = None,
        number_formats: dict | None = None,
    ) -> None:
        self.kinds = kinds
        self.true_values = true_values
        self.date_formats = date_formats
        self.number_formats = number_formats

    def fit(self, X: pd.DataFrame, y: object = None) -> ColumnCoercer:
        self.n_features_in_ = len(self.kinds or {})
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        kinds = self.kinds or {}
        require_columns(X, list(kinds))
        return pd.DataFrame({name: self._coerce(X[name], kind) for name, kind in kinds.items()}, index=X.index)

    def transform_column(self, s: pd.Series, kind: str) -> pd.Series:
        """One column (named as at training) cast to ``kind`` as ``transform`` casts it."""
        return self._coerce(s, kind)

    def _coerce(self, s: pd.Series, kind: str) -> pd.Series:
        if kind == "numeric":
            return self._numbers(s)
        if kind == "boolean":
            true = (self.true_values or {}).get(s.name, True)
            text = s.astype("object").map(lambda v: None if pd.isna(v) else str(v).strip().lower())
            flag = text == str(true).strip().lower()
            return flag.astype("float64").where(text.notna())
        if kind == "datetime":
            return self._dates(s)
        if kind == "text":
            return s.astype("object").map(lambda v: "" if pd.isna(v) else str(v))
        return s.astype("object").map(lambda v: np.nan if pd.isna(v) or not str(v).strip() else str(v).strip())

    def _numbers(self, s: pd.Series) -> pd.Series:
        """As at training: text in the column's written format (``1.234,5``, ``$12``, ``45%``) if it had one, times
        of day as seconds since midnight, infinities as missing."""
        fmt = (getattr(self, "number_formats", None) or {}).get(s.name)  # None in pipelines saved before it
        text = s.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool) if fmt else None
        values = pd.to_numeric(s if not fmt else s.mask(text), errors="coerce").astype("float64")
        if fmt and text.any():
            values[text] = read_numbers(s[text], fmt)
        unread = values.isna() & s.notna()
        if unread.any():
            values[unread] = seconds_of_day(s[unread])
        return values.replace([np.inf, -np.inf], np.nan)

    def _dates(self, s: pd.Series) -> pd.Series:
        if not _is_datetime(s):  # text is read with the training format; date and datetime objects as they are
            fmt = (getattr(self, "date_formats", None) or {}).get(s.name)  # None in pipelines saved before it
            text = s.map(lambda v: isinstance(v, str))
            parsed = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns, UTC]")
            if text.any():
                parsed[text] = pd.to_datetime(s[text].str.strip(), format=fmt, errors="coerce", utc=True)
            if (~text & s.notna()).any():
                parsed[~text & s.notna()] = pd.to_datetime(s[~text & s.notna()], errors="coerce", utc=True)
            s = parsed
        s = s.dt.tz_convert(None) if getattr(s.dt, "tz", None) is not None else s
        return s.astype("datetime64[ns]")  # one unit: a model that reads dates as numbers sees the same numbers

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        return np.asarray(list(self.kinds or {}), dtype=object)


class CategoryCodes(TransformerMixin, BaseEstimator):
    """One integer code per categorical column: 0 for missing, unseen or rare (under ``min_frequency`` of rows)
    values, 1..n for the others in sorted order. ``cardinalities_`` gives each column's number of codes."""

    def __init__(self, min_frequency: float = 0.01) -> None:
        self.min_frequency = min_frequency

    def fit(self, X: pd.DataFrame, y: object = None) -> CategoryCodes:
        self.feature_names_in_ = np.asarray(list(X.columns), dtype=object)
        self.categories_ = []
        for name in X.columns:
            counts = X[name].dropna().astype(str).value_counts()
            kept = counts[counts >= max(1, self.min_frequency * len(X))].index
            self.categories_.append(sorted(kept))
        self.cardinalities_ = [len(c) + 1 for c in self.categories_]
        return self

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        codes = []
        for name, categories in zip(self.feature_names_in_, self.categories_, strict=True):
            column = X[name]
            code = pd.Index(categories).get_indexer(column.astype(str)).astype(np.float64) + 1  # unseen: -1 + 1
            code[column.isna().to_numpy()] = 0
            codes.append(code)
        return np.column_stack(codes) if codes else np.zeros((len(X), 0))

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        names = self.feature_names_in_ if input_features is None else input_features
        return np.asarray([f"{c}_code" for c in names], dtype=object)


def categorical_cardinalities(preprocessor: Pipeline) -> list[int]:
    """Codes per categorical column of an ordinal-mode preprocessor (its last columns); [] if it has none."""
    features = preprocessor.named_steps["features"]
    codes = features.named_transformers_.get("categorical")
    return list(codes.cardinalities_) if isinstance(codes, CategoryCodes) else []


class DateParts(TransformerMixin, BaseEstimator):
    """Year, month, day, day of week, day of year and hour of each datetime column (NaN where missing)."""

    def fit(self, X: pd.DataFrame, y: object = None) -> DateParts:
        self.feature_names_in_ = np.asarray(list(X.columns), dtype=object)
        return self

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        columns = [getattr(X[c].dt, part).astype("float64") for c in X.columns for part in DATE_PARTS]
        return np.column_stack([c.to_numpy() for c in columns])

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        names = self.feature_names_in_ if input_features is None else input_features
        return np.asarray([f"{c}_{p}" for c in names for p in DATE_PARTS], dtype=object)


def _is_datetime(s: pd.Series) -> bool:
    return pd.api.types.is_datetime64_any_dtype(s)
