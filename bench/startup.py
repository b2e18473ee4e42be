"""Start-up cost of the CLI: `unlearn list-plugins` against importing its light dependencies.

    python bench/startup.py [--runs 9]

Runs both commands alternately (so machine-speed drift hits both) and prints the median wall
time of each and the median of the pairwise ratios. `list-plugins` must not import torch.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

UNLEARN = [str(Path(sys.executable).with_name("unlearn")), "list-plugins", "--json"]
BASELINE = [sys.executable, "-c", "import typer, rich, pydantic, pluggy"]


def wall(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    wall(UNLEARN), wall(BASELINE)  # warm the file cache
    pairs = [(wall(UNLEARN), wall(BASELINE)) for _ in range(args.runs)]
    a = statistics.median(p[0] for p in pairs)
    b = statistics.median(p[1] for p in pairs)
    ratio = statistics.median(p[0] / p[1] for p in pairs)
    print(f"unlearn list-plugins --json          median {a * 1000:.0f} ms")
    print(f"import typer, rich, pydantic, pluggy median {b * 1000:.0f} ms")
    print(f"ratio (median of {args.runs} pairs)     {ratio:.2f}")


if __name__ == "__main__":
    main()
