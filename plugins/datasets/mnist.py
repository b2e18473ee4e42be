"""MNIST (LeCun, Cortes, Burges) from the four standard idx files, gzip-compressed or not.

The RWFT paper (arXiv:2506.20893, section 5) evaluates class forgetting on MNIST. Files are
looked for in ``--data-root`` or, by default, in ``data/mnist`` relative to the current directory
and to the source checkout, also in torchvision's ``MNIST/raw``
layout. ``download=true`` fetches them with torchvision's downloader, and only then.
"""

from __future__ import annotations

from pathlib import Path

from unlearnkit import DatasetSpec, Field, Options, hookimpl

HOW_TO_GET = (
    "pass --data-root to a folder holding train-images-idx3-ubyte(.gz) and the other three idx files, "
    "put them in data/mnist, or download them with --set dataset.download=true"
)


class IdxOptions(Options):
    download: bool = Field(
        False, description="fetch the files with torchvision's downloader into --data-root (or data/) if missing"
    )


def download_target(options: IdxOptions, data_root: Path | None) -> Path | None:
    """Where ``download=true`` puts the files: ``--data-root``, else ``data/``; None without ``download``."""
    if not options.download:
        return None
    return Path(data_root).expanduser() if data_root else Path("data")


def load(options: IdxOptions, data_root: Path | None):
    from unlearnkit import ImageDataset
    from unlearnkit.helpers import candidate_roots, find_or_download_idx

    candidates = candidate_roots(data_root, "mnist")
    target = download_target(options, data_root)
    train_x, train_y, test_x, test_y = find_or_download_idx("mnist", candidates, target, "MNIST", HOW_TO_GET)
    # Digits are not mirror-symmetric: crop only, no flip. 0.1307/0.3081 are the usual constants.
    return ImageDataset(
        train_x,
        train_y,
        test_x,
        test_y,
        classes=[str(i) for i in range(10)],
        mean=(0.1307,),
        std=(0.3081,),
        augment="crop",
        pad=2,
    )


# CPU default: a small-cnn that pools early (7x fewer multiply-adds than the full-width default) and
# four one-cycle epochs, as Fashion-MNIST (whose curve picked four; MNIST's was not measured separately).
DEFAULT_MODEL = {"name": "small-cnn", "options": {"width": 16, "stem_pool": True}}
DEFAULT_RECIPE = {"name": "fast", "epochs": 4, "batch_size": 256, "lr": 0.2}


@hookimpl
def register_datasets(register):
    register(
        DatasetSpec(
            name="mnist",
            summary="MNIST 28x28 digits, 10 classes, from local idx files",
            options=IdxOptions,
            factory=load,
            default_model=DEFAULT_MODEL,
            default_recipe=DEFAULT_RECIPE,
        )
    )
