"""The README's main command, cold (empty model cache) and warm, and RWFT-2-O's cost relative to retraining.

    python bench/main_command.py [--runs 3]

Cold: a fresh cache directory, so the original and the retrained model are trained. Warm: the
same cache, so only unlearning and evaluation run. The unlearning/retraining ratio comes from the
run's own timings (both measured in the cold run, in the same process).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

UNLEARN = str(Path(sys.executable).with_name("unlearn"))


def timed_run(cache: str, out: str) -> tuple[float, dict]:
    cmd = [UNLEARN, "run", "--method", "rwft", "--select", "two-layer", "--cache-dir", cache, "--out", out, "--json"]
    start = time.perf_counter()
    proc = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return time.perf_counter() - start, json.loads(proc.stdout)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    cold, warm, ratios = [], [], []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            seconds, result = timed_run(f"{tmp}/cache", f"{tmp}/runs")
            cold.append(seconds)
            t = result["timings"]
            ratios.append(t["unlearn_seconds"] / t["retrain_seconds"])
            warm.append(timed_run(f"{tmp}/cache", f"{tmp}/runs")[0])
    metrics = result["metrics"]
    print(f"cold (trains original + retrained): median {statistics.median(cold):.1f} s over {args.runs}")
    print(f"warm (cache hit):                   median {statistics.median(warm):.1f} s over {args.runs}")
    print(f"RWFT-2-O unlearning / retraining:   median {statistics.median(ratios):.3f}")
    for row in ("acc_f_test", "acc_r_test", "utv_train"):
        print(f"{row}: {json.dumps(metrics[row]['values'])}")


if __name__ == "__main__":
    main()
