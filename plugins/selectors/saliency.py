"""Selector ``saliency``: SalUn's weight-saliency mask, the entries most salient to the forget loss.

Fan et al., "SalUn: Empowering Machine Unlearning via Gradient-based Weight Saliency in both Image
Classification and Generation", ICLR 2024, section 4; reference implementation
OPTML-Group/Unlearn-Saliency ``Classification/generate_mask.py::save_gradient_ratio`` (commit
a6e89fd).

The saliency of a weight entry is ``|g|`` with ``g`` the sum over forget batches of the gradient of
the batch-mean cross-entropy on the true labels, taken at the original weights with the model in
eval mode (running BatchNorm statistics used, not updated; no optimizer step). The mask keeps the
``ratio`` fraction of entries with the largest saliency, ranked globally over every parameter
tensor (conv, linear, biases and BatchNorm affine alike), not per layer. Ties at the threshold are
broken by ``torch.topk``, so exactly ``floor(ratio * N)`` entries train.

The engine enforces the mask (``unlearnkit.unlearning.selection.MaskEnforcer``):

* ``mask_mode="restore"`` (default, the current reference after its "Fix weight decay #33"):
  masked-out entries are put back to their original value after every step, so they are
  bit-identical after unlearning whatever the weight decay or momentum. Tensors with no selected
  entry do not train at all, and a BatchNorm layer none of whose parameters is selected keeps its
  running statistics.
* ``mask_mode="gradient"`` (the paper-era reference, methods.md section 17 item 2): gradients are
  multiplied by the mask and nothing else, so weight decay and momentum still move masked-out
  weights. Use it only to reproduce the published SalUn numbers.

Two reference quirks are fixed: the mask is asserted to be computed on the original weights (the
reference silently used a random model for raw state-dict checkpoints, section 17 item 1), and the
mask comes from the same data split as the unlearning (section 17 item 13).

The saliency is a property of the forget set, so this selector declares the forget data itself
(``SelectorSpec.needs``), whatever data the method declared; it composes with any gradient method (``salun`` uses it by
default; ``--method rl --select saliency`` is SalUn, ``--method ft --select saliency`` is
saliency-masked fine-tuning).
"""

from __future__ import annotations

from typing import Literal

from unlearnkit import Field, Options, SelectorSpec, hookimpl


class SaliencyOptions(Options):
    ratio: float = Field(
        0.5, gt=0, le=1, description="fraction of all parameter entries that train (reference with_0.5.pt: 0.5)"
    )
    batch_size: int = Field(256, ge=1, description="batch size of the saliency pass (reference: 256)")
    augment: bool = Field(True, description="use the training augmentation in the saliency pass (reference: yes)")
    mask_mode: Literal["restore", "gradient"] = Field(
        "restore",
        description="'restore': masked-out weights stay bit-identical (current reference); "
        "'gradient': only gradients are masked, so weight decay and momentum drift them (paper-era reference)",
    )


def saliency_scores(model, ctx, options: SaliencyOptions) -> dict:
    """``{name: |sum over forget batches of grad CE_mean|}`` at the model's current weights, eval mode."""
    import torch
    import torch.nn.functional as F

    from unlearnkit.helpers import batches

    forget = ctx.split("train_forget")
    params = dict(model.named_parameters())
    grads = {name: torch.zeros_like(p) for name, p in params.items()}
    was_training = model.training
    requires = {name: p.requires_grad for name, p in params.items()}
    model.eval()
    for p in params.values():
        p.requires_grad_(True)
    try:
        x_all, y_all = forget.x.to(ctx.device), forget.y.to(ctx.device)
        for idx in batches(len(forget), options.batch_size, shuffle=False):
            idx = idx.to(ctx.device)
            loss = F.cross_entropy(model(ctx.inputs(x_all[idx], augment=options.augment)), y_all[idx])
            names = list(params)
            for name, g in zip(names, torch.autograd.grad(loss, [params[n] for n in names]), strict=True):
                grads[name] += g
    finally:
        for name, p in params.items():
            p.requires_grad_(requires[name])
        model.train(was_training)
    return {name: g.abs() for name, g in grads.items()}


def top_fraction_masks(scores: dict, ratio: float) -> dict:
    """Boolean masks of the ``floor(ratio * N)`` globally largest scores (True = trains)."""
    import torch

    names = list(scores)
    flat = torch.cat([scores[n].flatten() for n in names])
    k = int(ratio * flat.numel())
    chosen = torch.zeros(flat.numel(), dtype=torch.bool, device=flat.device)
    if k > 0:
        chosen[torch.topk(flat, k, sorted=False).indices] = True
    masks, start = {}, 0
    for name in names:
        n = scores[name].numel()
        masks[name] = chosen[start : start + n].view_as(scores[name])
        start += n
    return masks


def select(model, model_spec, options: SaliencyOptions, ctx):
    import torch

    from unlearnkit import Selection, UsageError

    original = dict(ctx.original.named_parameters())
    for name, p in model.named_parameters():
        if name not in original or not torch.equal(p.detach(), original[name]):
            raise UsageError("saliency: the mask must be computed on the original weights; the model differs")
    if len(ctx.split("train_forget")) == 0:
        raise UsageError("saliency: the forget set is empty")
    masks = top_fraction_masks(saliency_scores(model, ctx, options), options.ratio)
    if options.mask_mode == "restore":
        # Entries outside the mask are restored after every step, so tensors without a selected
        # entry need not train at all (and then their BatchNorm layers keep their statistics).
        trainable = [n for n, m in masks.items() if bool(m.any())]
        kept = {n: m for n, m in masks.items() if n in trainable and not bool(m.all())}
    else:
        # Historical drift: every tensor is handed to the optimizer and only gradients are masked.
        trainable = list(masks)
        kept = {n: m for n, m in masks.items() if not bool(m.all())}
    selected = sum(int(m.sum()) for m in masks.values())
    total = sum(m.numel() for m in masks.values())
    return Selection(
        model,
        trainable,
        description=f"saliency top {options.ratio:g} ({selected}/{total} entries, mask {options.mask_mode})",
        masks=kept,
        mask_mode=options.mask_mode,
    )


@hookimpl
def register_selectors(register):
    register(
        SelectorSpec(
            name="saliency",
            summary="SalUn weight-saliency mask: global top fraction of |grad of the forget loss| at the original weights",
            options=SaliencyOptions,
            factory=select,
            needs=("forget",),  # the saliency is a property of the forget set
        )
    )
