"""Selectors train exactly what they declare; everything else, BatchNorm buffers included, stays bit-identical."""

import copy

import pytest
import torch

RWFT = {"method": {"name": "rwft", "options": {"epochs": 2}}}


def changed_tensors(before: dict, after: dict) -> set[str]:
    return {k for k in before if not torch.equal(before[k], after[k])}


@pytest.fixture
def original(tiny_config, workbench):
    bench = workbench(tiny_config, RWFT, {"selector": {"name": "two-layer"}})
    model, _ = bench.original()
    return bench, model


def test_two_layer_trains_exactly_its_groups(original):
    bench, model = original
    before = {k: v.clone() for k, v in model.state_dict().items()}
    unlearned, _, description = bench.unlearn(model, seed=0)
    after = unlearned.state_dict()
    assert set(after) == set(before)
    changed = changed_tensors(before, after)
    assert changed, "unlearning changed nothing"
    assert all(k.startswith(("layer2.", "fc.")) for k in changed), changed
    # every parameter of the two groups moved; BN statistics are frozen by RWFT's default bn="eval"
    params = {n for n, _ in unlearned.named_parameters()}
    assert {k for k in params if k.startswith(("layer2.", "fc."))} <= changed
    assert not any("running_" in k or "num_batches" in k for k in changed)
    assert "layer2" in description and "fc" in description
    # the original model handed to the method is untouched
    assert not changed_tensors(before, model.state_dict())


def test_two_layer_with_bn_train_only_updates_selected_bn(tiny_config, workbench):
    bench = workbench(
        tiny_config,
        {"method": {"name": "rwft", "options": {"epochs": 1, "bn": "train"}}},
        {"selector": {"name": "two-layer"}},
    )
    model, _ = bench.original()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    unlearned, _, _ = bench.unlearn(model, seed=0)
    changed = changed_tensors(before, unlearned.state_dict())
    assert "layer2.1.running_mean" in changed  # a trained group's BN may update in train mode
    assert all(k.startswith(("layer2.", "fc.")) for k in changed), changed  # frozen groups' BN may not


def test_two_layer_rejects_unknown_group(tiny_config, workbench):
    """Refused when the config is resolved (SelectorSpec.groups), before any model is loaded or trained."""
    from unlearnkit.core.errors import UsageError

    with pytest.raises(UsageError, match="accepted: layer1, layer2, layer3, fc"):
        workbench(tiny_config, RWFT, {"selector": {"name": "two-layer", "options": {"group": "layer9"}}})


def test_adapters_leave_outputs_unchanged_at_step_zero(tiny_config, workbench, registry):
    bench = workbench(tiny_config, RWFT, {"selector": {"name": "adapters"}})
    model, _ = bench.original()
    entry = registry.get("selector", "adapters")
    ctx = bench.context(model, seed=0)
    adapted = entry.spec.load()(copy.deepcopy(model), bench.resolved.model.spec, entry.spec.options(), ctx).model
    x = bench.pre(bench.data.test_x[:64])
    with torch.no_grad():
        assert torch.allclose(adapted.eval()(x), model.eval()(x), atol=1e-5)


def test_adapters_train_only_adapters(tiny_config, workbench):
    bench = workbench(tiny_config, RWFT, {"selector": {"name": "adapters"}})
    model, _ = bench.original()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    unlearned, _, _ = bench.unlearn(model, seed=0)
    after = unlearned.state_dict()
    weights = [after[k] for k in after if k.endswith(".adapter.weight")]
    assert len(weights) == 2
    identity = torch.eye(weights[0].shape[0]).view_as(weights[0])
    assert not torch.equal(weights[0], identity), "the mid adapter did not train"
    # every original tensor keeps its value under its new (wrapped) name
    for key, value in before.items():
        wrapped = [k for k in after if k.replace(".base", "") == key and ".adapter." not in k]
        assert len(wrapped) == 1, key
        assert torch.equal(after[wrapped[0]], value), key
    assert unlearned(bench.pre(bench.data.test_x[:4])).shape == (4, 10)


def test_all_selector_with_frozen_bn_keeps_statistics(tiny_config, workbench):
    bench = workbench(tiny_config, RWFT, {"selector": {"name": "all"}})
    model, _ = bench.original()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    unlearned, _, _ = bench.unlearn(model, seed=0)
    changed = changed_tensors(before, unlearned.state_dict())
    assert not any("running_" in k or "num_batches" in k for k in changed)
    assert "layer1.0.weight" in changed
