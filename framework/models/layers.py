"""Helpers for selectors: find parameters by layer group, swap submodules by dotted name."""

from __future__ import annotations

from torch import nn


def params_in_groups(model: nn.Module, groups: list[str]) -> list[str]:
    """Names of parameters that live under any of the dotted module names ``groups``."""
    names = []
    for name, _ in model.named_parameters():
        if any(name == g or name.startswith(g + ".") for g in groups):
            names.append(name)
    return names


def set_submodule(model: nn.Module, dotted: str, module: nn.Module) -> None:
    parent_name, _, child = dotted.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, child, module)
