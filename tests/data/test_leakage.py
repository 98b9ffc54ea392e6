"""Target checks in profile.json (autopilot.data.leakage): target leakage and class imbalance."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from autopilot.data.profile import profile_table


def _table(df: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(df, preserve_index=False)


def _warnings(profile: dict, kind: str) -> list[str | None]:
    return sorted((w["column"] for w in profile["warnings"] if w["kind"] == kind), key=str)


def test_target_leakage_regression() -> None:
    rng = np.random.default_rng(7)
    y = rng.normal(50, 10, 200)
    df = pd.DataFrame(
        {
            "y": y,
            "leak": y * 2,
            "noise": rng.normal(size=200),
            "weak": y + rng.normal(0, 30, 200),
            "group": rng.choice(["a", "b", "c"], 200),
        }
    )
    profile = profile_table(_table(df), target="y")
    assert _warnings(profile, "target_leakage") == ["leak"]
    assert _warnings(profile, "class_imbalance") == []


def test_target_leakage_categorical_feature_determines_class() -> None:
    rng = np.random.default_rng(11)
    code = rng.choice(["k1", "k2", "k3", "k4"], 240)
    label = np.where(np.isin(code, ["k1", "k2"]), "cat", "dog")
    df = pd.DataFrame(
        {
            "label": label,
            "code": code,
            "colour": rng.choice(["red", "green", "blue"], 240),
            "size": rng.normal(size=240),
        }
    )
    profile = profile_table(_table(df), target="label")
    assert _warnings(profile, "target_leakage") == ["code"]
    leak = next(w for w in profile["warnings"] if w["kind"] == "target_leakage")
    assert "code" in leak["message"]


@pytest.mark.parametrize(("minority", "warned"), [(15, True), (19, True), (25, False), (60, False)])
def test_class_imbalance(minority: int, warned: bool) -> None:
    rng = np.random.default_rng(2)
    labels = np.array(["common"] * 200 + ["rare"] * minority)
    rng.shuffle(labels)
    df = pd.DataFrame({"target": labels, "x": rng.normal(size=len(labels))})
    profile = profile_table(_table(df), target="target")
    assert _warnings(profile, "class_imbalance") == (["target"] if warned else [])
    if warned:
        message = next(w["message"] for w in profile["warnings"] if w["kind"] == "class_imbalance")
        assert "rare" in message


def test_imbalance_is_not_checked_for_a_free_text_target() -> None:
    """The target checks start before the column kinds are known, guessing that a string target is class-like; a
    free-text target with many values is not, so the checks are redone without the imbalance warning."""
    sentences = [f"note number {i} about the order" for i in range(200)]
    df = pd.DataFrame({"note": sentences + ["a very common note text"] * 40, "x": np.arange(240) % 7})
    profile = profile_table(_table(df), target="note")
    assert next(c for c in profile["column_profiles"] if c["name"] == "note")["kind"] == "text"
    assert _warnings(profile, "class_imbalance") == []
    as_classes = df.assign(note=[f"c{i % 3}" for i in range(200)] + ["rare"] * 5 + ["c0"] * 35)
    assert _warnings(profile_table(_table(as_classes), target="note"), "class_imbalance") == ["note"]
