"""Leak counts on the built-in datasets: forget samples with an exact or near copy in retain or test.

For each dataset found (digits; MNIST, Fashion-MNIST and the CIFAR-10 JPEG copy where their files
are), two scenarios (class 0, a random 10% drawn with seed 0) and each threshold, prints one
Markdown row: exact pairs and near pairs against the retain and the test set, and how many forget
samples leak. Also times the batched pHash against ``imagehash.phash`` called per image on the
same images (both in this process, side by side), and trains nothing.

    python bench/leaks.py [--thresholds 0,2,4] [--mnist DIR] [--fashion-mnist DIR] [--cifar10 PATH]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from unlearnkit.core.registry import get_registry
from unlearnkit.data.leaks import detect_leaks, phash
from unlearnkit.data.scenarios import make_scenario


def load(name: str, root: str | None):
    spec = get_registry().get("dataset", name).spec
    return spec.load()(spec.options(), Path(root) if root else None)


def time_hashing(data, n: int = 2000) -> tuple[float, float]:
    """Seconds per image: batched phash vs imagehash.phash per image, on the same n training images."""
    import imagehash
    from PIL import Image

    x = data.train_x[:n]
    start = time.perf_counter()
    phash(x)
    ours = (time.perf_counter() - start) / len(x)
    arrays = x.numpy().transpose(0, 2, 3, 1)
    start = time.perf_counter()
    for a in arrays:
        imagehash.phash(Image.fromarray(a[:, :, 0] if a.shape[2] == 1 else a))
    theirs = (time.perf_counter() - start) / len(x)
    return ours, theirs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--thresholds", default="0,2,4")
    # Without a folder each dataset plugin looks in its usual places (data/..., the Debian package).
    parser.add_argument("--mnist", default=None, help="folder of the MNIST IDX files")
    parser.add_argument("--fashion-mnist", default=None, help="folder of the Fashion-MNIST IDX files")
    parser.add_argument("--cifar10", default=None, help="the CIFAR-10 image folder (train/ and test/ by class)")
    args = parser.parse_args()
    thresholds = [int(t) for t in args.thresholds.split(",")]
    sources = [
        ("digits", "digits", None),
        ("mnist", "mnist", args.mnist),
        ("fashion-mnist", "fashion-mnist", args.fashion_mnist),
        ("CIFAR-10 (JPEG q75)", "cifar10-folder", args.cifar10),
    ]
    print(
        "| dataset | scenario | threshold | forget | retain: exact / near pairs | test: exact / near pairs "
        "| leaking forget samples (retain, test) |"
    )
    print("|---|---|---:|---:|---|---|---|")
    timings = []
    for label, name, root in sources:
        try:
            data = load(name, root)
        except Exception as exc:  # a dataset whose files are absent is skipped, and said so
            print(f"| {label} | not available: {exc} | | | | | |")
            continue
        start = time.perf_counter()
        hashes = (phash(data.train_x), phash(data.test_x))
        seconds = time.perf_counter() - start
        ours, theirs = time_hashing(data)
        timings.append((label, len(data.train_y) + len(data.test_y), seconds, ours, theirs))
        for scenario_label, scenario in (
            ("class 0", make_scenario(data, [0], None, None, 0)),
            ("random 10%", make_scenario(data, [], 0.1, None, 0)),
        ):
            for t in thresholds:
                r = detect_leaks(data, scenario, t, max_pairs=0, hashes=hashes)
                c = r["counts"]
                print(
                    f"| {label} | {scenario_label} | {t} | {r['forget_samples']} "
                    f"| {c['retain']['exact_pairs']} / {c['retain']['near_pairs']} "
                    f"| {c['test']['exact_pairs']} / {c['test']['near_pairs']} "
                    f"| {r['leaking_forget_samples']} ({c['retain']['forget_samples']}, {c['test']['forget_samples']}) |",
                    flush=True,
                )
    print()
    print("| dataset | images | batched pHash, all images (s) | per image: batched / imagehash (µs) | speed-up |")
    print("|---|---:|---:|---|---:|")
    for label, n, seconds, ours, theirs in timings:
        print(f"| {label} | {n} | {seconds:.1f} | {ours * 1e6:.0f} / {theirs * 1e6:.0f} | {theirs / ours:.1f} |")


if __name__ == "__main__":
    main()
