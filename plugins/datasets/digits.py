"""scikit-learn's 8x8 handwritten digits: the embedded default dataset (no download, no data root).

1,797 images of 8x8 pixels, grey levels 0-16, 10 classes, shipped inside scikit-learn. A fixed
stratified 80/20 train/test split (1,437 / 360 images) keeps results comparable across runs.
The default recipe trains without label smoothing: smoothing flattens the original model's
probabilities over the other classes, which is exactly the class-similarity signal that RWFT's
reweighted targets and the UTV / MIA-NN metrics rely on.
"""

from __future__ import annotations

from pathlib import Path

from unlearnkit import DatasetSpec, Field, Options, hookimpl


class DigitsOptions(Options):
    test_fraction: float = Field(0.2, gt=0, lt=1, description="fraction of each class held out as the test set")
    split_seed: int = Field(0, description="seed of the stratified train/test split")


def load(options: DigitsOptions, data_root: Path | None):
    import numpy as np
    import torch
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    from unlearnkit import ImageDataset

    digits = load_digits()
    images = np.round(digits.images * (255 / 16)).clip(0, 255).astype(np.uint8)[:, None]
    x_tr, x_te, y_tr, y_te = train_test_split(
        images, digits.target, test_size=options.test_fraction, stratify=digits.target, random_state=options.split_seed
    )
    pixels = x_tr.astype(np.float64) / 255
    return ImageDataset(
        torch.from_numpy(x_tr),
        torch.from_numpy(y_tr),
        torch.from_numpy(x_te),
        torch.from_numpy(y_te),
        classes=[str(i) for i in range(10)],
        mean=(float(pixels.mean()),),
        std=(float(pixels.std()),),
        augment="crop",
        pad=1,
    )


@hookimpl
def register_datasets(register):
    register(
        DatasetSpec(
            name="digits",
            summary="scikit-learn 8x8 digits, 10 classes, embedded (the default)",
            options=DigitsOptions,
            factory=load,
            default_model="small-cnn",
            default_recipe={"name": "fast", "epochs": 40, "batch_size": 64, "lr": 0.05, "label_smoothing": 0.0},
        )
    )
