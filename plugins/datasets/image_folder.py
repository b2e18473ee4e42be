"""Any class-per-folder image collection (JPEG, PNG, ...): the user's own data.

Layout ``train/<class>/<image>`` plus ``test/<class>/<image>`` (or ``val/``), or just
``<class>/<image>`` with a stratified test hold-out; the source may also be a ``.tar``/``.tar.gz``
of that layout. Labels follow the sorted folder names, as torchvision's ``ImageFolder`` assigns
them. Images are decoded once with Pillow and cached as a safetensors file keyed by the source's
content fingerprint (decoding a folder of JPEGs is done once), so later runs load
uint8 tensors directly. Normalisation constants are measured on the training images.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from unlearnkit import DatasetSpec, Field, Options, hookimpl


class ImageFolderOptions(Options):
    path: str | None = Field(None, description="folder or tar of class folders (default: --data-root)")
    size: int | None = Field(None, ge=4, description="resize every image to size x size (needed for mixed sizes)")
    grayscale: bool = Field(False, description="decode as one grey channel instead of RGB")
    fingerprint: Literal["content", "stat"] = Field(
        "content", description="cache key of a folder: hash of file bytes, or of paths, sizes and times (faster)"
    )
    cache: bool = Field(True, description="keep the decoded tensors in <cache dir>/datasets")
    test_fraction: float = Field(0.2, gt=0, lt=1, description="per-class test hold-out when there is no test folder")
    split_seed: int = Field(0, description="seed of that hold-out")
    augment: Literal["none", "crop", "crop-flip"] = Field("crop-flip", description="training augmentation")
    pad: int = Field(4, ge=0, description="zero padding of the random crop")
    mean: list[float] | None = Field(
        None, description="per-channel mean on the 0-1 scale your model was trained with (default: measured)"
    )
    std: list[float] | None = Field(
        None, description="per-channel std on the 0-1 scale your model was trained with (default: measured)"
    )


def build_dataset(source: Path, name: str, options: ImageFolderOptions):
    """Load ``source`` with :func:`unlearnkit.helpers.load_image_tree` into an ImageDataset."""
    import functools

    from unlearnkit import ImageDataset
    from unlearnkit.helpers import image_tree_train_files, load_image_tree

    tensors, classes, mean, std = load_image_tree(
        source,
        name,
        mode="L" if options.grayscale else "RGB",
        size=options.size,
        fingerprint=options.fingerprint,
        use_cache=options.cache,
        test_fraction=options.test_fraction,
        split_seed=options.split_seed,
    )
    # A model trained elsewhere expects its own normalisation; measured constants fit models trained here.
    channels = tensors["train_x"].shape[1]
    for name, given in (("mean", options.mean), ("std", options.std)):
        if given is not None and len(given) != channels:
            from unlearnkit import UsageError

            raise UsageError(f"{name}: {len(given)} values for {channels}-channel images; give one per channel")
    mean = tuple(options.mean) if options.mean is not None else mean
    std = tuple(options.std) if options.std is not None else std
    return ImageDataset(
        tensors["train_x"],
        tensors["train_y"],
        tensors["test_x"],
        tensors["test_y"],
        classes=classes,
        mean=mean,
        std=std,
        augment=options.augment,
        pad=options.pad,
        train_ids=functools.partial(image_tree_train_files, source, options.test_fraction, options.split_seed),
    )


def load(options: ImageFolderOptions, data_root: Path | None):
    from unlearnkit import DataNotFoundError

    source = Path(options.path).expanduser() if options.path else data_root
    if source is None:
        raise DataNotFoundError(
            "image-folder: give the folder with --data-root PATH (or --set dataset.path=PATH); it must hold "
            "train/<class>/<image> and test/<class>/<image>, or <class>/<image>"
        )
    if not source.exists():
        raise DataNotFoundError(f"image-folder: {source} does not exist")
    return build_dataset(source, "image-folder", options)


@hookimpl
def register_datasets(register):
    register(
        DatasetSpec(
            name="image-folder",
            summary="your own class-per-folder images (folder or tar), decoded once and cached",
            options=ImageFolderOptions,
            factory=load,
            default_model="resnet18",
            default_recipe="fast",
        )
    )
