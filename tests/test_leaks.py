"""Leak detection: copies of forget samples in the retain or test set are found, and only those."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from unlearnkit.data.leaks import detect_leaks, phash, warning_line
from unlearnkit.data.scenarios import ImageDataset, make_scenario


def smooth_images(n: int, seed: int, size: int = 32) -> np.ndarray:
    """(n, size, size, 3) uint8 picture-like images: four random filled ellipses or boxes on a background."""
    from PIL import ImageDraw

    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        img = Image.new("RGB", (size, size), tuple(int(v) for v in rng.integers(0, 256, 3)))
        draw = ImageDraw.Draw(img)
        for _ in range(4):
            x0, y0 = (int(v) for v in rng.integers(0, size - 8, 2))
            x1, y1 = (int(v) for v in (x0, y0) + rng.integers(8, size // 2, 2))
            shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
            shape([x0, y0, x1, y1], fill=tuple(int(v) for v in rng.integers(0, 256, 3)))
        out.append(np.asarray(img))
    return np.stack(out)


def resized_recompressed(img: np.ndarray) -> np.ndarray:
    """A near copy: shrunk to 3/4, enlarged back, saved as a JPEG of quality 70."""
    size = img.shape[0]
    pil = Image.fromarray(img).resize((size * 3 // 4, size * 3 // 4), Image.BILINEAR).resize((size, size))
    buffer = io.BytesIO()
    pil.save(buffer, format="JPEG", quality=70)
    return np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))


def dataset(train: np.ndarray, test: np.ndarray) -> ImageDataset:
    def t(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(a.transpose(0, 3, 1, 2)))

    return ImageDataset(
        t(train),
        torch.arange(len(train)) % 2,
        t(test),
        torch.arange(len(test)) % 2,
        classes=["a", "b"],
        mean=(0.5,) * 3,
        std=(0.25,) * 3,
    )


def test_phash_equals_imagehash_bit_for_bit():
    import imagehash

    rng = np.random.default_rng(1)
    cases = [smooth_images(20, 2), smooth_images(10, 3, size=96), rng.integers(0, 256, (10, 28, 28, 1), dtype=np.uint8)]
    for images in cases:
        x = torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2)))
        ours = phash(x)
        for img, h in zip(images, ours, strict=True):
            pil = Image.fromarray(img[:, :, 0] if img.shape[2] == 1 else img)
            expected = np.packbits(imagehash.phash(pil).hash.flatten()).view(">u8")[0]
            assert int(h) == int(expected)


def test_planted_copies_across_forget_and_retain_are_found():
    train = smooth_images(60, 4)
    test = smooth_images(20, 5)
    forget = [3, 10, 17, 40]
    # retain 50 is a resized/recompressed copy of forget 3, retain 51 an exact copy of forget 10,
    # test 7 a resized/recompressed copy of forget 17; forget 40 has no copy anywhere
    train[50] = resized_recompressed(train[3])
    train[51] = train[10]
    test[7] = resized_recompressed(train[17])
    data = dataset(train, test)
    scenario = make_scenario(data, [], None, None, 0, samples=torch.tensor(forget))

    report = detect_leaks(data, scenario, threshold=4)

    found = {(p["forget"], p["split"], p["other"]) for p in report["pairs"]}
    assert found == {(3, "train_retain", 50), (10, "train_retain", 51), (17, "test", 7)}
    assert report["leaking_forget_samples"] == 3
    assert report["counts"]["retain"] == {"exact_pairs": 1, "near_pairs": 1, "forget_samples": 2}
    assert report["counts"]["test"] == {"exact_pairs": 0, "near_pairs": 1, "forget_samples": 1}
    exact = [p for p in report["pairs"] if p["exact"]]
    assert [(p["forget"], p["distance"]) for p in exact] == [(10, 0)]
    line = warning_line(report)
    assert line is not None and "\n" not in line and line.startswith("3 of 4 forget samples")


def test_a_clean_fixture_has_no_leaks():
    data = dataset(smooth_images(60, 6), smooth_images(20, 7))
    for scenario in (
        make_scenario(data, [0], None, None, 0),
        make_scenario(data, [], None, None, 0, samples=torch.arange(0, 60, 3)),
    ):
        report = detect_leaks(data, scenario, threshold=4)
        assert report["leaking_forget_samples"] == 0 and report["pairs"] == []
        assert warning_line(report) is None


@pytest.mark.parametrize("threshold", [0, 64])
def test_the_threshold_bounds_near_copies(threshold):
    train = smooth_images(30, 8)
    train[20] = resized_recompressed(train[2])
    data = dataset(train, smooth_images(10, 9))
    scenario = make_scenario(data, [], None, None, 0, samples=torch.tensor([2]))
    hashes = phash(data.train_x)
    distance = int(np.bitwise_count(hashes[2] ^ hashes[20]))
    report = detect_leaks(data, scenario, threshold=threshold)
    pairs = {(p["other"], p["distance"]) for p in report["pairs"] if p["split"] == "train_retain"}
    if threshold == 64:  # every retain and test image is within 64 bits
        assert report["pairs_total"] == 29 + 10 and (20, distance) in pairs
    else:
        assert ((20, 0) in pairs) == (distance == 0)


@pytest.mark.parametrize("shape", [(20, 8, 8), (20, 28, 28), (5, 128, 128), (5, 40, 72)])
def test_the_batched_resize_equals_pillows_lanczos(shape):
    from unlearnkit.data.leaks import lanczos_resize

    grey = np.random.default_rng(shape[1]).integers(0, 256, shape, dtype=np.uint8)
    ours = lanczos_resize(torch.from_numpy(grey).double(), 32).to(torch.uint8).numpy()
    pillow = np.stack([np.asarray(Image.fromarray(g).resize((32, 32), Image.LANCZOS)) for g in grey])
    assert np.array_equal(ours, pillow)
