"""Dataset plugins on tiny fixtures written here in each real on-disk format, plus the shared copies."""

from __future__ import annotations

import gzip
import io
import os
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"
USER_CACHE = os.environ.get("UNLEARNKIT_CACHE_DIR")


@pytest.fixture(autouse=True)
def _dataset_cache(tmp_path, monkeypatch):
    """Decoded-image caches go to a per-test folder, never to the user's cache."""
    monkeypatch.setenv("UNLEARNKIT_CACHE_DIR", str(tmp_path / "cache"))


def load(registry, name: str, root: Path | None, **options):
    entry = registry.get("dataset", name)
    return entry.spec.load()(registry.options("dataset", name, options), root)


# --- idx (MNIST, Fashion-MNIST) ---------------------------------------------------------------


def write_idx(path: Path, array: np.ndarray, compress: bool) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    data = header + array.astype(np.uint8).tobytes()
    if compress:
        path = path.with_name(path.name + ".gz")
        data = gzip.compress(data)
    path.write_bytes(data)


def write_idx_set(root: Path, n_train: int, n_test: int, compress: bool) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    root.mkdir(parents=True, exist_ok=True)
    x_tr = rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8)
    y_tr = np.arange(n_train) % 10
    write_idx(root / "train-images-idx3-ubyte", x_tr, compress)
    write_idx(root / "train-labels-idx1-ubyte", y_tr, compress)
    write_idx(root / "t10k-images-idx3-ubyte", rng.integers(0, 256, (n_test, 28, 28)), compress)
    write_idx(root / "t10k-labels-idx1-ubyte", np.arange(n_test) % 10, compress)
    return x_tr, y_tr


@pytest.mark.parametrize("compress", [True, False])
def test_mnist_idx(registry, tmp_path, compress):
    x_tr, y_tr = write_idx_set(tmp_path / "mnist", 30, 20, compress)
    data = load(registry, "mnist", tmp_path / "mnist")
    assert data.train_x.shape == (30, 1, 28, 28) and data.test_x.shape == (20, 1, 28, 28)
    assert data.train_x.dtype == torch.uint8 and torch.equal(data.train_x[:, 0], torch.from_numpy(x_tr))
    assert data.train_y.tolist() == y_tr.tolist()
    assert data.classes == [str(i) for i in range(10)]


def test_fashion_mnist_plain_idx_and_torchvision_layout(registry, tmp_path):
    write_idx_set(tmp_path / "FashionMNIST" / "raw", 10, 10, compress=False)
    data = load(registry, "fashion-mnist", tmp_path)
    assert data.train_x.shape == (10, 1, 28, 28)
    assert data.classes[0] == "t-shirt" and data.classes[9] == "ankle-boot" and len(data.classes) == 10


def test_missing_idx_files_say_how_to_get_them(registry, tmp_path):
    from unlearnkit.core.errors import DataNotFoundError

    with pytest.raises(DataNotFoundError, match="download"):
        load(registry, "mnist", tmp_path / "nothing")


# --- CIFAR ----------------------------------------------------------------------------------------


def cifar_arrays(n: int, classes: int, seed: int = 0) -> tuple[np.ndarray, list[int]]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 3072), dtype=np.uint8), [i % classes for i in range(n)]


def write_pickle(path: Path, obj: object) -> None:
    # Protocol 2, as the official files; numpy arrays pickle through numpy's reconstructor.
    path.write_bytes(pickle.dumps(obj, protocol=2))


def test_cifar10_python_batches(registry, tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    expected = []
    for i, name in enumerate([*(f"data_batch_{k}" for k in range(1, 6)), "test_batch"]):
        x, y = cifar_arrays(4, 10, seed=i)
        expected.append((x, y))
        write_pickle(folder / name, {b"batch_label": b"b", b"labels": y, b"data": x, b"filenames": [b"f"] * 4})
    data = load(registry, "cifar10", tmp_path)
    assert data.train_x.shape == (20, 3, 32, 32) and data.test_x.shape == (4, 3, 32, 32)
    assert torch.equal(data.train_x[:4].reshape(4, -1), torch.from_numpy(expected[0][0]))
    assert data.test_y.tolist() == expected[5][1]
    assert data.classes[0] == "airplane" and data.classes[9] == "truck"


def test_cifar10_binary_batches_preferred(registry, tmp_path):
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    for name in [*(f"data_batch_{k}" for k in range(1, 6)), "test_batch"]:
        x, y = cifar_arrays(3, 10)
        (folder / f"{name}.bin").write_bytes(np.concatenate([np.array(y, np.uint8)[:, None], x], 1).tobytes())
    data = load(registry, "cifar10", folder)
    assert data.train_x.shape == (15, 3, 32, 32) and data.train_y.tolist()[:3] == [0, 1, 2]


def test_cifar100_python_and_binary(registry, tmp_path):
    names = [f"class{i:03d}" for i in range(100)]
    py = tmp_path / "py" / "cifar-100-python"
    py.mkdir(parents=True)
    x, y = cifar_arrays(6, 100)
    for split in ("train", "test"):
        write_pickle(py / split, {"data": x, "fine_labels": y, "coarse_labels": [0] * 6, "filenames": ["f"] * 6})
    write_pickle(py / "meta", {"fine_label_names": names, "coarse_label_names": ["c"] * 20})
    data = load(registry, "cifar100", tmp_path / "py")
    assert data.train_x.shape == (6, 3, 32, 32) and data.classes == names and data.train_y.tolist() == y
    binary = tmp_path / "bin" / "cifar-100-binary"
    binary.mkdir(parents=True)
    records = np.concatenate([np.zeros((6, 1), np.uint8), np.array(y, np.uint8)[:, None], x], 1)
    for split in ("train", "test"):
        (binary / f"{split}.bin").write_bytes(records.tobytes())
    (binary / "fine_label_names.txt").write_text("\n".join(names) + "\n")
    data_bin = load(registry, "cifar100", tmp_path / "bin")
    assert torch.equal(data_bin.train_x, data.train_x) and data_bin.train_y.tolist() == y


def test_cifar_pickle_with_foreign_globals_is_refused(tmp_path):
    from unlearnkit.data.readers import read_cifar_pickle

    class Evil:
        def __reduce__(self):
            return (Path.touch, (tmp_path / "pwned",))

    path = tmp_path / "data_batch_1"
    path.write_bytes(pickle.dumps({"data": Evil()}, protocol=2))
    with pytest.raises(pickle.UnpicklingError, match="not allowed"):
        read_cifar_pickle(path)
    assert not (tmp_path / "pwned").exists()


# --- folders of images --------------------------------------------------------------------------


def png_bytes(value: int, size: int = 8, fmt: str = "PNG") -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (size, size), (value, 255 - value, value // 2)).save(buf, format=fmt)
    return buf.getvalue()


def write_tree(root: Path, layout: dict[str, dict[str, int]], fmt: str = "PNG") -> None:
    for split, classes in layout.items():
        for cls, count in classes.items():
            folder = root / split / cls if split else root / cls
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(count):
                (folder / f"{i:04d}.{fmt.lower()}").write_bytes(png_bytes(10 * i + 3, fmt=fmt))


def test_image_folder_train_test_and_cache(registry, tmp_path, monkeypatch):
    write_tree(tmp_path / "imgs", {"train": {"cat": 3, "ant": 2}, "test": {"ant": 1, "cat": 1}})
    data = load(registry, "image-folder", tmp_path / "imgs")
    assert data.classes == ["ant", "cat"]  # sorted folder names, like ImageFolder
    assert data.train_x.shape == (5, 3, 8, 8) and data.train_y.tolist() == [0, 0, 1, 1, 1]
    assert data.test_y.tolist() == [0, 1]
    assert data.train_x[0, :, 0, 0].tolist() == [3, 252, 1]
    assert len(data.mean) == 3 and all(0 <= m <= 1 for m in data.mean)
    cached = list((tmp_path / "cache" / "datasets").glob("image-folder-*.safetensors"))
    assert len(cached) == 1
    # A second load reads the cache: decoding is not called again.
    import unlearnkit.data.readers as dataio

    monkeypatch.setattr(dataio, "decode_images", lambda *a, **k: pytest.fail("decoded twice"))
    again = load(registry, "image-folder", tmp_path / "imgs")
    assert torch.equal(again.train_x, data.train_x)
    # Changing a file changes the fingerprint, so the folder is decoded afresh.
    monkeypatch.undo()
    (tmp_path / "imgs" / "train" / "ant" / "0000.png").write_bytes(png_bytes(200))
    changed = load(registry, "image-folder", tmp_path / "imgs")
    assert changed.train_x[0, 0, 0, 0].item() == 200


def test_image_folder_flat_holdout_grayscale_resize_and_mixed_sizes(registry, tmp_path):
    from PIL import Image

    write_tree(tmp_path / "flat", {"": {"a": 5, "b": 5}}, fmt="JPEG")
    data = load(registry, "image-folder", tmp_path / "flat", grayscale=True, size=4, test_fraction=0.2)
    assert data.train_x.shape == (8, 1, 4, 4) and data.test_x.shape == (2, 1, 4, 4)
    assert sorted(data.test_y.tolist()) == [0, 1]
    Image.new("RGB", (5, 7)).save(tmp_path / "flat" / "a" / "odd.png")
    with pytest.raises(ValueError, match="size"):
        load(registry, "image-folder", tmp_path / "flat", cache=False)


def test_cifar10_folder_from_tar(registry, tmp_path):
    from unlearnkit.plugins.datasets.cifar10_folder import CLASSES

    src = tmp_path / "src"
    write_tree(src, {"train": {c: 2 for c in CLASSES}, "test": {c: 1 for c in CLASSES}}, fmt="JPEG")
    tar_path = tmp_path / "cifar10-jpeg-q75.tar.gz"
    with tarfile.open(tar_path, "w:gz") as tf:
        for split in ("train", "test"):
            tf.add(src / split, arcname=split)
    data = load(registry, "cifar10-folder", tar_path)
    assert data.classes == CLASSES
    assert data.train_x.shape == (20, 3, 8, 8) and torch.bincount(data.test_y).tolist() == [1] * 10
    from_dir = load(registry, "cifar10-folder", src)
    assert torch.equal(from_dir.train_x, data.train_x) and torch.equal(from_dir.train_y, data.train_y)


def test_tiny_imagenet_layout(registry, tmp_path):
    root = tmp_path / "tiny-imagenet-200"
    wnids = ["n02", "n01"]
    (root / "val" / "images").mkdir(parents=True)
    (root / "wnids.txt").write_text("\n".join(wnids) + "\n")
    (root / "words.txt").write_text("n01\tgoldfish, Carassius auratus\nn02\tbullfrog, Rana catesbeiana\nn03\tother\n")
    for w in wnids:
        folder = root / "train" / w / "images"
        folder.mkdir(parents=True)
        for i in range(3):
            (folder / f"{w}_{i}.JPEG").write_bytes(png_bytes(i, size=64, fmt="JPEG"))
        (root / "train" / w / f"{w}_boxes.txt").write_text("")
    lines = []
    for i, w in enumerate(["n02", "n01", "n01"]):
        (root / "val" / "images" / f"val_{i}.JPEG").write_bytes(png_bytes(i, size=64, fmt="JPEG"))
        lines.append(f"val_{i}.JPEG\t{w}\t0\t0\t10\t10")
    (root / "val" / "val_annotations.txt").write_text("\n".join(lines) + "\n")
    data = load(registry, "tiny-imagenet", tmp_path)
    assert data.classes == ["goldfish", "bullfrog"]  # sorted wnids n01, n02
    assert data.train_x.shape == (6, 3, 64, 64) and data.train_y.tolist() == [0, 0, 0, 1, 1, 1]
    assert data.test_y.tolist() == [1, 0, 0]


# --- the shared copies ----------------------------------------------------------------------------

needs_shared = pytest.mark.skipif(
    not SHARED.is_dir(), reason=f"{SHARED} (the shared datasets folder, ../shared/datasets) is absent on this machine"
)


@needs_shared
def test_shared_mnist_counts(registry):
    data = load(registry, "mnist", SHARED / "mnist")
    assert torch.bincount(data.train_y).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert torch.bincount(data.test_y).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert abs(data.train_x.float().mean().item() / 255 - 0.1307) < 1e-3


@needs_shared
@pytest.mark.slow
def test_shared_cifar10_jpeg_counts(registry, monkeypatch):
    # Decoding 60,000 JPEGs takes one to two minutes once; the decoded tensors are keyed by the tar's
    # content hash, so the user's own cache (as set before this test module's override) is safe to reuse.
    if USER_CACHE:
        monkeypatch.setenv("UNLEARNKIT_CACHE_DIR", USER_CACHE)
    else:
        monkeypatch.delenv("UNLEARNKIT_CACHE_DIR")
    data = load(registry, "cifar10-folder", SHARED / "cifar10-jpeg" / "cifar10-jpeg-q75.tar.gz")
    assert data.train_x.shape == (50000, 3, 32, 32) and data.test_x.shape == (10000, 3, 32, 32)
    assert torch.bincount(data.train_y).tolist() == [5000] * 10
    assert torch.bincount(data.test_y).tolist() == [1000] * 10
    assert data.classes[3] == "cat"
    assert abs(data.mean[0] - 0.4913) < 2e-3 and abs(data.std[2] - 0.2606) < 2e-3
