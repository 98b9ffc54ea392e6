"""What the torch candidates share: dense float32 inputs, seeded generators, class weights, scoring, batched predict.

Imported only when a torch candidate fits or predicts, so loading data and XGBoost alone never pay for torch.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import scipy.sparse as sp
import torch

from autopilot.device import resolve_device
from autopilot.metrics import BINARY, MULTICLASS, REGRESSION, get_metric

PREDICT_BATCH = 65_536
ELEMENTS_PER_THREAD = 1 << 19  # while training, one torch thread per this many elements in a step's largest tensor


def dense32(X: object) -> np.ndarray:
    """The feature matrix as a C-contiguous float32 array (sparse input is densified)."""
    if sp.issparse(X):
        X = X.toarray()
    return np.ascontiguousarray(np.asarray(X, dtype=np.float32))


def column_scale(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-column mean and standard deviation (1 where a column is constant), for standardising."""
    mean = X.mean(axis=0, dtype=np.float64).astype(np.float32)
    std = X.std(axis=0, dtype=np.float64).astype(np.float32)
    return mean, np.where(std > 1e-12, std, 1.0).astype(np.float32)


def setup(device: str, seed: int) -> tuple[torch.device, torch.Generator]:
    """The device to train on and a seeded CPU generator that drives initialisation and shuffling."""
    torch.manual_seed(seed)
    return torch.device(resolve_device(device)), torch.Generator().manual_seed(seed)


def probabilities(logits: torch.Tensor, problem_type: str) -> torch.Tensor:
    """Class probabilities from logits (one logit per row for binary, one per class for multiclass)."""
    if problem_type == BINARY:
        p = torch.sigmoid(logits[..., 0])
        return torch.stack([1 - p, p], dim=-1)
    return torch.softmax(logits, dim=-1)


def score(metric: str | None, problem_type: str, y: np.ndarray, output: np.ndarray) -> float:
    """The objective on validation, oriented so that larger is better; ``output`` is probabilities or predictions."""
    m = get_metric(metric, problem_type)
    value = m.score(y, output) if problem_type == REGRESSION else m.score(y, output.argmax(axis=1), output)
    return value if m.greater_is_better else -value


def predict_batched(forward: object, X: np.ndarray, device: torch.device) -> np.ndarray:
    """Run ``forward`` over rows in batches without gradients; returns a float64 array on the CPU."""
    outputs = []
    with torch.no_grad():
        for start in range(0, len(X), PREDICT_BATCH):
            batch = torch.from_numpy(X[start : start + PREDICT_BATCH]).to(device)
            outputs.append(forward(batch).float().cpu().numpy())
    return np.concatenate(outputs).astype(np.float64)


def n_outputs(problem_type: str, n_classes: int) -> int:
    return n_classes if problem_type == MULTICLASS else 1


def train_threads(step_elements: int) -> int:
    """Torch threads for training: one per ``ELEMENTS_PER_THREAD`` elements of a step's largest tensor (the MLP's
    batch x width, the Linear Learner's models x batch x features). Small data gets one: on tensors this small a
    second thread gains little, and when another process keeps a core busy (another trial, on 2 cores) threads
    waiting for each other made fits 5 to 30 times slower in our measurements."""
    return max(1, step_elements // ELEMENTS_PER_THREAD)


@contextmanager
def limit_threads(count: int) -> Iterator[None]:
    """At most ``count`` intra-op threads for a block, then torch's setting as it was."""
    before = torch.get_num_threads()
    torch.set_num_threads(max(1, min(count, before)))
    try:
        yield
    finally:
        torch.set_num_threads(before)
