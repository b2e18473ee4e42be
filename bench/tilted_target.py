"""Reweight against tilted targets: each target's distance to the retrained model, in two regimes.

RWFT fits its target, so a target's UTV to the retrained model bounds what RWFT reaches with it
(docs/results.md). This script computes, on the training forget samples of each class, the UTV
(per-sample and marginal) between the retrained model and: the original, the ``reweight`` target,
and ``tilted`` targets over a grid of options, beside the retrain-vs-retrain floor. Targets are
built in batches of 32 as RWFT builds them (the solved tilt is per batch).

Regimes:

* ``calibrated``: the dataset's default model and recipe from the model cache (trained if missing).
* ``memorising``: a wider small-cnn trained without augmentation on a class-balanced subset of the
  training set until it fits it (training accuracy printed), retrained the same way without the
  class, twice (seeds s and s+1) for the floor.

Usage::

    UNLEARNKIT_CACHE_DIR=/tmp/fid .venv/bin/python bench/tilted_target.py --regime calibrated --classes 0,6
    .venv/bin/python bench/tilted_target.py --regime memorising --classes 0,6 --per-class 200 --epochs 60
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from types import SimpleNamespace

GRID = [
    {},  # the plugin's defaults
    {"mass_from": "sample"},  # each forget sample's own leftover mass sets its tilt (the previous default)
    {"mass_from": "model"},  # only whether the original fits its retained training samples
    {"similarity": "head", "tau": 0.1, "beta": 10.0, "mass_none": None},  # the literal reading of the text
    {"similarity": "head"},  # head similarity, tau 1, beta 10, weighted by the leftover mass
    {"similarity": "head", "tau": 0.5, "beta": None, "mass_none": None},
    {"similarity": "outputs", "mass_none": None},  # tau 1, beta 10, every sample tilted
    {"similarity": "outputs", "tau": 0.5, "beta": None},  # sharper similarity, solved beta
    {"similarity": "outputs", "tau": 0.5, "beta": None, "mass_none": None},
]


def utv_pair(q, p_r):
    """(per-sample UTV, marginal UTV) of distributions ``q`` against the retrained model's ``p_r``."""
    from unlearnkit.core.maths import total_variation

    marginal = total_variation(q.mean(0, keepdim=True), p_r.mean(0, keepdim=True)).item()
    return total_variation(q, p_r).mean().item(), marginal


def target_utv(build, options, logits, removed, extra, p_r):
    """UTV of the target built in batches of 32; ``extra`` holds the factory's keyword inputs (head, retain outputs)."""
    import torch

    parts = [build(logits[i : i + 32], removed[i : i + 32], None, options, **extra) for i in range(0, len(logits), 32)]
    return utv_pair(torch.cat(parts).float(), p_r)


def memorising_models(data, cls, seed, args):
    """Original and two retrained models trained to fit a subset (no augmentation)."""
    import torch

    from unlearnkit.core.config import resolve_recipe
    from unlearnkit.data.scenarios import ImageDataset, Preprocess
    from unlearnkit.models.training import train_classifier
    from unlearnkit.plugins.models.small_cnn import SmallCNNOptions, build
    from unlearnkit.plugins.targets.tilted import RETAIN_SAMPLES
    from unlearnkit.run.runner import retain_outputs

    gen = torch.Generator().manual_seed(0)
    keep = torch.cat(
        [
            (data.train_y == c)
            .nonzero()
            .flatten()[torch.randperm(int((data.train_y == c).sum()), generator=gen)][: args.per_class]
            for c in range(data.num_classes)
        ]
    )
    sub = ImageDataset(
        data.train_x[keep], data.train_y[keep], data.test_x, data.test_y, data.classes, data.mean, data.std, "none"
    )
    pre = Preprocess(sub, torch.device("cpu"))
    recipe = resolve_recipe({"name": "fast", "epochs": args.epochs, "batch_size": 64, "lr": 0.05})
    shape = tuple(sub.train_x.shape[1:])

    def train(mask, s):
        torch.manual_seed(s)
        model = build(SmallCNNOptions(width=args.width, stem_pool=shape[-1] >= 28), sub.num_classes, shape)
        train_classifier(model, sub.train_x[mask], sub.train_y[mask], pre, recipe, s)
        return model.eval()

    everything = torch.ones(len(sub.train_y), dtype=torch.bool)
    retain = sub.train_y != cls
    original = train(everything, seed)
    with torch.no_grad():
        acc = (original(pre(sub.train_x)).argmax(1) == sub.train_y).float().mean().item()
    models = {"original": original, "retrained": train(retain, seed), "floor": train(retain, seed + 1)}
    forget = sub.train_y == cls
    with torch.no_grad():
        logits = {k: m(pre(sub.train_x[forget])) for k, m in models.items()}
    retained = SimpleNamespace(x=sub.train_x[retain], y=sub.train_y[retain])
    logits["retain_logits"], logits["retain_labels"] = retain_outputs(original, retained, pre, RETAIN_SAMPLES, seed)
    return logits, original.fc.weight.detach(), acc


def calibrated_models(registry, dataset, cls, seed):
    from unlearnkit.core.config import build_config
    from unlearnkit.plugins.targets.tilted import RETAIN_SAMPLES
    from unlearnkit.run.resolve import resolve
    from unlearnkit.run.runner import Workbench, head_weight, retain_outputs

    config = {"dataset": {"name": dataset}, "forget": {"classes": [cls]}, "seed": seed, "device": "cpu"}
    bench = Workbench(resolve(build_config([config]), registry), registry)
    forget = bench.data.train_y == cls
    logits = {}
    for name, (model, prov) in {
        "original": bench.original(),
        "retrained": bench.retrained(),
        "floor": bench.retrained(seed + 1),
    }.items():
        logits[name] = bench.stored_outputs(model, prov)("train")[forget]
        if name == "original":
            head = head_weight(model, bench.resolved.model.spec.head)
            logits["retain_logits"], logits["retain_labels"] = retain_outputs(
                model, bench.scenario.splits["train_retain"], bench.pre, RETAIN_SAMPLES, seed
            )
    return logits, head, None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regime", choices=["calibrated", "memorising"], default="calibrated")
    parser.add_argument("--dataset", default="fashion-mnist")
    parser.add_argument("--classes", default="0")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--per-class", type=int, default=200, help="memorising: training images per class")
    parser.add_argument("--epochs", type=int, default=60, help="memorising: training epochs")
    parser.add_argument("--width", type=int, default=32, help="memorising: small-cnn width")
    parser.add_argument("--out", default=None, help="append JSON rows here")
    parser.add_argument("--store", default="bench/results", help="memorising: where the models' logits are kept")
    args = parser.parse_args()

    import torch
    from safetensors.torch import load_file, save_file

    from unlearnkit.core.maths import masked_softmax
    from unlearnkit.core.registry import get_registry
    from unlearnkit.plugins.targets.tilted import model_leftover

    registry = get_registry()
    entry = registry.get("target", "tilted")
    build = entry.spec.load()
    for seed in (int(s) for s in args.seeds.split(",")):
        for cls in (int(c) for c in args.classes.split(",")):
            if args.regime == "memorising":
                # the three models' forget logits are kept (safetensors) so option grids rerun in seconds
                key = f"{args.dataset}-c{cls}-s{seed}-n{args.per_class}-e{args.epochs}-w{args.width}"
                stored = Path(args.store) / f"memorising-{key}.safetensors"
                tensors = load_file(str(stored)) if stored.exists() else {}
                if "retain_logits" in tensors:  # files written before the model-level mass are recomputed
                    acc = tensors.pop("train_accuracy").item()
                    head = tensors.pop("head")
                    logits = tensors
                else:
                    dataset = registry.get("dataset", args.dataset)
                    data = dataset.spec.load()(dataset.spec.options(), None)
                    logits, head, acc = memorising_models(data, cls, seed, args)
                    stored.parent.mkdir(parents=True, exist_ok=True)
                    save_file({**logits, "head": head, "train_accuracy": torch.tensor(acc)}, str(stored))
            else:
                logits, head, acc = calibrated_models(registry, args.dataset, cls, seed)
            z_o = logits["original"]
            extra = {"head_weight": head, **{k: logits[k] for k in ("retain_logits", "retain_labels")}}
            p_r = logits["retrained"].softmax(1)
            removed = torch.zeros_like(z_o, dtype=torch.bool)
            removed[:, cls] = True

            rows = {
                "floor": utv_pair(logits["floor"].softmax(1), p_r),
                "original": utv_pair(z_o.softmax(1), p_r),
                "reweight": utv_pair(masked_softmax(z_o, removed), p_r),
            }
            for options in GRID:
                label = "tilted" + (
                    " " + ",".join(f"{k}={v}" for k, v in options.items()) if options else " (defaults)"
                )
                rows[label] = target_utv(build, entry.spec.options(**options), z_o, removed, extra, p_r)
            leftover = 1 - z_o.softmax(1)[:, cls]
            head_line = (
                f"{args.regime} {args.dataset} class {cls} seed {seed}: leftover mass median {leftover.median():.2e}"
                f" (forget samples), {model_leftover(extra['retain_logits'], extra['retain_labels']):.2e} (retained)"
            )
            if acc is not None:
                head_line += f", original's training accuracy {100 * acc:.2f}%"
            print(head_line)
            for label, (u, m) in rows.items():
                print(f"  {label:45s} UTV {u:.4f}  marginal {m:.4f}")
            if args.out:
                with open(args.out, "a") as fh:
                    fh.write(json.dumps({"regime": args.regime, "class": cls, "seed": seed, "rows": rows}) + "\n")


if __name__ == "__main__":
    main()
