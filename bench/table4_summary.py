"""The rwft-table4-cpu summary from a sweep database (docs/results.md, "re-measured without label smoothing").

Per method, over the finished cells: mean ± std of the per-sample UTV, of its per-cell ratio to the
retrain-vs-retrain floor, of the marginal UTV and its ratio, of the MIA-NN gap to the retrained
model, and ACC_r / ACC_f on test; then which method is closest to the retrained model in each cell,
and the per-cell UTV table. Needs the preset's metrics (utv with floor=true, mia-nn, accuracy).

    python bench/table4_summary.py t4.sqlite
"""

import json
import sqlite3
import statistics as st
import sys
from collections import defaultdict

db = sqlite3.connect(sys.argv[1])
rows = db.execute("select label, forget, seed, metrics from cells where status='ok'").fetchall()
by = defaultdict(list)
per_cell = defaultdict(dict)
for label, forget, seed, metrics in rows:
    m = {k: v["values"] for k, v in json.loads(metrics).items()}
    by[label].append(m)
    per_cell[(forget, seed)][label] = m["utv_train"]["unlearned"]
PRESET_ORDER = ["RWFT-2-O", "RWFT-O", "RW-A", "TRW-2-O", "FT", "RL", "GA", "SalUn", "SVD"]
order = [name for name in PRESET_ORDER if name in by] + sorted(set(by) - set(PRESET_ORDER))


def ms(xs, f="{:.3f}"):
    xs = [x for x in xs if x is not None]
    if not xs:
        return "-"
    return (f + " ± " + f).format(st.mean(xs), st.pstdev(xs)) if len(xs) > 1 else f.format(xs[0])


print(
    "| method | cells | UTV train | UTV / floor | marginal UTV | marginal / floor | MIA-NN gap | ACC_r test | ACC_f test |"
)
print("|---|---:|---|---|---|---|---|---|---|")
for label in order:
    ms_ = by[label]
    utv = [m["utv_train"]["unlearned"] for m in ms_]
    ratio = [m["utv_train"]["unlearned"] / m["utv_train"]["retrained"] for m in ms_]
    mutv = [m["utv_marginal_train"]["unlearned"] for m in ms_]
    mratio = [m["utv_marginal_train"]["unlearned"] / m["utv_marginal_train"]["retrained"] for m in ms_]
    gap = [abs(m["mia_nn"]["unlearned"] - m["mia_nn"]["retrained"]) for m in ms_]
    print(
        f"| {label} | {len(ms_)} | {ms(utv)} | {ms(ratio, '{:.2f}')} | {ms(mutv)} | {ms(mratio, '{:.2f}')} | {ms(gap, '{:.1f}')} "
        f"| {ms([m['acc_r_test']['unlearned'] for m in ms_], '{:.2f}')} | {ms([m['acc_f_test']['unlearned'] for m in ms_], '{:.2f}')} |"
    )
ref = by[order[0]]
print(
    f"| floor (retrain vs retrain) | {len(ref)} | {ms([m['utv_train']['retrained'] for m in ref])} | 1 | {ms([m['utv_marginal_train']['retrained'] for m in ref])} | 1 | 0 | {ms([m['acc_r_test']['retrained'] for m in ref], '{:.2f}')} | {ms([m['acc_f_test']['retrained'] for m in ref], '{:.2f}')} |"
)
print(
    f"| original | {len(ref)} | {ms([m['utv_train']['original'] for m in ref])} | | | | {ms([abs(m['mia_nn']['original'] - m['mia_nn']['retrained']) for m in ref], '{:.1f}')} | {ms([m['acc_r_test']['original'] for m in ref], '{:.2f}')} | {ms([m['acc_f_test']['original'] for m in ref], '{:.2f}')} |"
)
# per cell: which method is closest to the retrained model, and the per-class table
wins = defaultdict(int)
for utvs in per_cell.values():
    wins[min(utvs, key=utvs.get)] += 1
print("\nlowest UTV per cell:", dict(wins), "over", len(per_cell), "cells")
print("\n| cell | " + " | ".join(order) + " |")
print("|---|" + "---|" * len(order))
for key, utvs in sorted(per_cell.items()):
    print(
        f"| {key[0]} s{key[1]} | " + " | ".join(f"{utvs[name]:.3f}" if name in utvs else "-" for name in order) + " |"
    )
