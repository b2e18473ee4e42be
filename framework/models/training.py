"""Training of original and retrained models with a recipe (see :class:`RecipeConfig`)."""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from unlearnkit.core.config import RecipeConfig
from unlearnkit.core.divergence import check_epoch
from unlearnkit.data.scenarios import Preprocess, batches


def make_optimizer(
    params: list[torch.nn.Parameter],
    name: str,
    lr: float,
    momentum: float = 0.9,
    weight_decay: float = 0.0,
    nesterov: bool = False,
) -> torch.optim.Optimizer:
    if name == "sgd":
        return torch.optim.SGD(
            params, lr=lr, momentum=momentum, weight_decay=weight_decay, nesterov=nesterov and momentum > 0
        )
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer {name!r}; accepted: sgd, adam, adamw")


@functools.cache
def import_optimizers() -> None:
    """Pay, once per process and outside any clock, what the first optimizer pays.

    Constructing the first ``torch.optim`` optimizer of a process imports ``torch._dynamo``
    (seconds on a CPU). Training starts its clock after building its optimizer, but methods
    build theirs inside the timed ``unlearn``: without this, a run whose original and retrained
    models come from the cache charged that import to the method and understated its speed-up
    over retraining.
    """
    torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)


def amp_autocast(device: torch.device, enabled: bool):
    """bf16 autocast on ``device`` when ``enabled``; a no-op context otherwise (CPU runs stay bit-identical)."""
    if not enabled:
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=torch.bfloat16)


def channels_last(recipe: RecipeConfig | None, device: torch.device) -> bool:
    """Whether training and gradient unlearning run in the channels-last memory layout.

    On a GPU with mixed precision (cuDNN's fast bf16 convolutions want NHWC), and on a CPU unless
    ``recipe.cpu_channels_last`` is off: PyTorch's CPU max-pooling in the default NCHW layout is
    12-20x slower than in NHWC, and a small-cnn training step 1.4-1.7x slower (docs/results.md).
    The layout changes the order of float operations, not the function: results differ from the
    NCHW layout's in the last bits, as they do between thread counts.
    """
    if recipe is None:
        return False
    if device.type == "cuda":
        return recipe.amp
    return device.type == "cpu" and recipe.cpu_channels_last


def to_layout(t: torch.Tensor, enabled: bool) -> torch.Tensor:
    """``t`` in channels-last if ``enabled`` and it is an image batch (N, C, H, W); unchanged otherwise."""
    return t.contiguous(memory_format=torch.channels_last) if enabled and t.dim() == 4 else t


@contextlib.contextmanager
def in_layout(modules: tuple[torch.nn.Module, ...], enabled: bool, device: torch.device):
    """Run the block with ``modules`` in channels-last if ``enabled``.

    On a CPU they are handed back in the default layout afterwards, even when the block raises:
    the frozen original is shared with evaluation and later runs, and evaluation, the cache and a
    model loaded from the cache must all see the same tensors (a first run and its cache hit then
    give equal metrics). GPU runs keep channels-last afterwards, as they did before the CPU layout
    existed (not measured on a GPU here).
    """
    if enabled:
        for module in modules:
            module.to(memory_format=torch.channels_last)
    try:
        yield
    finally:
        if enabled and device.type == "cpu":
            for module in modules:
                module.to(memory_format=torch.contiguous_format)


def recipe_key(recipe: RecipeConfig) -> dict[str, Any]:
    """The recipe as it enters the model cache key.

    ``cpu_channels_last=false`` is left out, so models trained before the option existed (in the
    NCHW layout) keep their keys and are found again with it off.
    """
    key = recipe.model_dump(mode="json")
    if not key["cpu_channels_last"]:
        del key["cpu_channels_last"]
    return key


def make_scheduler(opt: torch.optim.Optimizer, recipe: RecipeConfig, steps_per_epoch: int):
    if recipe.schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=recipe.lr, epochs=recipe.epochs, steps_per_epoch=steps_per_epoch
        ), "step"
    if recipe.schedule == "step":
        return torch.optim.lr_scheduler.StepLR(opt, step_size=recipe.step_size, gamma=recipe.gamma), "epoch"
    if recipe.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=recipe.epochs), "epoch"
    return None, "none"


def train_classifier(
    model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    pre: Preprocess,
    recipe: RecipeConfig,
    seed: int,
    on_epoch: Callable[[int, dict[str, float]], None] | None = None,
    on_step: Callable[[], None] | None = None,
    what: str = "model",
) -> float:
    """Train ``model`` in place on uint8 images ``x`` and labels ``y``; return the wall time in seconds."""
    device = pre.device
    gen = torch.Generator().manual_seed(seed)
    aug_gen = torch.Generator(device=device).manual_seed(seed + 1) if device.type == "cuda" else gen
    use_amp = recipe.amp and device.type == "cuda"
    nhwc = channels_last(recipe, device)
    opt = make_optimizer(
        list(model.parameters()), recipe.optimizer, recipe.lr, recipe.momentum, recipe.weight_decay, recipe.nesterov
    )
    steps = -(-len(y) // recipe.batch_size)
    sched, when = make_scheduler(opt, recipe, steps)
    x_dev, y_dev = x.to(device), y.to(device)
    start = time.perf_counter()
    with in_layout((model,), nhwc, device):
        for epoch in range(recipe.epochs):
            model.train()
            total = torch.zeros((), device=device)
            for idx in batches(len(y), recipe.batch_size, shuffle=True, generator=gen, device=device):
                inputs = to_layout(pre(x_dev[idx], augment=True, generator=aug_gen), nhwc)
                with amp_autocast(device, use_amp):
                    loss = F.cross_entropy(model(inputs), y_dev[idx], label_smoothing=recipe.label_smoothing)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                if when == "step":
                    sched.step()
                total += loss.detach() * len(idx)
                if on_step is not None:
                    on_step()
            if when == "epoch":
                sched.step()
            epoch_loss = (total / len(y)).item()
            check_epoch(
                epoch_loss,
                model.parameters(),
                f"training the {what}",
                epoch,
                recipe.epochs,
                f"try a smaller learning rate than {recipe.lr:g} (--set recipe.lr=...) or another --recipe",
            )
            if on_epoch is not None:
                on_epoch(epoch, {"loss": epoch_loss})
    if device.type == "cuda":
        torch.cuda.synchronize()
    model.eval()
    return time.perf_counter() - start
