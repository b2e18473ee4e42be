"""CIFAR-10 as class-per-folder JPEG files, e.g. a "CIFAR-10 (JPEG q75)" copy.

Reads ``train/<class>/*.jpg`` and ``test/<class>/*.jpg`` from an extracted folder, or the tar
itself (``cifar10-jpeg-q75.tar.gz``, streamed once, nothing extracted). Decoded images are cached
as safetensors keyed by the source's content fingerprint, so only the first load pays for JPEG
decoding. The copy is lossy (quality 75): label results "CIFAR-10 (JPEG q75)" and compare methods
with each other on it, not with published CIFAR-10 numbers.

Default place: ``data/cifar10-jpeg`` (an extracted folder, or the tar itself), seen from the current
directory and from the source checkout.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from unlearnkit import DatasetSpec, Field, Options, hookimpl

CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
TAR_NAME = "cifar10-jpeg-q75.tar.gz"
HOW_TO_GET = (
    f"pass --data-root to an extracted folder (train/<class>/*.jpg, test/<class>/*.jpg) or to {TAR_NAME}; "
    f"or put either into data/cifar10-jpeg (to extract: mkdir -p data/cifar10-jpeg && tar -xzf {TAR_NAME} -C data/cifar10-jpeg)"
)


class Cifar10FolderOptions(Options):
    fingerprint: Literal["content", "stat"] = Field(
        "content", description="cache key of a folder: hash of file bytes, or of paths, sizes and times (faster)"
    )
    cache: bool = Field(True, description="keep the decoded tensors in <cache dir>/datasets")


def find_source(data_root: Path | None) -> tuple[Path | None, list[Path]]:
    from unlearnkit.helpers import candidate_roots

    roots = candidate_roots(data_root, "cifar10-jpeg")
    for root in roots:
        if root.is_file():
            return root, roots
        if (root / "train").is_dir():
            return root, roots
        if (root / TAR_NAME).is_file():
            return root / TAR_NAME, roots
    return None, roots


def load(options: Cifar10FolderOptions, data_root: Path | None):
    import functools

    from unlearnkit import DataNotFoundError, ImageDataset
    from unlearnkit.helpers import image_tree_train_files, load_image_tree

    source, looked = find_source(data_root)
    if source is None:
        where = ", ".join(str(p) for p in looked)
        raise DataNotFoundError(f"cifar10-folder: no images found (looked in {where}); {HOW_TO_GET}")
    tensors, classes, mean, std = load_image_tree(
        source, "cifar10-folder", fingerprint=options.fingerprint, use_cache=options.cache
    )
    if classes != CLASSES:
        raise DataNotFoundError(f"cifar10-folder: {source} has classes {classes[:12]}, expected {CLASSES}")
    return ImageDataset(
        tensors["train_x"],
        tensors["train_y"],
        tensors["test_x"],
        tensors["test_y"],
        classes=classes,
        mean=mean,
        std=std,
        augment="crop-flip",
        pad=4,
        train_ids=functools.partial(image_tree_train_files, source),
    )


@hookimpl
def register_datasets(register):
    register(
        DatasetSpec(
            name="cifar10-folder",
            summary="CIFAR-10 from class folders of JPEGs or their tar (e.g. a JPEG q75 copy), cached",
            options=Cifar10FolderOptions,
            factory=load,
            default_model="resnet18",
            default_recipe="fast",
        )
    )
