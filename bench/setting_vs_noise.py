"""How far a method setting moves fidelity, against the run-to-run spread of the baseline setting.

A new default is acceptable only if it moves each cell by less than the baseline itself moves when
nothing but the unlearning seed (batch order, augmentation draws) changes. This bench applies every
row to the *same* original model of each forget class, once per unlearning seed (``--seed`` plus
0, 1, ... ``--repeats``-1), and prints per class and row: UTV (train forget) of each repeat, their
mean and range, the mean's change against the first row, ACC_r (test), and unlearning time as a
ratio to the first row's (median over repeats of the per-repeat ratios, timed in the same process).

Rows are ``LABEL=METHOD[/SELECTOR][:key=value...]`` as in ``bench/unlearn_speed.py``; the first row
is the baseline. Original and retrained models come from the model cache (``UNLEARNKIT_CACHE_DIR``).

Usage::

    OMP_NUM_THREADS=1 .venv/bin/python bench/setting_vs_noise.py --dataset fashion-mnist --seed 1 \
        --classes 0,5 --repeats 3 --row 'e10=rwft/two-layer' --row 'e3=rwft/two-layer:epochs=3:lr=3.333e-3'
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from unlearn_speed import base_config, parse_row, unlearned_metrics  # noqa: E402  (a sibling bench script)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--classes", default="0", help="comma-separated forget classes, one cell each")
    parser.add_argument("--seed", type=int, default=0, help="seed of the original and retrained models")
    parser.add_argument("--repeats", type=int, default=3, help="unlearning seeds per row and class")
    parser.add_argument("--row", action="append", default=[], required=True)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--json", default=None, help="also write every value here")
    parser.add_argument("--set", action="append", default=[], help="config override for every row, as unlearn run's")
    args = parser.parse_args(argv)

    from unlearnkit.core.config import build_config
    from unlearnkit.core.registry import get_registry
    from unlearnkit.run.resolve import resolve
    from unlearnkit.run.runner import Workbench

    registry = get_registry()
    rows = [parse_row(spec) for spec in args.row]
    report: dict[str, Any] = {"dataset": args.dataset, "seed": args.seed, "cells": {}}
    for forget in args.classes.split(","):
        base = base_config(args.dataset, forget, args.seed, args.device, args.set)
        benches = {label: Workbench(resolve(build_config([base, layer]), registry), registry) for label, layer in rows}
        first = next(iter(benches.values()))
        original, prov_o = first.original()
        retrained, prov_r = first.retrained()
        references = {"original": (original, prov_o), "retrained": (retrained, prov_r)}
        cell: dict[str, dict[str, list[float]]] = {label: {"utv": [], "acc_r": [], "seconds": []} for label, _ in rows}
        for k in range(args.repeats):
            for label, _ in rows:
                model, seconds, _ = benches[label].unlearn(original, args.seed + k)
                values = unlearned_metrics(first, references, model)
                cell[label]["utv"].append(values["utv_train"])
                cell[label]["acc_r"].append(values["acc_r_test"])
                cell[label]["seconds"].append(seconds)
                print(
                    f"class {forget} repeat {k} {label}: UTV {values['utv_train']:.4f} {seconds:.1f} s", file=sys.stderr
                )
        baseline = rows[0][0]
        b = cell[baseline]
        print(f"\n{args.dataset} class {forget}, original seed {args.seed}, {args.repeats} unlearning seeds")
        print("| row | UTV per seed | mean | range | mean - baseline | ACC_r | time / baseline |")
        print("|---|---|---:|---:|---:|---:|---:|")
        for label, _ in rows:
            c = cell[label]
            ratio = statistics.median(s / t for s, t in zip(c["seconds"], b["seconds"], strict=True))
            mean = statistics.fmean(c["utv"])
            print(
                f"| {label} | {' '.join(f'{u:.4f}' for u in c['utv'])} | {mean:.4f} | "
                f"{max(c['utv']) - min(c['utv']):.4f} | {mean - statistics.fmean(b['utv']):+.4f} | "
                f"{statistics.fmean(c['acc_r']):.2f} | {ratio:.2f} |",
                flush=True,
            )
        report["cells"][forget] = cell
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
