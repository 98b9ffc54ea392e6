"""The job folder's life: where it goes, whether it may be created, replaced or resumed."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

from autopilot.data import SourceInfo
from autopilot.errors import ConfigError
from autopilot.io import read_json

DEFAULT_OUTPUT_ROOT = "autopilot-output"
# may change between resumed runs (the folder itself says which job it is)
UNCHECKED = ("overwrite", "time_limit", "trial_time_limit", "parallel_trials", "candidates_only", "output", "job_name")


def job_dir_for(output: str | None, job_name: str | None, source: SourceInfo) -> Path:
    if output:
        return Path(output)
    stem = Path(source.path).name.split(".")[0] if source.format != "dataframe" else "dataframe"
    name = job_name or f"{stem}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"
    return Path(DEFAULT_OUTPUT_ROOT) / name


def check_folder(job_dir: Path, config: dict) -> bool:
    """Whether an unfinished job with the same settings is there to resume; refuses what may not be touched."""
    if job_dir.exists() and not job_dir.is_dir():
        raise ConfigError(f"{job_dir} is a file; choose a folder for --output")
    if not job_dir.exists() or not any(job_dir.iterdir()):
        return False
    if not (job_dir / "job.json").exists():
        raise ConfigError(f"{job_dir} is not empty and is not an autopilot job; refusing to replace it")
    if config["overwrite"]:
        return False
    job = read_json(job_dir / "job.json")
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
    return True


def create_folder(job_dir: Path, resume: bool) -> None:
    """A fresh, empty job folder, unless resuming (then it stays as it is)."""
    if resume:
        return
    if job_dir.exists():
        shutil.rmtree(job_dir)
    job_dir.mkdir(parents=True)
