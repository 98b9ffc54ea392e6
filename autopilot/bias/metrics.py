"""Clarify's bias metrics, computed from counts (``../shared/specs/clarify-bias.md``; the formulas of the reference
implementation, smclarify).

Every metric but the flip test is a function of one count table: ``table[g, s, y, p]`` counts the rows of stratum
``g`` of the group variable (one stratum without one), side ``s`` (0: group a, 1: group d, the facet), label ``y``
and predicted label ``p`` (1: the positive outcome). Pre-training metrics read the labels only. Counting once makes a
million rows cheap and lets the bias drift resample the table (a bootstrap by multinomial draws) without the rows.

Division follows the reference code: 0/0 = 0, x/0 = ±infinity, and a difference of two equal infinities is 0. A
metric that cannot be computed (a group with no rows, no positive label anywhere) raises :class:`Undefined`, which
the analysis writes as a null value with the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

INF = float("inf")


class Undefined(ValueError):
    """A metric that has no value on these rows; the message says why."""


def divide(a: float, b: float) -> float:
    if b == 0:
        return 0.0 if a == 0 else (INF if a > 0 else -INF)
    return a / b


def difference(x: float, y: float) -> float:
    """``x - y``, and 0 when both are the same infinity."""
    return 0.0 if x == y and np.isinf(x) else x - y


@dataclass(frozen=True)
class Side:
    """One group's confusion counts (labels y, predictions p; 1 is the positive outcome)."""

    tn: float
    fp: float
    fn: float
    tp: float

    @classmethod
    def of(cls, table: np.ndarray, side: int) -> Side:
        t = table[:, side].sum(axis=0)
        return cls(float(t[0, 0]), float(t[0, 1]), float(t[1, 0]), float(t[1, 1]))

    @property
    def n(self) -> float:
        return self.tn + self.fp + self.fn + self.tp

    @property
    def labelled_positive(self) -> float:  # n(1)
        return self.tp + self.fn

    @property
    def labelled_negative(self) -> float:  # n(0)
        return self.tn + self.fp

    @property
    def predicted_positive(self) -> float:  # n̂(1)
        return self.tp + self.fp

    @property
    def predicted_negative(self) -> float:  # n̂(0)
        return self.tn + self.fn


def _sides(table: np.ndarray) -> tuple[Side, Side]:
    a, d = Side.of(table, 0), Side.of(table, 1)
    if d.n == 0:
        raise Undefined("group d has no rows here")
    if a.n == 0:
        raise Undefined("group a (every row outside the facet group) has no rows here")
    return a, d


# Pre-training: the tables below are (G, 2, 2, 2); only labels count, so predictions may be anything.


def ci(table: np.ndarray) -> float:
    a, d = _sides(table)
    return (a.n - d.n) / (a.n + d.n)


def dpl(table: np.ndarray) -> float:
    a, d = _sides(table)
    return a.labelled_positive / a.n - d.labelled_positive / d.n


def _label_shares(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """P_a and P_d over the label values present in both groups (not renormalised), as the reference does."""
    a, d = _sides(table)
    pa = np.array([a.labelled_negative, a.labelled_positive]) / a.n
    pd_ = np.array([d.labelled_negative, d.labelled_positive]) / d.n
    both = (pa > 0) & (pd_ > 0)
    if not both.any():
        raise Undefined("no label value occurs in both groups")
    return pa[both], pd_[both]


def kl(table: np.ndarray) -> float:
    pa, pd_ = _label_shares(table)
    return float(np.sum(pa * np.log(pa / pd_)))


def js(table: np.ndarray) -> float:
    pa, pd_ = _label_shares(table)
    p = (pa + pd_) / 2
    return float(0.5 * (np.sum(pa * np.log(pa / p)) + np.sum(pd_ * np.log(pd_ / p))))


def lp(table: np.ndarray) -> float:
    pa, pd_ = _label_shares(table)
    return float(np.linalg.norm(pa - pd_, 2))


def tvd(table: np.ndarray) -> float:
    pa, pd_ = _label_shares(table)
    return float(0.5 * np.linalg.norm(pa - pd_, 1))


def ks(table: np.ndarray) -> float:
    pa, pd_ = _label_shares(table)
    return float(np.max(np.abs(pa - pd_)))


def conditional_disparity(counts: np.ndarray) -> float:
    """CDD from ``counts[g, s, outcome]``: per stratum, d's share of the rejections minus its share of the
    acceptances (0 where a stratum has none), weighted by the stratum's rows."""
    accepted, rejected = counts[:, :, 1].sum(axis=1), counts[:, :, 0].sum(axis=1)
    if accepted.sum() == 0:
        raise Undefined("no row has the positive outcome")
    if rejected.sum() == 0:
        raise Undefined("every row has the positive outcome")
    a_share = np.divide(counts[:, 1, 1], accepted, out=np.zeros(len(counts)), where=accepted > 0)
    r_share = np.divide(counts[:, 1, 0], rejected, out=np.zeros(len(counts)), where=rejected > 0)
    rows = counts.sum(axis=(1, 2))
    return divide(float(np.sum(rows * (r_share - a_share))), float(rows.sum()))


def cddl(table: np.ndarray) -> float:
    return conditional_disparity(table.sum(axis=3))


# Post-training


def dppl(table: np.ndarray) -> float:
    a, d = _sides(table)
    return a.predicted_positive / a.n - d.predicted_positive / d.n


def di(table: np.ndarray) -> float:
    a, d = _sides(table)
    return divide(d.predicted_positive / d.n, a.predicted_positive / a.n)


def dcacc(table: np.ndarray) -> float:
    a, d = _sides(table)
    return difference(
        divide(a.labelled_positive, a.predicted_positive), divide(d.labelled_positive, d.predicted_positive)
    )


def dcr(table: np.ndarray) -> float:
    a, d = _sides(table)
    return difference(
        divide(d.labelled_negative, d.predicted_negative), divide(a.labelled_negative, a.predicted_negative)
    )


def rd(table: np.ndarray) -> float:
    a, d = _sides(table)
    return difference(divide(a.tp, a.labelled_positive), divide(d.tp, d.labelled_positive))


def dar(table: np.ndarray) -> float:
    a, d = _sides(table)
    return difference(divide(a.tp, a.predicted_positive), divide(d.tp, d.predicted_positive))


def drr(table: np.ndarray) -> float:
    a, d = _sides(table)
    return difference(divide(d.tn, d.predicted_negative), divide(a.tn, a.predicted_negative))


def sd(table: np.ndarray) -> float:
    a, d = _sides(table)
    return difference(divide(d.tn, d.labelled_negative), divide(a.tn, a.labelled_negative))


def ad(table: np.ndarray) -> float:
    a, d = _sides(table)
    return divide(a.tp + a.tn, a.n) - divide(d.tp + d.tn, d.n)


def te(table: np.ndarray) -> float:
    a, d = _sides(table)
    return difference(divide(d.fn, d.fp), divide(a.fn, a.fp))


def cddpl(table: np.ndarray) -> float:
    return conditional_disparity(table.sum(axis=2))


def ge(table: np.ndarray) -> float:
    """Generalized entropy (alpha 2) of the benefits p - y + 1 over every row: 0 for a false negative, 2 for a false
    positive, 1 otherwise."""
    t = table.sum(axis=(0, 1))
    n, fp, fn = float(t.sum()), float(t[0, 1]), float(t[1, 0])
    if n == 0:
        raise Undefined("no rows")
    mean = (n - fn + fp) / n  # (right * 1 + fp * 2 + fn * 0) / n
    if mean == 0:
        raise Undefined("every prediction is a false negative")
    right = n - fp - fn
    return (right / mean**2 + fp * (2 / mean) ** 2 - n) / (2 * n)


PRE_TRAINING: dict[str, Callable[[np.ndarray], float]] = {
    "CI": ci, "DPL": dpl, "KL": kl, "JS": js, "LP": lp, "TVD": tvd, "KS": ks, "CDDL": cddl,
}  # fmt: skip
POST_TRAINING: dict[str, Callable[[np.ndarray], float]] = {
    "DPPL": dppl, "DI": di, "DCAcc": dcacc, "DCR": dcr, "RD": rd, "DAR": dar, "DRR": drr, "SD": sd, "AD": ad,
    "TE": te, "CDDPL": cddpl, "GE": ge,
}  # fmt: skip
CONDITIONAL = {"CDDL", "CDDPL"}  # need a group variable


def count_table(
    side: np.ndarray, label: np.ndarray, predicted: np.ndarray | None, stratum: np.ndarray | None
) -> np.ndarray:
    """``table[g, s, y, p]`` from per-row booleans (side: in group d; label and predicted: the positive outcome) and
    stratum codes 0..G-1 (None: one stratum). Without predictions every row counts as predicted negative."""
    strata = 1 if stratum is None else int(stratum.max(initial=-1)) + 1
    g = np.zeros(len(side), dtype=np.int64) if stratum is None else stratum.astype(np.int64)
    p = np.zeros(len(side), dtype=np.int64) if predicted is None else predicted.astype(np.int64)
    index = ((g * 2 + side.astype(np.int64)) * 2 + label.astype(np.int64)) * 2 + p
    return np.bincount(index, minlength=max(strata, 1) * 8).reshape(max(strata, 1), 2, 2, 2).astype(np.float64)


def evaluate(metrics: dict[str, Callable[[np.ndarray], float]], table: np.ndarray) -> dict[str, float | str]:
    """Each metric's value, or the reason it has none (a string)."""
    values: dict[str, float | str] = {}
    for name, metric in metrics.items():
        try:
            values[name] = float(metric(table))
        except Undefined as exc:
            values[name] = str(exc)
    return values


FT_NEIGHBOURS, FT_FEW_ROWS = 5, 9  # the reference's k, and the size of group a at or under which k is 1
FT_MAX_ROWS = 10_000  # per group: a seeded uniform sample above it keeps the neighbour search fast


def flip_test(features: np.ndarray, side: np.ndarray, predicted: np.ndarray, seed: int = 0) -> tuple[float, str]:
    """FT = (F+ - F-) / n_d, and a note on the rows it used. A k-nearest-neighbours classifier learns the model's
    predictions on group a's (standardised) features and predicts group d's rows. With the documentation's sign
    (the reference code's is the opposite): F+ counts d rows the model rejects whose neighbours in a it accepts,
    F- the reverse, so a positive FT means the model treats d worse than similar rows of a."""
    from sklearn.neighbors import KNeighborsClassifier

    if features.shape[1] == 0:
        raise Undefined("no numeric feature to find neighbours by")
    rng = np.random.default_rng(seed)
    rows = {s: np.flatnonzero(side == s) for s in (0, 1)}
    if not len(rows[1]):
        raise Undefined("group d has no rows here")
    if not len(rows[0]):
        raise Undefined("group a (every row outside the facet group) has no rows here")
    note = f"k-nearest neighbours on {features.shape[1]} standardised numeric features"
    for s in (0, 1):
        if len(rows[s]) > FT_MAX_ROWS:
            rows[s] = np.sort(rng.choice(rows[s], FT_MAX_ROWS, replace=False))
            note += f"; a uniform sample of {FT_MAX_ROWS:,} rows of group {'ad'[s]}"
    x = _standardised(features)
    neighbours = FT_NEIGHBOURS if len(rows[0]) > FT_FEW_ROWS else 1
    knn = KNeighborsClassifier(n_neighbors=min(neighbours, len(rows[0]))).fit(x[rows[0]], predicted[rows[0]])
    as_if_a, model = knn.predict(x[rows[1]]).astype(bool), predicted[rows[1]].astype(bool)
    flipped_up, flipped_down = int(np.sum(~model & as_if_a)), int(np.sum(model & ~as_if_a))
    return (flipped_up - flipped_down) / len(rows[1]), note


def _standardised(features: np.ndarray) -> np.ndarray:
    """Each column centred and scaled over every row (a constant column is left centred); missing values at 0."""
    x = np.asarray(features, dtype=np.float64)
    mean, std = np.nanmean(x, axis=0), np.nanstd(x, axis=0)
    x = (x - mean) / np.where(std > 0, std, 1.0)
    return np.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0)


def bootstrap_errors(
    metrics: dict[str, Callable[[np.ndarray], float]], table: np.ndarray, draws: int = 200, seed: int = 0
) -> dict[str, float]:
    """Each metric's bootstrap standard error: the rows resampled with replacement, as multinomial draws of the
    count table. Metrics undefined or infinite on a draw are left out of that draw; one with fewer than half its
    draws finite gets no error."""
    n = int(table.sum())
    if n == 0:
        return {}
    rng = np.random.default_rng(seed)
    samples = rng.multinomial(n, table.ravel() / n, size=draws).reshape(draws, *table.shape).astype(np.float64)
    values: dict[str, list[float]] = {name: [] for name in metrics}
    for sample in samples:
        for name, value in evaluate(metrics, sample).items():
            if isinstance(value, float) and np.isfinite(value):
                values[name].append(value)
    return {name: float(np.std(v, ddof=1)) for name, v in values.items() if len(v) >= max(2, draws // 2)}
