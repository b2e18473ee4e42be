"""Summarise a sweep that runs one method at several settings against a baseline setting, per cell.

Labels are ``VARIANT SETTING`` (for example ``RWFT-2-O e3``, as in ``bench/rwft-budget-fm.toml``); the
baseline setting (``--baseline``, default ``e10``) is the reference of each variant in each cell.
Prints, per variant and setting over the cells present in every given database: the mean change of
UTV (train forget), its largest absolute change, how many cells moved by more than ``--limit``, the
mean and worst change of ACC_r (test, points), and the median over cells of the unlearning time as
a share of the baseline's (both timed in their own sweep cells, so only a rough ratio).

Usage::

    python bench/budget_summary.py budget-fm-a.sqlite budget-fm-b.sqlite --baseline e10
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
from collections import defaultdict


def load(paths: list[str]) -> dict[tuple[str, str, str], dict[str, float]]:
    """(variant, setting, cell) -> utv, acc_r, seconds for every finished cell."""
    out: dict[tuple[str, str, str], dict[str, float]] = {}
    for path in paths:
        db = sqlite3.connect(path)
        query = "select key, label, dataset, forget, seed, timings from cells where status = 'ok'"
        for key, label, dataset, forget, seed, timings in db.execute(query):
            variant, _, setting = label.rpartition(" ")
            values = dict(
                db.execute("select row, value from metric_values where key = ? and subject = 'unlearned'", (key,))
            )
            out[variant, setting, f"{dataset} {forget} seed {seed}"] = {
                "utv": values["utv_train"],
                "acc_r": values["acc_r_test"],
                "seconds": json.loads(timings)["unlearn_seconds"],
            }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", nargs="+")
    parser.add_argument("--baseline", default="e10")
    parser.add_argument("--limit", type=float, default=0.01, help="a cell counts as moved above this UTV change")
    args = parser.parse_args(argv)
    cells = load(args.db)
    settings: dict[str, list[str]] = defaultdict(list)
    for variant, setting, _ in cells:
        if setting != args.baseline and setting not in settings[variant]:
            settings[variant].append(setting)
    print(
        f"| variant | setting | cells | UTV change, mean | largest abs. change | cells > {args.limit} | "
        "ACC_r change, mean (worst) | time / baseline |"
    )
    print("|---|---|---:|---:|---:|---:|---|---:|")
    for variant, names in settings.items():
        for setting in names:
            pairs = [
                (cells[variant, setting, c], cells[variant, args.baseline, c])
                for (v, s, c) in cells
                if v == variant and s == setting and (variant, args.baseline, c) in cells
            ]
            if not pairs:
                continue
            d_utv = [a["utv"] - b["utv"] for a, b in pairs]
            d_acc = [a["acc_r"] - b["acc_r"] for a, b in pairs]
            ratio = statistics.median(a["seconds"] / b["seconds"] for a, b in pairs)
            print(
                f"| {variant} | {setting} | {len(pairs)} | {statistics.fmean(d_utv):+.4f} | "
                f"{max(d_utv, key=abs):+.4f} | {sum(abs(d) > args.limit for d in d_utv)} | "
                f"{statistics.fmean(d_acc):+.2f} ({min(d_acc):+.2f}) | {ratio:.2f} |"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
