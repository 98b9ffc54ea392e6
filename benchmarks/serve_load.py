"""Benchmark: the inference server under concurrent clients on loopback, and batch transform on a CSV over 1 GB.

    python benchmarks/serve_load.py                      # trains a quick penguins job if --job is not given
    python benchmarks/serve_load.py --job autopilot-output/penguins --clients 8 --seconds 20 --batch-gb 1.1

Server: `autopilot serve` with --workers; each client thread keeps one HTTP/1.1 connection and posts CSV rows of the
bundled dataset for a bounded time. Reported per payload size: requests/s, rows/s, p50 and p99 latency, errors (any
non-200 answer or failed connection). The clients share this machine's cores with the server.
Batch: a CSV made by repeating the bundled dataset's rows (generated from real rows, not a real 1 GB dataset) is
predicted by `autopilot predict`; reported: rows/s and the peak resident memory of that process.
Capture (--capture): 1-row requests/s with `serve --capture` off and on, alternated over three rounds, and a capturing
server stopped with SIGTERM mid-load: every request it answered must be in the capture.

    python benchmarks/serve_load.py --capture --seconds 10
"""

from __future__ import annotations

import argparse
import http.client
import resource
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DATA, TARGET = ROOT / "datasets" / "penguins.csv", "species"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(job: Path, port: int, workers: int, capture: Path | None = None) -> subprocess.Popen:
    command = [sys.executable, "-m", "autopilot.cli", "serve", str(job), "--port", str(port), "--workers", str(workers)]
    command += ["--capture", str(capture)] if capture else []
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(600):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/ping")
            if connection.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.1)
    server.terminate()
    raise RuntimeError("the server did not answer /ping within 60 s")


def client(port: int, body: bytes, stop: float, latencies: list, errors: list, answered: list | None = None) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    name = threading.current_thread().name
    while time.perf_counter() < stop:
        start = time.perf_counter()
        request_id = f"{name}-{len(latencies) + len(errors)}"
        try:
            headers = {"Content-Type": "text/csv", "X-Amzn-SageMaker-Inference-Id": request_id}
            connection.request("POST", "/invocations", body, headers)
            response = connection.getresponse()
            response.read()
            (latencies if response.status == 200 else errors).append(time.perf_counter() - start)
            if answered is not None and response.status == 200:
                answered.append(request_id)
        except (OSError, http.client.HTTPException):
            errors.append(time.perf_counter() - start)
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)


def load(port: int, rows: int, clients: int, seconds: float) -> dict:
    frame = pd.read_csv(DATA).drop(columns=[TARGET])
    body = frame.sample(rows, replace=True, random_state=0).to_csv(index=False, header=False).encode()
    latencies: list[float] = []
    errors: list[float] = []
    stop = time.perf_counter() + seconds
    threads = [threading.Thread(target=client, args=(port, body, stop, latencies, errors)) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done = np.array(latencies) * 1000
    return {
        "rows_per_request": rows,
        "clients": clients,
        "requests_per_s": round(len(done) / seconds, 1),
        "rows_per_s": round(len(done) * rows / seconds, 1),
        "p50_ms": round(float(np.percentile(done, 50)), 2) if len(done) else None,
        "p99_ms": round(float(np.percentile(done, 99)), 2) if len(done) else None,
        "errors": len(errors),
    }


def capture_overhead(job: Path, workers: int, clients: int, seconds: float, work: Path, rounds: int = 3) -> dict:
    """1-row requests/s with capture off and on, alternated over ``rounds``; then a capturing server is stopped
    with SIGTERM under load, and every request it answered is looked for in the capture."""
    from autopilot.deploy.capture import capture_hours, read_hour

    rates: dict[str, list[float]] = {"off": [], "on": []}
    for i in range(rounds):
        for mode in ("off", "on"):
            port = free_port()
            server = start_server(job, port, workers, work / f"capture-{i}" if mode == "on" else None)
            try:
                rates[mode].append(load(port, 1, clients, seconds)["requests_per_s"])
            finally:
                server.terminate()
                server.wait(timeout=30)
    folder, port = work / "capture-sigterm", free_port()
    server = start_server(job, port, workers, folder)
    answered: list[str] = []
    body = pd.read_csv(DATA).drop(columns=[TARGET]).head(1).to_csv(index=False, header=False).encode()
    stop = time.perf_counter() + seconds
    threads = [threading.Thread(target=client, args=(port, body, stop, [], [], answered)) for _ in range(clients)]
    for thread in threads:
        thread.start()
    time.sleep(seconds / 2)
    server.terminate()  # SIGTERM while the clients are still sending
    server.wait(timeout=60)
    for thread in threads:
        thread.join()
    captured = {
        r["eventMetadata"].get("inferenceId") for h in capture_hours(folder) for r in read_hour(folder, h).records
    }
    off, on = float(np.mean(rates["off"])), float(np.mean(rates["on"]))
    return {
        "requests_per_s_off": round(off, 1),
        "requests_per_s_on": round(on, 1),
        "slowdown": round(1 - on / off, 3),
        "rounds": rounds,
        "answered_before_and_during_sigterm": len(answered),
        "answered_but_not_captured": len(set(answered) - captured),
    }


def batch(job: Path, gigabytes: float, work: Path) -> dict:
    path = work / "batch-input.csv"
    frame = pd.read_csv(DATA).drop(columns=[TARGET])
    block = frame.to_csv(index=False, header=False)
    repeats = int(gigabytes * 1e9 / len(block.encode())) + 1
    with open(path, "w") as out:
        out.write(",".join(frame.columns) + "\n")
        for _ in range(repeats):
            out.write(block)
    size = path.stat().st_size
    rows = repeats * len(frame)
    output = work / "batch-predictions.csv"
    start = time.perf_counter()
    command = [
        sys.executable,
        "-m",
        "autopilot.cli",
        "predict",
        str(job),
        str(path),
        "--output",
        str(output),
        "--overwrite",
    ]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # the only child so far: run first
    path.unlink()
    output.unlink()
    return {
        "file_gb": round(size / 1e9, 2),
        "rows": rows,
        "seconds": round(seconds, 1),
        "rows_per_s": round(rows / seconds),
        "peak_rss_mb": round(peak_mb),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--job", help="a finished job folder (default: train a quick penguins job)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--batch-gb", type=float, default=1.05, help="size of the batch CSV; 0 skips the batch run")
    parser.add_argument("--work", default="/tmp/autopilot-serve-load")
    parser.add_argument("--capture", action="store_true", help="only measure data capture's cost and SIGTERM safety")
    args = parser.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    job = Path(args.job) if args.job else work / "penguins"
    if not args.job:
        from autopilot import AutoPilot

        AutoPilot(target=TARGET, output=job, mode="hpo", strategy="defaults", overwrite=True, verbose=False).fit(DATA)
    if args.capture:
        print(capture_overhead(job, args.workers, args.clients, args.seconds, work), flush=True)
        return
    if args.batch_gb > 0:  # first, so the peak memory of finished children is the batch process's own
        print(batch(job, args.batch_gb, work), flush=True)
    port = free_port()
    server = start_server(job, port, args.workers)
    try:
        for rows in (1, 100):
            print(load(port, rows, args.clients, args.seconds), flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
