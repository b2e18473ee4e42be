"""Parameter selection: what a selector returns and how the engine enforces it.

A selector decides which parameters (or which entries of them) train. The engine then sets
``requires_grad``, keeps every BatchNorm layer without trainable parameters in eval mode so its
running statistics cannot move, and after every optimizer step restores masked-out entries
exactly, so no weight decay or momentum can make them drift.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import torch
from torch import nn

BN_TYPES = (nn.modules.batchnorm._BatchNorm,)


@dataclass
class Selection:
    model: nn.Module  # the model to train; a selector may wrap or extend it (adapters)
    trainable: list[str]  # names of parameters that train
    description: str = ""
    masks: dict[str, torch.Tensor] = field(default_factory=dict)  # name -> bool, True = entry trains
    mask_mode: Literal["restore", "gradient"] = "restore"

    def apply(self) -> list[nn.Parameter]:
        """Set ``requires_grad`` from the selection; return the trainable parameters."""
        names = set(self.trainable)
        params = []
        for name, p in self.model.named_parameters():
            p.requires_grad_(name in names)
            if name in names:
                params.append(p)
        missing = names - {n for n, _ in self.model.named_parameters()}
        if missing:
            raise ValueError(f"selection names unknown parameters: {sorted(missing)[:5]}")
        return params

    def frozen_norm_layers(self) -> list[nn.Module]:
        """BatchNorm layers none of whose parameters train: they must stay in eval mode."""
        names = set(self.trainable)
        out = []
        for mod_name, module in self.model.named_modules():
            if isinstance(module, BN_TYPES):
                own = [f"{mod_name}.{n}" if mod_name else n for n, _ in module.named_parameters(recurse=False)]
                if not any(n in names for n in own):
                    out.append(module)
        return out


def select_all(model: nn.Module, description: str = "all parameters") -> Selection:
    return Selection(model, [n for n, _ in model.named_parameters()], description)


def set_train_mode(model: nn.Module, selection: Selection | None, bn: str) -> None:
    """``model.train()``, then BatchNorm layers back to eval where they must not update.

    ``bn="eval"`` freezes every BatchNorm layer's statistics; ``bn="train"`` lets the layers of
    selected parameters update theirs.
    """
    model.train()
    for module in model.modules():
        if isinstance(module, BN_TYPES) and bn == "eval":
            module.eval()
    if selection is not None:
        for module in selection.frozen_norm_layers():
            module.eval()


class MaskEnforcer:
    """Keeps masked-out parameter entries exactly at their starting values."""

    def __init__(self, selection: Selection | None):
        self.items: list[tuple[nn.Parameter, torch.Tensor, torch.Tensor]] = []
        self.mode = selection.mask_mode if selection else "restore"
        if selection is None:
            return
        params = dict(selection.model.named_parameters())
        for name, mask in selection.masks.items():
            p = params[name]
            mask = mask.to(p.device).bool()
            self.items.append((p, mask, p.detach().clone()))

    def before_step(self) -> None:
        if self.mode == "gradient":
            for p, mask, _ in self.items:
                if p.grad is not None:
                    p.grad.mul_(mask)

    @torch.no_grad()
    def after_step(self) -> None:
        if self.mode == "restore":
            for p, mask, start in self.items:
                p.copy_(torch.where(mask, p, start))
