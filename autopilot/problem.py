"""Problem type inference and the objective metric; the result is problem.json.

The rule for the target:
- text, boolean or categorical values: two classes make a binary problem, more make a multiclass one;
- numbers with a fractional part: regression;
- whole numbers: 2 distinct values -> binary; 3 to 20 distinct values -> multiclass; more -> regression.
``problem_type`` overrides the rule (a regression target must be numeric; binary needs exactly two classes).
"""

from __future__ import annotations

import difflib
from dataclasses import asdict, dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from autopilot.data.types import BOOLEAN_PAIRS
from autopilot.errors import ConfigError, TargetError
from autopilot.metrics import BINARY, CLASSIFICATION, MULTICLASS, REGRESSION, get_metric

PROBLEM_TYPES = (BINARY, MULTICLASS, REGRESSION)
MAX_INTEGER_CLASSES = 20
TRUE_WORDS = {*(pair[0] for pair in BOOLEAN_PAIRS), "positive", "pos"}


@dataclass(frozen=True)
class Problem:
    target: str
    problem_type: str
    metric: str
    reason: str
    classes: list = field(default_factory=list)
    positive_label: object = None
    dropped_rows: int = 0

    @property
    def is_classification(self) -> bool:
        return self.problem_type in CLASSIFICATION

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Problem:
        return cls(**data)


def check_target(table: pa.Table, target: str) -> None:
    """Refuse a target that is absent (suggesting close names) or entirely missing."""
    if target not in table.column_names:
        close = difflib.get_close_matches(target, table.column_names, n=3, cutoff=0.5)
        close += [c for c in table.column_names if c.lower() == target.lower() and c not in close]
        hint = (
            f"did you mean {', '.join(repr(c) for c in close)}?" if close else f"columns are {table.column_names[:20]}"
        )
        raise TargetError(f"target column '{target}' is not in the data; {hint}")
    if table.column(target).null_count == table.num_rows:
        raise TargetError(f"target column '{target}' is entirely missing; choose a column with values")


def infer_problem(
    table: pa.Table,
    target: str,
    problem_type: str | None = None,
    metric: str | None = None,
    positive_label: object = None,
) -> Problem:
    """Decide the problem type, classes and objective metric from the target column."""
    check_target(table, target)
    column = table.column(target)
    values = column.drop_null()
    distinct = pc.unique(values).to_pylist()
    if len(distinct) < 2:
        raise TargetError(f"target column '{target}' has a single value {distinct[0]!r}; there is nothing to learn")
    inferred, reason = _infer_type(values, len(distinct))
    if problem_type is not None:
        inferred, reason = (
            _override(problem_type, values, len(distinct)),
            f"set by you (the rule gave {inferred})",
        )
    chosen = get_metric(metric, inferred)
    classes, positive = [], None
    if inferred in CLASSIFICATION:
        classes = sorted(distinct, key=lambda v: (str(type(v)), v))
        if inferred == BINARY:
            positive = _positive_label(classes, values, positive_label, target)
            classes = [c for c in classes if c != positive] + [positive]
    return Problem(target, inferred, chosen.name, reason, classes, positive, column.null_count)


def _infer_type(values: pa.ChunkedArray, n_distinct: int) -> tuple[str, str]:
    dtype = values.type
    if not (pa.types.is_integer(dtype) or pa.types.is_floating(dtype) or pa.types.is_decimal(dtype)):
        kind = BINARY if n_distinct == 2 else MULTICLASS
        return kind, f"the target holds {n_distinct} distinct non-numeric values"
    whole = pa.types.is_integer(dtype) or pc.all(pc.equal(values, pc.round(values))).as_py()
    if not whole:
        return REGRESSION, "the target holds numbers with fractional parts"
    if n_distinct == 2:
        return BINARY, "the target holds 2 distinct whole numbers"
    if n_distinct <= MAX_INTEGER_CLASSES:
        return (
            MULTICLASS,
            f"the target holds {n_distinct} distinct whole numbers (3 to {MAX_INTEGER_CLASSES})",
        )
    return (
        REGRESSION,
        f"the target holds {n_distinct} distinct whole numbers (more than {MAX_INTEGER_CLASSES})",
    )


def _override(problem_type: str, values: pa.ChunkedArray, n_distinct: int) -> str:
    if problem_type not in PROBLEM_TYPES:
        raise ConfigError(f"problem type '{problem_type}' is unknown; choose one of {', '.join(PROBLEM_TYPES)}")
    numeric = pa.types.is_integer(values.type) or pa.types.is_floating(values.type) or pa.types.is_decimal(values.type)
    if problem_type == REGRESSION and not numeric:
        raise ConfigError("problem type regression needs a numeric target; this target holds text")
    if problem_type == BINARY and n_distinct != 2:
        raise ConfigError(f"problem type binary needs exactly 2 classes; the target has {n_distinct}")
    return problem_type


def _positive_label(classes: list, values: pa.ChunkedArray, given: object, target: str) -> object:
    if given is not None:
        match = [c for c in classes if str(c) == str(given)]
        if not match:
            raise ConfigError(f"positive label {given!r} is not a value of '{target}'; its values are {classes}")
        return match[0]
    if set(classes) == {0, 1}:  # also {False, True}: 1 == True
        return classes[-1]
    for c in classes:
        if isinstance(c, str) and c.strip().lower() in TRUE_WORDS:
            return c
    counts = pc.value_counts(values)
    by_value = dict(zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True))
    return min(reversed(classes), key=lambda c: by_value[c])  # the minority class; a tie gives the later one


def case_variants(classes: list) -> list[list[str]]:
    """Groups of class labels that differ only in case (``Yes``, ``yes``): kept apart, but worth a warning."""
    groups: dict[str, list[str]] = {}
    for label in classes:
        if isinstance(label, str):
            groups.setdefault(label.casefold(), []).append(label)
    return [group for group in groups.values() if len(group) > 1]
