"""Report sections for the robustness evidence: the relearning attack and sequential requests.

Torch-free. Values come from the sweep store through :func:`unlearnkit.apps.report.summarise` (mean
± std over seeds of the per-seed averages over scenarios, as every other table):

* ``relearn_acc_f`` (metric ``relearn``): forget accuracy after the relearning attack, one bar
  per method, with the retrained model's value as a line (a method that truly forgot is at the
  line) and the original's for context;
* ``s<i>_<row>`` (chained requests, ``unlearnkit.run.chain``): per request ``i`` of a chain, ACC_r,
  ACC_f of every class forgotten so far (``acc_f_c<k>``), UTV to the model retrained without all
  of them, and the cumulative unlearning time over retraining once per request.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

STEP_ROW = re.compile(r"^s(\d+)_(.+)$")


def relearn_rows(available: list[str]) -> list[str]:
    return [r for r in ("relearn_acc_f", "relearn_gap") if r in available]


def plot_relearn(group: Any, out: Path) -> list[Path]:
    """ACC_f after the relearning attack per method, the retrained model's line and the original's."""
    import matplotlib.pyplot as plt
    import numpy as np

    from unlearnkit.apps.report import REFERENCE_LABELS, _slug, summarise

    s = summarise(group, ["relearn_acc_f"])
    labels = [label for label in s.stats if label not in REFERENCE_LABELS]
    stats = [s.stats[label]["relearn_acc_f"] for label in labels]  # what the bars show
    if not labels or all(st.mean is None for st in stats):
        return []
    means = [st.mean or 0.0 for st in stats]
    fig, ax = plt.subplots(figsize=(max(5.5, 0.9 * len(labels) + 2.5), 4.6))
    x = np.arange(len(labels))
    ax.bar(x, means, yerr=[st.std or 0.0 for st in stats], capsize=4, color=plt.get_cmap("tab10")(0), alpha=0.85)
    for xi, m in zip(x, means, strict=True):
        ax.text(xi, m, f"{m:.1f}", ha="center", va="bottom", fontsize=8)
    for label, style in (("Retraining", {"color": "crimson"}), ("Original", {"color": "gray", "linestyle": ":"})):
        ref = s.stats[label]["relearn_acc_f"].mean
        if ref is not None:
            ax.axhline(ref, linestyle=style.pop("linestyle", "--"), label=f"{label.lower()} {ref:.1f}", **style)
    ax.set_xticks(x, labels, rotation=25, ha="right")
    ax.set_ylim(0, 105)
    ax.set_ylabel("forget accuracy (%) after relearning")
    ax.set_title(f"{group.name}: relearning attack (closer to the retrained line is better)")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = out / f"relearn_{_slug(group.slug)}.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return [path]


def step_rows(available: list[str]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for row in available:
        match = STEP_ROW.match(row)
        if match:
            out.setdefault(int(match.group(1)), []).append(match.group(2))
    return dict(sorted(out.items()))


def sequential_markdown(group: Any) -> tuple[list[str], Any]:
    """The per-request table of chained cells, and the summary behind it (None without chains)."""
    from unlearnkit.apps.report import REFERENCE_LABELS, metric_rows, summarise

    steps = step_rows(metric_rows(group.cells))
    if not steps:
        return [], None
    rows = [f"s{i}_{name}" for i, names in steps.items() for name in names]
    s = summarise(group, rows)
    forgotten = sorted({n for names in steps.values() for n in names if n.startswith("acc_f_")})
    head = ["Method", "request", "acc_r_test", *forgotten, "utv_train", "cumulative time / retraining"]
    lines = [
        f"### {group.name}: sequential requests",
        "",
        "Per request of each chain: ACC_r, ACC_f of every class forgotten so far, UTV to the model retrained "
        "without all of them, and unlearning time of requests 1..i over retraining once per request.",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    labels = [label for label in s.stats if label != "Original"]
    for label in labels:
        for i in steps:
            cells = []
            for name in ["acc_r_test", *forgotten, "utv_train", "time_ratio"]:
                st = s.stats[label].get(f"s{i}_{name}")
                digits = 4 if name in ("utv_train", "time_ratio") else 2
                cells.append(st.fmt(digits) if st is not None else "-")
            lines.append("| " + " | ".join([label if label not in REFERENCE_LABELS else label, str(i), *cells]) + " |")
    return lines, s


PANELS = (
    ("acc_r_test", "ACC_r (%)"),
    ("acc_f", "ACC_f of classes forgotten so far (%, mean)"),
    ("utv_train", "UTV to the matching retrained model"),
    ("time_ratio", "cumulative unlearning / retraining time"),
)


def sequential_series(s: Any) -> dict[str, dict[str, tuple[list[int], list[float]]]]:
    """panel -> label -> (requests, means over seeds) as plotted; ``acc_f`` averages the classes forgotten so far."""
    from unlearnkit.apps.report import REFERENCE_LABELS

    steps = step_rows(s.rows)
    labels = [label for label in s.stats if label not in REFERENCE_LABELS]
    out: dict[str, dict[str, tuple[list[int], list[float]]]] = {}
    for name, _ in PANELS:
        out[name] = {}
        for label in labels + (["Retraining"] if name in ("acc_r_test", "acc_f") else []):
            xs, ys = [], []
            for i, names in steps.items():
                wanted = [n for n in names if n.startswith("acc_f_")] if name == "acc_f" else [name]
                values = [s.stats[label][f"s{i}_{n}"].mean for n in wanted if f"s{i}_{n}" in s.stats[label]]
                values = [v for v in values if v is not None]
                if values:
                    xs.append(i)
                    ys.append(sum(values) / len(values))
            if xs:
                out[name][label] = (xs, ys)
    return out


def plot_sequential(s: Any, out: Path) -> list[Path]:
    """Per-request curves: ACC_r, mean ACC_f over the classes forgotten so far, UTV, cumulative time ratio."""
    import matplotlib.pyplot as plt

    from unlearnkit.apps.report import _slug

    series = sequential_series(s)
    steps = list(step_rows(s.rows))
    fig, axes = plt.subplots(1, len(PANELS), figsize=(4.2 * len(PANELS), 4.0))
    colors = plt.get_cmap("tab10")
    for ax, (name, title) in zip(axes, PANELS, strict=True):
        for i, (label, (xs, ys)) in enumerate(series[name].items()):
            reference = label == "Retraining"
            ax.plot(xs, ys, "--s" if reference else "-o", color="black" if reference else colors(i % 10), label=label)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("request")
        ax.set_xticks(steps)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(f"{s.group.name}: sequential deletion requests (mean over seeds)", fontsize=12)
    fig.tight_layout()
    path = out / f"sequential_{_slug(s.group.slug)}.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return [path]
