"""Benchmark: how search strategies spend their trials.

    python benchmarks/hpo.py bayes-vs-random                  # the bundled datasets, 100 trials per strategy
    python benchmarks/hpo.py bayes-vs-random --trials 40 --algorithms xgboost,linear-learner
    python benchmarks/hpo.py fidelity --rows 700000           # a generated CSV over 100 MB

bayes-vs-random: the best objective after each trial, for Bayesian (TPE) and random search on the same data and seed.
The goal: Bayesian reaches random search's final score in half the trials or fewer.

fidelity: multi-fidelity (successive halving) against full-budget Bayesian search on a generated dataset over 100 MB
(generated, not a real dataset). Compute is the sum of trial seconds. The goal: the same score within noise for at
most half the compute.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd

from autopilot import AutoPilot
from autopilot.metrics import get_metric

DATASETS = Path(__file__).resolve().parents[1] / "datasets"
REAL = {"penguins.csv": "species", "breast_cancer.csv": "diagnosis", "diabetes.csv": "progression"}


def run(data: Path, target: str, out: Path, **kw: object) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    job = AutoPilot(target=target, verbose=False, output=out, **kw).fit(data)
    metric = get_metric(job.problem.metric, job.problem.problem_type)
    results = [json.loads(p.read_text()) for p in sorted((out / "trials").glob("*/result.json"))]
    sign = 1 if metric.greater_is_better else -1
    scores = [sign * r["metrics"][metric.name] if r["status"] == "succeeded" else -np.inf for r in results]
    searched = [s for s, r in zip(scores, results, strict=True) if r["spec"]["params"]]  # without the defaults
    return {
        "search_best_so_far": [float(s) for s in np.maximum.accumulate(searched)] if searched else [],
        "metric": metric.name,
        "sign": sign,
        "best_so_far": [float(s) for s in np.maximum.accumulate(scores)],
        "compute_s": sum(r["seconds"] for r in results),
        "wall_s": time.perf_counter() - start,
        "best": sign * max(scores),
    }


def bayes_vs_random(args: argparse.Namespace) -> None:
    algorithms = args.algorithms.split(",") if args.algorithms else None
    for name, target in REAL.items():
        runs = {}
        for strategy in ("bayesian", "random"):
            out = Path(args.work) / f"{name.split('.')[0]}-{strategy}"
            kw = {"strategy": strategy, "max_trials": args.trials, "seed": args.seed, "algorithms": algorithms}
            runs[strategy] = run(DATASETS / name, target, out, **kw)
        sign = runs["random"]["sign"]
        summary: dict = {"dataset": name, "metric": runs["random"]["metric"], "trials": args.trials}
        for curve in ("best_so_far", "search_best_so_far"):  # with the defaults trials, and the search alone
            goal, bayes = runs["random"][curve][-1], runs["bayesian"][curve]
            summary[curve] = {
                "random_final": sign * goal,
                "bayesian_final": sign * bayes[-1],
                "bayesian_trials_to_random_final": next((i + 1 for i, s in enumerate(bayes) if s >= goal), None),
                "bayesian_curve": [round(sign * s, 4) for s in bayes],
                "random_curve": [round(sign * s, 4) for s in runs["random"][curve]],
            }
        print(json.dumps(summary), flush=True)


def make_big_csv(path: Path, rows: int, seed: int = 0) -> None:
    """Generated data: 24 numeric features, a noisy non-linear binary label."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, 24)).round(6)
    signal = X[:, :6] @ rng.normal(size=6) + np.sin(2 * X[:, 6]) * X[:, 7] + 0.5 * X[:, 8] ** 2
    y = (signal + rng.normal(size=rows) > np.median(signal)).astype(int)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(24)]).assign(label=y)
    frame.to_csv(path, index=False)


def fidelity(args: argparse.Namespace) -> None:
    path = Path(args.work) / "big.csv"
    if not path.exists():
        make_big_csv(path, args.rows)
    print(f"{path}: {path.stat().st_size / 1e6:.0f} MB", flush=True)
    algorithms = args.algorithms.split(",") if args.algorithms else None
    for strategy in ("multi-fidelity", "bayesian"):
        out = Path(args.work) / f"big-{strategy}"
        r = run(path, "label", out, strategy=strategy, max_trials=args.trials, seed=args.seed, algorithms=algorithms)
        print(
            json.dumps(
                {
                    "strategy": strategy,
                    "metric": r["metric"],
                    "best": r["best"],
                    "trials": args.trials,
                    "compute_s": round(r["compute_s"], 1),
                    "wall_s": round(r["wall_s"], 1),
                }
            ),
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("which", choices=["bayes-vs-random", "fidelity"])
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--algorithms", help="comma-separated candidates (default: all)")
    parser.add_argument("--rows", type=int, default=700_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work", default="/tmp/autopilot-hpo-bench")
    args = parser.parse_args()
    Path(args.work).mkdir(parents=True, exist_ok=True)
    bayes_vs_random(args) if args.which == "bayes-vs-random" else fidelity(args)


if __name__ == "__main__":
    main()
