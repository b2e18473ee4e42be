"""In-memory image datasets, forgetting splits and batched on-device augmentation.

Images stay uint8 (N, C, H, W) tensors; conversion to float, normalisation and augmentation
happen per batch on the training device, so there are no DataLoader workers and no per-sample
Python work.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import torch

from unlearnkit.core.preflight import check_forget_classes, check_forget_count

Augment = Literal["none", "crop", "crop-flip"]


@dataclass
class ImageDataset:
    """What a dataset plugin returns. ``mean``/``std`` are per channel on the 0-1 scale."""

    train_x: torch.Tensor  # uint8 (N, C, H, W)
    train_y: torch.Tensor  # int64 (N,)
    test_x: torch.Tensor
    test_y: torch.Tensor
    classes: list[str]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    augment: Augment = "crop-flip"
    pad: int = 4
    # Optional, not part of the fingerprint: names of the training samples (paths relative to the
    # data root, computed on demand) that forget lists may use instead of indices; the dataset's own
    # forget set (``--forget benchmark``); JSON-ready extras the run folder gets as <name>.json.
    train_ids: Callable[[], list[str]] | None = None
    benchmark_forget: torch.Tensor | None = None
    artifacts: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("train_x", "test_x"):
            x = getattr(self, name)
            if x.dtype != torch.uint8 or x.dim() != 4:
                raise ValueError(f"{name} must be a uint8 tensor of shape (N, C, H, W), got {x.dtype} {tuple(x.shape)}")
        self.train_y = self.train_y.long()
        self.test_y = self.test_y.long()

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return tuple(self.train_x.shape[1:])  # type: ignore[return-value]

    def fingerprint(self) -> str:
        """A content hash of images and labels; keys the model cache."""
        h = hashlib.sha256()
        for t in (self.train_x, self.train_y, self.test_x, self.test_y):
            h.update(str(tuple(t.shape)).encode())
            h.update(t.contiguous().numpy().tobytes())
        h.update(",".join(self.classes).encode())
        return h.hexdigest()[:16]


def fingerprint_indices(indices: torch.Tensor) -> str:
    return hashlib.sha256(indices.sort().values.to(torch.int64).numpy().tobytes()).hexdigest()[:16]


# Every scenario has these splits: the training set's forget and retain parts, the test set's
# forget and retain parts (test_forget is empty for random-subset forgetting), and the whole test set.
SPLIT_NAMES = ("train_forget", "train_retain", "test_forget", "test_retain", "test")


@dataclass
class Split:
    """A named subset: uint8 images and labels, plus their indices into the source split."""

    name: str
    x: torch.Tensor
    y: torch.Tensor
    index: torch.Tensor

    def __len__(self) -> int:
        return len(self.y)

    def take(self, keep: torch.Tensor) -> Split:
        """The samples at positions ``keep`` of this split, with their source indices."""
        return Split(self.name, self.x[keep], self.y[keep], self.index[keep])


@dataclass
class Scenario:
    """The forgetting scenario resolved against a dataset."""

    kind: Literal["class", "random", "samples"]
    forget_classes: list[int]
    train_forget: torch.Tensor  # indices into the training set
    description: str
    splits: dict[str, Split] = field(default_factory=dict)
    request: dict[str, Any] = field(default_factory=dict)  # a forget list's file, SHA-256 and size

    @property
    def fingerprint(self) -> str:
        return fingerprint_indices(self.train_forget)


def resolve_classes(values: list[int | str], classes: list[str]) -> list[int]:
    from unlearnkit.core.errors import UsageError

    out = []
    for value in values:
        if isinstance(value, int) or (isinstance(value, str) and value.strip().lstrip("-").isdigit()):
            index = int(value)
            if not 0 <= index < len(classes):
                raise UsageError(
                    f"forget class {index} is out of range; this dataset has classes 0..{len(classes) - 1}"
                )
            out.append(index)
        elif value in classes:
            out.append(classes.index(value))
        else:
            shown = ", ".join(classes[:20]) + (" ..." if len(classes) > 20 else "")
            raise UsageError(
                f"unknown forget class {value!r}; accepted: indices 0..{len(classes) - 1} or names ({shown})"
            )
    return sorted(set(out))


def make_scenario(
    data: ImageDataset,
    forget_classes: list[int | str],
    fraction: float | None,
    count: int | None,
    seed: int,
    samples: torch.Tensor | None = None,
    description: str = "",
) -> Scenario:
    """Build train/test forget and retain splits.

    Class scenario: every training and test sample of the forget classes. Random scenario: a
    seeded uniform subset of the training set; test-forget is then empty. Samples scenario
    (``samples``: training indices, from a forget list or the dataset's benchmark forget set):
    exactly those training samples; test-forget is empty too.
    """
    n = len(data.train_y)
    if samples is not None:
        classes = []
        is_forget = torch.zeros(n, dtype=torch.bool)
        is_forget[samples] = True
        test_forget = torch.zeros(len(data.test_y), dtype=torch.bool)
        kind, desc = "samples", description or f"{int(is_forget.sum())} listed training samples"
    elif forget_classes:
        classes = resolve_classes(forget_classes, data.classes)
        check_forget_classes(classes, data.num_classes)
        is_forget = torch.isin(data.train_y, torch.tensor(classes))
        test_forget = torch.isin(data.test_y, torch.tensor(classes))
        names = ", ".join(data.classes[c] for c in classes)
        kind, desc = "class", f"classes {names}"
    else:
        classes = []
        k = count if count is not None else max(1, round(float(fraction) * n))
        check_forget_count(k, n, f"--forget-count {count}" if count is not None else f"--forget-fraction {fraction}")
        gen = torch.Generator().manual_seed(10_000 + seed)
        chosen = torch.randperm(n, generator=gen)[:k]
        is_forget = torch.zeros(n, dtype=torch.bool)
        is_forget[chosen] = True
        test_forget = torch.zeros(len(data.test_y), dtype=torch.bool)
        kind, desc = "random", f"random {k} of {n} training samples"
    scenario = Scenario(kind, classes, is_forget.nonzero().flatten(), desc)

    def add(name: str, x: torch.Tensor, y: torch.Tensor, mask: torch.Tensor) -> None:
        index = mask.nonzero().flatten()
        scenario.splits[name] = Split(name, x[index], y[index], index)

    add("train_forget", data.train_x, data.train_y, is_forget)
    add("train_retain", data.train_x, data.train_y, ~is_forget)
    add("test_forget", data.test_x, data.test_y, test_forget)
    add("test_retain", data.test_x, data.test_y, ~test_forget)
    add("test", data.test_x, data.test_y, torch.ones(len(data.test_y), dtype=torch.bool))
    return scenario


class Preprocess:
    """Turns uint8 batches into normalised float batches on a device, with optional augmentation."""

    def __init__(self, data: ImageDataset, device: torch.device):
        channels = data.train_x.shape[1]
        self.mean = torch.tensor(data.mean, device=device).view(1, channels, 1, 1)
        self.std = torch.tensor(data.std, device=device).view(1, channels, 1, 1)
        self.augment = data.augment
        self.pad = data.pad
        self.device = device

    def __call__(
        self, x: torch.Tensor, augment: bool = False, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        x = x.to(self.device, non_blocking=True)
        if augment and self.augment != "none":
            x = random_crop(x, self.pad, generator)
            if self.augment == "crop-flip":
                x = random_flip(x, generator)
        return self.normalize(x.float().div_(255))

    def normalize(self, x01: torch.Tensor) -> torch.Tensor:
        return (x01 - self.mean) / self.std

    def denormalize(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.std + self.mean


def _rand(shape: tuple[int, ...], high: int, device: torch.device, generator: torch.Generator | None) -> torch.Tensor:
    if generator is None:
        return torch.randint(high, shape, device=device)
    # Draw where the generator lives: a CUDA generator is "cuda" while tensors are "cuda:0", so
    # comparing devices is not enough to know whether the two can meet.
    return torch.randint(high, shape, generator=generator, device=generator.device).to(device)


def random_crop(x: torch.Tensor, pad: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Per-sample random crop after zero padding, as one gather over the batch."""
    if pad <= 0:
        return x
    b, c, h, w = x.shape
    padded = torch.nn.functional.pad(x, (pad, pad, pad, pad))
    offsets = _rand((2, b), 2 * pad + 1, x.device, generator)
    rows = (offsets[0].view(b, 1) + torch.arange(h, device=x.device)).view(b, 1, h, 1).expand(b, c, h, w + 2 * pad)
    padded = padded.gather(2, rows)
    cols = (offsets[1].view(b, 1) + torch.arange(w, device=x.device)).view(b, 1, 1, w).expand(b, c, h, w)
    return padded.gather(3, cols)


def random_flip(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    flip = _rand((x.shape[0],), 2, x.device, generator).bool().view(-1, 1, 1, 1)
    return torch.where(flip, x.flip(3), x)


def batches(
    n: int,
    batch_size: int,
    shuffle: bool,
    generator: torch.Generator | None = None,
    drop_last: bool = False,
    device: torch.device | None = None,
) -> Iterator[torch.Tensor]:
    """Index batches over ``range(n)``, drawn on the CPU and, given ``device``, moved there once.

    One copy per epoch instead of one per step: copying a CPU index to a GPU waits for the GPU to
    finish its queue, so a copy per step keeps Python from running ahead of the kernels.
    """
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    if device is not None:
        order = order.to(device)
    stop = n - n % batch_size if drop_last and n >= batch_size else n
    for start in range(0, stop, batch_size):
        yield order[start : start + batch_size]


def stratified_indices(y: torch.Tensor, fraction: float, generator: torch.Generator) -> torch.Tensor:
    """Sorted positions of a random ``fraction`` (at least one) of each class's samples in ``y``."""
    keep = []
    for c in y.unique().tolist():
        index = (y == c).nonzero().flatten()
        index = index[torch.randperm(len(index), generator=generator)]
        keep.append(index[: max(1, round(fraction * len(index)))])
    return torch.cat(keep).sort().values


def first_per_class(y: torch.Tensor, classes: list[int], per_class: int) -> torch.Tensor:
    """Sorted positions of the first ``per_class`` samples of each of ``classes`` in ``y`` (no randomness)."""
    return torch.cat([(y == c).nonzero().flatten()[:per_class] for c in classes]).sort().values
