"""Removing exact and perceptual duplicates within and across the splits of a dataset.

This generalises the cleaning the LoTUS authors applied to MUFAC (Spartalis et al., CVPR 2025,
supplementary section 11; public notebook ``notebooks/clean_MUFAC.ipynb`` of
github.com/cspartalis/LoTUS): images whose pHashes match (here: within ``threshold`` bits) are
copies. Across splits, the copy in the split that must not see it is dropped: the forget copy of
a forget/retain pair, the test copy of a train/test pair, the validation copy of a validation/test
or train/validation pair. Within a split, the first row keeps its place and later copies go.
Every removal is reported with the row it duplicates.
"""

from __future__ import annotations

from typing import Any

import numpy as np

# (split that loses its copy, split it is compared with), applied in this order before
# duplicates within a split are removed: LoTUS's order (forget/retain, val/test, train/test).
CROSS_RULES = (
    ("forget", "retain"),
    ("val", "test"),
    ("test", "forget"),
    ("test", "retain"),
    ("val", "forget"),
    ("val", "retain"),
)


def _matches(h: np.ndarray, others: np.ndarray, threshold: int) -> tuple[np.ndarray, np.ndarray]:
    """For each hash in ``h``: whether some hash in ``others`` lies within ``threshold`` bits, and which."""
    found = np.zeros(len(h), dtype=bool)
    which = np.full(len(h), -1, dtype=np.int64)
    if len(h) == 0 or len(others) == 0:
        return found, which
    for start in range(0, len(h), 256):
        distance = np.bitwise_count(h[start : start + 256, None] ^ others[None, :])
        close = distance <= threshold
        found[start : start + 256] = close.any(axis=1)
        which[start : start + 256] = np.where(close.any(axis=1), close.argmax(axis=1), -1)
    return found, which


def deduplicate(
    hashes: dict[str, np.ndarray],
    names: dict[str, list[str]],
    exact_keys: dict[str, list[bytes]],
    threshold: int = 0,
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Rows to keep per split (bool masks) and a report of every removal.

    ``hashes``/``names``/``exact_keys`` map a split (``forget``, ``retain``, ``val``, ``test``;
    any may be missing) to its rows' pHashes (uint64), names and pixel digests. A removal records
    the split and name of the dropped row, the row it copies, the pHash distance and whether the
    pixels are identical.
    """
    keep = {split: np.ones(len(h), dtype=bool) for split, h in hashes.items()}
    removed: list[dict[str, Any]] = []

    def record(split: str, i: int, other_split: str, j: int, reason: str) -> None:
        keep[split][i] = False
        distance = int(np.bitwise_count(hashes[split][i] ^ hashes[other_split][j]))
        removed.append(
            {
                "split": split,
                "name": names[split][i],
                "copy_of": f"{other_split}/{names[other_split][j]}",
                "distance": distance,
                "exact": exact_keys[split][i] == exact_keys[other_split][j],
                "reason": reason,
            }
        )

    for loser, other in CROSS_RULES:
        if loser not in hashes or other not in hashes:
            continue
        found, which = _matches(hashes[loser], hashes[other], threshold)
        for i in np.nonzero(found & keep[loser])[0]:
            record(loser, int(i), other, int(which[i]), f"copy in {other}")
    for split, h in hashes.items():
        kept: list[int] = []
        for i in np.nonzero(keep[split])[0]:
            i = int(i)
            if kept:
                distance = np.bitwise_count(h[kept] ^ h[i])
                j = int(distance.argmin())
                if int(distance[j]) <= threshold:
                    record(split, i, split, kept[j], "duplicate within the split")
                    continue
            kept.append(i)
    counts = {
        split: {"before": len(mask), "after": int(mask.sum()), "removed": int((~mask).sum())}
        for split, mask in keep.items()
    }
    report = {
        "method": "pHash (imagehash, 64 bits) within threshold, LoTUS clean_MUFAC order",
        "threshold": threshold,
        "counts": counts,
        "removed": removed,
    }
    return keep, report
