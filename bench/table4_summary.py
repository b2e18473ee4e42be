"""The rwft-table4-cpu summary from a sweep database (docs/results.md, "re-measured without label smoothing").

Per method, over the finished cells: mean ± std of the per-sample UTV, of its per-cell ratio to the
retrain-vs-retrain floor, of the marginal UTV and its ratio, of the MIA-NN gap to the retrained
model, and ACC_r / ACC_f on test; then which method is closest to the retrained model in each cell,
and the per-cell UTV table; with --mia, the per-class MIA-NN table (the RWFT paper's Table 1 layout).
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
per_cell = defaultdict(dict)
mia_cell = defaultdict(dict)
for label, forget, seed, metrics in rows.values():
    m = {k: v["values"] for k, v in json.loads(metrics).items()}
    m["_seed"], m["_class"] = seed, forget
    by[label].append(m)
    per_cell[(forget, seed)][label] = m["utv_train"]["unlearned"]
    mia_cell[(forget, seed)][label] = m["mia_nn"]["unlearned"]
    mia_cell[(forget, seed)]["Retrain"] = m["mia_nn"]["retrained"]
    mia_cell[(forget, seed)]["Original"] = m["mia_nn"]["original"]
seeds = sorted({m["_seed"] for ms_ in by.values() for m in ms_})
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
for utvs in per_cell.values():
    wins[min(utvs, key=utvs.get)] += 1
print("\nlowest UTV per cell:", dict(wins), "over", len(per_cell), "cells")
print("\nUTV train per class, mean over the seeds present (their number in brackets):\n")
print("| class | floor | " + " | ".join(order) + " |")
print("|---|---:|" + "---:|" * len(order))
floors = defaultdict(list)
for m in by[order[0]]:
    floors[m["_class"]].append(m["utv_train"]["retrained"])
for cls in sorted({key[0] for key in per_cell}, key=lambda c: int(c.split("=")[1])):
    cells = [utvs for (c, _), utvs in per_cell.items() if c == cls]
    means = [
        f"{st.mean([u[name] for u in cells if name in u]):.3f}" if any(name in u for u in cells) else "-"
        for name in order
    ]
    floor = f"{st.mean(floors[cls]):.3f}" if floors[cls] else "-"
    print(f"| {cls} ({len(cells)}) | {floor} | " + " | ".join(means) + " |")

if "--mia" in sys.argv:
    # The RWFT paper's Table 1 layout: MIA-NN (%) per forgotten class, mean over the seeds.
    classes = sorted({key[0] for key in mia_cell}, key=lambda c: int(c.split("=")[1]))
    cols = ["Original", "Retrain", *order]
    print("\nMIA-NN (%) per class, mean over seeds:\n")
    print("| class | " + " | ".join(cols) + " |")
    print("|---|" + "---:|" * len(cols))
    for cls in classes:
        cells = [v for (c, _), v in mia_cell.items() if c == cls]
        vals = [
            st.mean([v[name] for v in cells if name in v]) if any(name in v for v in cells) else None for name in cols
        ]
        print(f"| {cls} | " + " | ".join("-" if v is None else f"{v:.1f}" for v in vals) + " |")
