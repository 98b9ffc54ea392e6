"""Columns that look sensitive (age, sex or gender, race, marital status, nationality, religion, disability) by their
name or their most frequent values: profile.json's ``sensitive_columns``, which the terminal and the report turn into
a suggested ``--facet``. A suggestion only: nothing here measures or judges bias."""

from __future__ import annotations

import re

NAMES = {
    "age": "age",
    "sex": "sex or gender", "gender": "sex or gender",
    "race": "race or ethnicity", "ethnicity": "race or ethnicity", "ethnic": "race or ethnicity",
    "marital": "marital status", "married": "marital status",
    "nationality": "nationality", "citizen": "nationality", "citizenship": "nationality",
    "birthplace": "nationality", "immigrant": "nationality",
    "religion": "religion", "religious": "religion",
    "disability": "disability", "disabled": "disability", "handicap": "disability",
}  # fmt: skip
VALUES = {
    "sex or gender": {"male", "female", "man", "woman", "men", "women", "non-binary", "nonbinary"},
    "race or ethnicity": {
        "white", "black", "asian", "hispanic", "latino", "caucasian", "african american", "amer-indian-eskimo",
        "asian-pac-islander", "native american", "pacific islander",
    },
    "marital status": {"married", "single", "divorced", "widowed", "separated", "never-married", "married-civ-spouse"},
    "religion": {"christian", "muslim", "jewish", "hindu", "buddhist", "atheist", "catholic", "protestant", "sikh"},
}  # fmt: skip
TOKEN = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")


def sensitive_columns(column_profiles: list[dict], target: str | None) -> list[dict]:
    """``[{"name", "reason"}]`` for every column whose name or values look sensitive; the target is left out."""
    found = []
    for column in column_profiles:
        if column["name"] == target:
            continue
        reason = _by_name(str(column["name"])) or _by_values(column.get("top_values") or [])
        if reason:
            found.append({"name": column["name"], "reason": reason, "facet": _facet(column)})
    return found


def _facet(column: dict) -> str:
    """The --facet to suggest: the column, or for a number with many values, above its rounded mean."""
    many = column.get("kind") == "numeric" and (column.get("unique") or 0) > 10 and column.get("mean") is not None
    return f"{column['name']}>{round(column['mean']):g}" if many else str(column["name"])


def _by_name(name: str) -> str | None:
    for token in (t.lower() for t in TOKEN.findall(name)):
        if token in NAMES:
            return f"{NAMES[token]}, by its name"
    return None


def _by_values(top_values: list[dict]) -> str | None:
    seen = {str(v["value"]).strip().lower() for v in top_values}
    for what, words in VALUES.items():
        if len(seen & words) >= 2:
            return f"{what}, by its values"
    return None
