"""Every registered unlearning method on one forgetting request, as a Markdown table (seed Table 4 style).

Runs each method the registry knows (discovered, not listed here, so methods added by any plugin
show up), plus RWFT with ``--select all`` / ``two-layer`` / ``adapters`` (RWFT-O, RWFT-2-O, RW-A),
through :func:`unlearnkit.run.runner.run`, and prints ACC_r and ACC_f (test, %), UTV (train forget
samples, seed section 6.3) and the unlearning wall time relative to retraining.

The original and retrained models come from the model cache. By default the cache is a fresh
temporary folder, so retraining is timed in this very run, under the same machine load as the
methods (``--cache-dir`` reuses a cache; the stored retrain time is then from whenever it was made).

Any ``--set recipe.*`` replaces the dataset's default recipe: ``--set recipe.epochs=3`` alone
builds a "custom" recipe from the engine defaults, ``--set recipe.name=fast`` starts from the
"fast" preset instead (the dataset's own batch size and lr must then be set again).

Examples::

    python bench/methods_table.py --dataset digits
    python bench/methods_table.py --forget 0 --set recipe.epochs=3 --epochs-scale 0.25
    python bench/methods_table.py --opt ga.lr=1e-3 --only ft,ga,rwft
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from typing import Any

RWFT_VARIANTS = {"all": "RWFT-O", "two-layer": "RWFT-2-O", "adapters": "RW-A"}


def rows_to_run(registry, only: list[str] | None) -> list[tuple[str, dict[str, Any]]]:
    """(label, config layer) per row: every registered method, RWFT once per seed-paper variant."""
    rows = []
    for name in registry.names("method"):
        if only and name not in only:
            continue
        if name == "rwft":
            for select, label in RWFT_VARIANTS.items():
                rows.append(
                    (f"{label} (rwft --select {select})", {"method": {"name": name}, "selector": {"name": select}})
                )
        else:
            rows.append((name, {"method": {"name": name}}))
    return rows


def scaled_epochs(registry, name: str, scale: float) -> dict[str, Any]:
    """``epochs`` option scaled (at least 1) for methods that have one; {} otherwise."""
    field = registry.get("method", name).spec.options.model_fields.get("epochs")
    if scale == 1.0 or field is None or not isinstance(field.default, int):
        return {}
    return {"epochs": max(1, math.ceil(field.default * scale))}


def main(argv: list[str] | None = None) -> int:
    from unlearnkit.core.config import apply_set, build_config
    from unlearnkit.core.registry import get_registry
    from unlearnkit.run.runner import run

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="fashion-mnist", help="dataset plugin (default: fashion-mnist)")
    parser.add_argument("--forget", default="0", help="class to forget (index or name; default 0)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", dest="sets", action="append", default=[], help="run-config override key=value")
    parser.add_argument("--opt", action="append", default=[], help="method option override METHOD.key=value")
    parser.add_argument("--epochs-scale", type=float, default=1.0, help="scale every method's default epochs")
    parser.add_argument("--only", default="", help="comma-separated method names (default: all registered)")
    parser.add_argument("--cache-dir", default=None, help="model cache (default: a fresh temporary folder)")
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)

    registry = get_registry()
    overrides: dict[str, Any] = {}
    for assignment in args.sets:
        apply_set(overrides, assignment)
    method_opts: dict[str, dict[str, Any]] = {}
    for assignment in args.opt:
        name, _, rest = assignment.partition(".")
        tmp: dict[str, Any] = {}
        apply_set(tmp, rest)
        method_opts.setdefault(name, {}).update(tmp.get("method", {}).get("options", {}))
    forget = int(args.forget) if args.forget.isdigit() else args.forget
    cache_dir = args.cache_dir or tempfile.mkdtemp(prefix="unlearnkit-bench-")
    base = {
        "dataset": {"name": args.dataset},
        "forget": {"classes": [forget]},
        "seed": args.seed,
        "device": args.device,
        "cache_dir": cache_dir,
        "data_root": args.data_root,
        "metrics": ["accuracy", "utv"],
    }
    only = [n.strip() for n in args.only.split(",") if n.strip()] or None
    rows = rows_to_run(registry, only)
    # Retrain first: it trains the reference models into the cache, so no method's row pays for them.
    rows.sort(key=lambda row: row[1]["method"]["name"] != "retrain")
    first = None
    start = time.perf_counter()
    # Rows are printed as they finish, so an interrupted run keeps what it measured.
    print("| method | ACC_r (%) | ACC_f (%) | UTV | time / retrain | options changed |")
    print("|---|---:|---:|---:|---:|---|", flush=True)
    for label, layer in rows:
        name = layer["method"]["name"]
        options = {**scaled_epochs(registry, name, args.epochs_scale), **method_opts.get(name, {})}
        layer = {**layer, "method": {"name": name, "options": options}}
        print(f"running {label} {options or ''}", file=sys.stderr, flush=True)
        try:
            result = run(build_config([base, overrides, layer]), registry=registry, write=False)
        except Exception as exc:  # one broken method must not lose the table
            print(f"| {label} | failed: {type(exc).__name__}: {str(exc)[:80]} | | | | |", flush=True)
            continue
        first = first or result
        t = result.timings
        opts = ", ".join(f"{k}={v}" for k, v in options.items())
        print(
            f"| {label} | {_fmt(result.value('acc_r_test'))} | {_fmt(result.value('acc_f_test'))} | "
            f"{_fmt(result.value('utv_train'), 4)} | {t['unlearn_to_retrain']:.3f} | {opts} |",
            flush=True,
        )
    if first is not None:
        cfg = first.config
        print(
            f"\n{args.dataset}, forget class {first.scenario['forget_class_names']}, seed {args.seed}; "
            f"model {cfg['model']['name']} {cfg['model']['options']}; recipe {cfg['recipe']}; "
            f"retrain {first.timings['retrain_seconds']:.1f} s, original "
            f"{first.timings['original_train_seconds']:.1f} s; original model: ACC_r "
            f"{_fmt(first.value('acc_r_test', 'original'))}, ACC_f {_fmt(first.value('acc_f_test', 'original'))}, "
            f"UTV {_fmt(first.value('utv_train', 'original'), 4)}; bench wall {time.perf_counter() - start:.0f} s\n"
        )
    return 0


def _fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


if __name__ == "__main__":
    raise SystemExit(main())
