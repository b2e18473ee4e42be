"""Fashion-MNIST (Xiao, Rasul, Vollgraf 2017) from the four standard idx files.

The default data root is where the Debian package ``dataset-fashion-mnist`` installs them.
"""

from __future__ import annotations

from pathlib import Path

from unlearnkit import DatasetSpec, Options, hookimpl

DEFAULT_ROOT = Path("/usr/share/datasets/fashion-mnist")
CLASSES = ["t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle-boot"]
HOW_TO_GET = (
    "install it with 'apt-get install dataset-fashion-mnist' (files land in /usr/share/datasets/fashion-mnist) "
    "or pass --data-root to a folder holding the idx files"
)


def load(options: Options, data_root: Path | None):
    from unlearnkit.data import ImageDataset
    from unlearnkit.dataio import load_idx_dataset

    train_x, train_y, test_x, test_y = load_idx_dataset(data_root or DEFAULT_ROOT, "fashion-mnist", HOW_TO_GET)
    return ImageDataset(
        train_x, train_y, test_x, test_y, classes=CLASSES, mean=(0.2860,), std=(0.3530,), augment="crop", pad=2
    )


@hookimpl
def register_datasets(register):
    register(
        DatasetSpec(
            name="fashion-mnist",
            summary="Fashion-MNIST 28x28, 10 classes, from local idx files",
            factory=load,
            default_model="small-cnn",
            default_recipe={"name": "fast", "epochs": 8, "batch_size": 128, "lr": 0.05},
        )
    )
