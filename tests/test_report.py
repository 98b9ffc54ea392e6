"""What the report imports is imported while the search runs, not after it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from autopilot.report import import_ahead, modules_ahead


def test_torch_is_imported_ahead_unless_every_candidate_is_a_tree_model() -> None:
    assert modules_ahead(["xgboost", "lightgbm", "catboost"]) == ["shap", "matplotlib.pyplot"]
    assert modules_ahead(["xgboost", "linear-learner"])[0] == "torch"  # the linear learner loads with torch
    assert modules_ahead(["lightgbm", "nn-torch", "mlp"])[0] == "torch"


def test_imports_ahead_in_the_background_and_stops_at_a_broken_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "ahead_one.py").write_text("VALUE = 1\n")
    (tmp_path / "ahead_broken.py").write_text("raise RuntimeError('broken')\n")
    (tmp_path / "ahead_two.py").write_text("VALUE = 2\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("ahead_one", "ahead_broken", "ahead_two"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    thread = import_ahead(["ahead_one", "ahead_broken", "ahead_two"])
    thread.join(timeout=60)
    assert not thread.is_alive()
    assert "ahead_one" in sys.modules and "ahead_broken" not in sys.modules  # its error is left to the report
    assert "ahead_two" not in sys.modules
    with pytest.raises(RuntimeError, match="broken"):
        __import__("ahead_broken")
