"""``unlearn report``: tables and figures from a sweep database. Torch-free (numpy, matplotlib).

Averaging (stated in every table): for each (dataset, model, method, metric row) and each seed,
the values are first averaged over the forget scenarios (e.g. the 10 forgotten classes); the
table shows the mean +- std (numpy ``std``, ddof=0) of those per-seed averages. ``Original`` and
``Retraining`` are the original and retrained models' values (one per scenario and seed,
shared by every method). The gap of a method to retrain is ``|mean(method) - mean(retraining)|``
per row, computed from the seed means as LoTUS does; ``avg gap`` is its mean over the rows that
have a retrained value and are not lower-is-better (those are costs or distances, e.g. time,
RF-JSD, Avg Gap itself, whose own value is the score). Rows whose retrained value is empty (UTV:
a distance to the retrained model already) have no gap.

Figures (PNG, matplotlib): confusion matrices original / unlearned / retrained on the test set
(RWFT paper Figs. 1 and 3), where the forgotten class's test samples go (RWFT paper Fig. 4), and UTV per
method with the retrain-vs-retrain floor: the same TV distance between two retrained models of
different seeds on the same forget samples, from the retrained outputs the sweep stored (a
metric row named ``<row>_floor``, if a metric plugin provides one, is used instead).
"""

from __future__ import annotations

import csv
import fnmatch
import itertools
import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from unlearnkit.core.errors import UsageError

REFERENCE_LABELS = ("Original", "Retraining")


@dataclass
class Stat:
    mean: float | None
    std: float | None
    n_seeds: int
    n_cells: int
    per_seed: dict[int, float] = field(default_factory=dict)

    def fmt(self, digits: int = 2) -> str:
        if self.mean is None:
            return "-"
        if self.n_seeds > 1:
            return f"{self.mean:.{digits}f} ± {self.std:.{digits}f}"
        return f"{self.mean:.{digits}f}"


def aggregate(values: list[tuple[int, float]]) -> Stat:
    """``values`` = [(seed, value)] over scenarios and seeds -> mean +- std over the per-seed means."""
    by_seed: dict[int, list[float]] = defaultdict(list)
    for seed, value in values:
        if value is not None and not (isinstance(value, float) and math.isnan(value)):
            by_seed[seed].append(float(value))
    if not by_seed:
        return Stat(None, None, 0, 0)
    per_seed = {s: sum(v) / len(v) for s, v in by_seed.items()}
    xs = list(per_seed.values())
    mean = sum(xs) / len(xs)
    std = math.sqrt(sum((x - mean) ** 2 for x in xs) / len(xs))
    return Stat(mean, std, len(xs), sum(len(v) for v in by_seed.values()), per_seed)


@dataclass
class Group:
    """The cells of one (dataset, model)."""

    dataset: str
    model: str
    cells: list[dict[str, Any]]

    @property
    def name(self) -> str:
        return f"{self.dataset} / {self.model}"

    @property
    def slug(self) -> str:
        return f"{self.dataset}_{self.model}".replace("/", "-")

    def labels(self) -> list[str]:
        seen: list[str] = []
        for c in self.cells:
            if c["label"] not in seen:
                seen.append(c["label"])
        return seen

    def references(self) -> dict[tuple[str, int], dict[str, Any]]:
        """One cell per (scenario, seed): the original and retrained values live in every cell."""
        out: dict[tuple[str, int], dict[str, Any]] = {}
        for c in self.cells:
            out.setdefault((c["forget"], c["seed"]), c)
        return out


def metric_rows(cells: list[dict[str, Any]]) -> list[str]:
    rows: list[str] = []
    for c in cells:
        for row in c["metrics"] or {}:
            if row not in rows:
                rows.append(row)
    return rows


def choose_rows(available: list[str], patterns: list[str] | None) -> list[str]:
    if not patterns:
        return [r for r in available if not r.endswith("_floor")]
    out: list[str] = []
    for pattern in patterns:
        for row in available:
            if fnmatch.fnmatchcase(row, pattern) and row not in out:
                out.append(row)
    return out


def _value(cell: dict[str, Any], row: str, subject: str) -> float | None:
    m = (cell["metrics"] or {}).get(row)
    return None if m is None else (m.get("values") or {}).get(subject)


def _direction(cells: list[dict[str, Any]], row: str) -> str:
    for c in cells:
        m = (c["metrics"] or {}).get(row)
        if m:
            return m.get("direction") or "match"
    return "match"


@dataclass
class Summary:
    group: Group
    rows: list[str]
    stats: dict[str, dict[str, Stat]]  # label -> row -> Stat
    gaps: dict[str, dict[str, float | None]]
    avg_gap: dict[str, float | None]
    directions: dict[str, str]
    per_scenario: dict[tuple[str, str, str], Stat]  # (label, scenario, row) -> Stat over seeds


def summarise(group: Group, rows: list[str]) -> Summary:
    stats: dict[str, dict[str, Stat]] = {}
    per_scenario: dict[tuple[str, str, str], Stat] = {}
    refs = group.references()
    for label, subject in (("Original", "original"), ("Retraining", "retrained")):
        stats[label] = {row: aggregate([(c["seed"], _value(c, row, subject)) for c in refs.values()]) for row in rows}
        for scenario in sorted({k[0] for k in refs}):
            for row in rows:
                vals = [(c["seed"], _value(c, row, subject)) for (f, _), c in refs.items() if f == scenario]
                per_scenario[(label, scenario, row)] = aggregate(vals)
    for label in group.labels():
        cells = [c for c in group.cells if c["label"] == label]
        stats[label] = {row: aggregate([(c["seed"], _value(c, row, "unlearned")) for c in cells]) for row in rows}
        for scenario in sorted({c["forget"] for c in cells}):
            for row in rows:
                vals = [(c["seed"], _value(c, row, "unlearned")) for c in cells if c["forget"] == scenario]
                per_scenario[(label, scenario, row)] = aggregate(vals)
    gaps: dict[str, dict[str, float | None]] = {}
    avg_gap: dict[str, float | None] = {}
    directions = {row: _direction(group.cells, row) for row in rows}
    for label, by_row in stats.items():
        gaps[label] = {}
        for row in rows:
            ref, own = stats["Retraining"][row].mean, by_row[row].mean
            gaps[label][row] = abs(own - ref) if ref is not None and own is not None else None
        present = [g for row, g in gaps[label].items() if g is not None and directions[row] != "lower"]
        avg_gap[label] = sum(present) / len(present) if present else None
    return Summary(group, rows, stats, gaps, avg_gap, directions, per_scenario)


# --- retrain-vs-retrain floor -----------------------------------------------------------------


def floors(group: Group, references: list[dict[str, Any]], rows: list[str]) -> dict[str, tuple[Stat | None, str]]:
    """row -> (floor Stat or None, explanation). Floor = mean TV between retrained models of two seeds."""
    import numpy as np

    from unlearnkit.apps.sweep import reference_group

    out: dict[str, tuple[Stat | None, str]] = {}
    groups = {reference_group(c["config"]) for c in group.cells}
    scenario_kinds = {(c["scenario"] or {}).get("kind") for c in group.cells}
    for row in rows:
        provided = [(c["seed"], _value(c, f"{row}_floor", s)) for c in group.cells for s in ("unlearned", "retrained")]
        provided = [(s, v) for s, v in provided if v is not None]
        if provided:
            out[row] = (aggregate(provided), f"metric row {row}_floor")
            continue
        split = "train_forget" if row.endswith("_train") else "test_forget" if row.endswith("_test") else None
        if split is None:
            out[row] = (None, f"no forget split known for row {row!r}")
            continue
        if scenario_kinds != {"class"}:
            out[row] = (None, "random-subset scenarios forget different samples per seed: no common samples")
            continue
        values: list[tuple[int, float]] = []
        for grp in groups:
            refs = [r for r in references if r["grp"] == grp and r["split"] == split]
            refs.sort(key=lambda r: r["seed"])
            for i, (a, b) in enumerate(itertools.combinations(refs, 2)):
                if a["seed"] == b["seed"] or a["idx"] != b["idx"]:
                    continue
                pa = np.frombuffer(a["probs"], dtype=np.float32).reshape(a["n"], a["k"])
                pb = np.frombuffer(b["probs"], dtype=np.float32).reshape(b["n"], b["k"])
                values.append((i, float(0.5 * np.abs(pa - pb).sum(1).mean())))
        if values:
            out[row] = (aggregate(values), f"TV between retrained models of 2 seeds on {split}, over seed pairs")
        else:
            out[row] = (None, "needs retrained outputs of at least 2 seeds per forget scenario")
    return out


# --- writing tables ---------------------------------------------------------------------------


AVERAGING = (
    "mean ± std over seeds of the per-seed average over forget scenarios (numpy std, ddof=0); "
    "gap = |method - retraining| of the means; avg gap = mean gap over rows with a retrained value, "
    "lower-is-better rows (costs, distances) excluded"
)


def table2_markdown(s: Summary) -> str:
    head = ["Method", *s.rows, "avg gap", "cells"]
    lines = [f"### {s.group.name}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for label, by_row in s.stats.items():
        cells = max((st.n_cells for st in by_row.values()), default=0)
        gap = s.avg_gap[label]
        gap_text = "-" if label == "Retraining" or gap is None else f"{gap:.3f}"
        lines.append(
            "| " + " | ".join([label, *(by_row[r].fmt(_digits(r, s)) for r in s.rows), gap_text, str(cells)]) + " |"
        )
    return "\n".join(lines)


def _digits(row: str, s: Summary) -> int:
    values = [st.mean for by_row in s.stats.values() for st in [by_row[row]] if st.mean is not None]
    return 4 if values and max(abs(v) for v in values) <= 1.0 else 2


def ordering(s: Summary, row: str) -> list[str]:
    labels = [label for label in s.stats if label not in REFERENCE_LABELS and s.stats[label][row].mean is not None]
    direction = s.directions.get(row, "match")
    if direction == "match" and s.stats["Retraining"][row].mean is not None:
        return sorted(labels, key=lambda lab: s.gaps[lab][row])
    reverse = direction == "higher"
    return sorted(labels, key=lambda lab: s.stats[lab][row].mean, reverse=reverse)


def table4_markdown(s: Summary, floor: dict[str, tuple[Stat | None, str]]) -> str:
    labels = [label for label in s.stats if label not in REFERENCE_LABELS]
    head = ["Metric", *labels, "Original", "retrain-vs-retrain floor"]
    lines = [f"### {s.group.name}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in s.rows:
        f = floor.get(row, (None, ""))[0]
        d = _digits(row, s)
        lines.append(
            "| "
            + " | ".join(
                [
                    row,
                    *(s.stats[lab][row].fmt(d) for lab in labels),
                    s.stats["Original"][row].fmt(d),
                    f.fmt(d) if f else "-",
                ]
            )
            + " |"
        )
    lines.append("")
    for row in s.rows:
        order = ordering(s, row)
        if order:
            how = {"lower": "lowest first", "higher": "highest first"}.get(
                s.directions.get(row, ""), "closest to retrain first"
            )
            lines.append(
                f"- ordering by {row} ({how}): {' < '.join(order) if how != 'highest first' else ' > '.join(order)}"
            )
    return "\n".join(lines)


def write_csv(path: Path, summaries: list[Summary]) -> None:
    with open(path, "w", newline="") as handle:
        w = csv.writer(handle)
        w.writerow(
            [
                "dataset",
                "model",
                "method",
                "row",
                "direction",
                "mean",
                "std",
                "n_seeds",
                "n_cells",
                "retrain_mean",
                "gap",
            ]
        )
        for s in summaries:
            for label, by_row in s.stats.items():
                for row in s.rows:
                    st = by_row[row]
                    w.writerow(
                        [
                            s.group.dataset,
                            s.group.model,
                            label,
                            row,
                            s.directions[row],
                            _num(st.mean),
                            _num(st.std),
                            st.n_seeds,
                            st.n_cells,
                            _num(s.stats["Retraining"][row].mean),
                            _num(s.gaps[label][row]),
                        ]
                    )


def write_scenario_csv(path: Path, summaries: list[Summary]) -> None:
    with open(path, "w", newline="") as handle:
        w = csv.writer(handle)
        w.writerow(["dataset", "model", "method", "forget", "row", "mean", "std", "n_seeds"])
        for s in summaries:
            for (label, scenario, row), st in s.per_scenario.items():
                w.writerow(
                    [s.group.dataset, s.group.model, label, scenario, row, _num(st.mean), _num(st.std), st.n_seeds]
                )


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"


# --- figures ----------------------------------------------------------------------------------


def _short(name: str, width: int = 11) -> str:
    return name if len(name) <= width else name[: width - 1] + "…"


def _pooled_confusion(cells: list[dict[str, Any]], subject: str):
    import numpy as np

    total = None
    for c in cells:
        m = ((c.get("confusion") or {}).get("matrices") or {}).get(subject)
        if m is None:
            continue
        arr = np.asarray(m, dtype=np.float64)
        total = arr if total is None else total + arr
    return total


def _class_names(cells: list[dict[str, Any]], k: int) -> list[str]:
    for c in cells:
        names = (c.get("confusion") or {}).get("classes")
        if names and len(names) == k:
            return [str(n) for n in names]
    return [str(i) for i in range(k)]


def _forget_classes(cells: list[dict[str, Any]]) -> list[int]:
    for c in cells:
        fc = (c.get("scenario") or {}).get("forget_classes")
        if fc:
            return list(fc)
    return []


def plot_confusions(group: Group, out: Path) -> list[Path]:
    """One figure per method: original | unlearned | retrained, first class scenario, pooled over seeds."""
    import matplotlib.pyplot as plt
    import numpy as np

    written = []
    scenarios = sorted({c["forget"] for c in group.cells if (c["scenario"] or {}).get("kind") == "class"})
    if not scenarios:
        return written
    scenario = scenarios[0]
    for label in group.labels():
        cells = [c for c in group.cells if c["label"] == label and c["forget"] == scenario and c.get("confusion")]
        mats = {s: _pooled_confusion(cells, s) for s in ("original", "unlearned", "retrained")}
        if any(m is None for m in mats.values()):
            continue
        k = mats["original"].shape[0]
        names = _class_names(cells, k)
        forget = _forget_classes(cells)
        size = max(4.2, 0.42 * k + 1.5)
        fig, axes = plt.subplots(1, 3, figsize=(3 * size, size + 0.6), constrained_layout=True)
        titles = {"original": "original", "unlearned": f"unlearned ({label})", "retrained": "retrained"}
        for ax, (subject, m) in zip(axes, mats.items(), strict=True):
            pct = 100 * m / np.maximum(m.sum(1, keepdims=True), 1)
            im = ax.imshow(pct, cmap="Blues", vmin=0, vmax=100)
            ax.set_title(titles[subject], fontsize=12)
            ticks = range(k) if k <= 30 else range(0, k, max(1, k // 20))
            ax.set_xticks(list(ticks), [_short(names[i]) for i in ticks], rotation=60, ha="right", fontsize=8)
            ax.set_yticks(list(ticks), [_short(names[i]) for i in ticks], fontsize=8)
            ax.set_xlabel("predicted class")
            ax.set_ylabel("true class")
            for t in ax.get_yticklabels() + ax.get_xticklabels():
                if t.get_text() in {_short(names[i]) for i in forget}:
                    t.set_color("crimson")
                    t.set_fontweight("bold")
            if k <= 12:
                for i in range(k):
                    for j in range(k):
                        if pct[i, j] >= 0.5:
                            ax.text(
                                j,
                                i,
                                f"{pct[i, j]:.0f}",
                                ha="center",
                                va="center",
                                fontsize=7,
                                color="white" if pct[i, j] > 60 else "black",
                            )
        fig.colorbar(im, ax=axes, shrink=0.8, label="% of the true class's test samples")
        seeds = sorted({c["seed"] for c in cells})
        fig.suptitle(
            f"{group.name}: forget {', '.join(names[i] for i in forget)}; test set, summed over seeds {seeds}",
            fontsize=13,
        )
        path = out / f"confusion_{group.slug}_{_slug(label)}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written


def plot_reassignment(group: Group, out: Path, max_plots: int = 10, top: int = 8) -> list[Path]:
    """Where each forgotten class's test samples are predicted: retrained vs every method (RWFT paper Fig. 4)."""
    import matplotlib.pyplot as plt
    import numpy as np

    written = []
    scenarios = sorted(
        {c["forget"] for c in group.cells if len((c["scenario"] or {}).get("forget_classes") or []) == 1}
    )
    for scenario in scenarios[:max_plots]:
        cells = [c for c in group.cells if c["forget"] == scenario and c.get("confusion")]
        if not cells:
            continue
        forget = _forget_classes(cells)[0]
        series: dict[str, Any] = {}
        refs = list({(c["seed"]): c for c in cells}.values())
        for subject, name in (("retrained", "Retraining"), ("original", "Original")):
            m = _pooled_confusion(refs, subject)
            if m is not None:
                series[name] = m[forget] / max(m[forget].sum(), 1)
        for label in group.labels():
            m = _pooled_confusion([c for c in cells if c["label"] == label], "unlearned")
            if m is not None:
                series[label] = m[forget] / max(m[forget].sum(), 1)
        if "Retraining" not in series:
            continue
        k = len(series["Retraining"])
        names = _class_names(cells, k)
        shown = {n: v for n, v in series.items() if n != "Original"}
        peak = np.max(np.stack(list(shown.values())), axis=0)
        peak[forget] = -1  # the forgotten class itself is shown only if some model still predicts it
        order = [i for i in np.argsort(-peak) if peak[i] >= 0.01][:top]  # classes that get >= 1% somewhere
        if any(v[forget] > 0.005 for v in shown.values()):
            order = [forget, *order]
        if not order:
            continue
        fig, ax = plt.subplots(
            figsize=(min(14.0, max(6.5, 0.2 * len(order) * len(shown) + 3)), 4.6), constrained_layout=True
        )
        width = 0.8 / len(shown)
        x = np.arange(len(order))
        colors = plt.get_cmap("tab10")
        for i, (name, v) in enumerate(shown.items()):
            style = (
                {"color": "lightgray", "edgecolor": "black", "hatch": "//"}
                if name == "Retraining"
                else {"color": colors(i % 10)}
            )
            ax.bar(x + (i - (len(shown) - 1) / 2) * width, 100 * v[order], width, label=name, **style)
        ax.set_xticks(x, [names[i] + (" (forgotten)" if i == forget else "") for i in order], rotation=25, ha="right")
        ax.set_ylabel(f"% of '{names[forget]}' test samples")
        seeds = sorted({c["seed"] for c in cells})
        ax.set_title(f"{group.name}: where the forgotten class '{names[forget]}' goes (test set, seeds {seeds})")
        ax.legend(fontsize=8, ncol=2)
        ax.grid(axis="y", alpha=0.3)
        path = out / f"reassignment_{group.slug}_{_slug(names[forget])}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written


def plot_utv(s: Summary, floor: dict[str, tuple[Stat | None, str]], rows: list[str], out: Path) -> list[Path]:
    import matplotlib.pyplot as plt
    import numpy as np

    if not rows:
        return []
    labels = [label for label in s.stats if label not in REFERENCE_LABELS]
    fig, axes = plt.subplots(1, len(rows), figsize=(max(5.5, 0.9 * len(labels) + 2.5) * len(rows), 4.6), squeeze=False)
    for ax, row in zip(axes[0], rows, strict=True):
        means = [s.stats[lab][row].mean or 0.0 for lab in labels]
        stds = [s.stats[lab][row].std or 0.0 for lab in labels]
        x = np.arange(len(labels))
        ax.bar(
            x, means, yerr=stds, capsize=4, color=plt.get_cmap("tab10")(0), alpha=0.85, label="unlearned vs retrained"
        )
        for xi, m in zip(x, means, strict=True):
            ax.text(xi, m, f"{m:.3f}", ha="center", va="bottom", fontsize=8)
        f, why = floor.get(row, (None, "no floor"))
        if f is not None and f.mean is not None:
            ax.axhline(f.mean, color="crimson", linestyle="--", label=f"retrain vs retrain floor {f.mean:.3f}")
            if f.std:
                ax.axhspan(f.mean - f.std, f.mean + f.std, color="crimson", alpha=0.12)
        top = max([m + sd for m, sd in zip(means, stds, strict=True)] + [f.mean if f and f.mean else 0.0])
        ax.set_ylim(0, 1.3 * top if top > 0 else 1)
        ax.set_xticks(x, labels, rotation=25, ha="right")
        ax.set_ylabel(f"{row} (lower is better)")
        if f is None or f.mean is None:
            ax.set_title(f"{row}\nfloor omitted: {why}", fontsize=9)
        else:
            ax.set_title(row)
        ax.grid(axis="y", alpha=0.3)
        ax.legend(fontsize=8, loc="upper right")
    fig.suptitle(f"{s.group.name}: UTV per method, mean ± std over seeds", fontsize=12)
    fig.tight_layout()
    path = out / f"utv_{s.group.slug}.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return [path]


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in text)


# --- the command ------------------------------------------------------------------------------


@dataclass
class ReportFiles:
    markdown: Path
    csv: Path
    scenario_csv: Path
    figures: list[Path]
    notes: list[str]


def build_report(
    db: str | Path,
    out: str | Path | None = None,
    sweep: str | None = None,
    rows: list[str] | None = None,
    plots: bool = True,
    utv_metric: str = "utv",
) -> ReportFiles:
    from unlearnkit.apps.store import Store, check_sweep_database
    from unlearnkit.core.preflight import check_writable_dir

    db = Path(db)
    check_sweep_database(db)
    out = Path(out) if out else db.with_name(db.stem + "-report")
    check_writable_dir(out, "--out")
    with Store(db) as store:
        cells = store.cells(sweep=sweep, status="ok")
        failed = store.cells(sweep=sweep, status="failed")
        running = store.cells(sweep=sweep, status="running")
        references = store.reference_outputs()
        hints = _hints(store, sweep)
    if not cells:
        raise UsageError(f"no finished cells in {str(db)!r}" + (f" for sweep {sweep!r}" if sweep else ""))
    out.mkdir(parents=True, exist_ok=True)  # only now: a refused report leaves no empty folder
    notes: list[str] = []
    patterns = rows or hints.get("rows")
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for c in cells:
        groups[(c["dataset"], c["model"])].append(c)
    summaries, floor_by_group, figures = [], {}, []
    md = [f"# Sweep report: {db.name}" + (f" (sweep {sweep})" if sweep else ""), "", f"Averaging: {AVERAGING}.", ""]
    md.append(f"{len(cells)} ok cells, {len(failed)} failed, {len(running)} interrupted (not finished).")
    md.append("")
    for (dataset, model), gcells in sorted(groups.items()):
        group = Group(dataset, model, gcells)
        available = metric_rows(gcells)
        chosen = choose_rows(available, patterns)
        if patterns:
            missing = [p for p in patterns if not any(fnmatch.fnmatchcase(r, p) for r in available)]
            if missing:
                notes.append(f"{group.name}: rows {', '.join(missing)} not produced by any installed metric")
        if not chosen:
            chosen = choose_rows(available, None)
        s = summarise(group, chosen)
        summaries.append(s)
        utv_rows = [r for r in available if _metric_of(gcells, r) == utv_metric and not r.endswith("_floor")]
        fl = floors(group, references, utv_rows)
        floor_by_group[group.slug] = fl
        md += ["## Table 2 layout (methods as rows)", "", table2_markdown(s), ""]
        t4_rows = utv_rows or chosen
        s4 = summarise(group, t4_rows) if t4_rows != chosen else s
        md += ["## Table 4 layout (methods as columns)", "", table4_markdown(s4, fl), ""]
        for row, (st, why) in fl.items():
            md.append(
                f"- floor of {row}: "
                + (f"{st.fmt(4)} ({why})" if st is not None and st.mean is not None else f"omitted: {why}")
            )
        md.append("")
        from unlearnkit.apps import report_robustness as robustness

        seq_lines, seq_summary = robustness.sequential_markdown(group)
        md += [*seq_lines, ""] if seq_lines else []
        if plots:
            try:
                import matplotlib

                matplotlib.use("Agg")
            except ImportError:
                notes.append("plots skipped: matplotlib is not installed (pip install 'unlearnkit[plots]')")
                plots = False
            else:
                if any(c.get("confusion") for c in gcells):
                    figures += plot_confusions(group, out)
                    figures += plot_reassignment(group, out)
                else:
                    notes.append(f"{group.name}: no confusion matrices stored; confusion/reassignment plots skipped")
                if utv_rows:
                    figures += plot_utv(s4, fl, utv_rows, out)
                else:
                    notes.append(f"{group.name}: no rows of metric {utv_metric!r}; UTV plot skipped")
                if robustness.relearn_rows(available):
                    figures += robustness.plot_relearn(group, out)
                if seq_summary is not None:
                    figures += robustness.plot_sequential(seq_summary, out)
    if failed:
        md += ["## Failed cells", ""]
        md += [
            f"- {c['label']} {c['dataset']}/{c['model']} {c['forget']} seed={c['seed']}: {c['error']}" for c in failed
        ]
        md.append("")
    if notes:
        md += ["## Notes", ""] + [f"- {n}" for n in notes] + [""]
    if figures:
        md += ["## Figures", ""] + [f"![{p.stem}]({p.name})" for p in figures] + [""]
    markdown = out / "report.md"
    markdown.write_text("\n".join(md))
    table_csv = out / "summary.csv"
    write_csv(table_csv, summaries)
    scenario_csv = out / "per_scenario.csv"
    write_scenario_csv(scenario_csv, summaries)
    (out / "floors.json").write_text(
        json.dumps(
            {
                g: {
                    r: {"mean": st.mean if st else None, "std": st.std if st else None, "how": why}
                    for r, (st, why) in fl.items()
                }
                for g, fl in floor_by_group.items()
            },
            indent=2,
        )
    )
    return ReportFiles(markdown, table_csv, scenario_csv, figures, notes)


def _metric_of(cells: list[dict[str, Any]], row: str) -> str | None:
    for c in cells:
        m = (c["metrics"] or {}).get(row)
        if m:
            return m.get("metric")
    return None


def _hints(store: Any, sweep: str | None) -> dict[str, Any]:
    query = "SELECT spec FROM sweeps" + (" WHERE name = ?" if sweep else "") + " ORDER BY started DESC LIMIT 1"
    row = store.conn.execute(query, (sweep,) if sweep else ()).fetchone()
    if not row:
        return {}
    return (json.loads(row["spec"]) or {}).get("report") or {}


def report_command(db: str, out: str | None, sweep: str | None, rows: str | None, plots: bool, utv_metric: str) -> None:
    from rich.console import Console

    patterns = [r.strip() for r in rows.split(",") if r.strip()] if rows else None
    files = build_report(db, out, sweep, patterns, plots, utv_metric)
    console = Console(stderr=True, highlight=False)
    for note in files.notes:
        console.print(f"[yellow]note:[/] {note}")
    print(files.markdown.read_text())
    console.print(f"wrote {files.markdown}, {files.csv}, {files.scenario_csv} and {len(files.figures)} figures")
