"""The deletion report: one record per request, written into every run folder (report.md, report.json).

It is meant to be filed by whoever answers for a deletion request: what was asked (class names,
or the number of samples and a SHA-256 of their sorted ids, so the record names no personal
data), what was done (method, target, selector, every option, plugin versions), the weights
before and after (SHA-256 of the safetensors files), the evidence (each metric beside the
retrained model or, without one, beside its ideal value, and the retrain-vs-retrain floor where
measured), the wall time, plain-language verdict lines, and what the evidence does not show.
``unlearn show RUN_DIR`` prints report.md.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

# A forget accuracy within this many points of its reference counts as "like retraining". A rule
# of thumb for the verdict line only; the table gives the numbers.
TOLERANCE_POINTS = 5.0

NOT_SHOWN = [
    "These numbers are measured on the samples of this dataset; they are evidence of behaviour, not a proof "
    "that no information about the forgotten data remains in the weights (no certified guarantee).",
    "Membership attacks bound what these particular attacks detect; a stronger attack may detect more.",
    "Copies of the original weights elsewhere (backups, deployed replicas, exported or distilled models) "
    "and the training data itself are outside this run.",
    "Duplicates or near-duplicates of the forgotten data that remain in the retained data keep influencing "
    "the model; this run forgets exactly the samples of the request.",
]


def sample_ids_sha256(ids: Iterable[int | str]) -> str:
    """SHA-256 of the sorted sample ids, one per line (UTF-8, each line ending in a newline).

    Integer ids (positions in the training set) sort numerically, string ids lexicographically.
    """
    values = list(ids)
    ordered = sorted(values, key=lambda v: (0, v, "") if isinstance(v, int) else (1, 0, str(v)))
    return hashlib.sha256("".join(f"{v}\n" for v in ordered).encode()).hexdigest()


def describe_request(scenario: Any, classes: list[str], sample_ids: list[int | str] | None = None) -> dict[str, Any]:
    """What was requested: class names, or the count and SHA-256 of the sorted sample ids."""
    if scenario.kind == "class":
        return {
            "kind": "classes",
            "classes": [classes[c] for c in scenario.forget_classes],
            "class_indices": list(scenario.forget_classes),
            "train_samples": len(scenario.train_forget),
        }
    ids = sample_ids if sample_ids is not None else [int(i) for i in scenario.train_forget.tolist()]
    return {
        "kind": "samples",
        "count": len(ids),
        "ids": "training-set positions" if sample_ids is None else "sample ids",
        "sha256": sample_ids_sha256(ids),
        "description": scenario.description,
        **({"list": scenario.request} if getattr(scenario, "request", None) else {}),
    }


def _sha256(path: Path | None) -> str | None:
    if path is None or not Path(path).is_file():
        return None
    from unlearnkit.models.user_weights import file_sha256

    return file_sha256(path)


def _ideal(row: str, kind: str, values: dict[str, Any]) -> tuple[Any, str]:
    """The value a perfect unlearning would reach without a retrained model to compare with, and why."""
    if row.startswith("acc_f_"):
        if kind == "class":
            return 0.0, "a forgotten class is never predicted"
        held_out = values.get("acc_test")
        return held_out, "accuracy on unseen data (acc_test of the unlearned model)"
    if row in ("acc_r_train", "acc_r_test", "acc_test"):
        return values.get("original_" + row), "the original model's value (kept)"
    if row == "mia_salun" and kind == "class":
        return 100.0, "every forget sample judged a non-member"
    return None, "no fixed ideal without a retrained model"


def evidence(result: Any) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """Rows of the evidence table and the skipped metrics with their reasons."""
    has_retrained = bool(result.models.get("retrained"))
    kind = result.scenario["kind"]
    floors = {name for name, opts in result.config.get("metric_options", {}).items() if opts.get("floor")}
    by_row = {m.name: m.values for m in result.metrics if not m.note}
    lookup = {"acc_test": by_row.get("acc_test", {}).get("unlearned")}
    lookup.update({"original_" + k: v.get("original") for k, v in by_row.items()})
    rows, skipped = [], []
    for m in result.metrics:
        if m.note:
            skipped.append({"metric": m.name, "reason": m.note})
            continue
        if all(v is None for v in m.values.values()):
            why = "" if has_retrained else " (it compares with the retrained model or its training time)"
            skipped.append({"metric": m.name, "reason": "no value in this run" + why})
            continue
        if all(v is None for v in m.values.values()):
            why = "" if has_retrained else " (it compares with the retrained model or its training time)"
            skipped.append({"metric": m.name, "reason": "no value in this run" + why})
            continue
        row = {
            "metric": m.name,
            "better": m.direction,
            "original": m.values.get("original"),
            "unlearned": m.values.get("unlearned"),
            "reference": None,
            "reference_kind": "retrained",
            "floor": None,
        }
        if m.metric in floors and has_retrained:
            row["floor"], row["reference"], row["reference_kind"] = m.values.get("retrained"), 0.0, "ideal"
        elif has_retrained:
            row["reference"] = m.values.get("retrained")
        else:
            row["reference"], why = _ideal(m.name, kind, lookup)
            row["reference_kind"] = "ideal"
            row["ideal_basis"] = why
        rows.append(row)
    return rows, skipped


def _pct(value: Any) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.1f} %"


def verdict_lines(result: Any, rows: list[dict[str, Any]]) -> list[str]:
    """Plain-language lines: forget accuracy, retained accuracy, membership attack, overall."""
    by = {r["metric"]: r for r in rows}
    retrained = bool(result.models.get("retrained"))
    ref_word = "retrained" if retrained else "ideal"
    lines = []
    forget = by.get("acc_f_train")
    if forget:
        lines.append(
            f"forget accuracy {_pct(forget['unlearned'])} (original {_pct(forget['original'])}, "
            f"{ref_word} {_pct(forget['reference'])})"
        )
    kept = by.get("acc_r_test") or by.get("acc_test")
    if kept:
        lines.append(
            f"accuracy on retained test data {_pct(kept['unlearned'])} (original {_pct(kept['original'])}"
            + (f", retrained {_pct(kept['reference'])})" if retrained else ")")
        )
        if kept["unlearned"] is not None and kept["original"] is not None:
            drop = kept["original"] - kept["unlearned"]
            if drop > TOLERANCE_POINTS:
                lines.append(f"warning: accuracy on retained test data fell by {drop:.1f} points")
    mia = by.get("mia_salun")
    if mia:
        lines.append(
            f"membership attack (SVC on confidence): {_pct(mia['unlearned'])} of forget samples judged "
            f"non-members ({ref_word} {_pct(mia['reference'])}, original {_pct(mia['original'])})"
        )
    utv = by.get("utv_train")
    if utv and utv["unlearned"] is not None:
        lines.append(
            f"distance to the retrained model (UTV, 0 = same outputs): {utv['unlearned']:.3f} (original {utv['original']:.3f})"
        )
    if forget and forget["unlearned"] is not None and forget["reference"] is not None:
        gap = abs(forget["unlearned"] - forget["reference"])
        if gap <= TOLERANCE_POINTS:
            lines.append(
                f"verdict: the forget data is classified like data the model never saw (within {TOLERANCE_POINTS:g} "
                f"points of the {ref_word} value)"
            )
        else:
            lines.append(
                f"verdict: NOT like a model that never saw the forget data: forget accuracy is {gap:.1f} points "
                f"from the {ref_word} value"
            )
    return lines


def build_report(result: Any, run_dir: Path) -> dict[str, Any]:
    """The report's JSON content for a finished run whose files are in ``run_dir``."""
    cfg = result.config
    rows, skipped = evidence(result)
    retrained = result.models.get("retrained")
    if retrained:
        reference = (
            f"retrained model from the user's file {retrained['source']}"
            if retrained.get("source")
            else f"retrained with recipe {cfg['recipe']['name']!r} (model cache key {retrained.get('key')})"
        )
    else:
        reference = "none: no retrained model; each metric is shown beside its ideal value"
    not_shown = list(NOT_SHOWN)
    if not retrained:
        not_shown.insert(
            0, "Without a retrained model, closeness to retraining is not measured: metrics that need it are skipped."
        )
    before = result.weights_before
    return {
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "request": result.request or {},
        "dataset": {**cfg["dataset"], "fingerprint": result.scenario.get("data_fingerprint")},
        "model": cfg["model"],
        "method": cfg["method"],
        "target": cfg.get("target"),
        "selector": cfg.get("selector"),
        "selection": result.scenario.get("selection"),
        "seed": cfg["seed"],
        "device": cfg["device"],
        "plugins": result.plugins,
        "weights": {
            "before": {"file": str(before) if before else None, "sha256": _sha256(before)},
            "after": {"file": "unlearned.safetensors", "sha256": _sha256(run_dir / "unlearned.safetensors")},
        },
        "reference": reference,
        "leaks": result.scenario.get("leaks"),  # forget samples with a copy in retain/test (leaks.json)
        "evidence": rows,
        "skipped": skipped,
        "wall_seconds": result.wall_seconds,
        "unlearn_seconds": result.timings.get("unlearn_seconds"),
        "verdict": verdict_lines(result, rows),
        "not_shown": not_shown,
    }


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 10 else f"{value:.2f}"
    return str(value)


def _component(ref: dict[str, Any] | None) -> str:
    if not ref:
        return "-"
    options = ", ".join(f"{k}={v}" for k, v in (ref.get("options") or {}).items())
    return f"{ref['name']}" + (f" ({options})" if options else "")


def render_markdown(report: dict[str, Any]) -> str:
    req = report["request"]
    if req.get("kind") == "classes":
        asked = f"forget class(es) {', '.join(req['classes'])} ({req['train_samples']} training samples)"
    elif req:
        asked = f"forget {req['count']} samples; SHA-256 of their sorted {req['ids']}: `{req['sha256']}`"
    else:
        asked = "-"
    w = report["weights"]
    lines = [
        "# Deletion report",
        "",
        f"- created: {report['created']}",
        f"- request: {asked}",
        f"- dataset: {_component(report['dataset'])}, content fingerprint {report['dataset'].get('fingerprint')}",
        f"- model: {_component(report['model'])}",
        f"- method: {_component(report['method'])}",
        f"- target: {_component(report['target'])}",
        f"- selector: {_component(report['selector'])}; trained: {report['selection']}",
        f"- seed {report['seed']}, device {report['device']}",
        f"- weights before: `{w['before']['sha256']}` ({w['before']['file']})",
        f"- weights after: `{w['after']['sha256']}` ({w['after']['file']})",
        f"- reference: {report['reference']}",
        *(
            [
                f"- leaks: {report['leaks']} forget samples have an exact or near copy in the retain or test set (leaks.json)"
            ]
            if report.get("leaks") is not None
            else []
        ),
        f"- wall time {report['wall_seconds']:.1f} s (unlearning itself {report['unlearn_seconds']:.2f} s)",
        "- plugins: " + ", ".join(f"{p['plugin']} {p['version']}" for p in report["plugins"]),
        "",
        "## Verdict",
        "",
        *[f"- {line}" for line in report["verdict"]],
        "",
        "## Evidence",
        "",
        "| metric | better | original | unlearned | reference | floor |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for r in report["evidence"]:
        ref = _cell(r["reference"]) + (
            " (ideal)" if r["reference_kind"] == "ideal" and r["reference"] is not None else ""
        )
        lines.append(
            f"| {r['metric']} | {r['better']} | {_cell(r['original'])} | {_cell(r['unlearned'])} | {ref} | {_cell(r['floor'])} |"
        )
    if report["skipped"]:
        lines += ["", "Skipped:", ""] + [f"- {s['metric']}: {s['reason']}" for s in report["skipped"]]
    lines += ["", "## What this evidence does not show", "", *[f"- {line}" for line in report["not_shown"]], ""]
    return "\n".join(lines)


def write_deletion_report(run_dir: Path, result: Any, resolved: Any = None) -> dict[str, Any]:
    """Write report.json and report.md into ``run_dir`` (which already holds unlearned.safetensors)."""
    from unlearnkit.models.modelio import write_json

    report = build_report(result, Path(run_dir))
    write_json(Path(run_dir) / "report.json", report)
    (Path(run_dir) / "report.md").write_text(render_markdown(report))
    return report


def show(run_dir: str | Path) -> str:
    """The report.md of a run folder, for ``unlearn show``."""
    from unlearnkit.core.errors import UsageError

    path = Path(run_dir).expanduser()
    if not path.is_dir():
        raise UsageError(f"show: run folder {str(path)!r} not found")
    report = path / "report.md"
    if not report.is_file():
        raise UsageError(
            f"show: {str(path)!r} has no report.md (runs stored before deletion reports existed have none)"
        )
    return report.read_text()
