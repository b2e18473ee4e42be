"""Readers for on-disk dataset formats, shared by dataset plugins. Nothing here downloads."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import torch

from unlearnkit.errors import DataNotFoundError

IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | Path) -> np.ndarray:
    """Read an idx file (MNIST format), gzip-compressed or not."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        raw = handle.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in IDX_TYPES:
        raise ValueError(f"{path} is not an idx file")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    data = np.frombuffer(raw, dtype=IDX_TYPES[raw[2]], offset=4 + 4 * ndim)
    return data.reshape(dims)


def find_file(root: Path, stem: str) -> Path | None:
    """``stem`` itself or ``stem.gz`` inside ``root``."""
    for candidate in (root / stem, root / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    return None


def load_idx_dataset(
    root: Path, name: str, how_to_get: str
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Train/test images (N, 1, H, W) uint8 and labels from the four standard idx files in ``root``."""
    stems = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
    files = [find_file(root, stem) for stem in stems]
    if any(f is None for f in files):
        missing = [s for s, f in zip(stems, files, strict=True) if f is None]
        raise DataNotFoundError(f"{name}: {', '.join(missing)} not found in {root}; {how_to_get}")
    arrays = [read_idx(f) for f in files]  # type: ignore[arg-type]
    train_x, train_y, test_x, test_y = (torch.from_numpy(np.ascontiguousarray(a)) for a in arrays)
    return train_x.unsqueeze(1), train_y.long(), test_x.unsqueeze(1), test_y.long()
