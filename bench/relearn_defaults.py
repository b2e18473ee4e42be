"""Choose the relearn metric's defaults: attack curves of original / unlearned / retrained models.

Usage: python bench/relearn_defaults.py DATASET CLASS METHOD[,METHOD...] [key=value ...]
Each key=value is a relearn option; several values separated by '/' are tried one after the other
(e.g. steps=25/50/100). Prints relearn_acc_f per subject and the gap for every combination.
"""

from __future__ import annotations

import itertools
import os
import sys
import time

from unlearnkit.core.config import build_config
from unlearnkit.core.registry import get_registry
from unlearnkit.run.resolve import resolve
from unlearnkit.run.runner import Workbench


def main() -> None:
    dataset, cls, methods, *assignments = sys.argv[1:]
    grid = {
        k: [float(v) if "." in v or "e" in v else (int(v) if v.isdigit() else v) for v in vals.split("/")]
        for k, _, vals in (a.partition("=") for a in assignments)
    }
    registry = get_registry()
    from unlearnkit.evaluation.evaluate import EvalContext

    spec = registry.get("metric", "relearn").spec
    fn = spec.load()
    for method in methods.split(","):
        select = None
        if method == "rwft2":
            method, select = "rwft", "two-layer"
        layer = {
            "dataset": {"name": dataset},
            "method": {"name": method},
            "forget": {"classes": [int(cls)]},
            "device": "cpu",
        }
        if select:
            layer["selector"] = {"name": select}
        if dataset == "digits" and os.environ.get("TINY"):  # the tests' model and recipe
            layer["model"] = {"name": "small-cnn", "options": {"width": 16}}
            layer["recipe"] = {"epochs": 12}
        bench = Workbench(resolve(build_config([layer]), registry), registry)
        original, _ = bench.original()
        retrained, _ = bench.retrained()
        unlearned, seconds, _ = bench.unlearn(original, 0)
        for combo in itertools.product(*grid.values()):
            opts = spec.options(**dict(zip(grid, combo, strict=True)))
            ev = EvalContext(
                {"original": original, "unlearned": unlearned, "retrained": retrained},
                bench.data,
                bench.scenario,
                bench.pre,
                bench.device,
                0,
            )
            ev.shared["workbench"] = bench
            start = time.perf_counter()
            rows = {s: fn(ev, s, opts) for s in ("original", "unlearned", "retrained")}
            curve = ev.artifacts["relearn"]["acc_f"]
            print(
                f"{method}{'/' + select if select else ''} {dict(zip(grid, combo, strict=True))} ({time.perf_counter() - start:.1f} s)"
            )
            for s in rows:
                pts = " ".join(f"{a:.0f}" for a in curve[s])
                print(f"   {s:10s} final {rows[s]['relearn_acc_f']:6.1f} gap {rows[s]['relearn_gap']:6.1f} | {pts}")


if __name__ == "__main__":
    main()
