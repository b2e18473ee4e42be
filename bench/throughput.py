"""Training throughput of the framework's loop against a bare PyTorch loop, and dataset load times.

Issue 6 asks that data handling never dominate a run: the framework's ``train_classifier``
(uint8 batches gathered, normalised and augmented on the training device each step) should reach
at least 0.9 of the images/s of a bare loop over the same model and data in the same process.
The bare loop is the plainest thing a user would write: the whole training set pre-normalised
to float once, a random permutation, slicing, forward, backward, step, no augmentation at all,
so the ratio is a lower bound for the framework. Rounds alternate (framework, bare, framework,
...) and every round starts from the same initial weights, so machine load drifts hit both
equally; the ratio reported is the median of the per-round ratios, in wall-clock images/s and
in images per CPU-second of this process (the latter is robust to other processes sharing the
cores, which on a busy machine swamp the wall-clock ratio).

Load times: "cold" is the first load in a fresh dataset cache (for folder datasets, JPEG decoding
plus writing the safetensors cache), "warm" a second load that reads the cache. The idx datasets
have no decoded cache (gzip + numpy is already fast), so their cold and warm loads differ only by
the operating system's file cache.

Usage::

    .venv/bin/python bench/throughput.py                      # small-cnn on Fashion-MNIST, CPU
    .venv/bin/python bench/throughput.py --loads mnist,fashion-mnist,cifar10-folder
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path


def load_dataset(registry, name: str, options: dict | None = None):
    entry = registry.get("dataset", name)
    return entry.spec.load()(registry.options("dataset", name, options or {}), None)


def bare_loop(model, x01, y, recipe, seed: int) -> float:
    """The reference: pre-normalised float tensors, slicing, forward/backward/step. Returns seconds."""
    import torch
    import torch.nn.functional as F

    from unlearnkit.models.training import make_optimizer, make_scheduler

    gen = torch.Generator().manual_seed(seed)
    opt = make_optimizer(
        list(model.parameters()), recipe.optimizer, recipe.lr, recipe.momentum, recipe.weight_decay, recipe.nesterov
    )
    steps = -(-len(y) // recipe.batch_size)
    sched, when = make_scheduler(opt, recipe, steps)
    model.train()
    start = time.perf_counter()
    for _ in range(recipe.epochs):
        order = torch.randperm(len(y), generator=gen)
        for i in range(0, len(y), recipe.batch_size):
            idx = order[i : i + recipe.batch_size]
            loss = F.cross_entropy(model(x01[idx]), y[idx], label_smoothing=recipe.label_smoothing)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if when == "step":
                sched.step()
        if when == "epoch":
            sched.step()
    return time.perf_counter() - start


def throughput(args, registry) -> dict:
    import torch

    from unlearnkit.core.config import resolve_recipe
    from unlearnkit.data.scenarios import Preprocess
    from unlearnkit.models.training import train_classifier

    data = load_dataset(registry, args.dataset)
    spec = registry.get("dataset", args.dataset).spec
    model_ref = {"name": args.model, "options": json.loads(args.model_options)} if args.model else spec.default_model
    if isinstance(model_ref, str):
        model_ref = {"name": model_ref}
    recipe = resolve_recipe(
        {
            **(spec.default_recipe if isinstance(spec.default_recipe, dict) else {"name": spec.default_recipe}),
            "epochs": 1,
        }
    )
    n = min(args.images, len(data.train_y))
    x, y = data.train_x[:n], data.train_y[:n]
    device = torch.device(args.device)
    pre = Preprocess(data, device)
    x01 = pre(x).to(device)  # the bare loop's one-time float conversion and normalisation
    y_dev = y.to(device)
    torch.manual_seed(0)
    entry = registry.get("model", model_ref["name"])
    initial = entry.spec.load()(
        registry.options("model", model_ref["name"], model_ref.get("options")), 10, data.input_shape
    )
    # The same framework loop with augmentation switched off: the work the bare loop does, so the
    # ratio isolates the loop's own overhead (uint8 gather, on-the-fly normalisation, hooks).
    plain = copy.copy(pre)
    plain.augment = "none"
    rows = []
    for r in range(args.rounds):
        order = ("framework", "bare", "framework_noaug") if r % 2 == 0 else ("framework_noaug", "bare", "framework")
        times, cpu = {}, {}
        for kind in order:
            model = copy.deepcopy(initial).to(device)
            start_cpu = time.process_time()
            if kind.startswith("framework"):
                times[kind] = train_classifier(model, x, y, pre if kind == "framework" else plain, recipe, seed=r)
            else:
                times[kind] = bare_loop(model, x01, y_dev, recipe, seed=r)
            cpu[kind] = time.process_time() - start_cpu
        rows.append({**{k: n / v for k, v in times.items()}, **{f"{k}_cpu": n / v for k, v in cpu.items()}})
        print(
            f"round {r}: framework {rows[-1]['framework']:.0f} img/s ({rows[-1]['framework_cpu']:.0f} per CPU-s), "
            f"framework without augmentation {rows[-1]['framework_noaug']:.0f} img/s, "
            f"bare {rows[-1]['bare']:.0f} img/s ({rows[-1]['bare_cpu']:.0f} per CPU-s)",
            flush=True,
        )
    ratios = [row["framework"] / row["bare"] for row in rows]
    cpu_ratios = [row["framework_cpu"] / row["bare_cpu"] for row in rows]
    return {
        "dataset": args.dataset,
        "model": model_ref,
        "recipe": recipe.model_dump(),
        "images_per_round": n,
        "device": str(device),
        "threads": torch.get_num_threads(),
        "framework_img_s_median": statistics.median(r["framework"] for r in rows),
        "bare_img_s_median": statistics.median(r["bare"] for r in rows),
        "ratio_median": statistics.median(ratios),
        "noaug_ratio_median": statistics.median(row["framework_noaug"] / row["bare"] for row in rows),
        "ratios": ratios,
        # Images per CPU-second of the process: robust to other processes competing for the cores.
        "cpu_ratio_median": statistics.median(cpu_ratios),
        "cpu_ratios": cpu_ratios,
    }


def load_times(names: list[str], registry) -> dict:
    out = {}
    with tempfile.TemporaryDirectory() as cache:
        os.environ["UNLEARNKIT_CACHE_DIR"] = cache  # a fresh dataset cache: the first load is cold
        for name in names:
            times = []
            for _ in range(2):
                start = time.perf_counter()
                try:
                    data = load_dataset(registry, name)
                except Exception as exc:  # a dataset that is not on this machine is reported, not fatal
                    times = None
                    out[name] = {"error": f"{type(exc).__name__}: {str(exc)[:160]}"}
                    break
                times.append(time.perf_counter() - start)
            if times:
                out[name] = {"cold_s": times[0], "warm_s": times[1], "train": tuple(data.train_x.shape)}
            print(name, out[name], flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="fashion-mnist")
    parser.add_argument("--model", default=None, help="default: the dataset's default model")
    parser.add_argument("--model-options", default="{}")
    parser.add_argument("--images", type=int, default=6000, help="training images per round (one epoch each)")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--loads", default="", help="comma-separated datasets whose cold/warm load times to measure")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--out", default="bench/results/throughput.json")
    args = parser.parse_args()

    from unlearnkit.core.registry import get_registry

    registry = get_registry()
    result: dict = {"argv": sys.argv[1:], "date": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    if not args.skip_throughput:
        result["throughput"] = throughput(args, registry)
        t = result["throughput"]
        print(
            f"framework/bare = {t['ratio_median']:.3f} (framework {t['framework_img_s_median']:.0f} img/s, "
            f"bare {t['bare_img_s_median']:.0f} img/s, median of {len(t['ratios'])} rounds); "
            f"per CPU-second: {t['cpu_ratio_median']:.3f}; without augmentation: {t['noaug_ratio_median']:.3f}"
        )
    if args.loads:
        result["loads"] = load_times([n.strip() for n in args.loads.split(",") if n.strip()], registry)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2, default=str))
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
