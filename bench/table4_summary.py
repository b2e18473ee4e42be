"""The rwft-table4-cpu summary from a sweep database (docs/results.md, "re-measured without label smoothing").

Per method, over the finished cells: mean ± std of the per-sample UTV, of its per-cell ratio to the
retrain-vs-retrain floor, of the marginal UTV and its ratio, of the MIA-NN gap to the retrained
model, and ACC_r / ACC_f on test; then which method is closest to the retrained model in each cell,
and the per-class UTV table (mean over the seeds); with --mia, the per-class MIA-NN table (the RWFT paper's Table 1 layout).
With several seeds, "± seeds" is the std over the per-seed means (each a mean over the classes), the
RWFT paper's "mean ± std over seeds"; "± cells" the std over every cell. Several databases (one sweep
per seed run side by side) are read as one; a cell present in two counts once. Needs the preset's
metrics (utv with floor=true, mia-nn, accuracy).

    python bench/table4_summary.py t4.sqlite [t4-s10.sqlite ...] [--mia]
"""

import json
import sqlite3
import statistics as st
import sys
from collections import defaultdict

paths = [a for a in sys.argv[1:] if not a.startswith("--")]
rows = {}
for path in paths:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)  # read-only: a missing file is an error, not a new one
    for key, *row in db.execute("select key, label, forget, seed, metrics from cells where status='ok'"):
        rows[key] = row
by = defaultdict(list)
per_cell = defaultdict(dict)  # (class, seed) -> label -> the cell's metric values
for label, forget, seed, metrics in rows.values():
    m = {k: v["values"] for k, v in json.loads(metrics).items()}
    m["_seed"], m["_class"] = seed, forget
    by[label].append(m)
    per_cell[(forget, seed)][label] = m
seeds = sorted({m["_seed"] for ms_ in by.values() for m in ms_})
classes = sorted({key[0] for key in per_cell}, key=lambda c: int(c.split("=")[1]))


def class_mean(cls, label, value):
    """Mean of ``value(m)`` over the seeds' cells of one class and method; None when it has none."""
    xs = [value(per[label]) for (c, _), per in per_cell.items() if c == cls and label in per]
    return st.mean(xs) if xs else None


def fmt(x, f):
    return "-" if x is None else f.format(x)


per_seed_cells = {s: sum(1 for c in per_cell if c[1] == s) for s in seeds}
if len(set(per_seed_cells.values())) > 1:
    print(f"note: the seeds have different numbers of classes {per_seed_cells}: per-seed means are not comparable\n")
PRESET_ORDER = ["RWFT-2-O", "RWFT-O", "RW-A", "TRW-2-O", "FT", "RL", "GA", "SalUn", "SVD"]
order = [name for name in PRESET_ORDER if name in by] + sorted(set(by) - set(PRESET_ORDER))


def ms(xs, f="{:.3f}", cells=None):
    """mean ± std; with the cells' seeds given and more than one seed, the std over the per-seed means."""
    if cells is not None and len(seeds) > 1:
        per_seed = defaultdict(list)
        for x, m in zip(xs, cells, strict=True):
            per_seed[m["_seed"]].append(x)
        means = [st.mean(v) for v in per_seed.values()]
        return (f + " ± " + f).format(st.mean(xs), st.pstdev(means))
    xs = [x for x in xs if x is not None]
    if not xs:
        return "-"
    return (f + " ± " + f).format(st.mean(xs), st.pstdev(xs)) if len(xs) > 1 else f.format(xs[0])


print(f"seeds {seeds}; ± = " + ("std over the per-seed means" if len(seeds) > 1 else "std over the cells") + "\n")


def col(cells, value, f="{:.3f}"):
    return ms([value(m) for m in cells], f, cells)


def utv(m):
    return m["utv_train"]["unlearned"]


def utv_ratio(m):
    return m["utv_train"]["unlearned"] / m["utv_train"]["retrained"]


def marginal(m):
    return m["utv_marginal_train"]["unlearned"]


def marginal_ratio(m):
    return m["utv_marginal_train"]["unlearned"] / m["utv_marginal_train"]["retrained"]


def mia_gap(m, who="unlearned"):
    return abs(m["mia_nn"][who] - m["mia_nn"]["retrained"])


def acc(split, who="unlearned"):
    return lambda m: m[split][who]


print(
    "| method | cells | UTV train | UTV / floor | marginal UTV | marginal / floor | MIA-NN gap | ACC_r test | ACC_f test |"
)
print("|---|---:|---|---|---|---|---|---|---|")
for label in order:
    c = by[label]
    print(
        f"| {label} | {len(c)} | {col(c, utv)} | {col(c, utv_ratio, '{:.2f}')} | {col(c, marginal)} "
        f"| {col(c, marginal_ratio, '{:.2f}')} | {col(c, mia_gap, '{:.1f}')} "
        f"| {col(c, acc('acc_r_test'), '{:.2f}')} | {col(c, acc('acc_f_test'), '{:.2f}')} |"
    )
ref = by[order[0]]
print(
    f"| floor (retrain vs retrain) | {len(ref)} | {col(ref, lambda m: m['utv_train']['retrained'])} | 1 "
    f"| {col(ref, lambda m: m['utv_marginal_train']['retrained'])} | 1 | 0 "
    f"| {col(ref, acc('acc_r_test', 'retrained'), '{:.2f}')} | {col(ref, acc('acc_f_test', 'retrained'), '{:.2f}')} |"
)
print(
    f"| original | {len(ref)} | {col(ref, lambda m: m['utv_train']['original'])} | | | "
    f"| {col(ref, lambda m: mia_gap(m, 'original'), '{:.1f}')} "
    f"| {col(ref, acc('acc_r_test', 'original'), '{:.2f}')} | {col(ref, acc('acc_f_test', 'original'), '{:.2f}')} |"
)
# per cell: which method is closest to the retrained model, and the per-class table
wins = defaultdict(int)
for per in per_cell.values():
    wins[min(per, key=lambda label: utv(per[label]))] += 1
print("\nlowest UTV per cell:", dict(wins), "over", len(per_cell), "cells")
print("\nUTV train per class, mean over the seeds present (their number in brackets):\n")
print("| class | floor | " + " | ".join(order) + " |")
print("|---|---:|" + "---:|" * len(order))
for cls in classes:
    n = sum(1 for c, _ in per_cell if c == cls)
    floor = class_mean(cls, order[0], lambda m: m["utv_train"]["retrained"])
    means = [fmt(class_mean(cls, name, utv), "{:.3f}") for name in order]
    print(f"| {cls} ({n}) | {fmt(floor, '{:.3f}')} | " + " | ".join(means) + " |")

if "--mia" in sys.argv:
    # The RWFT paper's Table 1 layout: MIA-NN (%) per forgotten class, mean over the seeds.
    print("\nMIA-NN (%) per class, mean over seeds:\n")
    print("| class | Original | Retrain | " + " | ".join(order) + " |")
    print("|---|" + "---:|" * (len(order) + 2))
    for cls in classes:
        # every method's cells share the original and retrained models, so the first method's give them
        vals = [class_mean(cls, order[0], acc("mia_nn", who)) for who in ("original", "retrained")]
        vals += [class_mean(cls, name, acc("mia_nn")) for name in order]
        print(f"| {cls} | " + " | ".join(fmt(v, "{:.1f}") for v in vals) + " |")
