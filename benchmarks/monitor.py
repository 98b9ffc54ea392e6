"""Benchmark: `autopilot monitor` on real data with a known shift, and on a CSV over 1 GB.

    python benchmarks/monitor.py                 # both parts
    python benchmarks/monitor.py --gb 0          # drift only

Drift: each dataset is split by a real-world attribute (cars by origin, Seattle's weather by season, penguins by
island). A job is trained on part of one side; `autopilot monitor` then checks (a) the rest of that side, a random
split that should raise no violation, and (b) the other side, whose shifted columns should be flagged.
Load: a CSV made by repeating penguins' rows (generated, not a real 1 GB dataset) is monitored with `autopilot
monitor`; reported beside the seconds bare pyarrow takes to read the same file in the same streaming blocks with
its own type inference, and the peak resident memory of the monitor process.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow.csv as pacsv

ROOT = Path(__file__).resolve().parents[1]


def scenarios() -> list[tuple[str, pd.DataFrame, pd.Series, str, str]]:
    """(name, table, mask of the training side, target, what the other side is)."""
    from vega_datasets import data

    cars = data.cars().drop(columns=["Origin"]).assign(Origin=data.cars()["Origin"])
    weather = data.seattle_weather().query("weather != 'snow'")  # 26 rows, one in the warm half
    month = pd.to_datetime(weather["date"]).dt.month
    penguins = pd.read_csv(ROOT / "datasets" / "penguins.csv")
    return [
        ("cars: USA -> Japan", cars.drop(columns=["Origin"]), cars["Origin"] == "USA", "Miles_per_Gallon", "Japan"),
        ("seattle_weather: Apr-Sep -> Oct-Mar", weather, month.between(4, 9), "weather", "Oct-Mar"),
        ("penguins: Biscoe+Dream -> Torgersen", penguins, penguins["island"] != "Torgersen", "species", "Torgersen"),
    ]


def monitor(job: Path, path: Path) -> tuple[int, list[str]]:
    run = subprocess.run(
        [sys.executable, "-m", "autopilot.cli", "monitor", str(job), str(path)], capture_output=True, text=True
    )
    found = [line.strip() for line in run.stdout.splitlines() if line.startswith("  ") and "note:" not in line]
    return run.returncode, found


def drift(work: Path) -> None:
    from autopilot import AutoPilot

    for name, table, side, target, other in scenarios():
        home = table[side].sample(frac=1.0, random_state=0)
        train, holdout = home.iloc[: int(0.6 * len(home))], home.iloc[int(0.6 * len(home)) :]
        folder = work / name.split(":")[0]
        folder.mkdir(parents=True, exist_ok=True)
        train.to_csv(folder / "train.csv", index=False)
        holdout.to_csv(folder / "same.csv", index=False)
        table[~side].to_csv(folder / "shifted.csv", index=False)
        quick = {"mode": "hpo", "strategy": "defaults", "overwrite": True, "verbose": False}
        job = AutoPilot(target=target, output=folder / "job", **quick).fit(folder / "train.csv").path
        for label, path in (("random split", folder / "same.csv"), (other, folder / "shifted.csv")):
            code, found = monitor(job, path)
            rows = len(pd.read_csv(path))
            print(json.dumps({"dataset": name, "monitored": label, "rows": rows, "exit": code, "violations": found}))


def load(work: Path, gigabytes: float) -> None:
    from autopilot import AutoPilot

    data = ROOT / "datasets" / "penguins.csv"
    job = (
        AutoPilot(
            target="species", output=work / "penguins", mode="hpo", strategy="defaults", overwrite=True, verbose=False
        )
        .fit(data)
        .path
    )
    frame = pd.read_csv(data).drop(columns=["species"])
    block = frame.to_csv(index=False, header=False)
    path = work / "monitor-input.csv"
    repeats = int(gigabytes * 1e9 / len(block.encode())) + 1
    with open(path, "w") as out:
        out.write(",".join(frame.columns) + "\n")
        for _ in range(repeats):
            out.write(block)
    start = time.perf_counter()
    with pacsv.open_csv(path, pacsv.ReadOptions(block_size=8 << 20)) as reader:
        rows = sum(batch.num_rows for batch in reader)
    bare = time.perf_counter() - start
    start = time.perf_counter()
    code = subprocess.run(
        [sys.executable, "-m", "autopilot.cli", "monitor", str(job), str(path)], stdout=subprocess.DEVNULL
    ).returncode
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # the largest child: the monitor run
    size = path.stat().st_size
    path.unlink()
    print(
        json.dumps(
            {
                "file_gb": round(size / 1e9, 2),
                "rows": rows,
                "exit": code,
                "pyarrow_s": round(bare, 1),
                "pyarrow_mb_per_s": round(size / 1e6 / bare),
                "monitor_s": round(seconds, 1),
                "monitor_mb_per_s": round(size / 1e6 / seconds),
                "share_of_pyarrow_speed": round(bare / seconds, 2),
                "peak_rss_mb": round(peak),
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gb", type=float, default=1.05, help="size of the generated CSV; 0 skips the load part")
    parser.add_argument("--work", default="/tmp/autopilot-monitor-bench")
    args = parser.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    if args.gb > 0:  # first, so the peak memory of finished children is the monitor's own
        load(work, args.gb)
    drift(work)


if __name__ == "__main__":
    main()
