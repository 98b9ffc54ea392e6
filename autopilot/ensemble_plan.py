"""How ensembling mode spends its budget: the validation scheme (a holdout, then a refit on every row; or k-fold
bagging over every row), stacking or none, and the model families in the order they train, strongest first.

The plan comes from the data's size (rows x columns, classes), the cores, the device and the seconds the search has.
One holdout pass over the families is estimated from the table's size; the richest scheme whose estimate fits the
search budget with its margin is taken (the estimate is rough, and every family should get its turn):

1. 5-fold bagging with one stack level (about 8 passes), in half the budget;
2. 5-fold bagging, no stack (about 4 passes), in 80% of it: a holdout of a few hundred rows picks among dozens of
   models largely by chance, so small data is bagged even where the last family (the network) may not finish;
3. a holdout, with time kept to refit the best model on every row (about 1.5 passes), in half the budget;
4. otherwise a holdout with little time kept back (a share for a quick refit): the best is refit if that allows.

Each family trains its default settings first. Under a time limit the user set, the time they leave goes to AutoGluon's
zero-shot portfolio (the settings its best_quality preset tries, in their portfolio order), stopped by the deadline;
under the limit picked for the data, the job ends when the defaults are done.

>>> plan_ensembling(rows=344, columns=7, classes=3, search_seconds=40, cores=2).scheme
'bagging'
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

BAG_FOLDS = 5
# Seconds one fit of each family takes on 100,000 cells (rows x columns) on 2 cores, and a fixed start-up each;
# rough figures measured on this project's benchmark data with AutoGluon 1.6. Order = training order.
FAMILY_COST = {
    "lightgbm": 3.0,  # three settings: default, extra trees, large
    "catboost": 4.0,
    "xgboost": 2.0,
    "extra-trees": 1.5,
    "randomforest": 2.0,
    "linear-learner": 1.0,  # autopilot's own, from here on
    "mlp": 3.0,
    "nn-torch": 8.0,  # AutoGluon's network
}
MODEL_START_SECONDS = 0.5


@dataclass(frozen=True)
class EnsemblePlan:
    """What ensembling trains and how it is scored; ``reasons`` say why, for job.json and the terminal."""

    scheme: str  # "holdout" or "bagging"
    folds: int  # 0 for the holdout
    stack_levels: int
    refit: bool  # holdout only: time is kept to retrain the best model on every labelled row after it is scored
    families: list[str]
    pass_seconds: float  # the estimate of one holdout pass over the families
    reasons: list[str] = field(default_factory=list)
    portfolio: bool = False  # after each family's default settings, AutoGluon's zero-shot portfolio while time lasts

    def to_dict(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        if self.scheme == "bagging":
            stack = f", {self.stack_levels} stack level" if self.stack_levels else ", no stack"
            how = f"{self.folds}-fold bagging over every labelled row{stack}; scored out-of-fold"
        else:
            refit = ", then the best refit on every labelled row" + ("" if self.refit else " if time is left")
            how = f"one holdout (the validation rows){refit}"
        then = "; then AutoGluon's zero-shot portfolio settings while time lasts" if self.portfolio else ""
        return f"{how}; families: {', '.join(self.families)}{then}"


def pass_seconds(rows: int, columns: int, classes: int, cores: int, families: list[str]) -> float:
    """Estimated seconds to fit every family once on ``rows`` x ``columns``."""
    cells = rows * max(columns, 1) * max(1.0, classes / 4)  # boosting grows a tree per class
    scale = 2 / max(cores, 1)
    return sum(MODEL_START_SECONDS + FAMILY_COST[f] * cells / 1e5 * scale for f in families)


def order_families(families: list[str]) -> list[str]:
    """Strongest first (gradient boosting, then forests, then the linear model and the network)."""
    rank = {name: i for i, name in enumerate(FAMILY_COST)}
    return sorted(families, key=lambda f: rank.get(f, len(rank)))


def plan_ensembling(
    rows: int,
    columns: int,
    classes: int,
    search_seconds: float | None,
    cores: int,
    families: list[str] | None = None,
    gpus: int = 0,
    portfolio: bool = False,
) -> EnsemblePlan:
    """The richest scheme that fits the search budget (see the module docstring); with ``portfolio`` (the user set
    the time limit, so its time is theirs to spend), the time the defaults leave goes to the portfolio."""
    families = order_families(families or list(FAMILY_COST))
    one_pass = pass_seconds(rows, columns, classes, cores, families)
    if gpus:
        one_pass *= 0.7  # the network and the boosters that use the GPU
    size = f"{rows:,} rows x {columns} columns, {cores} cores, one pass ~{one_pass:.0f} s"
    schemes = [  # scheme, folds, stack levels, refit, estimated seconds, the margin its estimate must fit with
        ("bagging", BAG_FOLDS, 1, False, 2 * (BAG_FOLDS - 1) * one_pass, 2.0),
        ("bagging", BAG_FOLDS, 0, False, (BAG_FOLDS - 1) * one_pass, 1.25),
        ("holdout", 0, 0, True, 1.5 * one_pass, 2.0),
    ]
    if search_seconds is None:
        scheme = schemes[0]
        reason = f"no time limit: the richest scheme ({size})"
        return EnsemblePlan(*scheme[:4], families, round(one_pass, 2), [reason])
    for scheme in schemes:
        if scheme[4] * scheme[5] <= search_seconds:
            reason = f"estimated {scheme[4]:.0f} s fits {search_seconds:.0f} s of search ({size})"
            return EnsemblePlan(*scheme[:4], families, round(one_pass, 2), [reason], portfolio)
    reason = f"{size}: a pass and a refit (~{1.5 * one_pass:.0f} s) need over half the {search_seconds:.0f} s for them"
    refit = "so only a quick refit keeps a share"
    return EnsemblePlan("holdout", 0, 0, False, families, round(one_pass, 2), [reason, refit], portfolio)
