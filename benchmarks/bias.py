"""Benchmark: `autopilot bias` on 1M rows and 3 facets, and the arrests data's known disparity.

    python benchmarks/bias.py                    # 1,000,000 rows
    python benchmarks/bias.py --rows 200000

Speed: a job is trained on 20,000 generated loan rows (HPO, XGBoost defaults); `autopilot bias` then measures a
generated CSV of --rows labelled rows with three facets (sex=Female, race, age>50: 1 + 5 + 1 facet groups) and a
group variable, as a user runs it (a new process: start-up, reading, predicting, metrics, flip tests, writing).
Also timed: `autopilot bias` on a job trained on all the rows (pre-training metrics over its training rows).
Disparity: the arrests data shipped in scikit-lego's wheel (Toronto, 5,226 arrests) with --facet colour=Black.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def loans(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sex = rng.choice(["Female", "Male"], rows)
    race = rng.choice(["White", "Black", "Asian", "Hispanic", "Other"], rows, p=[0.6, 0.15, 0.1, 0.1, 0.05])
    age = rng.integers(18, 80, rows)
    income = rng.normal(50, 15, rows).round(1)
    score = (income - 50) / 10 + 0.8 * (sex == "Male") - 0.5 * (race == "Black") - 0.3
    approved = np.where(rng.random(rows) < 1 / (1 + np.exp(-score)), "yes", "no")
    region = rng.choice(["N", "S", "E", "W"], rows)
    frame = {"sex": sex, "race": race, "age": age, "income": income, "region": region}
    return pd.DataFrame(frame | {"approved": approved})


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="autopilot-bias-bench-"))
    loans(20_000, 0).to_csv(work / "train.csv", index=False)
    big = work / "big.csv"
    loans(args.rows, 1).to_csv(big, index=False)
    run = ["autopilot", "run", str(work / "train.csv"), "--target", "approved", "--output", str(work / "job")]
    subprocess.run([*run, "--mode", "hpo", "--strategy", "defaults", "--algorithms", "xgboost"], check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    facets = ["--facet", "sex=Female", "--facet", "race", "--facet", "age>50", "--group-variable", "region"]
    seconds = timed(["autopilot", "bias", str(work / "job"), str(big), *facets])
    print(f"autopilot bias on {args.rows:,} rows ({big.stat().st_size / 1e6:.0f} MB CSV), 3 facets: {seconds:.1f} s")
    analysis = json.loads((work / "job" / "explain" / "bias-big.json").read_text())
    female = analysis["post_training_bias_metrics"]["facets"]["sex"][0]
    print("  sex=Female:", {m["name"]: round(m["value"], 3) for m in female["metrics"] if m["value"] is not None})
    whole = ["autopilot", "run", str(big), "--target", "approved", "--output", str(work / "all"), "--mode", "hpo"]
    whole += ["--strategy", "defaults", "--algorithms", "linear-learner"]
    subprocess.run(whole, check=True, stdout=subprocess.DEVNULL)
    seconds = timed(["autopilot", "bias", str(work / "all"), *facets])
    print(f"autopilot bias on a job trained on {args.rows:,} rows (its own rows), 3 facets: {seconds:.1f} s")
    arrests(work)


def arrests(work: Path) -> None:
    from sklego.datasets import load_arrests

    load_arrests(as_frame=True).to_csv(work / "arrests.csv", index=False)
    command = ["autopilot", "run", str(work / "arrests.csv"), "--target", "released", "--output", str(work / "arrests")]
    command += ["--mode", "hpo", "--strategy", "defaults", "--metric", "AUC", "--facet", "colour=Black"]
    subprocess.run([*command, "--group-variable", "year"], check=True, stdout=subprocess.DEVNULL)
    analysis = json.loads((work / "arrests" / "explain" / "bias.json").read_text())
    for stage in ("pre_training_bias_metrics", "post_training_bias_metrics"):
        entry = analysis[stage]["facets"]["colour"][0]
        values = {m["name"]: round(m["value"], 3) for m in entry["metrics"] if isinstance(m["value"], float)}
        print(f"arrests, colour=Black, {stage} ({analysis[stage]['rows']}): {values}")


if __name__ == "__main__":
    sys.exit(main())
