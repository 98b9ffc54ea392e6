"""Benchmark: autopilot's load + profile against a bare ``pyarrow.csv.read_csv`` of the same CSV.

Goal (issue 2): load + profile runs at >= 75% of bare pyarrow's speed, with peak memory <= 3x the file size.
Each measurement runs in a fresh process so its peak resident memory is its own.

    python benchmarks/load_profile.py                 # makes a ~450 MB CSV in /tmp, 3 rounds
    python benchmarks/load_profile.py --csv big.csv --rounds 5
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv


def make_csv(path: Path, rows: int, seed: int = 0) -> None:
    """Generated data (not a real dataset): numbers, categories, booleans, dates, short text, missing values."""
    rng = np.random.default_rng(seed)
    chunk = 500_000
    with pacsv.CSVWriter(path, _chunk(rng, 1).schema) as writer:
        for start in range(0, rows, chunk):
            writer.write_table(_chunk(rng, min(chunk, rows - start)))


def _chunk(rng: np.random.Generator, n: int) -> pa.Table:
    cols: dict[str, object] = {f"num_{i}": np.round(rng.normal(size=n), 5) for i in range(8)}
    cols.update({f"int_{i}": rng.integers(0, 10_000, n) for i in range(4)})
    cols["cat_a"] = rng.choice(["red", "green", "blue", "amber"], n)
    cols["cat_b"] = rng.choice([f"city_{i}" for i in range(300)], n)
    cols["flag"] = rng.choice(["yes", "no"], n)
    cols["day"] = (np.datetime64("2020-01-01") + rng.integers(0, 1500, n)).astype(str)
    cols["label"] = rng.choice(["a", "b", "c"], n, p=[0.6, 0.3, 0.1])
    missing = rng.random(n) < 0.05
    table = pa.table(cols)
    return table.set_column(0, "num_0", pa.array(np.where(missing, np.nan, cols["num_0"]), from_pandas=True))


def measure(mode: str, path: str) -> dict:
    """Time one mode after its imports, as the bare read's ``import pyarrow.csv`` happens before its clock starts."""
    if mode == "autopilot":
        from autopilot.data import profile_table, read_table
    start = time.perf_counter()
    if mode == "bare":
        table = pacsv.read_csv(path)
        rows = table.num_rows
    else:
        table, source = read_table(path)
        profile = profile_table(table, "label", source.bytes)
        rows = profile["rows"]
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"mode": mode, "seconds": seconds, "peak_bytes": peak, "rows": rows}


def run_child(mode: str, path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--csv", str(path)], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--csv", type=Path, default=Path("/tmp/autopilot-bench.csv"))
    parser.add_argument("--rows", type=int, default=4_200_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", choices=["bare", "autopilot"])
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, str(args.csv))))
        return
    if not args.csv.exists():
        print(f"writing {args.rows:,} generated rows to {args.csv} ...", flush=True)
        make_csv(args.csv, args.rows)
    size = args.csv.stat().st_size
    print(f"file: {args.csv} ({size / 1e6:.0f} MB)")
    runs: dict[str, list[dict]] = {"bare": [], "autopilot": []}
    for _ in range(args.rounds):
        for mode in runs:  # interleaved, so drift in the machine's load hits both alike
            runs[mode].append(run_child(mode, args.csv))
    med = {m: statistics.median(r["seconds"] for r in rs) for m, rs in runs.items()}
    peak = {m: max(r["peak_bytes"] for r in rs) for m, rs in runs.items()}
    for mode in runs:
        print(
            f"{mode:10s} median {med[mode]:.2f}s  runs {[round(r['seconds'], 2) for r in runs[mode]]}  "
            f"peak RSS {peak[mode] / 1e6:.0f} MB ({peak[mode] / size:.2f}x file)"
        )
    ratio = med["bare"] / med["autopilot"]
    print(f"speed vs bare pyarrow: {100 * ratio:.0f}% (goal >= 75%): {'PASS' if ratio >= 0.75 else 'FAIL'}")
    mem = peak["autopilot"] / size
    print(f"peak memory: {mem:.2f}x file size (goal <= 3x): {'PASS' if mem <= 3 else 'FAIL'}")


if __name__ == "__main__":
    main()
