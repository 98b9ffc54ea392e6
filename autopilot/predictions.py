"""predictions.parquet: the out-of-sample predictions a trial was scored on (encoded truth, prediction and class
probabilities), beside its result; the report's insights are drawn from them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from autopilot.io import atomic_path

PREDICTIONS_FILE = "predictions.parquet"


def write_predictions(
    path: Path, truth: np.ndarray, codes: np.ndarray, proba: np.ndarray | None, classes: list
) -> None:
    """The out-of-sample predictions a trial was scored on: encoded truth, prediction and class probabilities."""
    frame = pd.DataFrame({"truth": truth, "predicted": codes})
    for i, c in enumerate(classes if proba is not None else []):
        frame[f"proba_{c}"] = proba[:, i]
    with atomic_path(path) as tmp:
        frame.to_parquet(tmp, index=False)


def read_predictions(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    frame = pd.read_parquet(path)
    proba = frame.filter(like="proba_").to_numpy(dtype=np.float64)
    return frame["truth"].to_numpy(), frame["predicted"].to_numpy(), proba if proba.shape[1] else None
