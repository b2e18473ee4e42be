"""A validation split carved from another dataset's training set: what ``unlearn tune`` evaluates on.

Tuning a method against its test-set score would report a tuned result on the data it was tuned
on. DeepUnlearn (Cadet et al., "Deep Unlearn: Benchmarking Machine Unlearning for Image
Classification", arXiv:2410.01276, tunes every method with Optuna on a validation split) and
scikit-learn's ``train_test_split`` practice both keep the test data out of every choice; this
dataset makes that structural. It loads ``dataset`` (any installed dataset), holds out a seeded,
class-stratified ``fraction`` of its *training* set, and returns:

* train: the rest of the training set (the tuning runs' original and retrained models train on it),
* test: the held-out training samples (every "test" metric of a tuning run reads these).

The source's test images are dropped before anything else sees them, so no tuning trial can
evaluate on them. Forget splits are then drawn from the remaining training set as usual.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from unlearnkit import DatasetSpec, Field, Options, hookimpl


class ValidationSplitOptions(Options):
    dataset: dict[str, Any] = Field(
        default_factory=lambda: {"name": "digits"}, description="the source dataset: {name, options}"
    )
    fraction: float = Field(0.2, gt=0, lt=1, description="fraction of each class of the training set held out")
    seed: int = Field(0, description="seed of the held-out subset")


def held_out(labels, fraction: float, seed: int):
    """Indices of a seeded ``fraction`` of every class (at least one sample of each), sorted."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    picked = []
    for c in labels.unique().tolist():
        members = (labels == c).nonzero().flatten()
        take = max(1, round(fraction * len(members)))
        picked.append(members[torch.randperm(len(members), generator=gen)[:take]])
    return torch.cat(picked).sort().values


def load(options: ValidationSplitOptions, data_root: Path | None):
    import torch

    from unlearnkit import ImageDataset
    from unlearnkit.helpers import get_registry

    registry = get_registry()
    source = options.dataset
    name = source.get("name", "digits")
    if name == "validation-split":
        raise ValueError("validation-split cannot wrap itself")
    inner = registry.options("dataset", name, source.get("options"))
    data = registry.spec("dataset", name).load()(inner, data_root)
    holdout = held_out(data.train_y, options.fraction, options.seed)
    keep = torch.ones(len(data.train_y), dtype=torch.bool)
    keep[holdout] = False
    return ImageDataset(
        data.train_x[keep],
        data.train_y[keep],
        data.train_x[holdout],
        data.train_y[holdout],
        classes=list(data.classes),
        mean=data.mean,
        std=data.std,
        augment=data.augment,
        pad=data.pad,
    )


@hookimpl
def register_datasets(register):
    register(
        DatasetSpec(
            name="validation-split",
            summary="another dataset's training set split into train and held-out validation (for tuning)",
            options=ValidationSplitOptions,
            factory=load,
        )
    )
