"""Untuned against tuned: the rwft-table4-cpu protocol before and after 'unlearn tune' (issue 19).

Reads two groups of sweep databases (the untuned preset's and the tuned sweep file's, e.g. one per
seed each), keeps the (class, seed) cells present in both, and prints per method the mean over those
cells of UTV train, UTV / floor, the MIA-NN gap to the retrained model, ACC_r and ACC_f on test, untuned
-> tuned; then the ordering of the methods by mean UTV / floor, overall and per seed, in both.

    python bench/tuned_vs_untuned.py t4.sqlite t4-s10.sqlite --tuned tuned-s1.sqlite tuned-s10.sqlite
"""

import json
import math
import sqlite3
import statistics as st
import sys
from collections import defaultdict

PRESET_ORDER = ["RWFT-2-O", "RWFT-O", "RW-A", "TRW-2-O", "FT", "RL", "GA", "SalUn", "SVD"]


def read(paths):
    """{(label, class, seed): metric values} over the finished cells of the databases."""
    cells = {}
    for path in paths:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)  # read-only: a missing file is an error
        for label, forget, seed, metrics in db.execute(
            "select label, forget, seed, metrics from cells where status='ok'"
        ):
            cells[(label, forget, seed)] = {k: v["values"] for k, v in json.loads(metrics).items()}
    return cells


split = sys.argv.index("--tuned")
untuned, tuned = read(sys.argv[1:split]), read(sys.argv[split + 1 :])
shared = sorted(set(untuned) & set(tuned))
labels = [name for name in PRESET_ORDER if any(k[0] == name for k in shared)]
seeds = sorted({k[2] for k in shared})
measures = {
    "UTV": lambda m: m["utv_train"]["unlearned"],
    "UTV/floor": lambda m: m["utv_train"]["unlearned"] / m["utv_train"]["retrained"],
    "MIA gap": lambda m: abs(m["mia_nn"]["unlearned"] - m["mia_nn"]["retrained"]),
    "ACC_r": lambda m: m["acc_r_test"]["unlearned"],
    "ACC_f": lambda m: m["acc_f_test"]["unlearned"],
}
formats = {"UTV": "{:.3f}", "UTV/floor": "{:.2f}", "MIA gap": "{:.1f}", "ACC_r": "{:.2f}", "ACC_f": "{:.2f}"}


def mean(cells, label, measure, seed=None):
    xs = [measures[measure](cells[k]) for k in shared if k[0] == label and (seed is None or k[2] == seed)]
    return st.mean(xs) if xs else float("nan")


count = defaultdict(int)
for key in shared:
    count[key[0]] += 1
print(f"cells in both (per method): {dict(count)}; seeds {seeds}\n")
print("| method | " + " | ".join(f"{name}: untuned -> tuned" for name in measures) + " |")
print("|---|" + "---|" * len(measures))
for label in labels:
    parts = []
    for name in measures:
        f = formats[name]
        parts.append(f"{f.format(mean(untuned, label, name))} -> {f.format(mean(tuned, label, name))}")
    print(f"| {label} | " + " | ".join(parts) + " |")


def ordering(cells, seed=None):
    present = [label for label in labels if not math.isnan(mean(cells, label, "UTV/floor", seed))]
    ranked = sorted(present, key=lambda label: mean(cells, label, "UTV/floor", seed))
    return " < ".join(f"{label} {mean(cells, label, 'UTV/floor', seed):.2f}" for label in ranked)


print("\nordering by mean UTV / floor:")
for seed in [None, *seeds]:
    which = "all seeds" if seed is None else f"seed {seed}"
    print(f"- {which}, untuned: {ordering(untuned, seed)}")
    print(f"- {which}, tuned:   {ordering(tuned, seed)}")
