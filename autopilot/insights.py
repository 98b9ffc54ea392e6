"""Per-column insights for the data-exploration notebook: prediction power, outliers, and plain-language suggestions.

>>> import pandas as pd
>>> frame = pd.DataFrame({"x": list(range(100)), "y": ["a"] * 50 + ["b"] * 50})
>>> prediction_power(frame, "y", {"x": "numeric"}, classification=True)["x"]
1.0
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

POWER_SAMPLE = 20_000
POWER_FOLDS = 3
OUTLIER_IQR = 3.0  # a value past 3 interquartile ranges beyond the quartiles is an outlier ("far out", Tukey)


def prediction_power(frame: pd.DataFrame, target: str, kinds: dict[str, str], classification: bool) -> pd.Series:
    """Each feature's power to predict the target alone, 0 (none) to 1 (perfect), best first.

    A depth-4 decision tree on the one column, cross-validated (3 folds, seeded) on up to 20,000 rows: for classes,
    balanced accuracy rescaled so that guessing scores 0; for numbers, R² (floored at 0). Categories are coded by
    frequency, dates as numbers, free text by its length; missing values stay missing (the tree routes them)."""
    rows = frame[frame[target].notna()]
    rows = rows.sample(POWER_SAMPLE, random_state=0) if len(rows) > POWER_SAMPLE else rows
    y = rows[target].astype(str) if classification else rows[target].astype(float)
    n_classes = y.nunique() if classification else 0
    power = {}
    for name, kind in kinds.items():
        x = _as_number(rows[name], kind).to_frame()
        if classification:
            folds = StratifiedKFold(POWER_FOLDS, shuffle=True, random_state=0)
            model = DecisionTreeClassifier(max_depth=4, random_state=0)
            score = cross_val_score(model, x, y, cv=folds, scoring="balanced_accuracy").mean()
            power[name] = max(0.0, (score - 1 / n_classes) / (1 - 1 / n_classes))
        else:
            model = DecisionTreeRegressor(max_depth=4, random_state=0)
            folds = KFold(POWER_FOLDS, shuffle=True, random_state=0)
            power[name] = max(0.0, cross_val_score(model, x, y, cv=folds, scoring="r2").mean())
    return pd.Series(power, name="prediction_power", dtype=float).round(4).sort_values(ascending=False)


def _as_number(values: pd.Series, kind: str) -> pd.Series:
    if kind == "datetime":
        stamps = pd.to_datetime(values, errors="coerce")
        return (stamps - pd.Timestamp("1970-01-01")).dt.total_seconds()
    if kind == "text":
        return values.astype("string").str.len().astype(float)
    if kind in ("categorical", "boolean") or not pd.api.types.is_numeric_dtype(values):
        codes = values.astype(str).where(values.notna()).map(values.value_counts(dropna=True).rank(method="first"))
        return codes.astype(float)
    return values.astype(float)


def outliers(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Per numeric column: the quartiles, the fences 3 IQR beyond them, and how many values fall outside."""
    out = []
    for name in columns:
        values = pd.to_numeric(frame[name], errors="coerce").dropna()
        if values.empty:
            continue
        q1, q3 = np.percentile(values, [25, 75])
        low, high = q1 - OUTLIER_IQR * (q3 - q1), q3 + OUTLIER_IQR * (q3 - q1)
        count = int(((values < low) | (values > high)).sum())
        out.append(
            {
                "column": name,
                "q1": q1,
                "q3": q3,
                "low_fence": low,
                "high_fence": high,
                "outliers": count,
                "outliers_pct": round(100 * count / len(values), 3),
            }
        )
    return pd.DataFrame(out, columns=["column", "q1", "q3", "low_fence", "high_fence", "outliers", "outliers_pct"])


ADVICE = {
    "id_like": "Autopilot dropped it. If it is not an identifier, rename it or convert it to a number or category.",
    "constant": "Autopilot dropped it: a single value carries no signal.",
    "mostly_missing": "Autopilot imputes it and adds a missing-value indicator. Check why it is missing; if the "
    "missingness itself means something, keep it, else consider dropping the column.",
    "high_cardinality": "Autopilot groups the rare categories (under 1% of rows) into one. If the values have an "
    "order or a hierarchy, a numeric or coarser encoding may work better.",
    "duplicate_rows": "Duplicates weigh those rows twice and can leak between train and validation; drop them unless "
    "they are genuine repeats.",
    "target_leakage": "If this column is only known after the outcome, drop it: the model would look better in "
    "validation than it will in use.",
    "class_imbalance": "The objective and the balanced class weights that some candidates try take this into account; "
    "consider BalancedAccuracy, F1 or AUC as the objective, and collect more rows of the rare class.",
}


def suggestions(profile: dict, outlier_table: pd.DataFrame | None = None) -> list[str]:
    """Plain-language suggestions: each profile warning with what autopilot did and what a person may do, then the
    columns with outliers."""
    out = [f"{w['message']}. {ADVICE.get(w['kind'], '')}".strip() for w in profile.get("warnings", [])]
    if outlier_table is not None:
        for row in outlier_table[outlier_table["outliers"] > 0].itertuples():
            out.append(
                f"'{row.column}' has {row.outliers} values ({row.outliers_pct:g}%) outside [{row.low_fence:.4g}, "
                f"{row.high_fence:.4g}], 3 interquartile ranges beyond its quartiles. Robust scaling limits their "
                "pull on linear models and the MLP; check they are not entry errors."
            )
    return out or ["Nothing stood out: no warnings from the profile and no outliers."]
