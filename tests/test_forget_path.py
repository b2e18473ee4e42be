"""Cheap forget loops (issue 18): the shared frozen prefix and the cached forget set are exact.

The shared-prefix and cached paths must give the same loss and gradients as the plain loop (the
student's full forward plus the original's full forward), keep every frozen parameter and
BatchNorm buffer bit-identical, and RWFT's early stop must stop and be recorded.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from unlearnkit.core.maths import soft_cross_entropy
from unlearnkit.unlearning.methods import Batch
from unlearnkit.unlearning.prefix import ForgetPath, run_prefix, split_frozen_prefix
from unlearnkit.unlearning.selection import set_train_mode


@pytest.fixture
def bench(tiny_config, workbench):
    def _bench(selector: str, **options):
        layer = {"method": {"name": "rwft", "options": options}, "selector": {"name": selector}}
        return workbench(tiny_config, layer)

    return _bench


def selected_ctx(b, selector: str):
    """A context as ``Workbench.unlearn`` makes it: selection applied, train modes set."""
    original, _ = b.original()
    ctx = b.context(original, 0)
    r = b.resolved
    selection = r.selector.spec.load()(ctx.model, r.model.spec, r.selector.options, ctx)
    selection.apply()
    ctx.model, ctx.selection = selection.model, selection
    set_train_mode(ctx.model, selection, "eval")
    return ctx


def loss_and_grads(ctx, batch):
    logits, targets = ctx.forget_logits_and_targets(batch)
    loss = soft_cross_entropy(logits, targets)
    params = [p for p in ctx.model.parameters() if p.requires_grad]
    return loss.detach(), torch.autograd.grad(loss, params)


@pytest.mark.parametrize("selector", ["two-layer", "adapters"])
@pytest.mark.parametrize("augment", [True, False])
def test_shared_and_cached_paths_match_the_plain_loss_and_gradients(bench, selector, augment):
    ctx = selected_ctx(bench(selector), selector)
    forget = ctx.scenario.splits["train_forget"]
    rows = torch.tensor([3, 0, 7, 5, 11])
    batch = Batch(forget=(ctx.inputs(forget.x[rows]), forget.y[rows]), forget_rows=rows)
    plain_loss, plain_grads = loss_and_grads(ctx, batch)  # no forget_path: the plain route
    ctx.forget_path = ForgetPath(ctx.model, ctx.original, ctx.inputs, forget.x, augment=augment)
    loss, grads = loss_and_grads(ctx, batch)
    assert ctx.forget_path.split is not None
    expected = "shared-prefix" if augment else "cached-prefix+cached-original"
    assert ctx.forget_path.kind == expected
    assert torch.allclose(loss, plain_loss, rtol=1e-5, atol=1e-6)
    for g, p in zip(grads, plain_grads, strict=True):
        assert torch.allclose(g, p, rtol=1e-4, atol=1e-6)
    # The prefix stops where training starts: layer1 for two-layer, the middle group's base for adapters.
    first = "layer1" if selector == "two-layer" else "layer2.base"
    assert all(name.startswith(("layer1", first)) for name in ctx.forget_path.split.prefix_modules)


def test_no_prefix_to_share_when_the_first_layer_trains_or_a_prefix_layer_is_stochastic():
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.Dropout(0.5), nn.Flatten(), nn.Linear(4 * 6 * 6, 3))
    assert split_frozen_prefix(model) is None  # every parameter trains
    model[0].requires_grad_(False)
    assert split_frozen_prefix(model) is None  # dropout in training mode would differ from the original
    model[1].eval()
    split = split_frozen_prefix(model)
    assert split is not None and split.prefix_modules == ["0", "1", "2"]
    x = torch.randn(2, 1, 8, 8)
    assert torch.equal(split.suffix(*run_prefix(split, x)), model(x))


def unlearned_state(b, monkeypatch=None):
    original, _ = b.original()
    model, _, _ = b.unlearn(original, 0)
    return original.state_dict(), model.state_dict(), b.notes


@pytest.mark.parametrize("selector", ["two-layer", "adapters"])
def test_rwft_fast_loop_matches_plain_loop_and_keeps_frozen_tensors(bench, selector, monkeypatch):
    options = {"epochs": 2, "augment": False, "lr": 0.01}
    before, fast, notes = unlearned_state(bench(selector, **options))
    assert notes["forget_path"] == "cached-prefix+cached-original"
    monkeypatch.setattr("unlearnkit.unlearning.context.ForgetPath", lambda *args, **kwargs: None)
    _, plain, plain_notes = unlearned_state(bench(selector, **options))
    assert "forget_path" not in plain_notes
    assert fast.keys() == plain.keys()
    for key in fast:
        assert torch.allclose(fast[key].float(), plain[key].float(), rtol=1e-4, atol=1e-5), key
    trained = "layer2." if selector == "two-layer" else None
    changed = 0
    for key, value in before.items():  # frozen parameters and BN buffers stay bit-identical
        name = key if selector == "two-layer" else key.replace("layer2.", "layer2.base.").replace("fc.", "fc.base.")
        if trained and key.startswith((trained, "fc.")):
            changed += not torch.equal(value, fast[name])
            if "running" in key or "num_batches" in key:
                assert torch.equal(value, fast[name]), key  # bn="eval": statistics frozen
            continue
        assert torch.equal(value, fast[name]), key
    assert selector == "adapters" or changed


def test_rwft_early_stop_stops_and_is_recorded(bench, run_config, tiny_config):
    b = bench("two-layer", epochs=6, tolerance=10.0)
    _, _, notes = unlearned_state(b)
    assert notes["stopped_early"] is True and notes["epochs_run"] == 1
    assert 0 <= notes["final_kl"] <= 10.0
    _, _, notes = unlearned_state(bench("two-layer", epochs=2))
    assert notes["stopped_early"] is False and notes["epochs_run"] == 2
    layer = {"method": {"name": "rwft", "options": {"epochs": 6, "tolerance": 10.0}}, "metrics": ["accuracy"]}
    result = run_config(tiny_config, layer, write=True)
    import json
    from pathlib import Path

    written = json.loads((Path(result.run_dir) / "metrics.json").read_text())
    assert written["unlearn"]["stopped_early"] is True and written["unlearn"]["epochs_run"] == 1


def test_amp_autocast_is_bf16_when_enabled_and_a_no_op_otherwise():
    from unlearnkit.models.training import amp_autocast

    a, b = torch.randn(4, 8), torch.randn(8, 3)
    with amp_autocast(torch.device("cpu"), False):
        assert torch.equal(a @ b, torch.matmul(a, b)) and (a @ b).dtype == torch.float32
    with amp_autocast(torch.device("cpu"), True):  # the CUDA path's context, exercised on the CPU
        assert (a @ b).dtype == torch.bfloat16
