"""Unlearning cost in epoch-equivalents (EE) and speed-up over retraining, measured in one run (issue 18).

EE = unlearning wall time / wall time of one full training epoch of the same model on the whole
training set with the dataset's default recipe, both timed in the same round of this process.
Speed-up = time of retraining with that recipe / unlearning time, where retraining is estimated
in the same round as recipe epochs x one epoch x (retain samples / training samples): the
retrained model is trained on the retain set only. Each round times one training epoch, then every
row once, in that order, so load drifts hit all of them; reported is the median over rounds of the
per-round ratios. ``--flops`` adds FLOP EE: the floating-point operations of one unlearning over
those of one training epoch, both counted once with ``torch.utils.flop_counter`` (convolutions and
matrix products, forward and backward). It is what the method must compute, whatever the
implementation: a time EE close to it means the loop is compute-bound, and no exact rewrite of the
loop can go below it at the same options. Fidelity is shown beside: ACC_r/ACC_f (test, %) and
UTV (train forget) of the last round's unlearned model, against the cached retrained model.

Rows are ``LABEL=METHOD[/SELECTOR][:key=value...]``; the default rows are RWFT-O, RWFT-2-O, RW-A,
SalUn, FT and SSD with their default options. Original and retrained models come from the model
cache (``UNLEARNKIT_CACHE_DIR`` or ``--cache-dir``; trained there on first use, outside the clock).

Usage::

    .venv/bin/python bench/unlearn_speed.py --dataset digits --rounds 5
    .venv/bin/python bench/unlearn_speed.py --dataset fashion-mnist --rounds 3
    .venv/bin/python bench/unlearn_speed.py --row 'RWFT-2-O bs32=rwft/two-layer:batch_size=32'
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from typing import Any

DEFAULT_ROWS = [
    "RWFT-O=rwft/all",
    "RWFT-2-O=rwft/two-layer",
    "RW-A=rwft/adapters",
    "SalUn=salun",
    "FT=ft",
    "SSD=ssd",
]


def parse_row(spec: str) -> tuple[str, dict[str, Any]]:
    """``LABEL=METHOD[/SELECTOR][:key=value...]`` -> (label, config layer)."""
    from unlearnkit.core.config import apply_set

    label, sep, rest = spec.partition("=")
    if not sep or not rest:
        raise SystemExit(f"bad --row {spec!r}; accepted: LABEL=METHOD[/SELECTOR][:key=value...]")
    head, *assignments = rest.split(":")
    method, _, selector = head.partition("/")
    options: dict[str, Any] = {}
    for assignment in assignments:
        tmp: dict[str, Any] = {}
        apply_set(tmp, f"method.options.{assignment}")
        options.update(tmp["method"]["options"])
    layer: dict[str, Any] = {"method": {"name": method, "options": options}}
    if selector:
        layer["selector"] = {"name": selector}
    return label, layer


def base_config(dataset: str, forget: str, seed: int, device: str, sets: list[str] = ()) -> dict[str, Any]:
    """The config layer every row shares: one forgotten class, accuracy and UTV (without its floor).

    ``sets``: ``key=value`` overrides as ``unlearn run --set`` takes them (e.g. ``recipe.cpu_channels_last=false``).
    """
    from unlearnkit.core.config import apply_set

    base: dict[str, Any] = {
        "dataset": {"name": dataset},
        "forget": {"classes": [int(forget) if forget.isdigit() else forget]},
        "seed": seed,
        "device": device,
        "metrics": ["accuracy", "utv"],
        "metric_options": {"utv": {"floor": False}},
    }
    for assignment in sets:
        apply_set(base, assignment)
    return base


def unlearned_metrics(bench, references: dict[str, tuple[Any, dict[str, Any]]], model) -> dict[str, float]:
    """The configured metrics of an unlearned ``model``; ``references``: subject -> (model, provenance)."""
    from unlearnkit.evaluation.evaluate import compute_metrics

    ev = bench.eval_context(
        {"unlearned": model, **{k: m for k, (m, _) in references.items()}}, bench.resolved.config.seed
    )
    for subject, (reference, provenance) in references.items():
        bench.attach_reference(ev, subject, reference, provenance)
    entries = [m.entry for m in bench.resolved.metrics]
    options = {m.name: m.options for m in bench.resolved.metrics}
    return {m.name: m.values.get("unlearned") for m in compute_metrics(ev, entries, options)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--forget", default="0", help="class to forget (default 0)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--row", action="append", default=[], help="LABEL=METHOD[/SELECTOR][:key=value...]")
    parser.add_argument("--cache-dir", default=None)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--json", default=None, help="also write the raw timings here")
    parser.add_argument("--flops", action="store_true", help="add FLOP EE (counted once per row, outside the clock)")
    parser.add_argument("--set", action="append", default=[], help="config override for every row, as unlearn run's")
    args = parser.parse_args(argv)

    import torch

    from unlearnkit.core.config import build_config
    from unlearnkit.core.registry import get_registry
    from unlearnkit.models.training import import_optimizers, train_classifier
    from unlearnkit.run.resolve import resolve
    from unlearnkit.run.runner import Workbench

    registry = get_registry()
    base = base_config(args.dataset, args.forget, args.seed, args.device, args.set)
    if args.cache_dir:
        base["cache_dir"] = args.cache_dir
    rows = [parse_row(spec) for spec in (args.row or DEFAULT_ROWS)]
    benches = {label: Workbench(resolve(build_config([base, layer]), registry), registry) for label, layer in rows}
    first = next(iter(benches.values()))
    original, prov_o = first.original()
    retrained, prov_r = first.retrained()
    recipe = first.resolved.recipe
    data, scenario = first.data, first.scenario
    retain_share = len(scenario.splits["train_retain"]) / len(data.train_y)
    import_optimizers()

    def one_epoch() -> float:
        model = first.build_model(args.seed).to(first.device)
        one = recipe.model_copy(update={"epochs": 1})
        return train_classifier(model, data.train_x, data.train_y, first.pre, one, args.seed)

    epochs: list[float] = []
    seconds: dict[str, list[float]] = {label: [] for label, _ in rows}
    last: dict[str, torch.nn.Module] = {}
    notes: dict[str, dict[str, Any]] = {}
    one_epoch()  # warm-up: first-call costs of the kernels
    for r in range(args.rounds):
        epochs.append(one_epoch())
        print(f"round {r + 1}: epoch {epochs[-1]:.2f} s", file=sys.stderr, flush=True)
        for label, _ in rows:
            model, s, _ = benches[label].unlearn(original, args.seed)
            seconds[label].append(s)
            last[label], notes[label] = model, dict(benches[label].notes)
            print(f"  {label}: {s:.2f} s ({s / epochs[-1]:.3f} EE)", file=sys.stderr, flush=True)

    flop_ee: dict[str, float] = {}
    if args.flops:
        from torch.utils.flop_counter import FlopCounterMode

        def flops(fn) -> int:
            with FlopCounterMode(display=False) as counter:
                fn()
            return counter.get_total_flops()

        epoch_flops = flops(one_epoch)
        for label, _ in rows:
            flop_ee[label] = flops(lambda b=benches[label]: b.unlearn(original, args.seed)) / epoch_flops
        print(f"one training epoch: {epoch_flops / 1e9:.1f} GFLOP", file=sys.stderr)

    resolved = first.resolved
    references = {"original": (original, prov_o), "retrained": (retrained, prov_r)}
    print(
        f"\n{args.dataset}, forget class {scenario.forget_classes}, seed {args.seed}, {args.rounds} rounds; model "
        f"{resolved.model.name} {resolved.model.options.model_dump()}; recipe {recipe.name} {recipe.epochs} epochs, "
        f"batch {recipe.batch_size}; one training epoch median {statistics.median(epochs):.2f} s "
        f"({min(epochs):.2f}-{max(epochs):.2f})\n"
    )
    flop_head, flop_rule = (" FLOP EE |", "---:|") if flop_ee else ("", "")
    print(f"| method | EE (median) | EE range |{flop_head} speed-up vs retrain | ACC_r (%) | ACC_f (%) | UTV | notes |")
    print(f"|---|---:|---:|{flop_rule}---:|---:|---:|---:|---|")
    report: dict[str, Any] = {"dataset": args.dataset, "epoch_seconds": epochs, "rows": {}}
    for label, layer in rows:
        ee = [s / e for s, e in zip(seconds[label], epochs, strict=True)]
        speedup = [recipe.epochs * e * retain_share / s for s, e in zip(seconds[label], epochs, strict=True)]
        values = unlearned_metrics(first, references, last[label])
        note = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in notes[label].items())
        opts = layer["method"]["options"]
        if opts:
            note = ", ".join(f"{k}={v}" for k, v in opts.items()) + (f"; {note}" if note else "")
        print(
            f"| {label} | {statistics.median(ee):.3f} | {min(ee):.3f}-{max(ee):.3f} | "
            + (f"{flop_ee[label]:.3f} | " if flop_ee else "")
            + f"{statistics.median(speedup):.1f} | {values['acc_r_test']:.2f} | {values['acc_f_test']:.2f} | "
            f"{values['utv_train']:.4f} | {note} |",
            flush=True,
        )
        report["rows"][label] = {
            "layer": layer,
            "seconds": seconds[label],
            "ee": ee,
            "flop_ee": flop_ee.get(label),
            "metrics": values,
        }
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(report, fh, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
