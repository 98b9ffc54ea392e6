"""The job folder's life: where it goes, whether it may be created, replaced or resumed, and the lock that keeps a
second run out of it while one runs.

A folder is replaced (``--overwrite``) only when its ``job.json`` is an autopilot job's, never when it is the current
folder, holds it, or is a home folder or a filesystem root; it is moved aside, then deleted. A job is resumed only
on the same settings and the same data (``data_fingerprint``).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pandas as pd

from autopilot.data import SourceInfo
from autopilot.errors import ConfigError

DEFAULT_OUTPUT_ROOT = "autopilot-output"
LOCK_FILE = ".autopilot.lock"  # held (flock) by the run writing the folder; it names that run's pid
JOB_KEYS = ("name", "status", "config", "versions")  # what every autopilot job.json has
# may change between resumed runs (the folder itself says which job it is)
UNCHECKED = {"overwrite", "time_limit", "trial_time_limit", "parallel_trials", "candidates_only", "output", "job_name"}
UNCHECKED |= {"tracking_uri", "experiment", "register_model"}  # where the job is logged (MLflow)


def job_dir_for(output: str | None, job_name: str | None, source: SourceInfo) -> Path:
    if output:
        return Path(output)
    name = job_name or f"{data_stem(source.path, source.format)}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"
    return Path(DEFAULT_OUTPUT_ROOT) / name


def data_stem(path: str | None, format: str) -> str:
    """The data file's name without its extensions (``penguins`` for penguins.csv); ``dataframe`` for a DataFrame."""
    return Path(path).name.split(".")[0] if format != "dataframe" and path else "dataframe"


def check_folder(job_dir: Path, config: dict, data: dict) -> bool:
    """Whether an unfinished job with the same settings and ``data`` (its fingerprint) is there to resume; refuses
    a folder in use, one that is not a job, and what may not be replaced."""
    if job_dir.exists() and not job_dir.is_dir():
        raise ConfigError(f"{job_dir} is a file; choose a folder for --output")
    if not _has_content(job_dir):
        return False
    refuse_if_locked(job_dir)
    job = read_job(job_dir)
    if job is None:
        raise ConfigError(f"{job_dir} is not empty and is not an autopilot job; refusing to replace it")
    if config["overwrite"]:
        refuse_protected(job_dir)
        return False
    if job.get("status") == "completed":
        raise ConfigError(f"{job_dir} holds a completed job; choose another --output or pass --overwrite to replace it")
    before = {k: v for k, v in job.get("config", {}).items() if k not in UNCHECKED}
    now = {k: v for k, v in config.items() if k not in UNCHECKED}
    if before != now:
        changed = sorted(k for k in set(before) | set(now) if before.get(k) != now.get(k))
        raise ConfigError(
            f"{job_dir} holds an unfinished job started with other settings ({', '.join(changed)}); "
            "rerun with the same settings to resume it, or pass --overwrite to start afresh"
        )
    difference = data_difference(job.get("data"), data)
    if difference:
        raise ConfigError(
            f"{job_dir} holds an unfinished job on other data ({difference}); "
            "rerun on the same data to resume it, or pass --overwrite to start afresh"
        )
    return True


def read_job(job_dir: Path) -> dict | None:
    """The folder's job.json if it is an autopilot job's, else None."""
    try:
        job = json.loads((job_dir / "job.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    ok = isinstance(job, dict) and all(k in job for k in JOB_KEYS) and isinstance(job["config"], dict)
    return job if ok and "autopilot" in (job.get("versions") or {}) else None


def refuse_protected(job_dir: Path) -> None:
    """Refuse to replace the current folder (or one holding it), a home folder or a filesystem root."""
    folder, here = job_dir.resolve(), Path.cwd().resolve()
    home = Path.home().resolve()
    if folder == here or folder in here.parents:
        raise ConfigError(f"refusing to replace {job_dir}: it is or holds the current folder; choose another --output")
    if folder == home or folder.parent == folder or folder == home.parent:
        raise ConfigError(f"refusing to replace {job_dir}: a home folder or filesystem root; choose another --output")


def refuse_if_locked(job_dir: Path) -> None:
    """Refuse a folder another run holds, naming that run's pid."""
    lock = job_dir / LOCK_FILE
    if not lock.exists():
        return
    with open(lock, "a+") as handle:
        _lock(handle, job_dir)
        fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def hold_folder(job_dir: Path, resume: bool, overwrite: bool = False) -> Iterator[None]:
    """The job folder, locked against other runs while the block runs: a fresh, empty one (with ``overwrite``, a job
    there before is moved aside, then deleted), or the unfinished job as it is when resuming."""
    if not resume and _has_content(job_dir):
        if not overwrite:  # another run wrote it since ``check_folder`` found it empty
            raise ConfigError(f"{job_dir} was written by another run meanwhile; choose another --output")
        refuse_if_locked(job_dir)
        aside = job_dir.with_name(f".{job_dir.name}.replaced-{os.getpid()}")
        try:
            os.replace(job_dir, aside)
        except OSError:
            raise ConfigError(f"{job_dir} was replaced by another run meanwhile; choose another --output") from None
        shutil.rmtree(aside, ignore_errors=True)
    job_dir.mkdir(parents=True, exist_ok=True)
    lock = job_dir / LOCK_FILE
    with open(lock, "a+") as handle:
        _lock(handle, job_dir)
        handle.truncate(0)
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def data_fingerprint(data: str | Path | pd.DataFrame, columns: list[str], rows: int) -> dict:
    """What a resumed job checks its data against: the column names, the row count and a SHA-256 of the file's bytes
    (every file of a folder, in name order) or of a DataFrame's values."""
    digest = hashlib.sha256()
    if isinstance(data, pd.DataFrame):
        digest.update(pd.util.hash_pandas_object(data, index=False).to_numpy().tobytes())
    else:
        path = Path(data)
        for file in sorted(path.rglob("*")) if path.is_dir() else [path]:
            if file.is_file():
                digest.update(str(file.relative_to(path) if path.is_dir() else "").encode())
                with open(file, "rb") as handle:
                    for block in iter(lambda: handle.read(1 << 20), b""):
                        digest.update(block)
    return {"columns": list(columns), "rows": rows, "sha256": digest.hexdigest()}


def data_difference(before: dict | None, now: dict) -> str:
    """How the data differs from the job's, in words; empty when it is the same (or the job predates fingerprints)."""
    if not before or before.get("sha256") == now["sha256"]:
        return ""
    added = [c for c in now["columns"] if c not in before["columns"]]
    removed = [c for c in before["columns"] if c not in now["columns"]]
    if added or removed:
        return "; ".join(
            f"{what} {', '.join(map(repr, cols[:5]))}"
            for what, cols in (("new columns", added), ("missing", removed))
            if cols
        )
    if before["rows"] != now["rows"]:
        return f"{now['rows']:,} rows, the job had {before['rows']:,}"
    return "the same columns and row count, other values"


def _has_content(job_dir: Path) -> bool:
    return job_dir.is_dir() and any(p.name != LOCK_FILE for p in job_dir.iterdir())


def _lock(handle: object, job_dir: Path) -> None:
    """Take the folder's lock on the open lock file, or refuse, naming the pid of the run that holds it."""
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        pid = (job_dir / LOCK_FILE).read_text().strip() or "unknown"
        message = (
            f"{job_dir} is in use by another autopilot run (pid {pid}); wait for it to end or choose another --output"
        )
        raise ConfigError(message) from None
