"""Layer groups derived from a model's module tree, for architectures nobody declared groups for.

The ``two-layer`` and ``adapters`` selectors need a model's layer groups in forward order, its
``middle`` group and its classifier ``head`` (see :class:`unlearnkit.ModelSpec`). Built-in models
declare them; the ``torchvision`` and ``timm`` model plugins and models handed to the Python API
get them from here:

- the head is the given module (timm's ``get_classifier()``, torchvision's head attribute), or
  the last ``nn.Linear`` registered;
- the body groups are the top-level children with parameters (the head's branch left out); while
  fewer than three of them are stages (two or more layers with parameters), the deepest one is
  replaced by its children, so VGG's ``features`` becomes its layers and ViT's ``blocks`` its
  blocks, while ResNet's four stages stay whole;
- the middle group is the penultimate of the deep stages (at least half the median number of layers,
  which leaves out stems, downsampling layers and final norms): ResNet's ``layer3`` of four
  stages, as the seed paper's Table 7 (arXiv:2506.20893) picks for RWFT-2-O.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from torch import nn

MIN_STAGES = 3  # fewer body groups of two or more layers than this: split the deepest one


def _count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def _leaves(module: nn.Module) -> int:
    return sum(1 for m in module.modules() if any(True for _ in m.parameters(recurse=False)))


def module_name(model: nn.Module, target: nn.Module) -> str:
    for name, module in model.named_modules():
        if module is target and name:
            return name
    raise ValueError("the classifier module is not part of the model")


def last_linear(model: nn.Module, within: str = "") -> str:
    """Dotted name of the last ``nn.Linear`` (or, failing that, ``nn.Conv2d``) registered under ``within``."""
    root = model.get_submodule(within) if within else model
    for kinds in ((nn.Linear,), (nn.Conv2d,)):
        names = [n for n, m in root.named_modules() if isinstance(m, kinds)]
        if names:
            return f"{within}.{names[-1]}".strip(".") if names[-1] else within
    raise ValueError(f"no linear layer found under {within or 'the model'!r}")


def derive(model: nn.Module, head: str | None = None) -> tuple[tuple[str, ...], str, str]:
    """``(groups, middle, head)`` of ``model`` by the rules of this module's docstring."""
    head = head or last_linear(model)
    model.get_submodule(head)  # raises AttributeError for a wrong name
    # The head's whole top-level branch (VGG's ``classifier``, timm's ``head`` with its norm) is not body.
    top = head.split(".")[0]
    body = [(name, child) for name, child in model.named_children() if _count(child) and name != top]
    while True:
        stages = [(n, m) for n, m in body if _leaves(m) >= 2]
        if len(stages) >= MIN_STAGES or not body:
            break
        name, biggest = max(stages or body, key=lambda item: _leaves(item[1]))
        children = [(f"{name}.{n}", c) for n, c in biggest.named_children() if _count(c)]
        if len(children) < 2:
            break
        at = [n for n, _ in body].index(name)
        body[at : at + 1] = children
    if not body:
        raise ValueError("the model has no layers besides its head")
    names = [n for n, _ in body]
    depth = {n: _leaves(m) for n, m in body if _leaves(m) >= 2}
    if depth:
        # The deep stages, not the 2-layer stems, downsamplers and final norms between them.
        median = sorted(depth.values())[len(depth) // 2]
        stages = [n for n in names if depth.get(n, 0) >= median / 2]
    else:
        stages = names
    middle = stages[-2] if len(stages) >= 2 else stages[0]
    return (*names, head), middle, head


def completed_spec(spec: Any, options: Any, model: nn.Module) -> Any:
    """``spec`` with groups, middle and head filled in from ``model`` when the plugin derives them."""
    if getattr(spec, "layout", None) is None:
        return spec
    groups, middle, head = spec.layout(model, options)
    return dataclasses.replace(spec, groups=groups, middle=middle, head=head)


def describe_groups(
    registry: Any, name: str, num_classes: int = 10, input_shape: tuple[int, int, int] = (3, 224, 224)
) -> str:
    """The layer groups of model ``name`` (``NAME`` or ``NAME:ARCH``), as ``unlearn describe model`` shows them."""
    from unlearnkit.core.config import model_name_and_options

    plugin, options = model_name_and_options(name, None)
    spec = registry.spec("model", plugin)
    if spec.layout is None:
        return f"layer groups: {', '.join(spec.groups)}; middle: {spec.middle}; head: {spec.head}"
    validated = registry.options("model", plugin, options)
    spec = completed_spec(spec, validated, spec.load()(validated, num_classes, input_shape))
    return (
        f"layer groups (derived from the module tree): {', '.join(spec.groups)}\n"
        f"middle: {spec.middle} (two-layer trains it with the head; adapters insert after it); head: {spec.head}\n"
        "override with --set model.middle=NAME / --set model.head=NAME, or the selector's own options"
    )
