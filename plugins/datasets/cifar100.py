"""CIFAR-100 (Krizhevsky 2009) from the official files: the binary or the python version, fine labels.

The RWFT paper (RWFT, arXiv:2506.20893) forgets CIFAR-100 classes 0-9; SSD and LoTUS use it too.
The binary version (``cifar-100-binary``: ``train.bin``/``test.bin`` with a coarse and a fine
label byte per record, class names in ``fine_label_names.txt``) is preferred; the python version
(``cifar-100-python``) is read with the restricted unpickler of
:func:`unlearnkit.helpers.read_cifar_pickle`, never with ``pickle.load``.
"""

from __future__ import annotations

from pathlib import Path

from unlearnkit import DatasetSpec, Field, Options, hookimpl

HOW_TO_GET = (
    "pass --data-root to the folder holding cifar-100-binary/ or cifar-100-python/ (the official archives from "
    "https://www.cs.toronto.edu/~kriz/cifar.html, extracted), put it in data/, or download it with "
    "--set dataset.download=true"
)


class Cifar100Options(Options):
    download: bool = Field(
        False, description="fetch the python version with torchvision's downloader into --data-root (or data/)"
    )


def _find(data_root: Path | None, sub: str, probe: str) -> Path | None:
    from unlearnkit.helpers import find_data_folder

    return find_data_folder(data_root, ("", "cifar100"), (sub,), probe)


def load(options: Cifar100Options, data_root: Path | None):
    import numpy as np
    import torch

    from unlearnkit import DataNotFoundError, ImageDataset
    from unlearnkit.helpers import read_cifar_binary, read_cifar_pickle

    folder = _find(data_root, "cifar-100-binary", "train.bin")
    if folder is not None:
        train = read_cifar_binary(folder / "train.bin", 2)
        test = read_cifar_binary(folder / "test.bin", 2)
        names_file = folder / "fine_label_names.txt"
        if not names_file.is_file():
            raise DataNotFoundError(f"cifar100: {names_file} is missing; {HOW_TO_GET}")
        classes = [line.strip() for line in names_file.read_text().splitlines() if line.strip()]
    else:
        folder = _find(data_root, "cifar-100-python", "train")
        if folder is None and options.download:
            import torchvision

            target = Path(data_root).expanduser() if data_root else Path("data")
            torchvision.datasets.CIFAR100(str(target), download=True)
            folder = target / "cifar-100-python"
        if folder is None:
            raise DataNotFoundError(f"cifar100: train/test files not found; {HOW_TO_GET}")
        arrays = []
        for name in ("train", "test"):
            batch = read_cifar_pickle(folder / name)
            arrays.append((batch["data"].reshape(-1, 3, 32, 32), np.asarray(batch["fine_labels"], dtype=np.int64)))
        train, test = arrays
        meta = read_cifar_pickle_meta(folder / "meta")
        classes = [n.decode() if isinstance(n, bytes) else str(n) for n in meta["fine_label_names"]]
    if len(classes) != 100:
        raise DataNotFoundError(f"cifar100: expected 100 fine class names, found {len(classes)} in {folder}")
    return ImageDataset(
        torch.from_numpy(np.array(train[0])),
        torch.from_numpy(train[1]),
        torch.from_numpy(np.array(test[0])),
        torch.from_numpy(test[1]),
        classes=classes,
        mean=(0.5071, 0.4865, 0.4409),
        std=(0.2673, 0.2564, 0.2762),
        augment="crop-flip",
        pad=4,
    )


def read_cifar_pickle_meta(path: Path) -> dict:
    """The ``meta`` file holds only lists of names; the same restricted unpickler reads it."""
    from unlearnkit.helpers import read_cifar_pickle

    return read_cifar_pickle(path, require_data=False)


@hookimpl
def register_datasets(register):
    register(
        DatasetSpec(
            name="cifar100",
            summary="CIFAR-100 32x32, 100 fine classes, official binary or python files (no download unless asked)",
            options=Cifar100Options,
            factory=load,
            default_model="resnet18",
            default_recipe="fast",
        )
    )
