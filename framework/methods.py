"""What a method plugin subclasses: :class:`Method`, or :class:`GradientMethod` and its options.

A method is any object with ``unlearn(ctx) -> nn.Module``, where ``ctx`` is an
:class:`unlearnkit.context.UnlearnContext`. Gradient methods subclass :class:`GradientMethod`
and only write a ``loss``: the engine owns the loop, the optimizer over the selected parameters,
BatchNorm modes, masks, progress and events. This module is torch-free so that plugins can
subclass it at import time without slowing ``unlearn list-plugins``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from unlearnkit.records import Options

if TYPE_CHECKING:
    import torch
    from torch import nn

    from unlearnkit.context import UnlearnContext


class GradientOptions(Options):
    """Options every gradient method has; subclasses change the defaults."""

    epochs: int = Field(10, ge=0, description="passes over the driving split")
    lr: float = Field(1e-3, gt=0, description="learning rate")
    batch_size: int = Field(128, ge=1, description="batch size")
    optimizer: Literal["sgd", "adam", "adamw"] = Field("sgd", description="optimizer")
    momentum: float = Field(0.9, ge=0, description="SGD momentum")
    weight_decay: float = Field(5e-4, ge=0, description="weight decay")
    bn: Literal["eval", "train"] = Field(
        "train", description="BatchNorm statistics of trained layers: 'train' updates them, 'eval' freezes them"
    )
    augment: bool = Field(True, description="use the dataset's training augmentation")


@dataclass
class Batch:
    """One step's data: normalised float inputs on the device, labels, and source indices."""

    forget: tuple[Any, Any] | None = None
    retain: tuple[Any, Any] | None = None
    forget_index: Any | None = None
    retain_index: Any | None = None


class Method:
    """Base class for methods that edit the model themselves (e.g. gradient-free methods)."""

    def __init__(self, options: Options):
        self.options = options

    def unlearn(self, ctx: UnlearnContext) -> nn.Module:
        raise NotImplementedError


class GradientMethod(Method):
    """Base class for methods trained by the engine's loop.

    Subclasses set ``drive`` (and ``paired``) and implement :meth:`loss`; they may override
    :meth:`setup`, :meth:`on_epoch_start`, :meth:`epoch_logs` and :meth:`finish`.
    """

    drive: str = "forget"
    paired: tuple[str, ...] = ()
    retain_fraction: float = 1.0
    options: GradientOptions

    def unlearn(self, ctx: UnlearnContext) -> nn.Module:
        self.setup(ctx)
        ctx.fit(self, self.options, self.drive, self.paired, self.retain_fraction)
        return self.finish(ctx)

    def make_optimizer(self, params: list[nn.Parameter], options: GradientOptions) -> torch.optim.Optimizer:
        from unlearnkit.training import make_optimizer

        return make_optimizer(params, options.optimizer, options.lr, options.momentum, options.weight_decay)

    def setup(self, ctx: UnlearnContext) -> None:
        pass

    def loss(self, ctx: UnlearnContext, batch: Batch) -> torch.Tensor:
        raise NotImplementedError

    def on_epoch_start(self, ctx: UnlearnContext, epoch: int) -> bool | None:
        """Called before each epoch; returning ``False`` stops training before this epoch."""
        return None

    def epoch_logs(self, ctx: UnlearnContext, epoch: int) -> dict[str, float]:
        return {}

    def finish(self, ctx: UnlearnContext) -> nn.Module:
        return ctx.model
