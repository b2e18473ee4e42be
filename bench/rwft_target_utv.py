"""How close RWFT's target is to the retrained model: the bound on RWFT's UTV (docs/results.md).

RWFT fine-tunes the model towards q*(y|x) = the original's softmax with the forgotten class removed
and renormalised (seed Eq. 3). Once it fits q*, its UTV is UTV(q*, retrained), which this script
computes from the cached original and retrained models' stored outputs (no training when the
models are cached), beside the original's own UTV and, given a sweep database, the UTV that each
RWFT cell of the same class and seed reached.

Usage::

    UNLEARNKIT_CACHE_DIR=/tmp/ft4cache .venv/bin/python bench/rwft_target_utv.py \\
        --dataset fashion-mnist --classes 0,1,2,3,4 --seeds 1,10 --db t4.sqlite [--explain]
"""

from __future__ import annotations

import argparse
import json
import sqlite3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="fashion-mnist")
    parser.add_argument("--classes", default="0")
    parser.add_argument("--seeds", default="1")
    parser.add_argument("--db", help="sweep database whose RWFT cells to show beside the bound")
    parser.add_argument(
        "--explain",
        action="store_true",
        help="also print the mean target and the mean retrained output over the forget samples, and how often "
        "their arg-max agree (where the target points the forgotten samples, and where retraining does)",
    )
    args = parser.parse_args()

    import torch

    from unlearnkit.core.config import build_config
    from unlearnkit.core.maths import masked_softmax, total_variation
    from unlearnkit.core.registry import get_registry
    from unlearnkit.run.resolve import resolve
    from unlearnkit.run.runner import Workbench

    registry = get_registry()
    db = sqlite3.connect(args.db) if args.db else None
    for seed in (int(s) for s in args.seeds.split(",")):
        for c in (int(k) for k in args.classes.split(",")):
            config = {"dataset": {"name": args.dataset}, "forget": {"classes": [c]}, "seed": seed, "device": "cpu"}
            bench = Workbench(resolve(build_config([config]), registry), registry)
            (original, prov_o), (retrained, prov_r) = bench.original(), bench.retrained()
            forget = bench.data.train_y == c
            z_o = bench.stored_outputs(original, prov_o)("train")[forget]
            p_r = bench.stored_outputs(retrained, prov_r)("train")[forget].softmax(1)
            removed = torch.zeros(z_o.shape[1], dtype=torch.bool)
            removed[c] = True
            target = masked_softmax(z_o, removed)  # the `reweight` target (seed Eq. 3)
            line = (
                f"seed {seed} class {c}: UTV(target, retrained) {total_variation(target, p_r).mean():.4f}"
                f"  UTV(original) {total_variation(z_o.softmax(1), p_r).mean():.4f}"
            )
            if db is not None:
                cells = db.execute(
                    "select label, metrics from cells where status = 'ok' and method = 'rwft' and seed = ? and forget = ?",
                    (seed, f"classes={c}"),
                )
                for label, metrics in sorted(cells):
                    line += f"  {label} {json.loads(metrics)['utv_train']['values']['unlearned']:.4f}"
            print(line, flush=True)
            if args.explain:
                names = bench.data.classes
                for label, dist in (("target", target), ("retrained", p_r)):
                    mean = dist.mean(0)
                    top = mean.argsort(descending=True)[:3].tolist()
                    print(f"    mean {label:9s}: " + ", ".join(f"{names[k]} {mean[k]:.3f}" for k in top), flush=True)
                agree = (target.argmax(1) == p_r.argmax(1)).float().mean()
                print(f"    arg-max of target and retrained agree on {agree:.1%} of the forget samples", flush=True)


if __name__ == "__main__":
    main()
