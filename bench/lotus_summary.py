"""The LoTUS random-forgetting table from a sweep database (docs/results.md, bench/lotus-random-fm.toml).

Per method, mean ± std over the seeds (one random forget set per seed): accuracy on the forgotten
training images and on the test set, MIA-entropy, Avg Gap (LoTUS Eq. 15, points), JSD to the
retrained model on the forget set, RF-JSD (the retrain-free score) and the unlearning time as a
share of the retraining time measured in the same cell. Rows for the retrained and the original
model come from the first method's cells (every cell of a seed shares them).

    python bench/lotus_summary.py lotus-random-fm.sqlite
"""

import json
import sqlite3
import statistics as st
import sys
from collections import defaultdict

ORDER = ["Finetuning", "NegGrad+", "RndLbl", "BadT", "SCRUB", "SSD", "UNSIR", "LoTUS"]
rows = sqlite3.connect(sys.argv[1]).execute("select label, metrics from cells where status='ok'").fetchall()
by = defaultdict(list)
for label, metrics in rows:
    by[label].append({k: v["values"] for k, v in json.loads(metrics).items()})
order = [name for name in ORDER if name in by] + sorted(set(by) - set(ORDER))


def ms(xs, f):
    xs = [x for x in xs if x is not None]
    if not xs:
        return "-"
    return (f + " ± " + f).format(st.mean(xs), st.pstdev(xs)) if len(xs) > 1 else f.format(xs[0])


COLS = [
    ("acc_f_train", "{:.2f}"),
    ("acc_r_test", "{:.2f}"),
    ("mia_entropy", "{:.2f}"),
    ("avg_gap", "{:.2f}"),
    ("jsd_train", "{:.4f}"),
    ("rf_jsd", "{:.5f}"),
]
print("| method | seeds | " + " | ".join(c for c, _ in COLS) + " | time / retrain |")
print("|---|---:|" + "---:|" * (len(COLS) + 1))


def row(name, cells, who):
    time = "-"
    if who == "unlearned":
        time = ms([m["time_s"]["unlearned"] / m["time_s"]["retrained"] for m in cells], "{:.3f}")
    vals = [ms([m[c][who] for m in cells], f) for c, f in COLS]
    print(f"| {name} | {len(cells)} | " + " | ".join(vals) + f" | {time} |")


first = by[order[0]]
row("Retraining", first, "retrained")
row("Original", first, "original")
for label in order:
    row(label, by[label], "unlearned")
