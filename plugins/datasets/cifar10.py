"""CIFAR-10 (Krizhevsky 2009) from the official batch files: the binary or the python version.

The RWFT paper (RWFT, arXiv:2506.20893) and LoTUS (CVPR 2025) evaluate on CIFAR-10 with
ResNet-18. Both official formats are read without downloading: the binary version
(``cifar-10-batches-bin``: fixed-size records, read with numpy, preferred) and the python version
(``cifar-10-batches-py``: pickled dicts). Pickles are never handed to ``pickle.load``; they go
through :func:`unlearnkit.helpers.read_cifar_pickle`, a restricted unpickler that resolves only
numpy's array reconstructor to an inert stand-in and refuses every other global, so a crafted
file cannot run code. ``download=true`` uses torchvision's downloader (python version).
"""

from __future__ import annotations

from pathlib import Path

from unlearnkit import DatasetSpec, Field, Options, hookimpl

CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
HOW_TO_GET = (
    "pass --data-root to the folder holding cifar-10-batches-bin/ or cifar-10-batches-py/ (the official "
    "archives from https://www.cs.toronto.edu/~kriz/cifar.html, extracted), put it in data/, "
    "download it with --set dataset.download=true, or use the JPEG copy with --dataset cifar10-folder"
)


class CifarOptions(Options):
    download: bool = Field(
        False, description="fetch the python version with torchvision's downloader into --data-root (or data/)"
    )


def find_batches(data_root: Path | None, names: tuple[str, ...], probe: str) -> Path | None:
    """The first folder among the candidates (or their ``names`` subfolders) holding ``probe``."""
    from unlearnkit.helpers import find_data_folder

    return find_data_folder(data_root, ("", "cifar10", "cifar100"), names, probe)


def load(options: CifarOptions, data_root: Path | None):
    import numpy as np
    import torch

    from unlearnkit import DataNotFoundError, ImageDataset
    from unlearnkit.helpers import read_cifar_binary, read_cifar_pickle

    train_names = [f"data_batch_{i}" for i in range(1, 6)]
    folder = find_batches(data_root, ("cifar-10-batches-bin",), "data_batch_1.bin")
    if folder is not None:
        parts = [read_cifar_binary(folder / f"{n}.bin", 1) for n in [*train_names, "test_batch"]]
    else:
        folder = find_batches(data_root, ("cifar-10-batches-py",), "data_batch_1")
        if folder is None and options.download:
            import torchvision

            target = Path(data_root).expanduser() if data_root else Path("data")
            torchvision.datasets.CIFAR10(str(target), download=True)
            folder = target / "cifar-10-batches-py"
        if folder is None:
            raise DataNotFoundError(f"cifar10: batch files not found; {HOW_TO_GET}")
        parts = []
        for n in [*train_names, "test_batch"]:
            batch = read_cifar_pickle(folder / n)
            parts.append((batch["data"].reshape(-1, 3, 32, 32), np.asarray(batch["labels"], dtype=np.int64)))
    train_x = torch.from_numpy(np.concatenate([x for x, _ in parts[:5]]))
    train_y = torch.from_numpy(np.concatenate([y for _, y in parts[:5]]))
    test_x, test_y = (torch.from_numpy(np.array(a)) for a in parts[5])
    return ImageDataset(
        train_x,
        train_y,
        test_x,
        test_y,
        classes=CLASSES,
        mean=(0.4914, 0.4822, 0.4465),
        std=(0.2470, 0.2435, 0.2616),
        augment="crop-flip",
        pad=4,
    )


@hookimpl
def register_datasets(register):
    register(
        DatasetSpec(
            name="cifar10",
            summary="CIFAR-10 32x32, 10 classes, official binary or python batches (no download unless asked)",
            options=CifarOptions,
            factory=load,
            default_model="resnet18",
            default_recipe="fast",
        )
    )
