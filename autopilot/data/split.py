"""A seeded train / validation split, stratified for classification."""

from __future__ import annotations

import numpy as np
import pandas as pd

from autopilot.errors import TargetError


def validation_share(rows: int, tuning: bool) -> float:
    """The share of labelled rows held out when the user gives none, by AutoGluon's rule (``default_holdout_frac``):
    20% up to 2,500 rows, falling to 10% at 5,000 and on to keep about 2,500 rows (at least 1%); doubled, at most
    20%, when the rows rank many tuned trials (HPO), which overfit a small holdout."""
    small = max(0.1, min(0.2, 500.0 / max(rows, 1)))
    share = small if rows < 5000 else max(0.01, min(0.1, 2500.0 / rows))
    return min(0.2, 2 * share) if tuning else share


def split_train_validation(
    y: pd.Series, classification: bool, fraction: float = 0.2, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Row indices of the train and validation parts; each class keeps its share in both when classifying."""
    if not 0 < fraction < 1:
        raise TargetError(f"validation fraction must be between 0 and 1; got {fraction}")
    n_classes = y.nunique() if classification else 1
    if classification:
        counts = y.value_counts()
        if counts.min() < 2:
            raise TargetError(
                f"class {counts.idxmin()!r} of '{y.name}' has a single row, too few to train and validate on; "
                "drop that row or collect more"
            )
    n_val = max(round(len(y) * fraction), n_classes)
    if len(y) - n_val < max(n_classes, 2):
        raise TargetError(f"only {len(y)} rows have a target; give at least 10 rows to train and validate")
    from sklearn.model_selection import train_test_split  # imported here so loading data does not pull sklearn

    rows = np.arange(len(y))
    train, val = train_test_split(
        rows, test_size=n_val, random_state=seed, stratify=y.to_numpy() if classification else None
    )
    return np.sort(train), np.sort(val)


def stopping_split(y: pd.Series, classification: bool, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The split of a fold's training rows for early stopping: as ``split_train_validation``, except that a class
    with a single row there (one of two in the data, the other in the scored fold) keeps it in the train part."""
    counts = y.value_counts() if classification else pd.Series(dtype=int)
    single = y.isin(counts.index[counts < 2]).to_numpy()
    if not single.any():
        return split_train_validation(y, classification, fraction, seed)
    rest = np.flatnonzero(~single)
    train, val = split_train_validation(y.iloc[rest].reset_index(drop=True), classification, fraction, seed)
    return np.sort(np.concatenate([rest[train], np.flatnonzero(single)])), rest[val]
