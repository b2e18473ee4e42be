"""Channels-last against NCHW on a CPU: training epoch and unlearning times, paired in one process.

Each round times, in this order, one training epoch with the dataset's default recipe in NCHW
(``recipe.cpu_channels_last=false``) and in channels-last, one inference pass of the original over
the training and test sets in both (the run's evaluation path), then every row's unlearning in both
layouts, all on the same original model (the cached one trained in NCHW, so only the layout of the
timed work differs). Reported: median seconds per layout, the median over rounds of the per-round
ratio NCHW / channels-last (the speed-up), EE in each layout, and UTV (train forget) of the last
round's models in both layouts.

Usage::

    OMP_NUM_THREADS=1 .venv/bin/python bench/cpu_layout.py --dataset digits --rounds 5
    OMP_NUM_THREADS=1 .venv/bin/python bench/cpu_layout.py --dataset fashion-mnist --seed 1 --rounds 3
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from unlearn_speed import base_config, parse_row, unlearned_metrics  # noqa: E402  (a sibling bench script)

DEFAULT_ROWS = ["RWFT-O=rwft/all", "RWFT-2-O=rwft/two-layer", "RW-A=rwft/adapters"]
LAYOUTS = {"NCHW": False, "channels-last": True}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--forget", default="0")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--row", action="append", default=[], help="LABEL=METHOD[/SELECTOR][:key=value...]")
    args = parser.parse_args(argv)

    import torch

    from unlearnkit.core.config import build_config
    from unlearnkit.core.registry import get_registry
    from unlearnkit.models.training import import_optimizers, train_classifier
    from unlearnkit.run.resolve import resolve
    from unlearnkit.run.runner import Workbench

    registry = get_registry()
    base = base_config(args.dataset, args.forget, args.seed, "cpu")
    rows = [parse_row(spec) for spec in (args.row or DEFAULT_ROWS)]
    benches = {
        (label, layout): Workbench(
            resolve(build_config([base, layer, {"recipe": {"cpu_channels_last": flag}}]), registry), registry
        )
        for label, layer in rows
        for layout, flag in LAYOUTS.items()
    }
    first = benches[rows[0][0], "NCHW"]
    original, prov_o = first.original()
    retrained, prov_r = first.retrained()
    import_optimizers()

    def one_epoch(layout: str) -> float:
        bench = benches[rows[0][0], layout]
        model = bench.build_model(args.seed)
        one = bench.resolved.recipe.model_copy(update={"epochs": 1})
        return train_classifier(model, bench.data.train_x, bench.data.train_y, bench.pre, one, args.seed)

    for layout in LAYOUTS:
        one_epoch(layout)  # warm-up: first-call costs of the kernels in each layout

    def inference(layout: str) -> float:
        ev = benches[rows[0][0], layout].eval_context({"original": original}, args.seed)
        start = time.perf_counter()
        for x in (first.data.train_x, first.data.test_x):
            ev.forward(original, x)
        return time.perf_counter() - start

    epoch: dict[str, list[float]] = {layout: [] for layout in LAYOUTS}
    infer: dict[str, list[float]] = {layout: [] for layout in LAYOUTS}
    seconds: dict[tuple[str, str], list[float]] = {key: [] for key in benches}
    last: dict[tuple[str, str], torch.nn.Module] = {}
    for r in range(args.rounds):
        for layout in LAYOUTS:
            epoch[layout].append(one_epoch(layout))
            infer[layout].append(inference(layout))
        print(f"round {r + 1}: epoch {', '.join(f'{k} {v[-1]:.2f} s' for k, v in epoch.items())}", file=sys.stderr)
        for label, _ in rows:
            for layout in LAYOUTS:
                model, s, _ = benches[label, layout].unlearn(original, args.seed)
                seconds[label, layout].append(s)
                last[label, layout] = model
            print(f"  {label}: {', '.join(f'{k} {seconds[label, k][-1]:.2f} s' for k in LAYOUTS)}", file=sys.stderr)

    def utv(model: torch.nn.Module) -> float:
        # Evaluated in NCHW, so both layouts' models are measured the same way.
        bench = benches[rows[0][0], "NCHW"]
        return unlearned_metrics(bench, {"original": (original, prov_o), "retrained": (retrained, prov_r)}, model)[
            "utv_train"
        ]

    def ratio(a: list[float], b: list[float]) -> float:
        return statistics.median(x / y for x, y in zip(a, b, strict=True))

    recipe = first.resolved.recipe
    print(
        f"\n{args.dataset}, forget class {first.scenario.forget_classes}, seed {args.seed}, {args.rounds} rounds, "
        f"{torch.get_num_threads()} torch thread(s); model {first.resolved.model.name} "
        f"{first.resolved.model.options.model_dump()}; recipe {recipe.name} {recipe.epochs} epochs, batch "
        f"{recipe.batch_size}\n"
    )
    print(
        "| work | NCHW (s) | channels-last (s) | speed-up | EE NCHW | EE channels-last | UTV NCHW | UTV channels-last |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    nchw, nhwc = epoch["NCHW"], epoch["channels-last"]
    print(
        f"| one training epoch | {statistics.median(nchw):.3f} | {statistics.median(nhwc):.3f} | "
        f"{ratio(nchw, nhwc):.2f} | | | | |"
    )
    a, b = infer["NCHW"], infer["channels-last"]
    print(
        f"| one inference pass (train + test) | {statistics.median(a):.3f} | {statistics.median(b):.3f} | "
        f"{ratio(a, b):.2f} | | | | |"
    )
    for label, _ in rows:
        a, b = seconds[label, "NCHW"], seconds[label, "channels-last"]
        print(
            f"| {label} | {statistics.median(a):.3f} | {statistics.median(b):.3f} | {ratio(a, b):.2f} | "
            f"{ratio(a, nchw):.3f} | {ratio(b, nhwc):.3f} | {utv(last[label, 'NCHW']):.4f} | "
            f"{utv(last[label, 'channels-last']):.4f} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
