"""monitor/report-<run>.html: one monitoring run as a page a person reads, violations first, then model quality,
the SHAP ranking side by side, and each feature's baseline and new distributions as small inline plots (no file or
network is needed to view it). The job's report.html then links the latest one."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from autopilot.deploy.violations import shares
from autopilot.io import atomic_path, read_json

TEMPLATES = Path(__file__).resolve().parents[2] / "notebook_templates"
LINK = re.compile(r"<!--monitor-link-->.*?<!--/monitor-link-->", re.S)
BASE, NEW = "#9e9e9e", "#1f77b4"
TOP_VALUES = 8


def write_monitor_report(job_dir: Path, run: object) -> Path:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined
    )
    baseline = {f["name"]: f for f in read_json(job_dir / "monitor" / "statistics.json")["features"]}
    current = {f["name"]: f for f in run.statistics["features"]}
    violations = [
        {"name": v["feature_name"], "kind": v["constraint_check_type"], "description": v["description"]}
        for v in run.violations
    ]
    violations += [
        {"name": v["metric_name"], "kind": "model_quality", "description": v["description"]}
        for v in run.quality_violations
    ]
    violations += [
        {"name": f"{v['metric_name']} ({v['facet']} = {v['facet_value']})", "kind": "bias_drift_check",
         "description": v["description"]}
        for v in run.bias_violations
    ]  # fmt: skip
    if run.attribution and run.attribution["violated"]:
        text = f"NDCG {run.attribution['ndcg']:.3f} is below {run.attribution['threshold']}"
        violations.append({"name": "SHAP ranking", "kind": "feature_attribution_drift", "description": text})
    features = sorted(
        (_feature_row(c, baseline.get(c.name), current.get(c.name)) for c in run.checks), key=lambda f: not f["failed"]
    )
    page = env.get_template("monitor_report.html.j2").render(
        run=run,
        job_name=job_dir.name,
        rows=f"{run.statistics['dataset']['item_count']:,}",
        written=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        summary=", ".join(sorted({v["kind"] for v in violations})),
        violations=violations,
        quality=_quality_rows(job_dir, run),
        ranking=list(zip(run.attribution["baseline"][:10], run.attribution["current"][:10], strict=False))
        if run.attribution
        else [],
        features=features,
        bias=_bias_rows(job_dir, run),
    )
    path = job_dir / "monitor" / f"report-{run.name}.html"
    with atomic_path(path) as tmp:
        tmp.write_text(page, encoding="utf-8")
    link_from_report(job_dir, path)
    return path


def link_from_report(job_dir: Path, path: Path) -> None:
    """Point report.html's monitoring paragraph at the latest monitoring report."""
    report = job_dir / "report.html"
    if not report.exists():
        return
    text = report.read_text(encoding="utf-8")
    name = html.escape(path.relative_to(job_dir).as_posix())
    link = f'<!--monitor-link-->Latest monitoring report: <a href="{name}">{name}</a>.<!--/monitor-link-->'
    if LINK.search(text):
        with atomic_path(report) as tmp:
            tmp.write_text(LINK.sub(lambda _: link, text), encoding="utf-8")


def _fmt(value: float | None) -> str:
    return "" if value is None else f"{value:.4g}"


def _feature_row(check: object, base: dict | None, new: dict | None) -> dict:
    return {
        "name": check.name,
        "type": check.inferred_type,
        "plot": _plot(base, new) if base and new else "",
        "distance": _fmt(check.distance),
        "raw": _fmt(check.raw) if check.raw is not None and check.raw != check.distance else "",
        "method": check.method,
        "threshold": _fmt(check.threshold),
        "psi": _fmt(check.psi),
        "failed": ", ".join(check.failed),
    }


def _quality_rows(job_dir: Path, run: object) -> list[dict]:
    if not run.quality:
        return []
    path = job_dir / "monitor" / "model_quality_statistics.json"
    base = read_json(path) if path.exists() else {}
    constraints = read_json(job_dir / "monitor" / "model_quality_constraints.json") if path.exists() else {}
    section = next(k for k in run.quality if k.endswith("_metrics"))
    rules = constraints.get(section.replace("_metrics", "_constraints"), {})
    broken = {v["metric_name"] for v in run.quality_violations}
    rows = []
    for name, metric in run.quality[section].items():
        if not isinstance(metric, dict) or "value" not in metric or name.endswith("_best_constant_classifier"):
            continue
        rows.append(
            {
                "name": name,
                "baseline": _fmt(base.get(section, {}).get(name, {}).get("value")),
                "value": _fmt(metric["value"]),
                "sd": _fmt(metric["standard_deviation"]),
                "threshold": _threshold(rules.get(name)),
                "violated": name in broken,
            }
        )
    return rows


def _threshold(rule: dict | None) -> str:
    if not rule:
        return ""
    return f"{'<' if rule['comparison_operator'] == 'LessThanThreshold' else '>'} {_fmt(rule['threshold'])}"


def _plot(base: dict, new: dict) -> str:
    """Baseline and new shares side by side as an inline SVG bar chart."""
    if "numerical_statistics" in base and "numerical_statistics" in new:
        b, n = base["numerical_statistics"], new["numerical_statistics"]
        if "distribution" not in b or "distribution" not in n:
            return ""
        buckets = b["distribution"]["kll"]["buckets"]
        edges = np.array([buckets[0]["lower_bound"]] + [x["upper_bound"] for x in buckets])
        base_shares = _cdf_shares(b, edges)
        new_shares = _cdf_shares(n, edges)
        title = f"{edges[0]:.4g} to {edges[-1]:.4g} (baseline range); new data outside it not shown"
    elif "string_statistics" in base and "string_statistics" in new:
        b_counts = shares(base["string_statistics"])
        n_counts = shares(new["string_statistics"])
        values = sorted(b_counts, key=b_counts.get, reverse=True)[:TOP_VALUES]
        values += [v for v in sorted(n_counts, key=n_counts.get, reverse=True) if v not in values][
            : max(0, TOP_VALUES + 2 - len(values))
        ]
        base_shares = np.array([b_counts.get(v, 0.0) for v in values])
        new_shares = np.array([n_counts.get(v, 0.0) for v in values])
        title = ", ".join(values)
    else:
        return ""
    return _bars(base_shares, new_shares, title)


def _cdf_shares(block: dict, edges: np.ndarray) -> np.ndarray:
    q = np.asarray(block["distribution"]["quantiles"]["values"])
    cdf = np.searchsorted(q, edges, side="right") / len(q)
    cdf[0] = np.searchsorted(q, edges[0], side="left") / len(q)
    return np.diff(cdf)


def _bars(base: np.ndarray, new: np.ndarray, title: str, width: int = 180, height: int = 36) -> str:
    top = max(float(np.max(base, initial=0)), float(np.max(new, initial=0)), 1e-12)
    slot = width / max(len(base), 1)
    bars = []
    for i, (b, n) in enumerate(zip(base, new, strict=True)):
        for j, (share, color) in enumerate(((b, BASE), (n, NEW))):
            h = height * share / top
            x = i * slot + j * slot / 2
            bars.append(
                f'<rect x="{x:.1f}" y="{height - h:.1f}" width="{slot / 2 - 1:.1f}" height="{h:.1f}" fill="{color}"/>'
            )
    label = html.escape(title, quote=True)
    svg = f'<svg width="{width}" height="{height}" role="img" aria-label="{label}">'
    return f"{svg}<title>{label}</title>{''.join(bars)}</svg>"


def _bias_rows(job_dir: Path, run: object) -> list[dict]:
    """The bias drift's table: each facet group's post-training metrics, baseline beside now."""
    from autopilot.bias import read_bias
    from autopilot.bias.analysis import metric_value
    from autopilot.deploy.bias_drift import UNCHECKED

    if run.bias is None:
        return []
    post = "post_training_bias_metrics"
    baseline = read_bias(job_dir)[post]["facets"]
    broken = {(v["facet"], v["facet_value"], v["metric_name"]) for v in run.bias_violations}
    rows = []
    for column, entries in run.bias[post]["facets"].items():
        before = {e["value_or_threshold"]: e for e in baseline.get(column, [])}
        for entry in entries:
            group = entry["value_or_threshold"]
            for metric in entry["metrics"]:
                name = metric["name"]
                old, new = metric_value(before.get(group, entry), name), metric_value(entry, name)
                rows.append(
                    {"facet": f"{column} = {group}", "name": name, "baseline": _shown(old), "value": _shown(new),
                     "violated": (column, group, name) in broken, "checked": name not in UNCHECKED}
                )  # fmt: skip
    return rows


def _shown(value: float | None) -> str:
    return "undefined" if value is None else f"{value:.4g}"
