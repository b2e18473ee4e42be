"""Channels-last on CPU changes the memory layout, not the function; with it off, old cache keys hold."""

import importlib

import pytest
import torch

from unlearnkit.core.config import resolve_recipe
from unlearnkit.data.scenarios import ImageDataset, Preprocess
from unlearnkit.models.training import channels_last, recipe_key, train_classifier

CPU = torch.device("cpu")


def small_cnn() -> torch.nn.Module:
    plugin = importlib.import_module("unlearnkit.plugins.models.small_cnn")
    torch.manual_seed(0)
    return plugin.build(plugin.SmallCNNOptions(width=8), 4, (1, 8, 8))


def test_on_by_default_on_cpu_and_left_out_of_the_cache_key_when_off():
    on = resolve_recipe({"name": "custom"})
    off = on.model_copy(update={"cpu_channels_last": False})
    assert channels_last(on, CPU) and not channels_last(off, CPU) and not channels_last(None, CPU)
    # Models trained before the option existed were trained in NCHW: with it off they keep their keys.
    assert "cpu_channels_last" not in recipe_key(off)
    assert recipe_key(on) == {**recipe_key(off), "cpu_channels_last": True}


def test_training_in_channels_last_computes_the_same_function_and_hands_back_the_default_layout():
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 255, (64, 1, 8, 8), dtype=torch.uint8, generator=g)
    y = torch.arange(64) % 4
    data = ImageDataset(x, y, x[:8], y[:8], classes=list("abcd"), mean=(0.5,), std=(0.25,))
    trained = {}
    for flag in (False, True):
        model = small_cnn()
        recipe = resolve_recipe(
            {
                "name": "custom",
                "epochs": 2,
                "batch_size": 16,
                "lr": 0.05,
                "schedule": "constant",
                "cpu_channels_last": flag,
            }
        )
        train_classifier(model, x, y, Preprocess(data, CPU), recipe, 0)
        assert all(t.is_contiguous() for t in model.state_dict().values())
        trained[flag] = model.state_dict()
    conv = "layer1.0.weight"
    assert not torch.equal(trained[True][conv], small_cnn().state_dict()[conv])  # it did train
    for name, value in trained[False].items():
        torch.testing.assert_close(trained[True][name], value, rtol=1e-4, atol=1e-5, msg=name)


def test_the_unlearning_loop_in_channels_last_matches_the_default_layout(tiny_config, workbench):
    layer = {"method": {"name": "rwft", "options": {"epochs": 2}}, "selector": {"name": "two-layer"}}
    on = workbench(tiny_config, layer)
    off = workbench(tiny_config, layer, {"recipe": {"cpu_channels_last": False}})
    assert channels_last(on.resolved.recipe, CPU) and not channels_last(off.resolved.recipe, CPU)
    original, _ = on.original()
    before = {k: v.clone() for k, v in original.state_dict().items()}
    nhwc, _, _ = on.unlearn(original, 0)
    nchw, _, _ = off.unlearn(original, 0)
    for name, value in original.state_dict().items():  # the shared original: untouched, default layout
        assert value.is_contiguous() and torch.equal(value, before[name]), name
    for name, value in nchw.state_dict().items():
        assert nhwc.state_dict()[name].is_contiguous(), name
        torch.testing.assert_close(nhwc.state_dict()[name], value, rtol=1e-4, atol=1e-5, msg=name)
    assert not torch.equal(nchw.state_dict()["fc.weight"], before["fc.weight"])  # it did unlearn


def test_a_failing_unlearning_still_hands_the_shared_original_back_in_the_default_layout(tiny_config, workbench):
    from unlearnkit.core.divergence import DivergedError

    layer = {"method": {"name": "rwft", "options": {"epochs": 3, "lr": 1e12}}, "selector": {"name": "all"}}
    bench = workbench(tiny_config, layer)
    original, _ = bench.original()
    with pytest.raises(DivergedError):
        bench.unlearn(original, 0)
    assert all(value.is_contiguous() for value in original.state_dict().values())


def test_evaluation_in_channels_last_gives_the_same_logits_and_leaves_the_model_alone(tiny_config, workbench):
    bench = workbench(tiny_config, {"method": {"name": "rwft"}})
    original, _ = bench.original()
    nhwc = bench.eval_context({"original": original}, 0)
    assert nhwc.channels_last  # the run's recipe trains in channels-last on a CPU
    nchw = bench.eval_context({"original": original}, 0)
    nchw.channels_last = False
    x = bench.data.test_x
    torch.testing.assert_close(nhwc.forward(original, x), nchw.forward(original, x), rtol=1e-5, atol=1e-5)
    assert all(value.is_contiguous() for value in original.state_dict().values())
