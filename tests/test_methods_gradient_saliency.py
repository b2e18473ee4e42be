"""The ``saliency`` selector (SalUn's mask) and the bit-identity of masked weights."""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F

# No augmentation in the saliency pass, so the test can recompute the very same mask.
SAL = {"name": "saliency", "options": {"augment": False}}


def reference_masks(original, bench, ratio=0.5):
    """The mask written out directly: |sum of batch-mean CE grads| at theta_o, eval mode, global top-k."""
    model = copy.deepcopy(original).eval()
    split = bench.scenario.splits["train_forget"]
    grads = {n: torch.zeros_like(p) for n, p in model.named_parameters()}
    for start in range(0, len(split), 256):
        model.zero_grad()
        F.cross_entropy(model(bench.pre(split.x[start : start + 256])), split.y[start : start + 256]).backward()
        for n, p in model.named_parameters():
            grads[n] += p.grad
    flat = torch.cat([g.abs().flatten() for g in grads.values()])
    threshold = torch.sort(flat, descending=True).values[int(ratio * flat.numel()) - 1]
    return {n: g.abs() >= threshold for n, g in grads.items()}, int(ratio * flat.numel())


def test_saliency_mask_is_the_global_top_fraction_at_the_original_weights(tiny_config, workbench):
    from unlearnkit.plugins.selectors.saliency import SaliencyOptions, saliency_scores, select, top_fraction_masks

    bench = workbench(tiny_config, {"method": {"name": "salun"}, "selector": SAL})
    original, _ = bench.original()
    expected, k = reference_masks(original, bench)
    ctx = bench.context(original, seed=0)
    ctx.model.train()
    buffers = {n: b.clone() for n, b in ctx.model.named_buffers()}
    masks = top_fraction_masks(saliency_scores(ctx.model, ctx, SaliencyOptions(augment=False)), 0.5)
    assert sum(int(m.sum()) for m in masks.values()) == k
    # Same entries as the thresholded reference, up to ties at the threshold.
    agree = sum(int((masks[n] == expected[n]).sum()) for n in masks)
    assert agree >= sum(m.numel() for m in masks.values()) - 2
    # Global, not per layer: layers get very different fractions.
    fractions = [m.float().mean().item() for m in masks.values()]
    assert max(fractions) - min(fractions) > 0.2
    # Eval mode: the saliency pass must not touch BatchNorm running statistics.
    assert all(torch.equal(buffers[n], b) for n, b in ctx.model.named_buffers())
    assert ctx.model.training, "the model's mode is restored after the pass"
    # A model that is not the original is refused (reference bug: mask of a random model).
    with torch.no_grad():
        next(ctx.model.parameters()).add_(1.0)
    try:
        select(ctx.model, bench.resolved.model.spec, SaliencyOptions(), ctx)
    except Exception as exc:  # UsageError
        assert "original" in str(exc)
    else:
        raise AssertionError("a mask on modified weights must be refused")


def test_salun_masked_weights_are_bit_identical_and_gradient_mode_drifts(tiny_config, workbench):
    bench = workbench(tiny_config, {"method": {"name": "salun", "options": {"epochs": 2}}, "selector": SAL})
    original, _ = bench.original()
    masks, _ = reference_masks(original, bench)
    unlearned, _, description = bench.unlearn(original, 0)
    assert "mask restore" in description
    params_o, params_u = dict(original.named_parameters()), dict(unlearned.named_parameters())
    moved = 0
    for name, mask in masks.items():
        a, b = params_o[name].detach(), params_u[name].detach()
        assert torch.equal(a[~mask], b[~mask]), f"masked-out entries of {name} moved"
        moved += int((a[mask] != b[mask]).sum())
    assert moved > 0.5 * sum(int(m.sum()) for m in masks.values()), "selected entries should train"

    drift = workbench(
        tiny_config,
        {"method": {"name": "salun", "options": {"epochs": 2}}},
        {"selector": {"name": "saliency", "options": {"augment": False, "mask_mode": "gradient"}}},
    )
    drifted, _, _ = drift.unlearn(original, 0)
    params_d = dict(drifted.named_parameters())
    leaked = sum(int((params_o[n].detach()[~m] != params_d[n].detach()[~m]).sum()) for n, m in masks.items())
    assert leaked > 0, "the historical 'gradient' mode lets weight decay and momentum move masked-out weights"


def test_saliency_composes_with_other_methods(tiny_config, workbench):
    bench = workbench(tiny_config, {"method": {"name": "ga", "options": {"epochs": 1, "lr": 0.01}}, "selector": SAL})
    original, _ = bench.original()
    masks, _ = reference_masks(original, bench)
    unlearned, _, _ = bench.unlearn(original, 0)
    params_o, params_u = dict(original.named_parameters()), dict(unlearned.named_parameters())
    for name, mask in masks.items():
        assert torch.equal(params_o[name].detach()[~mask], params_u[name].detach()[~mask])
