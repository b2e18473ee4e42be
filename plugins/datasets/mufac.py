"""MUFAC: Machine Unlearning for Facial Age Classifier, with the LoTUS authors' cleaning.

Benchmark: Choi and Na, "Towards Machine Unlearning Benchmarks: Forgetting the Personal
Identities in Facial Recognition Systems" (arXiv:2311.02240), github.com/ndb796/MachineUnlearning.
Korean faces from AI Hub's "family relationship" set, 128 x 128, eight age groups. The published
folder ``custom_korean_family_dataset_resolution_128`` holds ``custom_train_dataset.csv``,
``custom_val_dataset.csv``, ``custom_test_dataset.csv`` (columns ``family_id``, ``person_id``,
``age_class``, ``image_path``) and the images in ``train_images/``, ``val_images/``,
``test_images/``. ``age_class`` is a letter a..h (0-6, 7-12, 13-19, 20-30, 31-45, 46-55, 56-66,
67-80 years). The benchmark's forget set is the first 1,500 rows of the training CSV (its
notebooks' ``forget=True``), the rest is the retain set; ``custom_test_dataset.csv`` holds unseen
identities and is the test set here (``eval_split="val"`` takes the validation set instead).

Cleaning (``clean=true``, the default): MUFAC as published has copies within and across its
splits (LoTUS, Spartalis et al., CVPR 2025, supplementary section 11; their
``notebooks/clean_MUFAC.ipynb`` finds them with equal pHashes and drops them, leaving a forget
set of 1,062 of 6,575 training images). ``unlearnkit.helpers.deduplicate`` applies the same rules; what was
removed is written to the run folder as ``cleaning.json``. ``--forget benchmark`` forgets the
cleaned benchmark forget set.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Literal

from unlearnkit import DatasetSpec, Field, Options, hookimpl

FOLDER = "custom_korean_family_dataset_resolution_128"
AGE_GROUPS = {
    "a": "0-6",
    "b": "7-12",
    "c": "13-19",
    "d": "20-30",
    "e": "31-45",
    "f": "46-55",
    "g": "56-66",
    "h": "67-80",
}
SPLIT_FILES = {"train": "custom_train_dataset.csv", "val": "custom_val_dataset.csv", "test": "custom_test_dataset.csv"}
HOW_TO_GET = (
    f"download {FOLDER}.zip from the MUFAC benchmark (README of github.com/ndb796/MachineUnlearning), unzip it and "
    f"pass --data-root to the folder holding {SPLIT_FILES['train']} (or put it in data/{FOLDER} or data/mufac)"
)


class MufacOptions(Options):
    path: str | None = Field(None, description=f"the {FOLDER} folder (default: --data-root, data/{FOLDER})")
    clean: bool = Field(True, description="drop exact and perceptual duplicates within and across splits (LoTUS)")
    threshold: int = Field(0, ge=0, le=64, description="pHash bits within which two images are copies")
    forget_rows: int = Field(1500, ge=1, description="the benchmark's forget set: this many first training rows")
    eval_split: Literal["test", "val"] = Field("test", description="split used as the test set")
    size: int | None = Field(None, ge=8, description="resize every image to size x size (default: as stored)")
    cache: bool = Field(True, description="keep the decoded, cleaned tensors in <cache dir>/datasets")


def find_root(options: MufacOptions, data_root: Path | None) -> Path:
    from unlearnkit import DataNotFoundError
    from unlearnkit.helpers import candidate_roots

    if options.path:
        roots = [Path(options.path).expanduser()]
    elif data_root is not None:
        roots = [data_root, data_root / FOLDER]
    else:
        roots = candidate_roots(None, FOLDER, "mufac", f"mufac/{FOLDER}")
    for root in roots:
        if (root / SPLIT_FILES["train"]).is_file():
            return root
    looked = ", ".join(str(r) for r in roots)
    raise DataNotFoundError(f"mufac: {SPLIT_FILES['train']} not found (looked in {looked}); {HOW_TO_GET}")


def read_rows(root: Path, split: str) -> list[tuple[str, int]]:
    """(image path, label) per row of a split's CSV, checked: every age class known, every image present."""
    from unlearnkit import DataNotFoundError

    path = root / SPLIT_FILES[split]
    if not path.is_file():
        raise DataNotFoundError(f"mufac: {path} not found; {HOW_TO_GET}")
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = {"age_class", "image_path"} - set(reader.fieldnames or [])
        if missing:
            raise DataNotFoundError(f"mufac: {path} lacks the column(s) {', '.join(sorted(missing))}")
        rows = []
        for n, row in enumerate(reader, start=2):
            age = row["age_class"].strip()
            if age not in AGE_GROUPS:
                raise DataNotFoundError(f"mufac: {path} line {n}: age_class {age!r} is not one of a..h")
            rows.append((row["image_path"].strip(), list(AGE_GROUPS).index(age)))
    folder = root / f"{split}_images"
    absent = [p for p, _ in rows if not (folder / p).is_file()]
    if absent:
        raise DataNotFoundError(f"mufac: {len(absent)} images of {path.name} missing in {folder}, e.g. {absent[0]}")
    return rows


def build(root: Path, options: MufacOptions) -> tuple[dict, dict[str, str]]:
    """Decode, (optionally) clean and stack the splits: tensors plus JSON metadata."""
    import numpy as np
    import torch

    from unlearnkit.helpers import content_keys, decode_images, deduplicate, lanczos_resize, mean_std, phash

    rows = {split: read_rows(root, split) for split in ("train", "val", "test")}
    images = {}
    for split, items in rows.items():
        x = decode_images([root / f"{split}_images" / p for p, _ in items], "RGB", None, f"mufac {split}")
        images[split] = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous()
    n_forget = min(options.forget_rows, len(rows["train"]))
    parts = {  # the four splits of the benchmark, as (images, rows)
        "forget": (images["train"][:n_forget], rows["train"][:n_forget]),
        "retain": (images["train"][n_forget:], rows["train"][n_forget:]),
        "val": (images["val"], rows["val"]),
        "test": (images["test"], rows["test"]),
    }
    report = None
    keep = {split: np.ones(len(items), dtype=bool) for split, (_, items) in parts.items()}
    if options.clean:
        keep, report = deduplicate(
            {split: phash(x) for split, (x, _) in parts.items()},
            {split: [p for p, _ in items] for split, (_, items) in parts.items()},
            {split: content_keys(x) for split, (x, _) in parts.items()},
            options.threshold,
        )

    def kept(split: str) -> tuple[torch.Tensor, list[tuple[str, int]]]:
        x, items = parts[split]
        mask = torch.from_numpy(keep[split])
        return x[mask], [item for item, k in zip(items, keep[split], strict=True) if k]

    (fx, f_items), (rx, r_items), (ex, e_items) = kept("forget"), kept("retain"), kept(options.eval_split)
    train_x = torch.cat([fx, rx])
    test_x = ex
    if options.size is not None and train_x.shape[-1] != options.size:
        train_x, test_x = (_resize(x, options.size, lanczos_resize) for x in (train_x, test_x))
    tensors = {
        "train_x": train_x,
        "train_y": torch.tensor([y for _, y in f_items + r_items], dtype=torch.long),
        "test_x": test_x,
        "test_y": torch.tensor([y for _, y in e_items], dtype=torch.long),
        "forget": torch.arange(len(f_items)),
    }
    mean, std = mean_std(tensors["train_x"])
    metadata = {
        "mean": json.dumps(mean),
        "std": json.dumps(std),
        "train_ids": json.dumps([p for p, _ in f_items + r_items]),
        "cleaning": json.dumps(report),
    }
    return tensors, metadata


def _resize(x, size: int, resize):
    """RGB (N, 3, H, W) uint8 resized per channel with Pillow's LANCZOS weights."""
    import torch

    channels = [resize(x[:, c].double(), size) for c in range(x.shape[1])]
    return torch.stack(channels, dim=1).to(torch.uint8)


def source_key(root: Path) -> str:
    """Content of the three CSVs plus names, sizes and times of the image files: the cache key of a folder."""
    import hashlib

    h = hashlib.sha256()
    for split, name in SPLIT_FILES.items():
        h.update((root / name).read_bytes() if (root / name).is_file() else b"-")
        folder = root / f"{split}_images"
        for path in sorted(folder.iterdir()) if folder.is_dir() else []:
            st = path.stat()
            h.update(f"{path.name}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def load(options: MufacOptions, data_root: Path | None):
    import functools

    from unlearnkit import ImageDataset
    from unlearnkit.helpers import cached_tensors

    root = find_root(options, data_root)
    key = {"format": 1, "source": source_key(root), **options.model_dump(exclude={"path", "cache"})}
    tensors, meta = cached_tensors("mufac", key, functools.partial(build, root, options), options.cache)
    ids = json.loads(meta["train_ids"])
    cleaning = json.loads(meta["cleaning"])
    return ImageDataset(
        tensors["train_x"],
        tensors["train_y"],
        tensors["test_x"],
        tensors["test_y"],
        classes=list(AGE_GROUPS.values()),
        mean=tuple(json.loads(meta["mean"])),
        std=tuple(json.loads(meta["std"])),
        augment="crop-flip",
        pad=max(4, tensors["train_x"].shape[-1] // 16),
        train_ids=lambda: ids,
        benchmark_forget=tensors["forget"],
        artifacts={"cleaning": cleaning} if cleaning else {},
    )


@hookimpl
def register_datasets(register):
    register(
        DatasetSpec(
            name="mufac",
            summary="MUFAC facial age groups (8 classes) with its benchmark forget set, duplicates removed",
            options=MufacOptions,
            factory=load,
            default_model="resnet18",
            default_recipe="fast",
        )
    )
