"""Readers for on-disk dataset formats, shared by dataset plugins. Nothing here downloads unless asked to."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import torch

from unlearnkit.core.errors import DataNotFoundError

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


def find_idx_root(candidates: list[Path]) -> Path | None:
    """The first candidate holding the four standard idx files, directly or in torchvision's ``<X>/raw``."""
    for root in candidates:
        for folder in (root, *sorted(root.glob("*/raw"))):
            if find_file(folder, "train-images-idx3-ubyte") and find_file(folder, "t10k-labels-idx1-ubyte"):
                return folder
    return None


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
    train_x, train_y, test_x, test_y = (torch.from_numpy(np.array(a)) for a in arrays)  # owned, writable copies
    return train_x.unsqueeze(1), train_y.long(), test_x.unsqueeze(1), test_y.long()


def find_or_download_idx(
    name: str,
    candidates: list[Path],
    download_to: Path | None,
    torchvision_class: str,
    how_to_get: str,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """The four idx files of an MNIST-format dataset: found among ``candidates`` or, with ``download_to``,
    fetched there by torchvision's downloader (and only then); read as in :func:`load_idx_dataset`."""
    root = find_idx_root(candidates)
    if root is None and download_to is not None:
        import torchvision

        for train in (True, False):
            getattr(torchvision.datasets, torchvision_class)(str(download_to), train=train, download=True)
        root = find_idx_root([download_to])
    if root is None:
        looked = ", ".join(str(c) for c in candidates)
        raise DataNotFoundError(f"{name}: idx files not found (looked in {looked}); {how_to_get}")
    return load_idx_dataset(root, name, how_to_get)


# --- CIFAR python batches: a restricted unpickler ---------------------------------------------


class _ArrayStub:
    """Stands in for ``numpy.ndarray`` while unpickling: it only records shape, dtype and raw bytes."""

    def __init__(self, *args: object) -> None:
        self.shape: tuple[int, ...] = ()
        self.dtype: str = ""
        self.raw: bytes = b""

    def __setstate__(self, state: tuple) -> None:
        _version, shape, dtype, fortran, raw = state
        if not isinstance(dtype, _DtypeStub) or fortran:
            raise ValueError("unexpected array layout in a CIFAR batch")
        if isinstance(raw, str):  # Python-2 strings decoded with latin-1 hold the bytes one per character
            raw = raw.encode("latin-1")
        if not isinstance(raw, bytes):
            raise ValueError("unexpected array payload in a CIFAR batch")
        self.shape, self.dtype, self.raw = tuple(int(s) for s in shape), dtype.name, raw

    def to_numpy(self) -> np.ndarray:
        if self.dtype not in ("u1", "uint8"):
            raise ValueError(f"CIFAR images must be uint8, found {self.dtype!r}")
        return np.frombuffer(self.raw, dtype=np.uint8).reshape(self.shape)


class _DtypeStub:
    def __init__(self, name: object, *args: object) -> None:
        if name not in ("u1", "uint8"):
            raise ValueError(f"dtype {name!r} is not allowed in a CIFAR batch")
        self.name = str(name)

    def __setstate__(self, state: object) -> None:
        pass


def _reconstruct(cls: object, shape: object, typecode: object) -> _ArrayStub:
    if cls is not _ArrayStub:
        raise ValueError("unexpected array class in a CIFAR batch")
    return _ArrayStub()


def _codecs_encode(text: object, encoding: object = "utf-8") -> bytes:
    # Python 3 writes bytes into protocol-2 pickles as _codecs.encode(str, "latin1").
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise ValueError("unexpected encode call in a CIFAR batch")
    return text.encode("latin-1")


_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy", "ndarray"): _ArrayStub,
    ("numpy", "dtype"): _DtypeStub,
    ("_codecs", "encode"): _codecs_encode,
}


def read_cifar_pickle(path: str | Path, require_data: bool = True) -> dict[str, object]:
    """Read one CIFAR "python version" batch without executing anything from the file.

    The batches are pickles of a dict holding lists, strings, ints and one numpy uint8 array.
    Plain ``pickle.load`` would import and call whatever the file names, which breaks the
    project rule that nothing a user hands us is unpickled. This unpickler resolves exactly five
    globals, each to an inert stand-in defined here (numpy's array reconstructor, ``ndarray``
    and ``dtype`` become objects that only record the raw bytes, shape and a uint8 dtype name;
    ``_codecs.encode`` only turns a latin-1 string into bytes), and refuses every other global,
    so a crafted file can at worst fail to load. The array is rebuilt afterwards with
    ``np.frombuffer`` on the recorded bytes. Keys are returned as ``str``; ``data`` as an
    ``(N, 3072)`` uint8 array (``require_data=False`` for the ``meta`` file, which has none).
    """
    import pickle

    class Restricted(pickle.Unpickler):
        def find_class(self, module: str, name: str) -> object:
            try:
                return _ALLOWED_GLOBALS[(module, name)]
            except KeyError:
                raise pickle.UnpicklingError(
                    f"{path}: global {module}.{name} is not allowed in a CIFAR batch"
                ) from None

    with open(path, "rb") as handle:
        raw = Restricted(handle, encoding="bytes").load()
    if not isinstance(raw, dict):
        raise ValueError(f"{path} is not a CIFAR batch (no dict at the top level)")
    out: dict[str, object] = {}
    for key, value in raw.items():
        key = key.decode("latin-1") if isinstance(key, bytes) else str(key)
        out[key] = value.to_numpy() if isinstance(value, _ArrayStub) else value
    if require_data and not isinstance(out.get("data"), np.ndarray):
        raise ValueError(f"{path} is not a CIFAR batch (no uint8 'data' array)")
    return out


def read_cifar_binary(path: str | Path, label_bytes: int) -> tuple[np.ndarray, np.ndarray]:
    """CIFAR "binary version" records: ``label_bytes`` label bytes then 3072 pixel bytes each.

    CIFAR-10 has one label byte; CIFAR-100 has two (coarse, fine) and the fine label, the last
    one, is returned. Images come back as (N, 3, 32, 32) uint8.
    """
    record = label_bytes + 3072
    buf = np.fromfile(path, dtype=np.uint8)
    if buf.size == 0 or buf.size % record:
        raise ValueError(f"{path} is not a CIFAR binary batch ({buf.size} bytes is not a multiple of {record})")
    rows = buf.reshape(-1, record)
    return rows[:, label_bytes:].reshape(-1, 3, 32, 32), rows[:, label_bytes - 1].astype(np.int64)


# --- roots --------------------------------------------------------------------------------------


def candidate_roots(data_root: Path | None, *relative: str) -> list[Path]:
    """Where to look for a dataset: the user's ``--data-root`` only, or the default places.

    The defaults are ``data/<rel>`` seen from the current directory and from the source checkout
    this package runs from, in that order.
    """
    if data_root is not None:
        return [Path(data_root).expanduser()]
    repo = Path(__file__).resolve().parents[2]
    out: list[Path] = []
    for base in (Path.cwd(), repo):
        for rel in relative:
            path = (base / "data" / rel).resolve()
            if path not in out:
                out.append(path)
    return out


def find_data_folder(
    data_root: Path | None, relative: tuple[str, ...], subfolders: tuple[str, ...], probe: str
) -> Path | None:
    """The first candidate root (see :func:`candidate_roots`), or one of its ``subfolders``, holding the file ``probe``."""
    for root in candidate_roots(data_root, *relative):
        for folder in (root, *(root / sub for sub in subfolders)):
            if (folder / probe).is_file():
                return folder
    return None


# --- decoded image collections, cached as safetensors ---------------------------------------------


def dataset_cache_dir() -> Path:
    """``<model cache>/datasets``: decoded image tensors live next to the trained models."""
    from unlearnkit.core.paths import default_cache_dir

    return default_cache_dir() / "datasets"


def hash_file(path: Path, h: object | None = None) -> str:
    import hashlib

    digest = h or hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)  # type: ignore[attr-defined]
    return digest.hexdigest()  # type: ignore[attr-defined]


def cached_tensors(
    name: str, key: dict[str, object], build: object, use_cache: bool = True
) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """``build()`` -> (tensors, metadata), stored once as safetensors under a hash of ``key``.

    Written to a temporary file and renamed, so a crash never leaves a truncated entry; a
    concurrent writer simply produces the same bytes.
    """
    import hashlib
    import json
    import os

    from safetensors import safe_open

    digest = hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:20]
    path = dataset_cache_dir() / f"{name}-{digest}.safetensors"
    from unlearnkit.core.paths import writable_dir, write_tensors

    if use_cache and path.is_file():
        try:
            with safe_open(str(path), framework="pt") as handle:
                return {k: handle.get_tensor(k) for k in handle.keys()}, dict(handle.metadata() or {})
        except Exception as exc:  # truncated or garbled: decode the dataset again
            from unlearnkit.core.notices import one_line, warn

            if writable_dir(path.parent):
                aside = path.with_name(f"{path.name}.broken-{os.getpid()}")
                os.replace(path, aside)
                warn(f"dataset cache file {path} is broken ({one_line(exc)[:120]}); moved to {aside}, rebuilding")
    tensors, metadata = build()  # type: ignore[operator]
    if use_cache and writable_dir(path.parent):
        write_tensors(tensors, path, metadata)
    return tensors, metadata


IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".ppm", ".tif", ".tiff")


def decode_images(blobs: list[object], mode: str, size: int | None, where: str) -> np.ndarray:
    """Decode image bytes (or paths) with Pillow into one (N, H, W, C) uint8 array.

    Every image must have the same size unless ``size`` is given, in which case each is resized
    to ``size`` x ``size`` (bilinear) first.
    """
    import io

    from PIL import Image

    out: np.ndarray | None = None
    for i, blob in enumerate(blobs):
        source = io.BytesIO(blob) if isinstance(blob, bytes) else blob
        with Image.open(source) as img:  # type: ignore[arg-type]
            img = img.convert(mode)
            if size is not None and img.size != (size, size):
                img = img.resize((size, size), Image.BILINEAR)
            arr = np.asarray(img)
        if arr.ndim == 2:
            arr = arr[:, :, None]
        if out is None:
            out = np.empty((len(blobs), *arr.shape), dtype=np.uint8)
        elif arr.shape != out.shape[1:]:
            raise ValueError(
                f"{where}: image {i} is {arr.shape[1]}x{arr.shape[0]}, earlier ones {out.shape[2]}x{out.shape[1]}; "
                "set the dataset option 'size' to resize every image"
            )
        out[i] = arr
    if out is None:
        raise ValueError(f"{where}: no images")
    return out


def split_tree_entries(names: list[str]) -> dict[str, dict[str, list[str]]]:
    """Group ``split/class/.../file`` paths (relative, '/'-separated) into {split: {class: [paths]}}."""
    tree: dict[str, dict[str, list[str]]] = {}
    for name in sorted(names):
        parts = name.split("/")
        if len(parts) < 3 or not parts[-1].lower().endswith(IMAGE_SUFFIXES) or parts[-1].startswith("."):
            continue
        tree.setdefault(parts[0], {}).setdefault(parts[1], []).append(name)
    return tree


def mean_std(x: torch.Tensor) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel mean and std on the 0-1 scale of uint8 (N, C, H, W) images, in float64."""
    channels = x.shape[1]
    sums = torch.zeros(channels, dtype=torch.float64)
    squares = torch.zeros(channels, dtype=torch.float64)
    for start in range(0, len(x), 4096):
        chunk = x[start : start + 4096].to(torch.float64).div_(255).transpose(0, 1).reshape(channels, -1)
        sums += chunk.sum(1)
        squares += chunk.square().sum(1)
    n = x.numel() / channels
    mean = sums / n
    std = (squares / n - mean.square()).clamp_min(0).sqrt()
    return tuple(float(v) for v in mean), tuple(float(v) for v in std)


TEST_SPLIT_NAMES = ("test", "val", "valid", "validation")


def _tree_names(source: Path) -> list[str]:
    if source.is_file():
        import tarfile

        with tarfile.open(source) as tf:
            return [m.name.removeprefix("./") for m in tf.getmembers() if m.isfile()]
    names = []
    for path in source.rglob("*"):
        if path.is_file():
            names.append(path.relative_to(source).as_posix())
    return names


def _normalise_tree(names: list[str]) -> tuple[dict[str, dict[str, list[str]]], str, str]:
    """Find the ``train/<class>/...`` layout, looking through one wrapping folder if needed.

    A folder with only ``<class>/<image>`` entries becomes a single ``all`` split. Returns the
    tree, the wrapping folder to prepend and the ``all/`` marker to strip when reading files.
    """
    tree = split_tree_entries(names)
    if "train" in tree:
        return tree, "", ""
    tops = {n.split("/", 1)[0] for n in names if "/" in n}
    if len(tops) == 1:
        top = tops.pop()
        inner = split_tree_entries([n[len(top) + 1 :] for n in names if n.startswith(top + "/")])
        if "train" in inner:
            return inner, top + "/", ""
    flat = split_tree_entries(["all/" + n for n in names])
    return flat, "", "all/"


def load_image_tree(
    source: Path,
    name: str,
    mode: str = "RGB",
    size: int | None = None,
    fingerprint: str = "content",
    use_cache: bool = True,
    test_fraction: float = 0.2,
    split_seed: int = 0,
) -> tuple[dict[str, torch.Tensor], list[str], tuple[float, ...], tuple[float, ...]]:
    """Class-per-folder images, from a folder or a (gzipped) tar, decoded once and cached.

    Layout: ``train/<class>/<image>`` and ``test/<class>/<image>`` (``val/`` also counts as the
    test split), optionally inside one wrapping folder; or just ``<class>/<image>``, in which case
    a stratified ``test_fraction`` of each class, drawn with ``split_seed``, becomes the test set.
    Labels follow the sorted class-folder names, as in torchvision's ``ImageFolder``.

    The cache key is a fingerprint of the source: for a tar, the hash of its bytes; for a folder,
    with ``fingerprint="content"`` the hash of every file's relative path and bytes, with
    ``"stat"`` only paths, sizes and modification times (faster on huge folders). Returns
    ``{"train_x", "train_y", "test_x", "test_y"}`` (images (N, C, H, W) uint8), the classes and
    the training set's per-channel mean and std.
    """
    import hashlib
    import json

    h = hashlib.sha256()
    names: list[str] = []
    if source.is_file():
        # Hash the archive's bytes first: a cache hit then never has to list a gzipped tar.
        hash_file(source, h)
    else:
        names = _tree_names(source)
        for rel in sorted(names):
            path = source / rel
            h.update(rel.encode() + b"\0")
            if fingerprint == "content":
                h.update(path.read_bytes())
            else:
                st = path.stat()
                h.update(f"{st.st_size}:{st.st_mtime_ns}".encode())
    key = {
        "format": 1,
        "source": h.hexdigest(),
        "mode": mode,
        "size": size,
        "test_fraction": test_fraction,
        "split_seed": split_seed,
    }

    def build() -> tuple[dict[str, torch.Tensor], dict[str, str]]:
        tree, prefix, strip = _normalise_tree(names or _tree_names(source))
        if "train" in tree:
            train_split = "train"
            test_split = next((s for s in TEST_SPLIT_NAMES if s in tree), None)
            if test_split is None:
                raise DataNotFoundError(f"{name}: {source} has train/ but no test/ or val/ folder")
        elif "all" in tree:
            train_split, test_split = "all", None
        else:
            raise DataNotFoundError(f"{name}: no class-per-folder images found in {source}")
        classes = sorted(tree[train_split])
        if test_split is not None:
            unknown = sorted(set(tree[test_split]) - set(classes))
            if unknown:
                raise DataNotFoundError(f"{name}: test classes {unknown[:5]} have no training folder in {source}")
        wanted = {
            split: [(f, classes.index(c)) for c in sorted(tree[split]) for f in tree[split][c]]
            for split in ([train_split] + ([test_split] if test_split else []))
        }
        blobs = _read_blobs(source, prefix, strip, [f for items in wanted.values() for f, _ in items])
        arrays = {}
        for split, items in wanted.items():
            x = decode_images([blobs[f] for f, _ in items], mode, size, f"{source}/{split}")
            arrays[split] = (torch.from_numpy(x).permute(0, 3, 1, 2).contiguous(), torch.tensor([y for _, y in items]))
        if test_split is None:
            x, y = arrays["all"]
            test = _stratified_holdout(y, test_fraction, split_seed)
            train = torch.ones(len(y), dtype=torch.bool)
            train[test] = False
            tensors = {"train_x": x[train], "train_y": y[train], "test_x": x[test], "test_y": y[test]}
        else:
            tensors = {
                "train_x": arrays[train_split][0],
                "train_y": arrays[train_split][1],
                "test_x": arrays[test_split][0],
                "test_y": arrays[test_split][1],
            }
        mean, std = mean_std(tensors["train_x"])
        return tensors, {"classes": json.dumps(classes), "mean": json.dumps(mean), "std": json.dumps(std)}

    tensors, meta = cached_tensors(name, key, build, use_cache)
    return tensors, json.loads(meta["classes"]), tuple(json.loads(meta["mean"])), tuple(json.loads(meta["std"]))


def image_tree_train_files(source: Path, test_fraction: float = 0.2, split_seed: int = 0) -> list[str]:
    """Paths, relative to ``source``, of the training images in the order ``load_image_tree`` stores them.

    Recomputed from the listing rather than stored with the cached tensors: only forget lists and
    leak reports need the names, and the order follows from the same sorted tree and hold-out.
    """
    tree, prefix, strip = _normalise_tree(_tree_names(source))
    if "train" in tree:
        return [prefix + f for c in sorted(tree["train"]) for f in tree["train"][c]]
    if "all" not in tree:
        return []
    classes = sorted(tree["all"])
    items = [(f, classes.index(c)) for c in classes for f in tree["all"][c]]
    held = set(_stratified_holdout(torch.tensor([y for _, y in items]), test_fraction, split_seed).tolist())
    return [prefix + f.removeprefix(strip) for i, (f, _) in enumerate(items) if i not in held]


def _read_blobs(source: Path, prefix: str, strip: str, files: list[str]) -> dict[str, object]:
    """File name -> bytes (from a tar, streamed once) or path (from a folder, opened when decoded)."""
    if not source.is_file():
        return {f: source / (prefix + f.removeprefix(strip)) for f in files}
    import tarfile

    wanted = {prefix + f.removeprefix(strip): f for f in files}
    out: dict[str, object] = {}
    with tarfile.open(source) as tf:
        for member in tf:
            rel = wanted.get(member.name.removeprefix("./"))
            if rel is not None and member.isfile():
                out[rel] = tf.extractfile(member).read()  # type: ignore[union-attr]
    return out


def _stratified_holdout(y: torch.Tensor, fraction: float, seed: int) -> torch.Tensor:
    from unlearnkit.data.scenarios import stratified_indices

    return stratified_indices(y, fraction, torch.Generator().manual_seed(seed))
