"""What a method plugin subclasses: :class:`Method`, or :class:`GradientMethod` and its options.

A method is any object with ``unlearn(ctx) -> nn.Module``, where ``ctx`` is an
:class:`unlearnkit.unlearning.context.UnlearnContext`. Gradient methods subclass :class:`GradientMethod`
and only write a ``loss``: the engine owns the loop, the optimizer over the selected parameters,
BatchNorm modes, masks, progress and events. This module is torch-free so that plugins can
subclass it at import time without slowing ``unlearn list-plugins``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from unlearnkit.core.records import Options

if TYPE_CHECKING:
    import torch
    from torch import nn

    from unlearnkit.unlearning.context import UnlearnContext


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
    forget_rows: Any | None = None  # positions in the split (on the device), for per-sample caches
    retain_rows: Any | None = None


# Drives whose epoch passes over both the forget and the retain split.
BOTH_SPLITS = ("union", "forget-then-retain")


def loop_reads(drive: str, paired: tuple[str, ...] = ()) -> set[str]:
    """The training splits (``"forget"``, ``"retain"``) the engine's loop reads for ``drive`` and ``paired``.

    One definition for the loop (``UnlearnContext.fit``) and for the data a method declares
    (``GradientMethod.reads``), so the two cannot disagree.
    """
    return {"forget", "retain"} if drive in BOTH_SPLITS else {drive, *paired}


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

    def reads(self) -> set[str]:
        """The data the engine's loop reads for this method with its options (added to ``MethodSpec.needs``)."""
        return loop_reads(self.drive, tuple(self.paired))

    def unlearn(self, ctx: UnlearnContext) -> nn.Module:
        self.setup(ctx)
        ctx.fit(self, self.options, self.drive, self.paired, self.retain_fraction)
        return self.finish(ctx)

    def make_optimizer(self, params: list[nn.Parameter], options: GradientOptions) -> torch.optim.Optimizer:
        from unlearnkit.models.training import make_optimizer

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


class RelabelOptions(GradientOptions):
    """Options of :class:`RelabelMethod`: how an epoch visits the forget and retain sets."""

    order: Literal["forget-then-retain", "shuffled"] = Field(
        "forget-then-retain",
        description="'forget-then-retain': forget pass then retain pass per epoch (reference CIFAR-10 branch); "
        "'shuffled': one shuffled pass over both (reference CIFAR-100 branch)",
    )


class RelabelMethod(GradientMethod):
    """Forget samples trained towards the ``--target`` plugin's targets, retain samples towards their labels.

    The loss of a batch is the mean over all its samples of the soft-target cross-entropy (forget)
    and the cross-entropy (retain): the objective of Random Labeling as benchmarked by SalUn, which
    SalUn itself reuses under its saliency mask. Subclasses only choose defaults.
    """

    options: RelabelOptions

    def __init__(self, options: RelabelOptions):
        super().__init__(options)
        self.drive = "forget-then-retain" if options.order == "forget-then-retain" else "union"

    def loss(self, ctx: UnlearnContext, batch: Batch) -> torch.Tensor:
        import torch
        import torch.nn.functional as F

        from unlearnkit.core.maths import soft_cross_entropy

        (xf, yf), (xr, yr) = batch.forget, batch.retain
        n_f, n_r = len(xf), len(xr)
        logits = ctx.model(torch.cat([xf, xr]) if n_f and n_r else (xf if n_f else xr))
        loss = logits.new_zeros(())
        if n_f:
            loss = loss + soft_cross_entropy(logits[:n_f], ctx.forget_targets(xf, yf)) * n_f
        if n_r:
            loss = loss + F.cross_entropy(logits[n_f:], yr) * n_r
        return loss / (n_f + n_r)
