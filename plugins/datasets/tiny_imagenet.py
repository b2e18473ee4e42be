"""Tiny-ImageNet-200 (Le and Yang 2015) from its standard folder layout: 64x64 RGB, 200 classes.

The RWFT paper (RWFT, arXiv:2506.20893) forgets ten Tiny-ImageNet classes with ResNet-18. The
layout is the official ``tiny-imagenet-200/`` zip's: ``wnids.txt``, ``words.txt``,
``train/<wnid>/images/*.JPEG`` (500 per class) and ``val/images/*.JPEG`` labelled by
``val/val_annotations.txt`` (50 per class). The official test images carry no labels, so the
validation set is the test set, as in the papers. Labels follow the sorted WordNet ids; class
names are the first synonym in ``words.txt`` (the RWFT paper's "goldfish", "bullfrog", ...), with the
wnid appended when two classes share it. Decoded once, cached as safetensors. No torchvision
downloader exists for it, so ``download`` is not offered.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from unlearnkit import DatasetSpec, Field, Options, hookimpl

HOW_TO_GET = (
    "download http://cs231n.stanford.edu/tiny-imagenet-200.zip yourself, unzip it, and pass --data-root to the "
    "tiny-imagenet-200 folder (or put it in data/tiny-imagenet-200)"
)


class TinyImageNetOptions(Options):
    fingerprint: Literal["content", "stat"] = Field(
        "stat", description="cache key: hash of paths, sizes and times (fast) or of every file's bytes"
    )
    cache: bool = Field(True, description="keep the decoded tensors in <cache dir>/datasets")


def find_root(data_root: Path | None) -> tuple[Path | None, list[Path]]:
    from unlearnkit.helpers import candidate_roots

    roots = candidate_roots(data_root, "tiny-imagenet-200", "tiny-imagenet")
    for root in roots:
        for folder in (root, root / "tiny-imagenet-200"):
            if (folder / "wnids.txt").is_file() and (folder / "val" / "val_annotations.txt").is_file():
                return folder, roots
    return None, roots


def class_names(root: Path, wnids: list[str]) -> list[str]:
    words: dict[str, str] = {}
    words_file = root / "words.txt"
    if words_file.is_file():
        for line in words_file.read_text(encoding="utf-8").splitlines():
            wnid, _, text = line.partition("\t")
            words[wnid] = text.split(",")[0].strip()
    first = [words.get(w) or w for w in wnids]
    return [n if first.count(n) == 1 else f"{n} ({w})" for n, w in zip(first, wnids, strict=True)]


def load(options: TinyImageNetOptions, data_root: Path | None):
    import hashlib
    import json

    import torch

    from unlearnkit import DataNotFoundError, ImageDataset
    from unlearnkit.helpers import cached_tensors, decode_images, mean_std

    root, looked = find_root(data_root)
    if root is None:
        where = ", ".join(str(p) for p in looked)
        raise DataNotFoundError(
            f"tiny-imagenet: wnids.txt and val/val_annotations.txt not found in {where}; {HOW_TO_GET}"
        )
    wnids = sorted(line.strip() for line in (root / "wnids.txt").read_text().splitlines() if line.strip())
    label = {w: i for i, w in enumerate(wnids)}
    train = [(p, label[w]) for w in wnids for p in sorted((root / "train" / w / "images").glob("*.[Jj][Pp]*[Gg]"))]
    test = []
    for line in (root / "val" / "val_annotations.txt").read_text().splitlines():
        fields = line.split("\t")
        if len(fields) >= 2 and fields[1] in label:
            test.append((root / "val" / "images" / fields[0], label[fields[1]]))
    test.sort(key=lambda item: item[0].name)
    if not train or not test:
        raise DataNotFoundError(f"tiny-imagenet: {root} has {len(train)} training and {len(test)} validation images")
    h = hashlib.sha256()
    for path, y in train + test:
        h.update(f"{path.relative_to(root).as_posix()}:{y}\0".encode())
        if options.fingerprint == "content":
            h.update(path.read_bytes())
        else:
            st = path.stat()
            h.update(f"{st.st_size}:{st.st_mtime_ns}".encode())

    def build():
        tensors = {}
        for split, items in (("train", train), ("test", test)):
            x = decode_images([p for p, _ in items], "RGB", None, f"{root}/{split}")
            tensors[f"{split}_x"] = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous()
            tensors[f"{split}_y"] = torch.tensor([y for _, y in items])
        mean, std = mean_std(tensors["train_x"])
        return tensors, {"mean": json.dumps(mean), "std": json.dumps(std)}

    tensors, meta = cached_tensors("tiny-imagenet", {"format": 1, "source": h.hexdigest()}, build, options.cache)
    return ImageDataset(
        tensors["train_x"],
        tensors["train_y"],
        tensors["test_x"],
        tensors["test_y"],
        classes=class_names(root, wnids),
        mean=tuple(json.loads(meta["mean"])),
        std=tuple(json.loads(meta["std"])),
        augment="crop-flip",
        pad=8,
    )


@hookimpl
def register_datasets(register):
    register(
        DatasetSpec(
            name="tiny-imagenet",
            summary="Tiny-ImageNet-200 64x64, 200 classes, standard folder layout (val = test), cached",
            options=TinyImageNetOptions,
            factory=load,
            default_model="resnet18",
            default_recipe="fast",
        )
    )
