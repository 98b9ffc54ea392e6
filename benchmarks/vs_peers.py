"""Benchmark: autopilot's auto mode, run from the command line, against AutoGluon and FLAML under one time limit.

    pip install -c constraints.txt -e ".[bench]"      # statsmodels and vega_datasets, whose wheels ship the data
    python benchmarks/vs_peers.py                      # every dataset, 60 s per fit
    python benchmarks/vs_peers.py --time-limit 30 --datasets fair,cars --systems autopilot,flaml
    python benchmarks/vs_peers.py --ag-presets best_quality --json /tmp/vs-peers.json

Every dataset is real and read from a file inside an installed package (statsmodels, vega_datasets, scikit-learn)
or from datasets/; nothing is downloaded. Each is split seeded, 80% train / 20% test (stratified for classes);
``--repeats N`` splits it N times (seeds seed, seed+1, ...) and compares the systems on their mean test score, since
a test set of a hundred rows moves by a percent with one row. The systems run interleaved: on each split all of them
run one after the other, the order rotating from one run to the next so that no system always goes first.

- autopilot runs as a user runs it: the train rows go to a CSV, `autopilot run train.csv --target T --time-limit L
  --seed S --output DIR` runs as a subprocess, then `autopilot predict DIR test.csv --output preds.csv` on the test
  rows without the target. Its wall time is the whole `autopilot run` process (start-up, profiling, search, job
  folder); the predict process is timed apart and reported, not in the table.
- AutoGluon: `TabularPredictor(...).fit(train, presets=--ag-presets, time_limit=L)`; wall time is the fit call.
- FLAML: `AutoML().fit(X, y, time_budget=L, ...)`, text columns as pandas categories; wall time is the fit call.

The score is autopilot's inferred objective for the problem (binary F1 with autopilot's positive label, multiclass
Accuracy, regression MSE); each peer is told that metric, and every system's test predictions are scored by the
same autopilot.metrics function. A system that fails on a dataset is recorded as failed (score NaN, the error kept);
the run goes on.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import shutil
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from vs_autogluon import DATASETS as SHARED
from vs_autogluon import split

from autopilot.data import table_from_pandas
from autopilot.ensemble import AG_METRICS
from autopilot.metrics import CLASSIFICATION, REGRESSION, get_metric
from autopilot.problem import Problem, infer_problem

SYSTEMS = ("autopilot", "autogluon", "flaml")
# autopilot's metric names -> FLAML's; the others get a custom FLAML metric computed by autopilot.metrics
FLAML_METRICS = {
    "Accuracy": "accuracy",
    "AUC": "roc_auc",
    "F1": "f1",  # FLAML scores label 1: y is encoded so that autopilot's positive label is 1
    "F1macro": "macro_f1",
    "LogLoss": "log_loss",
    "MAE": "mae",
    "MSE": "mse",
    "RMSE": "rmse",
    "R2": "r2",
}
MODES = {1: "air", 2: "train", 3: "bus", 4: "car"}  # Greene's travel-mode coding


def _statsmodels(name: str) -> pd.DataFrame:
    import statsmodels.api as sm

    return getattr(sm.datasets, name).load_pandas().data


def _modechoice() -> pd.DataFrame:
    data = _statsmodels("modechoice").drop(columns="individual")  # an id: the other rows of a person give it away
    return data.assign(mode=data["mode"].map(MODES), choice=np.where(data["choice"] > 0, "yes", "no"))


def _star98() -> pd.DataFrame:
    data = _statsmodels("star98")
    share = data["NABOVE"] / (data["NABOVE"] + data["NBELOW"])
    return data.drop(columns=["NABOVE", "NBELOW"]).assign(share_above=share)


def _digits() -> pd.DataFrame:
    from sklearn.datasets import load_digits

    return load_digits(as_frame=True).frame


def _seattle_temps() -> pd.DataFrame:
    from vega_datasets import local_data

    return local_data.seattle_temps()


# name -> (loader, target, where the data comes from); the first eight are vs_autogluon.py's, grunfeld left out
# (220 rows: a 44-row test set decides nothing)
DATASETS: dict[str, tuple[Callable[[], pd.DataFrame], str, str]] = {
    **{name: SHARED[name] for name in ("fair", "anes96", "randhie", "cars", "seattle_weather", "penguins")},
    **{name: SHARED[name] for name in ("breast_cancer", "diabetes")},
    "modechoice": (_modechoice, "choice", "statsmodels.datasets.modechoice (Greene, travel mode chosen: yes/no)"),
    "star98": (_star98, "share_above", "statsmodels.datasets.star98 (California schools: share above median)"),
    "digits": (_digits, "target", "sklearn.datasets.load_digits (UCI handwritten digits, 8x8 pixels, bundled)"),
    "seattle_temps": (_seattle_temps, "temp", "vega_datasets local seattle-temps (hourly temperature, 2010)"),
}


def label_key(value: object) -> str:
    """A label as text, so that 1, 1.0 and "1" (a CSV round trip) are the same class."""
    text = str(value)
    try:
        number = float(text)
    except ValueError:
        return text
    return f"{number:g}" if math.isfinite(number) else text


def encode(values: pd.Series, problem: Problem) -> np.ndarray:
    """Labels as autopilot's class codes 0..K-1 (binary: the positive label is 1); -1 for an unknown label."""
    index = {label_key(c): i for i, c in enumerate(problem.classes)}
    return np.array([index.get(label_key(v), -1) for v in values])


def test_score(problem: Problem, predicted: pd.Series, test: pd.DataFrame) -> float:
    """autopilot.metrics on the test rows, as in vs_autogluon.py. The objective inferred here is always a label
    metric (F1, Accuracy, MSE), so predicted labels are all it needs."""
    metric = get_metric(problem.metric, problem.problem_type)
    if problem.problem_type == REGRESSION:
        return metric.score(test[problem.target].to_numpy(float), predicted.to_numpy(float))
    return metric.score(encode(test[problem.target], problem), encode(predicted, problem))


def _cli(command: list[str], timeout: float) -> float:
    """Run `autopilot ...` as a user would; its wall time, or a RuntimeError with the tail of its stderr."""
    start = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"autopilot {command[3]} still running after {timeout:.0f} s; stopped") from exc
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines() or ["(no output)"]
        tail = "\n".join(lines[-15:])  # the first line says what went wrong: a traceback's last line
        raise RuntimeError(f"autopilot {command[3]} exited {done.returncode}: {lines[-1]}\n{tail}")
    return time.perf_counter() - start


def run_autopilot(
    train: pd.DataFrame, test: pd.DataFrame, problem: Problem, out: Path, args: argparse.Namespace
) -> dict:
    cli = [sys.executable, "-m", "autopilot.cli"]  # autopilot/cli.py runs main() as __main__
    job, train_csv, test_csv, preds_csv = out / "job", out / "train.csv", out / "test.csv", out / "preds.csv"
    train.to_csv(train_csv, index=False)
    test.drop(columns=problem.target).to_csv(test_csv, index=False)
    limit, seed = str(args.time_limit), str(args.seed)
    run = [*cli, "run", str(train_csv), "--target", problem.target, "--time-limit", limit, "--seed", seed]
    wall = _cli([*run, "--output", str(job)], timeout=max(600.0, 5 * args.time_limit))
    predict_s = _cli([*cli, "predict", str(job), str(test_csv), "--output", str(preds_csv)], timeout=600.0)
    predicted = pd.read_csv(preds_csv, dtype={"predicted_label": str}, keep_default_na=False)["predicted_label"]
    info = json.loads((job / "job.json").read_text())
    result = {"wall_s": wall, "predict_s": predict_s, "predicted": predicted, "ran_as": info["resolved"]["mode"]}
    result["job_s"] = info.get("seconds")  # autopilot's own clock, from the job's start to its end
    theirs = json.loads((job / "problem.json").read_text())
    mine = (problem.problem_type, problem.metric, label_key(problem.positive_label))
    if (theirs["problem_type"], theirs["metric"], label_key(theirs.get("positive_label"))) != mine:
        result["note"] = f"autopilot run read the CSV as {theirs['problem_type']}/{theirs['metric']}"
        result["note"] += f" (positive label {theirs.get('positive_label')!r}), not {'/'.join(mine)}"
    return result


def run_autogluon(
    train: pd.DataFrame, test: pd.DataFrame, problem: Problem, out: Path, args: argparse.Namespace
) -> dict:
    from autogluon.tabular import TabularPredictor

    start = time.perf_counter()
    predictor = TabularPredictor(
        label=problem.target,
        problem_type=problem.problem_type,
        eval_metric=AG_METRICS[problem.metric],
        path=str(out / "ag"),
        verbosity=0,
        positive_class=problem.positive_label,
    ).fit(train, presets=args.ag_presets, time_limit=args.time_limit)
    wall = time.perf_counter() - start
    start = time.perf_counter()
    predicted = pd.Series(predictor.predict(test.drop(columns=problem.target)).to_numpy())
    return {"wall_s": wall, "predict_s": time.perf_counter() - start, "predicted": predicted, "ran_as": args.ag_presets}


def flaml_features(rows: pd.DataFrame) -> pd.DataFrame:
    """FLAML wants categorical columns as pandas categories; it handles NaN and datetimes itself."""
    text = rows.select_dtypes(include=["object", "string"]).columns
    return rows.astype(dict.fromkeys(text, "category"))


def flaml_custom_metric(name: str, problem_type: str) -> Callable:
    """An autopilot metric FLAML has no name for, as FLAML's custom metric (a loss to minimise)."""
    metric = get_metric(name, problem_type)

    def loss(x_val: pd.DataFrame, y_val: np.ndarray, estimator: object, *_: object) -> tuple[float, dict]:
        proba = estimator.predict_proba(x_val) if problem_type in CLASSIFICATION else None
        score = metric.score(np.asarray(y_val), estimator.predict(x_val), proba)
        return (-score if metric.greater_is_better else score), {name: score}

    return loss


def run_flaml(train: pd.DataFrame, test: pd.DataFrame, problem: Problem, out: Path, args: argparse.Namespace) -> dict:
    from flaml import AutoML

    classify = problem.problem_type in CLASSIFICATION
    y = pd.Series(encode(train[problem.target], problem)) if classify else train[problem.target].astype(float)
    x_train = flaml_features(train.drop(columns=problem.target)).reset_index(drop=True)
    automl = AutoML()
    start = time.perf_counter()
    automl.fit(
        x_train,
        y.reset_index(drop=True),
        task="classification" if classify else "regression",
        metric=FLAML_METRICS.get(problem.metric) or flaml_custom_metric(problem.metric, problem.problem_type),
        time_budget=args.time_limit,
        seed=args.seed,
        n_jobs=-1,
        verbose=0,
    )
    wall = time.perf_counter() - start
    start = time.perf_counter()
    raw = automl.predict(flaml_features(test.drop(columns=problem.target)))
    predict_s = time.perf_counter() - start
    predicted = pd.Series(np.asarray(problem.classes, dtype=object)[np.asarray(raw, int)] if classify else raw)
    return {"wall_s": wall, "predict_s": predict_s, "predicted": predicted, "ran_as": str(automl.best_estimator)}


RUNNERS = {"autopilot": run_autopilot, "autogluon": run_autogluon, "flaml": run_flaml}


def run_system(
    system: str, name: str, split_rows: tuple[pd.DataFrame, pd.DataFrame], problem: Problem, args: argparse.Namespace
) -> dict:
    """One system on one dataset: its score and times, or its failure (score NaN, the error's first line kept)."""
    train, test = split_rows
    out = Path(args.work) / name / system
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    try:
        run = RUNNERS[system](train, test, problem, out, args)
        run["test_score"] = test_score(problem, run.pop("predicted"), test)
    except Exception as exc:  # a failed system is a result, not the end of the benchmark
        message = str(exc).strip() or type(exc).__name__
        run = {"test_score": math.nan, "error": message.splitlines()[0]}
        if system == "autopilot":
            run["stderr_tail"] = message
    return run


def bench_dataset(position: int, name: str, args: argparse.Namespace) -> list[dict]:
    """Every system on each of the dataset's ``--repeats`` splits, interleaved."""
    load, target, source = DATASETS[name]
    data, rows = load(), []
    for repeat in range(args.repeats):
        train, test = split(data, target, args.seed + repeat)
        problem = infer_problem(table_from_pandas(train), target)  # what autopilot infers; it scores every system
        turn = (position + repeat) % len(args.systems)
        order = args.systems[turn:] + args.systems[:turn]
        for system in order:
            run = run_system(system, name, (train, test), problem, args)
            row = {"dataset": name, "rows": len(train) + len(test), "problem": problem.problem_type, "repeat": repeat}
            rows.append(row | {"metric": problem.metric, "system": system, "order": order.index(system) + 1, **run})
            rows[-1]["source"] = source
            wall = f"{run['wall_s']:.1f} s" if "wall_s" in run else "failed: " + run["error"]
            print(f"  {name:16s} {repeat} {system:10s} {problem.metric} {run['test_score']:.6g}  {wall}", flush=True)
    return rows


def mean_over_repeats(rows: list[dict]) -> pd.DataFrame:
    """One row per dataset and system: the mean test score over the splits (NaN if any failed), the longest wall
    time, and the first error."""
    frame = pd.DataFrame(rows)
    for column in ("wall_s", "predict_s", "error", "note"):
        frame[column] = frame.get(column, math.nan)
    keys = ["dataset", "system"]
    return (
        frame.groupby(keys, sort=False)
        .agg(
            rows=("rows", "first"),
            problem=("problem", "first"),
            metric=("metric", "first"),
            test_score=("test_score", lambda s: s.mean(skipna=False)),
            wall_s=("wall_s", "max"),
            predict_s=("predict_s", "max"),
            error=("error", "first"),
            note=("note", "first"),
        )
        .reset_index()
    )


def best_of(scores: dict[str, float], better: Callable[[float, float], bool]) -> list[str]:
    """The systems with the best score (several when tied); none when every score is NaN."""
    valid = {s: v for s, v in scores.items() if not math.isnan(v)}
    return [s for s, v in valid.items() if not any(better(w, v) for w in valid.values())]


def compare(group: pd.DataFrame) -> tuple[str, float | None]:
    """autopilot against the better peer on one dataset: win, tie, loss or n/a, and the loss as a fraction."""
    metric = get_metric(group["metric"].iloc[0], group["problem"].iloc[0])
    scores = dict(zip(group["system"], group["test_score"], strict=True))
    peers = {k: v for k, v in scores.items() if k != "autopilot"}
    ours, best = scores.get("autopilot", math.nan), best_of(peers, metric.better)
    if "autopilot" not in scores or not peers or (math.isnan(ours) and not best):
        return "n/a", None
    if not best:  # every peer failed
        return "win", None
    reference = scores[best[0]]
    if math.isnan(ours) or metric.better(reference, ours):
        gap = None if math.isnan(ours) else abs(reference - ours) / max(abs(reference), 1e-12)
        return "loss", gap
    return ("win" if metric.better(ours, reference) else "tie"), None


def cell(row: pd.Series) -> str:
    if math.isnan(row["test_score"]):
        return "failed: " + row["error"][:60].replace("|", "/")
    return f"{row['test_score']:.4g} ({row['wall_s']:.0f} s)"


def report(rows: list[dict], args: argparse.Namespace) -> None:
    frame = mean_over_repeats(rows)
    systems = [s for s in args.systems if s in set(frame["system"])]
    if args.repeats > 1:
        print(f"\nMean test score over {args.repeats} splits per dataset; wall time: the longest run.")
    print("\n| dataset | rows | problem (metric) | " + " | ".join(systems) + " | winner |")
    print("|---|---:|---|" + "---|" * len(systems) + "---|")
    outcomes, gaps = [], []
    for name, group in frame.groupby("dataset", sort=False):
        by_system = group.set_index("system")
        metric = get_metric(group["metric"].iloc[0], group["problem"].iloc[0])
        winners = best_of(dict(zip(group["system"], group["test_score"], strict=True)), metric.better)
        cells = " | ".join(cell(by_system.loc[s]) for s in systems)
        problem = f"{group['problem'].iloc[0]} ({group['metric'].iloc[0]})"
        print(f"| {name} | {group['rows'].iloc[0]:,} | {problem} | {cells} | {', '.join(winners) or '-'} |")
        outcome, gap = compare(group)
        outcomes.append(outcome)
        gaps += [] if gap is None else [(gap, name)]
    summary(frame, outcomes, gaps, args)


def summary(frame: pd.DataFrame, outcomes: list[str], gaps: list[tuple[float, str]], args: argparse.Namespace) -> None:
    counts = {k: outcomes.count(k) for k in ("win", "tie", "loss", "n/a")}
    line = f"\nautopilot vs the better peer: {counts['win']} wins / {counts['tie']} ties / {counts['loss']} losses"
    line += f" ({counts['n/a']} n/a)" if counts["n/a"] else ""
    if gaps:
        gap, name = max(gaps)
        line += f"; largest loss {gap:.1%} ({name})"
    ours = frame[frame["system"] == "autopilot"]
    if "wall_s" in ours and ours["wall_s"].notna().any():
        line += f"; autopilot wall max {ours['wall_s'].max():.0f} s for a {args.time_limit:g} s limit"
        line += f", predict max {ours['predict_s'].max():.0f} s"
    failed = frame[frame["test_score"].isna()]
    print(line + "".join(f"\n{r.dataset} {r.system} failed: {r.error}" for r in failed.itertuples()))
    for r in ours.itertuples():
        if isinstance(getattr(r, "note", None), str):
            print(f"{r.dataset}: {r.note}")


def to_json(value: object) -> object:
    return None if isinstance(value, float) and math.isnan(value) else value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds for each fit (default 60)")
    parser.add_argument("--datasets", default=",".join(DATASETS), help="any of: " + ", ".join(DATASETS))
    parser.add_argument("--systems", default=",".join(SYSTEMS), help="any of: " + ", ".join(SYSTEMS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=1, help="splits per dataset, seeds seed.. (default 1)")
    parser.add_argument("--work", default="/tmp/autopilot-vs-peers", help="job folders, CSVs and models go here")
    parser.add_argument("--ag-presets", default="medium_quality", help="AutoGluon presets (default medium_quality)")
    parser.add_argument("--json", default=None, help="also write the rows here")
    args = parser.parse_args()
    args.systems = [s for s in args.systems.split(",") if s]
    unknown = [s for s in args.systems if s not in SYSTEMS] + [d for d in args.datasets.split(",") if d not in DATASETS]
    if unknown:
        parser.error(f"unknown system or dataset: {', '.join(unknown)}")
    warnings.filterwarnings("ignore")
    logging.getLogger("flaml.tune").setLevel(logging.WARNING)  # a search hint at INFO on every fit
    rows = []
    for position, name in enumerate(args.datasets.split(",")):
        rows += bench_dataset(position, name, args)
    report(rows, args)
    if args.json:
        Path(args.json).write_text(json.dumps([{k: to_json(v) for k, v in r.items()} for r in rows], indent=2))


if __name__ == "__main__":
    main()
