"""Benchmark: autopilot (auto, ensembling and HPO modes) against plain AutoGluon `medium_quality`, side by side.

    pip install -c constraints.txt -e ".[bench]"      # statsmodels and vega_datasets, whose wheels ship the data
    python benchmarks/vs_autogluon.py                  # every dataset, 60 s per fit
    python benchmarks/vs_autogluon.py --time-limit 30 --datasets fair,cars --systems hpo,autogluon

Every dataset is real and read from a file inside an installed package (no download) or from datasets/. Each is split
once, seeded, 80% train / 20% test (stratified for classes). Each system fits the same train rows under the same time
limit and predicts the same test rows; the score is autopilot's objective for the problem (binary F1, multiclass
Accuracy, regression MSE), computed by autopilot.metrics for every system, with the positive class autopilot chose.
Wall time is the whole fit call: for autopilot that includes profiling, the split and writing the job folder.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from autopilot import AutoPilot
from autopilot.data import table_from_pandas
from autopilot.ensemble import AG_METRICS
from autopilot.metrics import CLASSIFICATION, get_metric
from autopilot.problem import Problem, infer_problem

BUNDLED = Path(__file__).resolve().parents[1] / "datasets"
SYSTEMS = ("auto", "ensembling", "hpo", "autogluon")


def _statsmodels(name: str) -> pd.DataFrame:
    import statsmodels.api as sm

    return getattr(sm.datasets, name).load_pandas().data


def _fair() -> pd.DataFrame:
    data = _statsmodels("fair")
    return data.drop(columns="affairs").assign(had_affair=np.where(data["affairs"] > 0, "yes", "no"))


def _anes96() -> pd.DataFrame:
    data = _statsmodels("anes96").drop(columns="logpopul")  # the log of another column
    return data.assign(vote=data["vote"].map({0.0: "Clinton", 1.0: "Dole"}))


def _vega(name: str) -> pd.DataFrame:
    from vega_datasets import local_data

    return getattr(local_data, name.replace("-", "_"))()


# name -> (loader, target, where the data comes from)
DATASETS: dict[str, tuple[Callable[[], pd.DataFrame], str, str]] = {
    "fair": (_fair, "had_affair", "statsmodels.datasets.fair (Fair 1978, affairs survey): had any affair"),
    "anes96": (_anes96, "vote", "statsmodels.datasets.anes96 (1996 American National Election Study)"),
    "randhie": (lambda: _statsmodels("randhie"), "mdvis", "statsmodels.datasets.randhie (RAND health insurance)"),
    "grunfeld": (lambda: _statsmodels("grunfeld"), "invest", "statsmodels.datasets.grunfeld (Grunfeld investment)"),
    "cars": (lambda: _vega("cars"), "Origin", "vega_datasets local cars (StatLib auto MPG, with names)"),
    "seattle_weather": (lambda: _vega("seattle-weather"), "weather", "vega_datasets local seattle-weather (NOAA)"),
    "penguins": (lambda: pd.read_csv(BUNDLED / "penguins.csv"), "species", "datasets/penguins.csv"),
    "breast_cancer": (lambda: pd.read_csv(BUNDLED / "breast_cancer.csv"), "diagnosis", "datasets/breast_cancer.csv"),
    "diabetes": (lambda: pd.read_csv(BUNDLED / "diabetes.csv"), "progression", "datasets/diabetes.csv"),
}


def split(data: pd.DataFrame, target: str, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    data = data[data[target].notna()].reset_index(drop=True)
    classes = data[target].dtype == object or data[target].nunique() <= 10
    return train_test_split(data, test_size=0.2, random_state=seed, stratify=data[target] if classes else None)


def run_autopilot(mode: str, train: pd.DataFrame, out: Path, args: argparse.Namespace, target: str) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    job = AutoPilot(
        target=target, mode=mode, time_limit=args.time_limit, seed=args.seed, output=out, verbose=False
    ).fit(train)
    wall = time.perf_counter() - start
    mode_used = json.loads((out / "job.json").read_text())["resolved"]["mode"]
    return {"wall_s": wall, "predict": job.predict, "models": len(job.leaderboard), "mode": mode_used}


def run_autogluon(train: pd.DataFrame, problem: Problem, out: Path, args: argparse.Namespace) -> dict:
    from autogluon.tabular import TabularPredictor

    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    predictor = TabularPredictor(
        label=problem.target,
        problem_type=problem.problem_type,
        eval_metric=AG_METRICS[problem.metric],
        path=str(out),
        verbosity=0,
        positive_class=problem.positive_label,
    ).fit(train, presets="medium_quality", time_limit=args.time_limit)
    wall = time.perf_counter() - start

    def predict(rows: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({"predicted_label": predictor.predict(rows.drop(columns=problem.target)).to_numpy()})

    return {"wall_s": wall, "predict": predict, "models": len(predictor.model_names()), "mode": "medium_quality"}


def test_score(problem: Problem, predict: Callable[[pd.DataFrame], pd.DataFrame], test: pd.DataFrame) -> float:
    metric = get_metric(problem.metric, problem.problem_type)
    predicted = predict(test)["predicted_label"]
    if problem.problem_type not in CLASSIFICATION:
        return metric.score(test[problem.target].to_numpy(float), predicted.to_numpy(float))
    index = {str(c): i for i, c in enumerate(problem.classes)}
    return metric.score(test[problem.target].astype(str).map(index), predicted.astype(str).map(index))


def bench_dataset(name: str, args: argparse.Namespace) -> list[dict]:
    load, target, source = DATASETS[name]
    train, test = split(load(), target, args.seed)
    problem = infer_problem(table_from_pandas(train), target)  # what autopilot infers; it scores every system
    rows = []
    for system in [s for s in SYSTEMS if s in args.systems]:
        out = Path(args.work) / f"{name}-{system}"
        run = (
            run_autogluon(train, problem, out, args)
            if system == "autogluon"
            else run_autopilot(system, train, out, args, target)
        )
        score = test_score(problem, run["predict"], test)
        rows.append(
            {
                "dataset": name,
                "rows": len(train) + len(test),
                "problem": problem.problem_type,
                "metric": problem.metric,
                "system": system if system == "autogluon" else f"autopilot {system}",
                "ran_as": run["mode"],
                "test_score": score,
                "wall_s": run["wall_s"],
                "models": run["models"],
                "source": source,
            }
        )
        print(f"  {name:16s} {rows[-1]['system']:22s} {problem.metric} {score:.4f}  {run['wall_s']:.1f} s", flush=True)
    return rows


def report(rows: list[dict]) -> None:
    frame = pd.DataFrame(rows)
    print("\n| dataset | problem (metric) | " + " | ".join(frame["system"].unique()) + " |")
    print("|---|---|" + "---|" * frame["system"].nunique())
    for name, group in frame.groupby("dataset", sort=False):
        cells = [f"{r.test_score:.4f} ({r.wall_s:.0f} s)" for r in group.itertuples()]
        print(f"| {name} | {group['problem'].iloc[0]} ({group['metric'].iloc[0]}) | " + " | ".join(cells) + " |")
    print()
    for name, group in frame.groupby("dataset", sort=False):
        metric = get_metric(group["metric"].iloc[0], group["problem"].iloc[0])
        ag = group[group["system"] == "autogluon"]
        if ag.empty:
            continue
        reference = float(ag["test_score"].iloc[0])
        for r in group[group["system"] != "autogluon"].itertuples():
            if metric.better(reference, r.test_score):
                gap = abs(reference - r.test_score) / max(abs(reference), 1e-12)
                print(f"{name}: {r.system} loses to AutoGluon by {gap:.1%} ({r.test_score:.4f} vs {reference:.4f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--systems", default=",".join(SYSTEMS), help="any of: " + ", ".join(SYSTEMS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work", default="/tmp/autopilot-vs-autogluon")
    parser.add_argument("--json", default=None, help="also write the rows here")
    args = parser.parse_args()
    args.systems = args.systems.split(",")
    warnings.filterwarnings("ignore")
    rows = []
    for name in args.datasets.split(","):
        rows += bench_dataset(name, args)
    report(rows)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
