"""The command line: ``autopilot run``, ``predict``, ``serve``, ``explain``, ``bias``, ``notebooks``, ``baseline``,
``monitor``, ``jobs`` and ``track``. A user's mistake is one line and exit code 2; ``monitor`` exits 3 when it finds
violations."""

from __future__ import annotations

import argparse
import atexit
import difflib
import os
import sys
from pathlib import Path
from typing import NoReturn

from rich.console import Console

from autopilot import __version__
from autopilot.deploy.commands import cmd_baseline, cmd_monitor, cmd_predict, cmd_serve
from autopilot.errors import AutopilotError, ConfigError

EXIT_USAGE = 2


class Parser(argparse.ArgumentParser):
    """argparse without abbreviations (``--max-trial`` is not ``--max-trials``), and a mistake as one line: an
    unknown option is named with its closest match, and no usage block is printed."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, allow_abbrev=False, **kwargs)

    def parse_args(self, args: list[str] | None = None, namespace: object = None) -> argparse.Namespace:
        args = sys.argv[1:] if args is None else list(args)
        self._refuse_unknown_options(args)
        return super().parse_args(args, namespace)

    def _refuse_unknown_options(self, args: list[str]) -> None:
        commands = next((a.choices for a in self._actions if isinstance(a, argparse._SubParsersAction)), {})
        command = next((a for a in args if not a.startswith("-")), None)
        parser = commands.get(command, self)
        known = [o for action in parser._actions for o in action.option_strings]
        for arg in args[: args.index("--")] if "--" in args else args:
            name = arg.split("=", 1)[0]
            if name.startswith("--") and name not in known and arg not in ("--help", "--version"):
                close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
                parser.error(f"unknown option {name}" + (f"; did you mean {close[0]}?" if close else ""))

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="autopilot", description="Local-first AutoML for tabular data.")
    parser.add_argument("--version", action="version", version=f"autopilot {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="profile a dataset, train candidates, write a job folder")
    run.add_argument("data", help="a CSV file, a Parquet file or a folder of Parquet parts")
    run.add_argument("--target", required=True, help="the column to predict")
    run.add_argument("--problem-type", choices=["binary", "multiclass", "regression"], help="override the inference")
    run.add_argument("--metric", help="objective metric (Autopilot's names: F1, Accuracy, AUC, MSE, RMSE, R2, ...)")
    run.add_argument("--positive-label", help="the positive class of a binary problem (F1, Precision, Recall)")
    run.add_argument("--algorithms", help="comma-separated candidates, e.g. xgboost,linear-learner,mlp")
    run.add_argument("--seed", type=int, default=0, help="makes the whole run repeatable (default 0)")
    run.add_argument(
        "--validation-fraction",
        type=float,
        default=None,
        help="share of rows kept for ranking (default: by size, 20%% up to 2,500 rows, less above)",
    )
    run.add_argument(
        "--strategy",
        choices=["auto", "bayesian", "multi-fidelity", "random", "defaults"],
        default="auto",
        help="search: auto (Bayesian up to 100 MB of data, multi-fidelity above), or one of them; "
        "defaults trains each candidate once",
    )
    run.add_argument("--max-trials", type=int, default=100, help="trials in all (default 100)")
    run.add_argument(
        "--time-limit",
        type=float,
        help="seconds for the whole job, load to report (it ends within limit + max(5 s, 10%%)); "
        "default in ensembling mode: picked for the data's size",
    )
    run.add_argument("--trial-time-limit", type=float, help="seconds per trial; a slower trial is stopped, failed")
    run.add_argument(
        "--mode",
        choices=["auto", "hpo", "ensembling"],
        default="auto",
        help="ensembling (AutoGluon stacking) or hpo (search over linear-learner, xgboost, mlp); "
        "auto: ensembling up to 100 MB of data (or --ensembling-max-mb), hpo above, hpo whenever --strategy is given",
    )
    run.add_argument("--ensembling-max-mb", type=float, help="auto mode's threshold in MB (default 100)")
    run.add_argument("--cluster", help="a running Dask scheduler, tcp://HOST:PORT, to run the trials on")
    run.add_argument(
        "--parallel", "--parallel-trials", dest="parallel_trials", type=int, help="trials at once (default: cores / 2)"
    )
    run.add_argument(
        "--device", choices=["auto", "cpu", "cuda"], default="auto", help="train on the GPU (auto: when torch sees one)"
    )
    run.add_argument("--output", help="the job folder (default ./autopilot-output/<job-name>)")
    run.add_argument("--job-name", help="name of the job folder under ./autopilot-output")
    run.add_argument("--overwrite", action="store_true", help="replace an existing job folder")
    run.add_argument(
        "--candidates-only",
        action="store_true",
        help="pilot mode: profile the data, write both notebooks, train nothing (the candidate notebook trains)",
    )
    _bias_options(run)
    _tracking_options(run)

    track = commands.add_parser(
        "track",
        help="log a finished job to MLflow: its run, trials, files and best/ as a model",
        description="Log a job folder to MLflow afterwards (when tracking was off, or the server was down during the "
        "job). A job logged to the same place before continues its own run; no trial is logged twice.",
    )
    track.add_argument("job", help="the job folder written by `autopilot run`")
    _tracking_options(track, required=True)

    bias = commands.add_parser(
        "bias",
        help="Clarify's bias metrics of a finished job (no retraining) or of labelled new data",
        description="Pre-training bias metrics of the job's training rows and post-training metrics of the rows its "
        "best model was scored on (or of DATA's labelled rows, with the best model's predictions). Writes "
        "explain/bias.json (explain/bias-<data>.json for DATA) in Clarify's analysis.json shape and updates "
        "report.html's Bias section.",
    )
    bias.add_argument("job", help="the job folder written by `autopilot run`")
    bias.add_argument("data", nargs="?", help="a CSV or Parquet file or folder of labelled rows (default: the job's)")
    bias.add_argument("--output", help="where to write the analysis (default under explain/)")
    _bias_options(bias, default_from_job=True)

    predict = commands.add_parser("predict", help="score new rows with a job's best pipeline")
    predict.add_argument("job", help="the job folder written by `autopilot run`")
    predict.add_argument("data", help="a CSV or Parquet file of new rows")
    predict.add_argument("--output", default="predictions.csv", help="where to write (default predictions.csv)")
    predict.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    predict.add_argument("--chunk-mb", type=float, default=8, help="CSV read per chunk (memory stays bounded by it)")

    serve = commands.add_parser("serve", help="serve the best pipeline over HTTP with SageMaker's inference contract")
    serve.add_argument("job", help="the job folder written by `autopilot run`")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    serve.add_argument("--capture", help="capture answered requests into this folder (SageMaker's Data Capture)")
    serve.add_argument(
        "--capture-percent", type=float, default=100.0, help="share of requests captured, 0-100 (default 100)"
    )

    explain = commands.add_parser("explain", help="SHAP attributions of a job's best pipeline for rows of a file")
    explain.add_argument("job", help="the job folder written by `autopilot run`")
    explain.add_argument("data", help="a CSV or Parquet file of rows to explain")
    explain.add_argument("--output", default="attributions.csv", help="where to write (default attributions.csv)")
    explain.add_argument("--overwrite", action="store_true", help="replace an existing output file")

    baseline = commands.add_parser(
        "baseline",
        help="write monitor/'s baseline again (statistics, constraints: edited thresholds are kept, model quality)",
    )
    baseline.add_argument("job", help="the job folder written by `autopilot run`")
    baseline.add_argument("data", nargs="?", help="a CSV or Parquet file or folder (default: the job's training rows)")

    monitor = commands.add_parser(
        "monitor",
        help="check new data or captured requests against the job's baseline",
        description="Check new data, or a capture folder hour by hour, against the job's baseline in monitor/. "
        "Writes monitor/<run>/ (statistics.json, constraint_violations.json, model-quality files) and "
        "monitor/report-<run>.html; capture hours done are kept in monitor/state.json. "
        "Exit 0: no violations; 3: violations; 2: bad input.",
    )
    monitor.add_argument("job", help="the job folder written by `autopilot run`")
    monitor.add_argument("data", help="a CSV or Parquet file or folder, or a folder written by serve --capture")
    monitor.add_argument(
        "--ground-truth",
        help="labels for model quality: a file with the target column, row for row, or ground-truth JSON lines "
        "(.jsonl file or folder) for a capture folder; a data file holding the target needs none",
    )
    monitor.add_argument("--no-attribution", action="store_true", help="skip the SHAP ranking drift check")
    monitor.add_argument("--chunk-mb", type=float, default=8, help="CSV read per chunk (memory stays bounded by it)")

    jobs = commands.add_parser(
        "jobs",
        help="list the job folders under a folder, or compare jobs side by side",
        description="List the job folders under FOLDER (default ./autopilot-output): name, data, problem, metric, "
        "best score, mode, wall time, status, date. With --compare, show the jobs' settings and leaderboards side "
        "by side and say what differs.",
    )
    jobs.add_argument(
        "folder", nargs="?", default="autopilot-output", help="where the jobs are (default ./autopilot-output)"
    )
    jobs.add_argument("--compare", nargs="+", metavar="JOB", help="two or more job folders to compare")

    notebooks = commands.add_parser("notebooks", help="regenerate a job's two notebooks from its folder")
    notebooks.add_argument("job", help="the job folder written by `autopilot run`")
    return parser


def _bias_options(parser: argparse.ArgumentParser, default_from_job: bool = False) -> None:
    more = " (default: the job's own)" if default_from_job else ""
    parser.add_argument(
        "--facet",
        action="append",
        dest="facets",
        metavar="COLUMN[=VALUE,...|>THRESHOLD]",
        help="a sensitive column for the bias metrics, and the values (or the threshold, for numbers) that pick "
        f"group d; repeatable; without values, each value in turn{more}",
    )
    parser.add_argument("--group-variable", help="the column that CDDL and CDDPL stratify by")
    parser.add_argument(
        "--label-values",
        help="comma-separated target values that are the positive outcome (default for binary: the positive label)",
    )
    parser.add_argument("--label-threshold", type=float, help="regression: target values above it are positive")


def _tracking_options(parser: argparse.ArgumentParser, required: bool = False) -> None:
    neither = "neither: an error" if required else "neither: no tracking"
    parser.add_argument(
        "--tracking-uri",
        help=f"log the job to MLflow here: a server (http://HOST:PORT), sqlite:///mlflow.db or a folder "
        f"(default: MLFLOW_TRACKING_URI; {neither})",
    )
    parser.add_argument("--experiment", help="the MLflow experiment (default: the data file's name, e.g. penguins)")
    parser.add_argument("--register-model", metavar="NAME", help="register best/ in MLflow's model registry as NAME")


def cmd_track(args: argparse.Namespace) -> None:
    from autopilot.api import load_job
    from autopilot.tracking import track_job

    job = load_job(args.job)
    Console(highlight=False, soft_wrap=True).print(
        track_job(job.path, args.tracking_uri, args.experiment, args.register_model)
    )


def cmd_bias(args: argparse.Namespace) -> None:
    from autopilot.api import load_job
    from autopilot.bias.descriptions import summary_lines

    job = load_job(args.job)
    analysis, path = job.bias(
        args.facets, args.group_variable, args.label_values, args.label_threshold, data=args.data, output=args.output
    )
    console = Console(highlight=False, soft_wrap=True)
    for line in summary_lines(analysis):
        console.print(line)
    if args.data or args.output:
        console.print(f"Wrote {path}")
    else:
        console.print(f"Wrote {path} and the Bias section of {job.path / 'report.html'}")
        console.print("  (explain/bias.json is the baseline of autopilot monitor's bias drift; --output FILE keeps it)")


def cmd_jobs(args: argparse.Namespace) -> None:
    from autopilot.jobs import comparison_text, listing_text

    if args.compare and len(args.compare) < 2:
        raise ConfigError("--compare needs two or more job folders")
    lines = comparison_text(args.compare) if args.compare else listing_text(args.folder)
    Console(highlight=False, soft_wrap=True).print("\n".join(lines))


def cmd_explain(args: argparse.Namespace) -> None:
    from autopilot.api import load_job
    from autopilot.io import atomic_path

    output = Path(args.output)
    if output.exists() and not args.overwrite:
        raise ConfigError(f"{output} already exists; choose another --output or pass --overwrite")
    table = load_job(args.job).explain(args.data)
    with atomic_path(output) as tmp:
        table.to_csv(tmp, index=False)
    Console(highlight=False, soft_wrap=True).print(
        f"Wrote attributions of {table.attrs['explained']} for {len(table):,} rows to {output} "
        f"({table.attrs['method']}); base_value + a row's attributions = output"
    )


def cmd_notebooks(args: argparse.Namespace) -> None:
    from autopilot.api import load_job
    from autopilot.notebooks import write_notebooks

    job = load_job(args.job)
    for path in write_notebooks(job.path, train_now=job.info.get("status") == "candidates"):
        Console(highlight=False, soft_wrap=True).print(f"Wrote {path}")


def cmd_run(args: argparse.Namespace) -> None:
    from autopilot.search.processes import warm_up

    if args.cluster is None and not args.candidates_only:
        warm_up()  # the trials' server imports its libraries (5-6 s on 2 cores) while this process imports the job's
    from autopilot.budget import process_start
    from autopilot.config import JobConfig
    from autopilot.console import ConsoleReporter
    from autopilot.job import run_job

    algorithms = None if args.algorithms is None else [a for a in args.algorithms.split(",") if a.strip()]
    config = JobConfig(
        target=args.target,
        problem_type=args.problem_type,
        metric=args.metric,
        algorithms=algorithms,
        positive_label=args.positive_label,
        seed=args.seed,
        validation_fraction=args.validation_fraction,
        parallel_trials=args.parallel_trials,
        strategy=args.strategy,
        max_trials=args.max_trials,
        time_limit=args.time_limit,
        trial_time_limit=args.trial_time_limit,
        cluster=args.cluster,
        mode=args.mode,
        ensembling_max_bytes=None if args.ensembling_max_mb is None else int(args.ensembling_max_mb * 1e6),
        device=args.device,
        output=args.output,
        job_name=args.job_name,
        overwrite=args.overwrite,
        candidates_only=args.candidates_only,
        facets=args.facets,
        group_variable=args.group_variable,
        label_values=None if args.label_values is None else args.label_values.split(","),
        label_threshold=args.label_threshold,
        tracking_uri=args.tracking_uri,
        experiment=args.experiment,
        register_model=args.register_model,
    )
    run_job(args.data, config, ConsoleReporter(), started=process_start())  # the limit covers start-up too


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        commands = {
            "run": cmd_run, "predict": cmd_predict, "explain": cmd_explain, "notebooks": cmd_notebooks,
            "serve": cmd_serve, "baseline": cmd_baseline, "monitor": cmd_monitor, "bias": cmd_bias, "jobs": cmd_jobs,
            "track": cmd_track,
        }  # fmt: skip
        return commands[args.command](args) or 0
    except AutopilotError as exc:
        print(f"autopilot: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("autopilot: interrupted", file=sys.stderr)
        return 130


def entry() -> NoReturn:
    """The ``autopilot`` command: ``main()``, then an exit that skips tearing down the interpreter's objects, which
    took 1.4-3 s after a job that loaded AutoGluon's and torch's models (inside the user's time limit, after the
    job's last file). Exit handlers still run (logging, multiprocessing, MLflow) and output is flushed first."""
    code = main()
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    entry()
