"""The unlearning context a method receives, and the engine's training loop for gradient methods."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from unlearnkit.core.divergence import check_epoch
from unlearnkit.core.records import ModelSpec, Options
from unlearnkit.data.scenarios import SPLIT_NAMES, ImageDataset, Preprocess, Scenario, Split, batches
from unlearnkit.models.training import amp_autocast, channels_last, in_layout, to_layout
from unlearnkit.unlearning.methods import BOTH_SPLITS, Batch, GradientMethod, GradientOptions, loop_reads
from unlearnkit.unlearning.prefix import ForgetPath
from unlearnkit.unlearning.selection import MaskEnforcer, Selection, set_train_mode

# The data group (``MethodSpec.needs``) each split belongs to: the train splits are their own
# group, every test split is "test".
SPLIT_NEEDS = {name: name.removeprefix("train_") if name.startswith("train_") else "test" for name in SPLIT_NAMES}


@dataclass
class UnlearnContext:
    """Everything a method may use. ``model`` is the method's own copy of the original model."""

    model: nn.Module
    original: nn.Module  # frozen, eval mode, never trained
    data: ImageDataset
    scenario: Scenario
    pre: Preprocess
    device: torch.device
    seed: int
    model_spec: ModelSpec
    model_options: Options
    build_model: Callable[[], nn.Module]  # a freshly initialised model of the same architecture
    target: Callable[..., torch.Tensor] | None = None  # (original_logits, removed, generator) -> probs
    selection: Selection | None = None
    emit: Callable[[str, int, dict[str, float]], None] = lambda phase, epoch, logs: None
    progress: Callable[[int, int], None] = lambda done, total: None
    generator: torch.Generator = field(default_factory=torch.Generator)
    extra_seconds: float = 0.0  # methods that reuse cached work report its cost here
    # The engine's (excluded indices) -> (model, provenance) through the model cache; use ``train_without``.
    _train_model: Callable[..., Any] | None = None
    train_recipe: Any = None  # the run's RecipeConfig (its ``amp`` switches mixed precision on a GPU)
    notes: dict[str, Any] = field(default_factory=dict)  # facts about the unlearning, for metrics.json
    forget_path: ForgetPath | None = None  # set by fit(): the cheapest exact route for forget batches

    @property
    def num_classes(self) -> int:
        return self.data.num_classes

    needs: tuple[str, ...] = ("forget", "retain", "test")  # data the method declared (MethodSpec.needs)

    def split(self, name: str) -> Split:
        """A data split, if the method declared the data it belongs to in ``MethodSpec.needs``."""
        group = SPLIT_NEEDS.get(name)
        if group is None:
            raise KeyError(f"unknown split {name!r}; available: {', '.join(SPLIT_NEEDS)}")
        if group not in self.needs:
            raise PermissionError(f"split {name!r} needs {group!r} in the method's MethodSpec.needs {self.needs}")
        return self.scenario.splits[name]

    def train_without(self, excluded: torch.Tensor) -> nn.Module:
        """A model trained from scratch with the run's recipe and seed on the training set minus ``excluded``.

        It comes through the model cache (for ``scenario.train_forget`` it is the very retrained
        reference). On a cache hit the training time recorded with the model is added to
        ``extra_seconds``, so reusing it does not look free.
        """
        if self._train_model is None:
            raise RuntimeError("this context cannot train models (no model cache attached)")
        model, provenance = self._train_model(excluded)
        if provenance.get("cache_hit"):
            self.extra_seconds += provenance["train_seconds"]
        return model

    def inputs(self, x_uint8: torch.Tensor, augment: bool = False) -> torch.Tensor:
        return self.pre(x_uint8, augment=augment, generator=self.generator)

    def removed(self, labels: torch.Tensor) -> torch.Tensor:
        """Bool mask (batch, classes) of the classes forget targets must give zero mass."""
        mask = torch.zeros(len(labels), self.num_classes, dtype=torch.bool, device=labels.device)
        if self.scenario.kind == "class":
            mask[:, self.scenario.forget_classes] = True
        else:
            mask[torch.arange(len(labels), device=labels.device), labels] = True
        return mask

    @torch.no_grad()
    def original_logits(self, x: torch.Tensor) -> torch.Tensor:
        return self.original(x)

    def forget_targets(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Targets for forget samples from the chosen target plugin and the frozen original model."""
        if self.target is None:
            raise RuntimeError("this method was configured without a forget target")
        with torch.no_grad():
            return self.target(self.original_logits(x), self.removed(y), self.generator)

    def forget_logits_and_targets(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        """The student's logits (with gradients) on ``batch.forget`` and the forget targets.

        Equal to ``(self.model(x), self.forget_targets(x, y))``; inside :meth:`fit` the frozen
        prefix of the network (if the selection has one) runs once for both models, and without
        augmentation the original's logits and the prefix activations come from a one-off pass
        over the forget set (``unlearnkit.unlearning.prefix``).
        """
        x, y = batch.forget
        if self.forget_path is None:
            return self.model(x), self.forget_targets(x, y)
        if self.target is None:
            raise RuntimeError("this method was configured without a forget target")
        logits, original = self.forget_path(x, batch.forget_rows)
        with torch.no_grad():
            return logits, self.target(original, self.removed(y), self.generator)

    def fit(
        self,
        method: GradientMethod,
        options: GradientOptions,
        drive: str = "forget",
        paired: tuple[str, ...] = (),
        retain_fraction: float = 1.0,
    ) -> None:
        """The engine's training loop for gradient methods.

        ``drive`` is the split one epoch passes over: ``"forget"``, ``"retain"``, ``"union"``
        (both, shuffled together) or ``"forget-then-retain"`` (a pass over the forget split, then
        one over the retain split, as the SalUn family's RL does). ``paired`` splits are cycled
        alongside, one batch per step.
        ``retain_fraction`` < 1 uses a seeded random subset of the retain split.
        """
        model, selection = self.model, self.selection
        params = [p for p in model.parameters() if p.requires_grad]
        opt = method.make_optimizer(params, options)
        masks = MaskEnforcer(selection)
        both = drive in BOTH_SPLITS
        used = loop_reads(drive, paired)
        sources = {name: self.split(f"train_{name}") for name in sorted(used)}
        if retain_fraction < 1.0 and "retain" in sources:
            r = sources["retain"]
            keep = torch.randperm(len(r), generator=self.generator)[: max(1, int(retain_fraction * len(r)))]
            sources["retain"] = r.take(keep)
        dev = {k: (s.x.to(self.device), s.y.to(self.device), s.index) for k, s in sources.items()}
        n_drive = len(sources["forget"]) + len(sources["retain"]) if both else len(sources[drive])
        steps = -(-n_drive // options.batch_size)
        if drive == "forget-then-retain":
            n_f = len(sources["forget"])
            steps = -(-n_f // options.batch_size) + -(-(n_drive - n_f) // options.batch_size)
        total, done = steps * options.epochs, 0
        # bf16 autocast on CUDA when the training recipe uses it (CPU runs stay float32); the
        # recipe's memory layout (channels-last) for both models, the weights' values unchanged.
        amp = self.device.type == "cuda" and bool(getattr(self.train_recipe, "amp", False))
        nhwc = channels_last(self.train_recipe, self.device)
        cyclers = {name: _Cycler(len(sources[name]), options.batch_size, self.generator) for name in paired}
        if "forget" in dev:
            augment = options.augment and self.pre.augment != "none"
            self.forget_path = ForgetPath(model, self.original, self.inputs, dev["forget"][0], augment)
        with in_layout((model, self.original), nhwc, self.device):
            for epoch in range(options.epochs):
                if method.on_epoch_start(self, epoch) is False:  # a method's early stop (e.g. LoTUS)
                    break
                set_train_mode(model, selection, options.bn)
                loss_sum, count = torch.zeros((), device=self.device), 0
                if drive == "forget-then-retain":
                    n_f, bs, gen = len(sources["forget"]), options.batch_size, self.generator
                    retain_order = (b + n_f for b in batches(n_drive - n_f, bs, shuffle=True, generator=gen))
                    order = itertools.chain(batches(n_f, bs, shuffle=True, generator=gen), retain_order)
                else:
                    order = batches(n_drive, options.batch_size, shuffle=True, generator=self.generator)
                for idx in order:
                    parts: dict[str, torch.Tensor] = {}
                    if both:
                        n_f = len(sources["forget"])
                        parts["forget"], parts["retain"] = idx[idx < n_f], idx[idx >= n_f] - n_f
                    else:
                        parts[drive] = idx
                    for name, cycler in cyclers.items():
                        parts[name] = cycler.next()
                    batch = self._batch(parts, dev, options.augment, nhwc)
                    with amp_autocast(self.device, amp):
                        loss = method.loss(self, batch)
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    masks.before_step()
                    opt.step()
                    masks.after_step()
                    loss_sum += loss.detach()
                    count += 1
                    done += 1
                    self.progress(done, total)
                logs = {"loss": (loss_sum / max(count, 1)).item(), **method.epoch_logs(self, epoch)}
                check_epoch(
                    logs["loss"],
                    params,
                    "unlearning",
                    epoch,
                    options.epochs,
                    f"try a smaller learning rate than {options.lr:g} (--set lr=...) or fewer epochs (--set epochs=...)",
                )
                self.emit("unlearn", epoch, logs)
        model.eval()
        if self.forget_path is not None and self.forget_path.built:
            self.notes["forget_path"] = self.forget_path.kind
        self.forget_path = None

    def _batch(self, parts: dict[str, torch.Tensor], dev: dict, augment: bool, nhwc: bool) -> Batch:
        """The step's ``Batch``: per split, preprocessed inputs in the loop's layout, labels, indices and rows."""
        batch = Batch()
        for name, part in parts.items():
            x, y, index = dev[name]
            # Asynchronous: a blocking CPU->GPU copy waits for the GPU queue on every step.
            part_dev = part.to(self.device, non_blocking=True)
            setattr(batch, name, (to_layout(self.inputs(x[part_dev], augment=augment), nhwc), y[part_dev]))
            setattr(batch, f"{name}_index", index[part])
            setattr(batch, f"{name}_rows", part_dev)
        return batch


class _Cycler:
    """Endless shuffled index batches over a split, for data paired with the driving split."""

    def __init__(self, n: int, batch_size: int, generator: torch.Generator):
        self.n, self.batch_size, self.generator = n, batch_size, generator
        self.it = iter(())

    def next(self) -> torch.Tensor:
        batch = next(self.it, None)
        if batch is None:
            self.it = batches(self.n, self.batch_size, shuffle=True, generator=self.generator)
            batch = next(self.it)
        return batch


def frozen_copy(model: nn.Module) -> nn.Module:
    """A deep copy in eval mode with gradients off: a teacher that can never change."""
    teacher = copy.deepcopy(model).eval()
    teacher.requires_grad_(False)
    return teacher
