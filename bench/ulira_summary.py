"""The U-LiRA table (RWFT paper Table 3 layout) from a sweep database with the ``u-lira`` metric.

Per method and forgotten class: the attack's balanced accuracy and AUC (%, ideal 50: unlearned
and retrained models indistinguishable), then the original models' row (the same attack with the
originals in place of the unlearned models), and ACC_r / ACC_f on test for context.

    python bench/ulira_summary.py ulira-fm.sqlite
"""

import json
import sqlite3
import sys
from collections import defaultdict

ORDER = ["RWFT-2-O", "RWFT-O", "RW-A", "FT", "RL", "GA", "SalUn", "SVD"]
rows = sqlite3.connect(sys.argv[1]).execute("select label, forget, metrics from cells where status='ok'").fetchall()
cells = defaultdict(dict)
for label, forget, metrics in rows:
    cells[forget][label] = {k: v["values"] for k, v in json.loads(metrics).items()}
labels = sorted(
    {label for per in cells.values() for label in per},
    key=lambda x: (x not in ORDER, ORDER.index(x) if x in ORDER else x),
)
for forget, per in sorted(cells.items()):
    print(f"\n{forget}\n")
    print("| method | U-LiRA acc (%) | U-LiRA AUC (%) | ACC_r test | ACC_f test |")
    print("|---|---:|---:|---:|---:|")
    first = next(iter(per.values()))
    print(
        f"| Original | {first['u_lira_acc']['original']:.1f} | {first['u_lira_auc']['original']:.1f} "
        f"| {first['acc_r_test']['original']:.2f} | {first['acc_f_test']['original']:.2f} |"
    )
    for label in labels:
        if label in per:
            m = per[label]
            print(
                f"| {label} | {m['u_lira_acc']['unlearned']:.1f} | {m['u_lira_auc']['unlearned']:.1f} "
                f"| {m['acc_r_test']['unlearned']:.2f} | {m['acc_f_test']['unlearned']:.2f} |"
            )
