"""The deploy side's commands: ``autopilot predict``, ``serve``, ``baseline`` and ``monitor`` (their options are in
``autopilot/cli.py``'s parser)."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from rich.console import Console

from autopilot.errors import ConfigError

EXIT_VIOLATIONS = 3  # autopilot monitor found violations (cron and CI can act on it)


def cmd_baseline(args: argparse.Namespace) -> None:
    from autopilot.api import load_job
    from autopilot.deploy.baseline import write_baseline

    job = load_job(args.job)
    for path in write_baseline(job.path, args.data):
        Console(highlight=False, soft_wrap=True).print(f"Wrote {path}")


def cmd_monitor(args: argparse.Namespace) -> int:
    from autopilot.api import load_job
    from autopilot.deploy.capture import current_capture_hour
    from autopilot.deploy.monitor import monitor

    if not (math.isfinite(args.chunk_mb) and args.chunk_mb > 0):
        raise ConfigError(f"--chunk-mb must be a number above 0; got {args.chunk_mb:g}")
    job = load_job(args.job)
    job.best  # noqa: B018
    console = Console(highlight=False, soft_wrap=True)
    runs = monitor(job.path, args.data, args.ground_truth, not args.no_attribution, int(args.chunk_mb * (1 << 20)))
    waiting = current_capture_hour(Path(args.data))
    if not runs:
        console.print("Nothing new to monitor: every finished capture hour was monitored before")
    if waiting:
        console.print(f"Capture hour {waiting} (UTC) is still being written: a run after it ends will monitor it")
    for run in runs:
        rows = run.statistics["dataset"]["item_count"]
        verdict = f"{run.violated} violation(s)" if run.violated else "no violations"
        console.print(f"{run.name}: {rows:,} rows, {verdict}; report {run.report}")
        for v in run.violations[:10]:
            console.print(f"  {v['feature_name']}: {v['constraint_check_type']}: {v['description']}")
        for v in run.quality_violations:
            console.print(f"  model quality: {v['description']}")
        for v in run.bias_violations[:10]:
            console.print(f"  bias drift: {v['metric_name']} for {v['facet']} = {v['facet_value']}: {v['description']}")
        if run.attribution and run.attribution["violated"]:
            console.print(
                f"  SHAP ranking drifted: NDCG {run.attribution['ndcg']:.3f} < {run.attribution['threshold']}"
            )
        for note in run.notes[:5]:
            console.print(f"  note: {note}")
    return EXIT_VIOLATIONS if any(run.violated for run in runs) else 0


def cmd_predict(args: argparse.Namespace) -> None:
    from autopilot.api import load_job
    from autopilot.deploy.batch import batch_predict

    output = Path(args.output)
    if output.exists() and not args.overwrite:
        raise ConfigError(f"{output} already exists; choose another --output or pass --overwrite")
    if not (math.isfinite(args.chunk_mb) and args.chunk_mb > 0):
        raise ConfigError(f"--chunk-mb must be a number above 0; got {args.chunk_mb:g}")
    job = load_job(args.job)
    job.best  # noqa: B018  (a job without a best pipeline says so before any row is read)
    rows = batch_predict(job.path, args.data, output, int(args.chunk_mb * (1 << 20)))
    Console(highlight=False).print(f"Wrote {rows:,} predictions to {output}")


def cmd_serve(args: argparse.Namespace) -> None:
    import os

    import uvicorn

    from autopilot.api import load_job
    from autopilot.deploy.serve import CAPTURE_ENV, CAPTURE_PERCENT_ENV, JOB_ENV, MAX_CONNECTIONS, OUTPUT_ENV, Model

    job = load_job(args.job)
    job.best  # noqa: B018
    Model(job.path, os.environ.get(OUTPUT_ENV))  # refuses bad output keys with a one-line error before serving
    os.environ[JOB_ENV] = str(job.path.resolve())  # the worker processes load the model from here
    if not (math.isfinite(args.capture_percent) and 0 <= args.capture_percent <= 100):
        raise ConfigError(f"--capture-percent must be from 0 to 100; got {args.capture_percent:g}")
    os.environ.pop(CAPTURE_ENV, None)
    if args.capture:
        capture = Path(args.capture).resolve()
        try:
            capture.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"--capture {args.capture}: cannot create the folder ({exc.strerror})") from None
        os.environ[CAPTURE_ENV], os.environ[CAPTURE_PERCENT_ENV] = str(capture), str(args.capture_percent)
    Console(highlight=False, soft_wrap=True).print(
        f"Serving {job.path} on http://{args.host}:{args.port} (/ping, /invocations), {args.workers} worker(s)"
        + (f"; capturing {args.capture_percent:g}% of requests into {args.capture}" if args.capture else "")
    )
    uvicorn.run(
        "autopilot.deploy.serve:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level="warning",
        timeout_graceful_shutdown=5,
        limit_concurrency=MAX_CONNECTIONS,
    )
