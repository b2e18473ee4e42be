"""Why SSD collapses on small models: how many parameters each alpha selects, and what that costs.

SSD (Foster et al., AAAI 2024; plugins/methods/ssd.py) dampens every parameter entry whose
forget-set importance exceeds ``alpha`` times its full-data importance. This script computes both
importances once on the cached original model (the dataset's default model and recipe), then for
each alpha reports the fraction of parameter entries selected (all, and per parameter kind:
convolution / linear weights, BatchNorm affine, biases), the mean dampening factor of the selected
entries, and the dampened model's test ACC_r / ACC_f. The importance ratio itself is summarised
(its median and quantiles), which is what decides how an alpha transfers between models.

Usage::

    UNLEARNKIT_CACHE_DIR=/tmp/fid .venv/bin/python bench/ssd_alpha.py --dataset fashion-mnist --classes 0 \\
        --alphas 10,20,50,100,200
"""

from __future__ import annotations

import argparse
import copy


def kind_of(name: str, module_types: dict[str, str]) -> str:
    owner, _, leaf = name.rpartition(".")
    kind = module_types.get(owner, "other")
    if kind == "BatchNorm2d" or kind == "BatchNorm1d":
        return "bn-affine"
    return f"{kind.lower()}-{leaf}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="fashion-mnist")
    parser.add_argument("--classes", default="0")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--alphas", default="10,20,50,100,200")
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()

    import torch

    from unlearnkit.core.config import build_config
    from unlearnkit.core.maths import accuracy
    from unlearnkit.core.registry import get_registry
    from unlearnkit.plugins.methods.ssd import importances
    from unlearnkit.run.resolve import resolve
    from unlearnkit.run.runner import Workbench

    registry = get_registry()
    for cls in (int(c) for c in args.classes.split(",")):
        config = {"dataset": {"name": args.dataset}, "forget": {"classes": [cls]}, "seed": args.seed, "device": "cpu"}
        bench = Workbench(resolve(build_config([config]), registry), registry)
        original, _ = bench.original()
        data, pre = bench.data, bench.pre

        def inputs(x, pre=pre):
            return pre(x.to(pre.device))

        forget = data.train_y == cls
        i_f = importances(
            copy.deepcopy(original), data.train_x[forget], data.train_y[forget], inputs, args.batch_size, pre.device
        )
        i_d = importances(copy.deepcopy(original), data.train_x, data.train_y, inputs, args.batch_size, pre.device)
        module_types = {n: type(m).__name__ for n, m in original.named_modules()}
        ratio = torch.cat([(i_f[n] / i_d[n].clamp_min(1e-30)).flatten() for n in i_f])
        q = torch.quantile(
            ratio.double()[torch.randperm(len(ratio))[:1_000_000]], torch.tensor([0.1, 0.5, 0.9, 0.99]).double()
        )
        print(
            f"{args.dataset} class {cls}: {len(ratio)} parameter entries; importance ratio I_f/I_D quantiles "
            f"10% {q[0]:.2f}  50% {q[1]:.2f}  90% {q[2]:.2f}  99% {q[3]:.2f}"
        )
        test_forget = data.test_y == cls
        with torch.no_grad():
            base = original(inputs(data.test_x))
        print(
            f"  original: ACC_r {100 * accuracy(base[~test_forget], data.test_y[~test_forget]):.2f}  "
            f"ACC_f {100 * accuracy(base[test_forget], data.test_y[test_forget]):.2f}"
        )
        for alpha in (float(a) for a in args.alphas.split(",")):
            model = copy.deepcopy(original)
            per_kind: dict[str, list[int]] = {}
            damp = []
            with torch.no_grad():
                for name, p in model.named_parameters():
                    selected = i_f[name] > alpha * i_d[name]
                    beta = (i_d[name] / i_f[name]).clamp(max=1.0)
                    p.copy_(torch.where(selected, p * beta, p))
                    k = per_kind.setdefault(kind_of(name, module_types), [0, 0])
                    k[0] += int(selected.sum())
                    k[1] += selected.numel()
                    if selected.any():
                        damp.append(beta[selected].flatten())
                out = model(inputs(data.test_x))
            chosen = sum(v[0] for v in per_kind.values())
            total = sum(v[1] for v in per_kind.values())
            kinds = "  ".join(f"{k} {100 * a / b:.1f}%" for k, (a, b) in sorted(per_kind.items()))
            mean_damp = torch.cat(damp).mean().item() if damp else float("nan")
            print(
                f"  alpha {alpha:g}: selected {100 * chosen / total:.2f}% (mean factor {mean_damp:.3f}; {kinds})  "
                f"ACC_r {100 * accuracy(out[~test_forget], data.test_y[~test_forget]):.2f}  "
                f"ACC_f {100 * accuracy(out[test_forget], data.test_y[test_forget]):.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
