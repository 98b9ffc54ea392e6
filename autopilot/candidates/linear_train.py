"""The Linear Learner's batched training loop in torch: all models step on the same mini-batch at once.

Weights are one tensor of shape (models, features, outputs), so one einsum serves every model. Adam is written out
so that each model has its own learning rate; L1 and weight decay are per-model penalties in the loss. Each model
keeps the weights of its best validation-loss epoch and stops when that has not improved (by the relative
tolerance) for ``early_stopping_patience`` epochs.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F

from autopilot.candidates.shared import class_weights, proba_from_raw
from autopilot.candidates.torch_common import (
    column_scale,
    dense32,
    limit_threads,
    n_outputs,
    score,
    setup,
    train_threads,
)
from autopilot.metrics import BINARY, MULTICLASS, REGRESSION

if TYPE_CHECKING:
    from autopilot.candidates.linear_learner import LinearLearnerCandidate

BETAS, EPS = (0.9, 0.999), 1e-8
EVAL_BATCH = 65_536
MIN_STEPS_PER_EPOCH = 8  # small data: batches shrink so that each epoch takes at least this many steps


class _Batch:
    """Features, targets and per-row loss weights on the training device."""

    def __init__(self, X: np.ndarray, y: np.ndarray, weights: np.ndarray, device: torch.device, regression: bool):
        self.X = torch.from_numpy(X).to(device)
        self.y = torch.from_numpy(y.astype(np.float32 if regression else np.int64)).to(device)
        self.w = torch.from_numpy(weights[y] if not regression else np.ones(len(y), np.float32)).to(device)


def fit(model: LinearLearnerCandidate, X: object, y: np.ndarray, X_val: object, y_val: np.ndarray | None):
    device, generator = setup(model.device, model.seed)
    pt = model.problem_type
    Xd = dense32(X)
    model.n_classes_ = int(y.max()) + 1 if pt != REGRESSION else 0
    model.mean_, model.std_ = column_scale(Xd) if model.normalize_data else (0.0, 1.0)
    scale_label = pt == REGRESSION and model.normalize_label is not False
    model.y_mean_, model.y_std_ = (float(y.mean()), float(y.std()) or 1.0) if scale_label else (0.0, 1.0)
    cw = np.ones(max(model.n_classes_, 1), np.float32)
    if pt != REGRESSION:
        cw = class_weights(
            y,
            model.n_classes_,
            pt == MULTICLASS and model.balance_multiclass_weights,
            model.positive_example_weight_mult if pt == BINARY else None,
        )
    train = _Batch(_standardise(model, Xd), _target(model, y), cw, device, pt == REGRESSION)
    if X_val is None:
        val, y_val = train, y
    else:
        val = _Batch(_standardise(model, dense32(X_val)), _target(model, y_val), cw, device, pt == REGRESSION)
    batch = min(model.mini_batch_size, math.ceil(len(y) / MIN_STEPS_PER_EPOCH))
    with limit_threads(train_threads(model.num_models * batch * Xd.shape[1])):
        W, b = _train(model, train, val, device, generator)
        model.validation_scores_ = _scores(model, W, b, val, y_val)
    best = int(np.argmax(model.validation_scores_))
    model.model_index_ = best
    model.coef_ = W[best].double().cpu().numpy()
    model.intercept_ = b[best].double().cpu().numpy()
    model.settings_ = {k: float(v[best]) for k, v in model.model_settings().items()}
    return model


def _standardise(model: LinearLearnerCandidate, X: np.ndarray) -> np.ndarray:
    return ((X - model.mean_) / model.std_).astype(np.float32) if model.normalize_data else X


def _target(model: LinearLearnerCandidate, y: np.ndarray) -> np.ndarray:
    return (y - model.y_mean_) / model.y_std_ if model.problem_type == REGRESSION else y


def _losses(pt: str, logits: torch.Tensor, data: _Batch, rows: slice | torch.Tensor) -> torch.Tensor:
    """Weighted mean loss of each model over ``rows``: shape (models,)."""
    y, w = data.y[rows], data.w[rows]
    m, n = logits.shape[0], logits.shape[1]
    if pt == REGRESSION:
        per_row = 0.5 * (logits[..., 0] - y) ** 2
    elif pt == BINARY:
        per_row = F.binary_cross_entropy_with_logits(logits[..., 0], y.float().expand(m, n), reduction="none")
    else:
        per_row = F.cross_entropy(logits.reshape(m * n, -1), y.repeat(m), reduction="none").view(m, n)
    return (per_row * w).sum(dim=1) / w.sum()


def _train(model: LinearLearnerCandidate, train: _Batch, val: _Batch, device: torch.device, generator: torch.Generator):
    settings = {k: torch.tensor(v, dtype=torch.float32, device=device) for k, v in model.model_settings().items()}
    m, n, d = model.num_models, len(train.y), train.X.shape[1]
    k = n_outputs(model.problem_type, model.n_classes_)
    W = torch.zeros(m, d, k, device=device, requires_grad=True)
    b = torch.zeros(m, k, device=device, requires_grad=True)
    state = [(torch.zeros_like(p), torch.zeros_like(p)) for p in (W, b)]
    best_W, best_b = W.detach().clone(), b.detach().clone()
    best_loss = torch.full((m,), math.inf, device=device)
    waited = torch.zeros(m, dtype=torch.long, device=device)
    batch = max(1, min(model.mini_batch_size, math.ceil(n / MIN_STEPS_PER_EPOCH)))
    step = 0
    for _ in range(model.epochs):
        active = (waited < model.early_stopping_patience).float()
        for idx in torch.randperm(n, generator=generator).to(device).split(batch):
            logits = _logits(W, b, train.X[idx])
            penalty = settings["l1"] * W.abs().sum((1, 2)) + 0.5 * settings["wd"] * (W * W).sum((1, 2))
            grads = torch.autograd.grad((_losses(model.problem_type, logits, train, idx) + penalty).sum(), (W, b))
            step += 1
            _adam_step((W, b), grads, state, settings["learning_rate"] * active, step)
        with torch.no_grad():
            loss = _evaluate(model.problem_type, W, b, val)
            improved = loss < best_loss - model.early_stopping_tolerance * best_loss.abs().clamp(max=1e30)
            improved |= torch.isinf(best_loss)
            best_loss = torch.where(improved, loss, best_loss)
            best_W[improved], best_b[improved] = W[improved], b[improved]
            waited = torch.where(improved, torch.zeros_like(waited), waited + 1)
        if bool((waited >= model.early_stopping_patience).all()):
            break
    return best_W, best_b


def _adam_step(params: tuple, grads: tuple, state: list, lr: torch.Tensor, step: int) -> None:
    """Adam with one learning rate per model (the leading dimension); a model with rate 0 stands still."""
    with torch.no_grad():
        for p, g, (m1, m2) in zip(params, grads, state, strict=True):
            m1.mul_(BETAS[0]).add_(g, alpha=1 - BETAS[0])
            m2.mul_(BETAS[1]).addcmul_(g, g, value=1 - BETAS[1])
            update = (m1 / (1 - BETAS[0] ** step)) / ((m2 / (1 - BETAS[1] ** step)).sqrt() + EPS)
            p.sub_(lr.view(-1, *([1] * (p.dim() - 1))) * update)


def _logits(W: torch.Tensor, b: torch.Tensor, X: torch.Tensor) -> torch.Tensor:
    return torch.einsum("bd,mdk->mbk", X, W) + b[:, None, :]


def _evaluate(pt: str, W: torch.Tensor, b: torch.Tensor, data: _Batch) -> torch.Tensor:
    """Each model's weighted loss over all rows, in row batches."""
    total = torch.zeros(W.shape[0], device=W.device)
    weight = data.w.sum()
    for start in range(0, len(data.y), EVAL_BATCH):
        rows = slice(start, start + EVAL_BATCH)
        total += _losses(pt, _logits(W, b, data.X[rows]), data, rows) * data.w[rows].sum() / weight
    return total


def _scores(model: LinearLearnerCandidate, W: torch.Tensor, b: torch.Tensor, val: _Batch, y_val: np.ndarray):
    """Each model's validation score on the objective (larger is better); NaN scores rank last."""
    with torch.no_grad():
        raw = torch.cat([_logits(W, b, val.X[s : s + EVAL_BATCH]) for s in range(0, len(val.y), EVAL_BATCH)], 1)
    raw = raw.double().cpu().numpy()
    scores = []
    for out in raw:
        if model.problem_type == REGRESSION:
            output = out[:, 0] * model.y_std_ + model.y_mean_
        else:
            output = proba_from_raw(out, model.problem_type)
        try:
            value = score(model.metric, model.problem_type, y_val, output)
        except ValueError:
            value = math.nan
        scores.append(value if np.isfinite(value) else -math.inf)
    return np.asarray(scores)
