"""The job's two notebooks, generated with nbformat from the text in ``notebook_templates/``.

A template is Jinja2 text in the "percent" layout: a line ``# %%`` starts a code cell and ``# %% [markdown]`` a
Markdown cell (written as plain Markdown, not commented). Everything a template shows comes from the job folder.

Values from the data (column names, labels, paths) never become code: the cells are split at the template's own
marks (swapped for a random token before rendering, so a value holding ``# %%`` stays text), a value reaches a code
cell only as a Python literal (``python_literal``), and any other value is HTML-escaped on one line.

>>> from autopilot.notebooks import write_notebooks
>>> write_notebooks("autopilot-output/penguins")  # doctest: +SKIP
"""

from __future__ import annotations

import html
import re
import secrets
from pathlib import Path

import pandas as pd

from autopilot.candidates import get_candidate
from autopilot.ensemble_families import describe_settings
from autopilot.ensemble_plan import EnsemblePlan
from autopilot.insights import outliers, suggestions
from autopilot.io import atomic_path
from autopilot.reproduce import JobFiles

TEMPLATES = Path(__file__).resolve().parents[1] / "notebook_templates"
NOTEBOOKS = ("data_exploration", "candidate_definitions")
CELL_MARK = re.compile(r"^# %%( \[markdown\])?[ \t]*$", re.MULTILINE)
PREPROCESSING = {
    "onehot": "numbers: median imputation with missing-value indicators, then robust scaling; categories: one-hot, "
    "with categories under 1% of rows grouped; dates: year, month, day, weekday and hour; free text: TF-IDF; "
    "identifier and constant columns dropped",
    "ordinal": "numbers: median imputation with missing-value indicators, then robust scaling; categories: integer "
    "codes for the network's embeddings (0 = missing, unseen or rare); dates: year, month, day, weekday and hour; "
    "free text: TF-IDF; identifier and constant columns dropped",
}


def write_notebooks(job_dir: str | Path, train_now: bool = False) -> list[Path]:
    """Write ``notebooks/data_exploration.ipynb`` and ``notebooks/candidate_definitions.ipynb`` from the job folder.

    ``train_now``: the candidate notebook's search cell runs when executed (pilot mode: the job was not trained)."""
    files = JobFiles.read(job_dir)
    context = _context(files, train_now)
    written = []
    for name in NOTEBOOKS:
        path = files.path / "notebooks" / f"{name}.ipynb"
        with atomic_path(path) as tmp:
            tmp.write_text(render(name, context), encoding="utf-8")
        written.append(path)
    return written


def render(name: str, context: dict) -> str:
    """One template rendered into notebook JSON (nbformat 4)."""
    import jinja2
    import nbformat
    from nbformat import v4

    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True, finalize=_as_text)
    env.filters["python_literal"] = lambda value: PythonLiteral(repr(value))  # a path, a dict, True or False
    token = f"@@cell-{secrets.token_hex(16)}@@"
    source_text = (TEMPLATES / f"{name}.py.j2").read_text(encoding="utf-8")
    marked = CELL_MARK.sub(lambda m: token + (" [markdown]" if m.group(1) else ""), source_text)
    text = env.from_string(marked).render(**context)
    cells = []
    for kind, source in _split_cells(text, token):
        source = source.strip("\n")
        if source.strip():
            cells.append(v4.new_markdown_cell(source) if kind == "markdown" else v4.new_code_cell(source))
    kernel = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook = v4.new_notebook(cells=cells, metadata={"kernelspec": kernel, "language_info": {"name": "python"}})
    nbformat.validate(notebook)
    return nbformat.writes(notebook)


class PythonLiteral(str):
    """A value rendered as Python source by ``python_literal``: it goes into a code cell as it is."""


def _as_text(value: object) -> object:
    """Every value a template shows, unless it is a Python literal: HTML-escaped, on one line."""
    if isinstance(value, PythonLiteral) or not isinstance(value, str):
        return value if isinstance(value, PythonLiteral | bool | int | float) else _as_text(str(value))
    return html.escape(" ".join(value.splitlines()), quote=False)


def _split_cells(text: str, token: str) -> list[tuple[str, str]]:
    marks = list(re.finditer(rf"^{re.escape(token)}( \[markdown\])?[ \t]*$", text, re.MULTILINE))
    cells = []
    for i, mark in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        cells.append(("markdown" if mark.group(1) else "code", text[mark.end() : end]))
    return cells


def _context(files: JobFiles, train_now: bool) -> dict:
    job, profile, problem = files.job, files.profile, files.problem
    numeric = [c["name"] for c in profile["column_profiles"] if c["kind"] == "numeric" and c["name"] != problem.target]
    frames = [pd.read_parquet(files.path / "data" / f"{part}.parquet") for part in ("train", "validation")]
    outlier_table = outliers(pd.concat(frames, ignore_index=True), numeric)
    config = {k: v for k, v in job["config"].items() if k not in ("output", "job_name", "overwrite", "extra")}
    return {
        "job": job,
        "job_dir": str(files.path.resolve()),
        "config": config,
        "resolved": job["resolved"],
        "source": {**job["source"], "path": _data_path(job["source"])},
        "profile": profile,
        "problem": problem,
        "warnings": profile.get("warnings", []),
        "suggestions": suggestions(profile, outlier_table),
        "candidates": _candidates(job["resolved"], profile, problem.problem_type),
        "trained": (files.path / "leaderboard.csv").exists(),
        "train_now": train_now,
        "size": _size(job["source"]["bytes"]),
        "ensemble_plan": _plan_text(job["resolved"]),
        "bias": _bias_options(job["config"]),
        "sensitive": profile.get("sensitive_columns", []),
    }


def _bias_options(config: dict) -> dict | None:
    """The bias options the job ran with, for the data notebook's Bias section (None without a facet)."""
    if not config.get("facets"):
        return None
    keys = ("facets", "group_variable", "label_values", "label_threshold")
    return {k: config.get(k) for k in keys}


def _plan_text(resolved: dict) -> str:
    plan = resolved.get("ensemble_plan")
    if plan is None:  # jobs made before ensembling had a plan: always bagged and stacked
        return "5-fold bagging over the train rows, 1 stack level; scored on the validation rows"
    return EnsemblePlan(**plan).describe()


def _data_path(source: dict) -> str:
    """The data file as an absolute path, so the notebook finds it from its own folder (a relative path in job.json is
    relative to where the job ran, which is where notebooks are written from)."""
    if source["format"] == "dataframe":
        return source["path"]
    return str(Path(source["path"]).resolve())


def _candidates(resolved: dict, profile: dict, problem_type: str) -> list[dict]:
    """dpp0..dppN: each candidate's preprocessing, algorithm and search ranges (HPO) or AutoGluon settings."""
    out = []
    for i, key in enumerate(resolved["candidates"]):
        if resolved["mode"] == "ensembling":
            model, settings = describe_settings(key)
            out.append({"id": f"dpp{i}", "key": key, "model": model, "settings": settings, "ranges": []})
            continue
        cls = get_candidate(key)
        ranges = [
            {"name": name, "range": _range_text(dist), "log": bool(getattr(dist, "log", False))}
            for name, dist in cls.search_space(profile).items()
        ]
        encoding = cls.categorical_encoding
        out.append(
            {
                "id": f"dpp{i}",
                "key": key,
                "model": cls.__name__,
                "preprocessing": PREPROCESSING[encoding],
                "ranges": ranges,
                "problem_type": problem_type,
            }
        )
    return out


def _range_text(dist: object) -> str:
    if hasattr(dist, "choices"):
        return ", ".join(repr(c) for c in dist.choices)
    return f"{dist.low:g} to {dist.high:g}"


def _size(n_bytes: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n_bytes < 1024 or unit == "GB":
            return f"{n_bytes:.0f} {unit}" if unit == "bytes" else f"{n_bytes:.1f} {unit}"
        n_bytes /= 1024
    return ""
