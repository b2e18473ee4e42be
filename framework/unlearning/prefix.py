"""Split a model at its frozen prefix, so forget loops compute the frozen part once.

When a selector trains only later layers (``two-layer``: middle block + head; ``adapters``:
identity modules inserted mid-network), every layer before the first trainable one computes the
same function in the student and in the frozen original: its parameters never train and its
BatchNorm layers stay in eval mode. A forget step then needs that prefix once per batch, not once
for the student and once more for the original's target; and without augmentation the prefix's
activations and the original's logits for the whole forget set can be computed once and reused
every epoch.

The split is made on a ``torch.fx`` trace of the student: a node is *live* if it calls a module
with a trainable parameter, reads a trainable parameter, or takes a live node's value. The
*boundary* is the set of non-live values computed from the input that a live node (or the output)
reads; it may hold several tensors (a residual connection crossing the cut). ``prefix`` maps the
input to the boundary values, ``suffix`` maps them to the logits. Both are ``GraphModule`` objects
that share the student's submodules, so training the suffix trains the student itself. The
original's logits come from the same suffix graph over a frozen copy of the student taken before
the first step, which computes the original function (for adapters: the identity-initialised
adapters; for two-layer: the original weights).

Not split (the caller falls back to the plain loop): models ``torch.fx`` cannot trace, selections
whose first layer already trains, and prefixes containing a layer whose output depends on training
mode while it is in training mode (dropout, a BatchNorm that still updates its statistics), since
the student's and the original's prefixes would then differ.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch import fx, nn

# Layers whose output in training mode differs from eval mode (the original runs in eval mode).
MODE_DEPENDENT = (
    nn.modules.batchnorm._BatchNorm,
    nn.modules.instancenorm._InstanceNorm,
    nn.modules.dropout._DropoutNd,
    nn.AlphaDropout,
    nn.FeatureAlphaDropout,
    nn.MultiheadAttention,
    nn.TransformerEncoderLayer,
    nn.TransformerDecoderLayer,
)


@dataclass
class PrefixSplit:
    """``suffix(*prefix(x)) == model(x)``; ``teacher_suffix`` is ``suffix`` over the step-0 weights."""

    prefix: fx.GraphModule
    suffix: fx.GraphModule
    teacher_suffix: fx.GraphModule
    boundary: list[str]  # names of the boundary values, in the suffix's argument order
    prefix_modules: list[str]  # qualified names of the modules the prefix calls


def _trainable(module: nn.Module) -> bool:
    return any(p.requires_grad for p in module.parameters())


def _attr(model: nn.Module, target: str):
    obj = model
    for part in target.split("."):
        obj = getattr(obj, part)
    return obj


def split_frozen_prefix(model: nn.Module) -> PrefixSplit | None:
    """Split ``model`` (in its current train/eval modes) at its frozen prefix; None if nothing to share."""
    try:
        graph = fx.Tracer().trace(model)
    except Exception:  # any untraceable forward (data-dependent control flow, ...): plain loop
        return None
    placeholders = [n for n in graph.nodes if n.op == "placeholder"]
    if len(placeholders) != 1:
        return None
    live: set[fx.Node] = set()
    from_input: set[fx.Node] = set(placeholders)
    for node in graph.nodes:
        inputs = node.all_input_nodes
        if any(n in live for n in inputs):
            live.add(node)
        elif node.op == "call_module" and _trainable(_attr(model, node.target)):
            live.add(node)
        elif node.op == "get_attr" and isinstance(_attr(model, node.target), nn.Parameter):
            if _attr(model, node.target).requires_grad:
                live.add(node)
        if node not in live and any(n in from_input for n in inputs):
            from_input.add(node)
    output = next(n for n in graph.nodes if n.op == "output")
    frozen = [n for n in graph.nodes if n in from_input and n not in live and n.op != "output"]
    boundary = [n for n in frozen if any(u in live or u is output for u in n.users)]
    if not live or boundary == placeholders:
        return None  # nothing trains, or the first layer already trains: nothing to share
    prefix_modules = [n.target for n in frozen if n.op == "call_module"]
    for name in prefix_modules:
        module = _attr(model, name)
        if module.training and isinstance(module, MODE_DEPENDENT):
            return None

    prefix_graph = fx.Graph()
    env: dict[fx.Node, fx.Node] = {}
    for node in graph.nodes:  # everything not live (constants included); dead code goes below
        if node not in live and node.op != "output":
            env[node] = prefix_graph.node_copy(node, lambda n: env[n])
    prefix_graph.output(tuple(env[n] for n in boundary))

    suffix_graph = fx.Graph()
    env = {}
    for i, node in enumerate(boundary):
        env[node] = suffix_graph.placeholder(f"boundary_{i}")
    for node in graph.nodes:
        if node in env or node.op == "placeholder" or node in frozen:
            continue
        env[node] = suffix_graph.node_copy(node, lambda n: env[n])
    prefix = fx.GraphModule(model, prefix_graph)
    suffix = fx.GraphModule(model, suffix_graph)
    prefix.graph.eliminate_dead_code()
    prefix.recompile()
    suffix.graph.eliminate_dead_code()
    suffix.recompile()
    teacher = copy.deepcopy(model).eval().requires_grad_(False)
    teacher_suffix = fx.GraphModule(teacher, copy.deepcopy(suffix.graph)).eval()
    return PrefixSplit(prefix, suffix, teacher_suffix, [n.name for n in boundary], prefix_modules)


@torch.no_grad()
def run_prefix(split: PrefixSplit, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
    out = split.prefix(x)
    return out if isinstance(out, tuple) else (out,)


# Above this many bytes of prefix activations, forget loops recompute the prefix per batch.
CACHE_LIMIT_BYTES = 2 * 1024**3


class ForgetPath:
    """Student logits and original logits on forget batches, by the cheapest exact route.

    Built lazily on the first forget batch of :meth:`UnlearnContext.fit` (so the student's
    train/eval modes are already set): with a frozen prefix the prefix runs once per batch and
    feeds the student's and the original's suffixes; without augmentation the prefix activations
    and the original's logits of the whole forget set are computed once, before the first step,
    and each step reads its rows.
    """

    def __init__(self, student: nn.Module, original: nn.Module, inputs, forget_x: torch.Tensor, augment: bool):
        """``inputs(uint8, augment=False)`` preprocesses; ``augment``: whether batches are augmented at all."""
        self.student, self.original, self.inputs = student, original, inputs
        self.forget_x, self.augment = forget_x, augment
        self.split: PrefixSplit | None = None
        self.cached: tuple[torch.Tensor, ...] | None = None  # boundary values of every forget row
        self.cached_original: torch.Tensor | None = None  # the original's logits of every forget row
        self.built = False
        self.kind = "plain"

    def build(self) -> None:
        self.built = True
        self.split = split_frozen_prefix(self.student)
        self.kind = "shared-prefix" if self.split is not None else "plain"
        if self.augment:
            return
        boundary, original = [], []
        with torch.no_grad():
            for start in range(0, len(self.forget_x), 512):
                x = self.inputs(self.forget_x[start : start + 512], augment=False)
                if self.split is None:
                    original.append(self.original(x))
                    continue
                h = run_prefix(self.split, x)
                boundary.append(h)
                original.append(self.split.teacher_suffix(*h))
        self.cached_original = torch.cat(original)
        if self.split is not None:
            size = sum(t.numel() * t.element_size() for h in boundary for t in h)
            if size <= CACHE_LIMIT_BYTES:
                self.cached = tuple(torch.cat(parts) for parts in zip(*boundary, strict=True))
        self.kind = ("cached-prefix" if self.cached is not None else self.kind) + "+cached-original"

    def __call__(self, x: torch.Tensor, rows: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """(student logits with gradients, original logits without) for forget inputs ``x`` at ``rows``."""
        if not self.built:
            self.build()
        if self.cached_original is not None and rows is not None:
            original = self.cached_original[rows]
            if self.cached is not None:
                return self.split.suffix(*(h[rows] for h in self.cached)), original
            if self.split is not None:
                return self.split.suffix(*run_prefix(self.split, x)), original
            return self.student(x), original
        if self.split is None:
            logits = self.student(x)
            with torch.no_grad():
                return logits, self.original(x)
        h = run_prefix(self.split, x)
        logits = self.split.suffix(*h)
        with torch.no_grad():
            return logits, self.split.teacher_suffix(*h)
