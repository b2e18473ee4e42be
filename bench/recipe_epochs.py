"""How long must the reference models train? Floor and method UTVs against the recipe's epochs.

For each number of training epochs of the original and retrained models (the dataset's default
recipe otherwise), each forget class and seed, this runs the chosen methods and prints, per cell,
the retrain-vs-retrain floor (per-sample and marginal UTV), each method's UTV, its ratio to the
floor, MIA-NN of the unlearned and retrained models, and ACC_r / ACC_f. A recipe is converged
enough when the floor and the ordering of the methods no longer move with more epochs.
Results go to a JSON-lines file (one row per cell and method) so an interrupted run keeps them.

Usage::

    UNLEARNKIT_CACHE_DIR=/tmp/epochs-cache .venv/bin/python bench/recipe_epochs.py \\
        --dataset fashion-mnist --classes 0 --seeds 0 --epochs 2,4,8 --out bench/results/epochs.jsonl
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

METHODS = {
    "RWFT-2-O": {"method": {"name": "rwft"}, "selector": {"name": "two-layer"}},
    "FT": {"method": {"name": "ft", "options": {"epochs": 1}}},
    "SalUn": {"method": {"name": "salun", "options": {"epochs": 1}}},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="fashion-mnist")
    parser.add_argument("--classes", default="0")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--epochs", default="2,4,8")
    parser.add_argument("--methods", default=",".join(METHODS), help=f"from {', '.join(METHODS)}")
    parser.add_argument("--recipe", default=None, help="JSON object of recipe fields refining the default")
    parser.add_argument("--out", default="bench/results/recipe-epochs.jsonl")
    args = parser.parse_args()

    from unlearnkit.run.runner import run

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    extra = json.loads(args.recipe) if args.recipe else {}
    for epochs in (int(e) for e in args.epochs.split(",")):
        for seed in (int(s) for s in args.seeds.split(",")):
            for cls in (int(c) for c in args.classes.split(",")):
                for label in args.methods.split(","):
                    config = {
                        **METHODS[label],
                        "dataset": {"name": args.dataset},
                        "forget": {"classes": [cls]},
                        "seed": seed,
                        "recipe": {**extra, "epochs": epochs},
                        "metrics": ["accuracy", "utv", "mia-nn"],
                        "metric_options": {"utv": {"floor": True}},
                    }
                    start = time.perf_counter()
                    result = run(config, write=False)
                    values = {m.name: m.values for m in result.metrics}
                    row = {
                        "epochs": epochs,
                        "seed": seed,
                        "class": cls,
                        "method": label,
                        "wall_s": round(time.perf_counter() - start, 1),
                        "unlearn_s": result.timings.get("unlearn_seconds"),
                        "values": values,
                    }
                    with out.open("a") as fh:
                        fh.write(json.dumps(row) + "\n")
                    u, f = values["utv_train"]["unlearned"], values["utv_train"]["retrained"]
                    print(
                        f"epochs {epochs} seed {seed} class {cls} {label:9s} UTV {u:.4f} floor {f:.4f} "
                        f"ratio {u / f:.2f} marginal {values['utv_marginal_train']['unlearned']:.4f} "
                        f"(floor {values['utv_marginal_train']['retrained']:.4f}) "
                        f"MIA-NN {values['mia_nn']['unlearned']:.1f}/{values['mia_nn']['retrained']:.1f} "
                        f"ACC_r {values['acc_r_test']['unlearned']:.2f} ACC_f {values['acc_f_train']['unlearned']:.2f} "
                        f"orig acc_r {values['acc_r_test']['original']:.2f}",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
