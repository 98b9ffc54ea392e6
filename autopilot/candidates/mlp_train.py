"""The MLP's network and training loop in torch. Weights are kept on the CPU after training, so a pipeline trained on
a GPU predicts on a machine without one."""

from __future__ import annotations

import copy
import math
import time
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from autopilot.candidates.shared import class_weights
from autopilot.candidates.torch_common import (
    column_scale,
    dense32,
    limit_threads,
    n_outputs,
    predict_batched,
    setup,
    train_threads,
)
from autopilot.device import cuda_available
from autopilot.metrics import MULTICLASS, REGRESSION

if TYPE_CHECKING:
    from autopilot.candidates.mlp import MLPCandidate

EVAL_BATCH = 65_536
EVAL_MAX_ROWS = 10_000  # early stopping watches a seeded sample of at most this many validation rows
PATIENCE_STEPS = 50  # early stopping waits about this many optimiser steps, in whole epochs (3 to model.patience)


class TabularNet(nn.Module):
    """Numeric columns first, then one integer-code column per categorical (code 0: missing, unseen or rare)."""

    def __init__(self, n_numeric: int, cardinalities: list[int], n_out: int, layers: int, width: int, dropout: float):
        super().__init__()
        self.n_numeric = n_numeric
        self.embeddings = nn.ModuleList(nn.Embedding(c, _embedding_dim(c)) for c in cardinalities)
        size = n_numeric + sum(e.embedding_dim for e in self.embeddings)
        blocks: list[nn.Module] = []
        for _ in range(layers):
            blocks += [nn.Linear(size, width), nn.BatchNorm1d(width), nn.SiLU(), nn.Dropout(dropout)]
            size = width
        self.body = nn.Sequential(*blocks)
        self.head = nn.Linear(size, n_out)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        parts = [X[:, : self.n_numeric]]
        codes = X[:, self.n_numeric :].long()
        parts += [emb(codes[:, i]) for i, emb in enumerate(self.embeddings)]
        return self.head(self.body(torch.cat(parts, dim=1)))


def _embedding_dim(cardinality: int) -> int:
    """fastai's rule of thumb, capped at 32."""
    return max(2, min(32, round(1.6 * cardinality**0.56)))


def fit(model: MLPCandidate, X: object, y: np.ndarray, X_val: object, y_val: np.ndarray | None, cards: list[int]):
    device, generator = setup(model.device, model.seed)
    pt = model.problem_type
    Xd = dense32(X)
    n_numeric = Xd.shape[1] - len(cards)
    model.n_classes_ = int(y.max()) + 1 if pt != REGRESSION else 0
    model.cardinalities_ = cards
    model.mean_, model.std_ = _numeric_scale(Xd, n_numeric)
    model.y_mean_, model.y_std_ = (float(y.mean()), float(y.std()) or 1.0) if pt == REGRESSION else (0.0, 1.0)
    net = TabularNet(
        n_numeric, cards, n_outputs(pt, model.n_classes_), model.num_layers, model.layer_width, model.dropout
    ).to(device)
    loss_fn = _loss(model, y, device)
    train = (_tensor(model, Xd, device), _target(model, y, device))
    val = train if X_val is None else (_tensor(model, dense32(X_val), device), _target(model, y_val, device))
    val = _capped(val, generator)
    model.stopped_by_time_ = False
    with limit_threads(train_threads(min(model.batch_size, len(y)) * model.layer_width)):
        model.epochs_trained_, model.best_epoch_ = _train(model, net, loss_fn, train, val, device, generator)
    model.network_ = net.cpu().eval()
    return model


def _numeric_scale(X: np.ndarray, n_numeric: int) -> tuple[np.ndarray, np.ndarray]:
    mean, std = column_scale(X[:, :n_numeric])
    codes = X.shape[1] - n_numeric  # code columns pass through unchanged
    return np.concatenate([mean, np.zeros(codes, np.float32)]), np.concatenate([std, np.ones(codes, np.float32)])


def _capped(data: tuple, generator: torch.Generator) -> tuple:
    """At most ``EVAL_MAX_ROWS`` validation rows (a seeded sample) for the per-epoch early-stopping check."""
    X, y = data
    if len(y) <= EVAL_MAX_ROWS:
        return data
    keep = torch.randperm(len(y), generator=generator)[:EVAL_MAX_ROWS].sort().values.to(X.device)
    return X[keep], y[keep]


def _tensor(model: MLPCandidate, X: np.ndarray, device: torch.device) -> torch.Tensor:
    return torch.from_numpy(((X - model.mean_) / model.std_).astype(np.float32)).to(device)


def _target(model: MLPCandidate, y: np.ndarray, device: torch.device) -> torch.Tensor:
    if model.problem_type == REGRESSION:
        return torch.from_numpy(((y - model.y_mean_) / model.y_std_).astype(np.float32)).to(device)
    return torch.from_numpy(y.astype(np.int64)).to(device)


def _loss(model: MLPCandidate, y: np.ndarray, device: torch.device) -> nn.Module:
    if model.problem_type == REGRESSION:
        return _SquaredError()
    weights = class_weights(y, model.n_classes_, model.class_weight == "balanced")
    if model.problem_type == MULTICLASS:
        return nn.CrossEntropyLoss(weight=torch.from_numpy(weights).to(device))
    return _WeightedBCE(float(weights[1] / weights[0]))


class _SquaredError(nn.Module):
    def forward(self, output: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return nn.functional.mse_loss(output[:, 0], y)


class _WeightedBCE(nn.Module):
    def __init__(self, pos_weight: float) -> None:
        super().__init__()
        self.pos_weight = pos_weight

    def forward(self, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        pos_weight = torch.tensor(self.pos_weight, device=logits.device)
        return nn.functional.binary_cross_entropy_with_logits(logits[:, 0], y.float(), pos_weight=pos_weight)


def _train(model, net, loss_fn, train, val, device, generator) -> tuple[int, int]:
    """Mini-batch AdamW with warm-up and cosine decay; returns (epochs run, best epoch) and leaves the best weights.

    With ``model.max_seconds``, no epoch starts that would end past it if it took as long as the mean one so far."""
    X, y = train
    n = len(y)
    batch = max(2, min(model.batch_size, n))
    steps_per_epoch = max(1, n // batch)  # the last partial batch is dropped: batch norm needs 2+ rows
    optimizer = torch.optim.AdamW(net.parameters(), lr=model.learning_rate, weight_decay=model.weight_decay, fused=True)
    patience = patience_epochs(steps_per_epoch, model.patience)
    started = time.monotonic()
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, _warmup_cosine(steps_per_epoch, model.max_epochs))
    best_loss, best_state, best_epoch, epoch = math.inf, copy.deepcopy(net.state_dict()), 0, 0
    autocast = torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.type == "cuda")
    for epoch in range(1, model.max_epochs + 1):
        net.train()
        order = torch.randperm(n, generator=generator).to(device)
        for step in range(steps_per_epoch):
            idx = order[step * batch : (step + 1) * batch]
            with autocast:
                loss = loss_fn(net(X[idx]).float(), y[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
        val_loss = _evaluate(net, loss_fn, val, autocast)
        if best_epoch == 0 or val_loss < best_loss - 1e-6 * abs(best_loss):
            best_loss, best_state, best_epoch = val_loss, copy.deepcopy(net.state_dict()), epoch
        elif epoch - best_epoch >= patience:
            break
        if _out_of_time(model, started, epoch):
            model.stopped_by_time_ = True
            break
    net.load_state_dict(best_state)
    return epoch, best_epoch


def patience_epochs(steps_per_epoch: int, most: int) -> int:
    """Epochs without improvement before stopping: about ``PATIENCE_STEPS`` steps, at least 3 epochs and at most
    ``most``. Small data (a few steps per epoch) waits the full ``most``; large data, whose epochs are long and whose
    validation loss is steady, stops after 3."""
    return max(min(3, most), min(most, math.ceil(PATIENCE_STEPS / steps_per_epoch)))


def _out_of_time(model: MLPCandidate, started: float, epochs: int) -> bool:
    """Whether another epoch, as long as the mean one so far, would end past ``model.max_seconds``."""
    if model.max_seconds is None:
        return False
    elapsed = time.monotonic() - started
    return elapsed + elapsed / epochs > model.max_seconds


def _warmup_cosine(steps_per_epoch: int, epochs: int):
    total, warmup = steps_per_epoch * epochs, steps_per_epoch

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return 0.5 * (1 + math.cos(math.pi * min(1.0, (step - warmup) / max(1, total - warmup))))

    return factor


def _evaluate(net: nn.Module, loss_fn: nn.Module, data: tuple, autocast) -> float:
    X, y = data
    net.eval()
    total = 0.0
    with torch.no_grad(), autocast:
        for start in range(0, len(y), EVAL_BATCH):
            rows = slice(start, start + EVAL_BATCH)
            total += float(loss_fn(net(X[rows]).float(), y[rows])) * len(y[rows])
    return total / len(y)


def raw_outputs(model: MLPCandidate, X: object) -> np.ndarray:
    """The network's outputs (logits, or the standardised regression value) on the GPU if allowed and present."""
    device = torch.device("cuda" if model.device != "cpu" and cuda_available() else "cpu")
    net = model.network_.to(device).eval()
    try:
        return predict_batched(net, ((dense32(X) - model.mean_) / model.std_).astype(np.float32), device)
    finally:
        model.network_ = net.cpu()
