"""Cost of the evaluation suite against one inference pass of the three models (issue 3).

The target: evaluating every non-shadow metric costs at most 1.5 x one inference pass of the
original, unlearned and retrained models over all splits. "Non-shadow" excludes the metrics
that need models of other seeds (``u-lira``, ``rmia`` and the floors of ``utv``/``jsd``/
``activation-distance``, turned off here) and ``relearn`` (it fine-tunes the models); ``zrf``'s
randomly initialised model is included. The inference pass is what any evaluation must do at
least once: the three models' logits on train-forget, train-retain and test (test-forget/test-retain
are slices of test). The metric
time includes that pass (a fresh EvalContext computes the outputs the metrics read), so the
ratio is total evaluation time / bare inference time. The metrics are evaluated as
``unlearn run`` does, in one ``compute_metrics`` call (the ``per_model`` attacks run in threads
beside the other metrics); ``--one-thread`` also times each round's cold evaluation without
threads, and ``--breakdown`` adds a round that times each metric alone, one thread, outside the
ratio. Rounds alternate (inference, metrics, inference, ...) in one process so load drifts hit
both; reported is the median per-round ratio.
Two evaluations are timed: ``cold`` computes every model's outputs, as the first run on a new
original model does; ``warm`` reads the original and retrained models' outputs, and their rows
of ``per_model`` metrics (the scikit-learn attacks), from the model cache (stored there by the
first run), as every later run and sweep cell on them does.
Models come from the cache (``UNLEARNKIT_CACHE_DIR``); unlearning is done once, not timed.

Usage::

    .venv/bin/python bench/eval_cost.py                                 # digits, default model
    .venv/bin/python bench/eval_cost.py --dataset fashion-mnist --rounds 3 --one-thread  # + no threads
"""

from __future__ import annotations

import argparse
import json
import statistics
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--forget", default="0")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=0, help="metric threads (0 = one per metric and model)")
    parser.add_argument(
        "--one-thread", action="store_true", help="also time each round's cold evaluation in one thread"
    )
    parser.add_argument("--breakdown", action="store_true", help="also time each metric alone")
    args = parser.parse_args()

    import torch

    from unlearnkit.core.config import build_config
    from unlearnkit.core.registry import get_registry
    from unlearnkit.evaluation.evaluate import SUBJECTS, EvalContext, compute_metrics
    from unlearnkit.run.resolve import resolve
    from unlearnkit.run.runner import Workbench

    torch.set_num_threads(max(1, torch.get_num_threads()))
    # Not evaluation passes: u-lira and rmia need models of other seeds, relearn fine-tunes the models
    # (the relearning attack), so each costs training steps, not inference; they are timed elsewhere.
    shadow = {"u-lira", "rmia", "relearn"}
    floors = {"utv", "jsd", "activation-distance"}
    registry = get_registry()
    names = [n for n in registry.names("metric") if n not in shadow]
    config = build_config(
        [
            {
                "dataset": {"name": args.dataset},
                "method": {"name": "rwft"},
                "selector": {"name": "two-layer"},
                "forget": {"classes": [args.forget]},
                "seed": args.seed,
                "device": "cpu",
                "metrics": names,
                "metric_options": {n: {"floor": False} for n in floors},
            }
        ]
    )
    resolved = resolve(config, registry)
    bench = Workbench(resolved, registry)
    original, prov_o = bench.original()
    retrained, prov_r = bench.retrained()
    unlearned, seconds, _ = bench.unlearn(original, args.seed)
    models = {"original": original, "unlearned": unlearned, "retrained": retrained}
    timings = {"unlearn_seconds": seconds, "retrain_seconds": prov_r["train_seconds"]}
    entries = [m.entry for m in resolved.metrics]
    options = {m.name: m.options for m in resolved.metrics}

    def fresh(warm: bool = False, workers: int = args.workers) -> EvalContext:
        ev = EvalContext(dict(models), bench.data, bench.scenario, bench.pre, bench.device, args.seed, dict(timings))
        ev.workers = workers
        ev.source = bench
        ev.registry = registry
        if warm:
            bench.attach_reference(ev, "original", original, prov_o)
            bench.attach_reference(ev, "retrained", retrained, prov_r)
        return ev

    def inference() -> float:
        ev = fresh()
        start = time.perf_counter()
        for subject in SUBJECTS:
            for split in ("train_forget", "train_retain", "test"):
                ev.logits(subject, split)
        return time.perf_counter() - start

    def evaluation(warm: bool = False, workers: int = args.workers) -> float:
        ev = fresh(warm, workers)
        start = time.perf_counter()
        compute_metrics(ev, entries, options)
        return time.perf_counter() - start

    def breakdown() -> dict[str, float]:
        ev = fresh(workers=1)
        per_metric = {}
        for entry in entries:
            t = time.perf_counter()
            compute_metrics(ev, [entry], options)
            per_metric[entry.spec.name] = time.perf_counter() - t
        return per_metric

    inference()
    evaluation()  # warm-up: the random model for zrf, sklearn imports
    evaluation(warm=True)  # stores the reference outputs, as the first run does
    ratios, warm_ratios, infer_times, eval_times, warm_times, one_thread = [], [], [], [], [], []
    for _ in range(args.rounds):
        a = inference()
        b = evaluation()
        c = evaluation(warm=True)
        if args.one_thread:
            one_thread.append(evaluation(workers=1) / a)
        infer_times.append(a)
        eval_times.append(b)
        warm_times.append(c)
        ratios.append(b / a)
        warm_ratios.append(c / a)
    report = {
        "dataset": args.dataset,
        "metrics": names,
        "inference_s_median": statistics.median(infer_times),
        "evaluation_s_median": statistics.median(eval_times),
        "ratio_median": statistics.median(ratios),
        "ratios": ratios,
        "warm_evaluation_s_median": statistics.median(warm_times),
        "warm_ratio_median": statistics.median(warm_ratios),
        "target": 1.5,
    }
    if one_thread:
        report["one_thread_ratio_median"] = statistics.median(one_thread)
        report["one_thread_ratios"] = one_thread
    if args.breakdown:
        report["per_metric_s_one_thread"] = breakdown()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
