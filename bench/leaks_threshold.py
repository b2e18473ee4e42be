"""Leak threshold calibration: pHash distances of planted copies against those of distinct images.

Takes 2,000 random training images of a dataset, copies each (shrunk to 3/4, enlarged back, saved
as JPEG quality 70) and prints, per threshold, the share of copies whose hash lies within it and
the share of originals whose nearest other training image does (docs/results.md, issue 20).

    python bench/leaks_threshold.py DATASET [DATA_ROOT]
"""

import io
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from unlearnkit.core.registry import get_registry
from unlearnkit.data.leaks import phash


def copy_of(img):  # img (H,W,C)
    size = img.shape[0]
    mode = "L" if img.shape[2] == 1 else "RGB"
    pil = Image.fromarray(img[:, :, 0] if img.shape[2] == 1 else img)
    pil = pil.resize((size * 3 // 4, size * 3 // 4), Image.BILINEAR).resize((size, size))
    b = io.BytesIO()
    pil.convert("RGB").save(b, format="JPEG", quality=70)
    out = np.asarray(Image.open(io.BytesIO(b.getvalue())).convert(mode))
    return out[:, :, None] if out.ndim == 2 else out


name = sys.argv[1]
reg = get_registry()
spec = reg.get("dataset", name).spec
t = time.perf_counter()
root = Path(sys.argv[2]) if len(sys.argv) > 2 else None
data = spec.load()(spec.options(), root)
print(name, "load", round(time.perf_counter() - t, 1), "s", tuple(data.train_x.shape))
t = time.perf_counter()
h = phash(data.train_x)
print("phash train", round(time.perf_counter() - t, 2), "s")
rng = np.random.default_rng(0)
sample = rng.choice(len(h), 2000, replace=False)
imgs = data.train_x[sample].numpy().transpose(0, 2, 3, 1)
cop = torch.from_numpy(np.stack([copy_of(i) for i in imgs]).transpose(0, 3, 1, 2).copy())
d = np.bitwise_count(h[sample] ^ phash(cop))
print("copy distance histogram", np.bincount(d).tolist())
others = np.bitwise_count(h[sample][:, None] ^ h[None, :]).astype(np.int64)
others[np.arange(len(sample)), sample] = 99
nn = others.min(1)
print("nearest distinct-index distance histogram (first 13)", np.bincount(nn, minlength=13)[:13].tolist())
for t_ in (0, 2, 4, 6, 8):
    print(
        f"t={t_}: copies found {np.mean(d <= t_):.3f}; samples with another train image within t {np.mean(nn <= t_):.3f}"
    )
