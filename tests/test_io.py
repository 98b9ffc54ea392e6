"""Job files are written whole (atomically) and readable as any file the user writes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from autopilot.io import atomic_path, read_json, write_json


def test_files_get_the_usual_permissions_not_private_temporary_ones(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        write_json(tmp_path / "job.json", {"a": 1})
    finally:
        os.umask(old)
    assert (tmp_path / "job.json").stat().st_mode & 0o777 == 0o644  # mkstemp's 0600 is not kept
    assert read_json(tmp_path / "job.json") == {"a": 1}


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    write_json(tmp_path / "job.json", {"a": 1})
    with pytest.raises(RuntimeError), atomic_path(tmp_path / "job.json") as tmp:
        tmp.write_text("half")
        raise RuntimeError("stopped")
    assert read_json(tmp_path / "job.json") == {"a": 1} and os.listdir(tmp_path) == ["job.json"]
