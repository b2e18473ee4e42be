"""The author kit (unlearnkit.testing): the tiny setup is the conftest's, and its context is a run's."""

from __future__ import annotations

import pytest
import torch

from unlearnkit.testing import tiny_config, tiny_context, tiny_run


def test_tiny_config_is_the_test_suites_setup():
    from conftest import TINY_MODEL, TINY_RECIPE

    config = tiny_config("ft", seed=3)
    assert config["model"] == TINY_MODEL and config["recipe"] == TINY_RECIPE
    assert config["method"] == "ft" and config["seed"] == 3 and config["device"] == "cpu"


def test_tiny_context_is_what_a_method_receives(cache_dir, registry):
    ctx = tiny_context("rwft", cache_dir=cache_dir, registry=registry)
    assert ctx.model is not ctx.original
    for (name, p), q in zip(ctx.model.named_parameters(), ctx.original.parameters(), strict=True):
        assert torch.equal(p, q), name  # a copy of the original, not yet changed
    assert len(ctx.split("train_forget")) > 0
    with pytest.raises(PermissionError):
        ctx.split("train_retain")  # rwft without retain_weight reads forget samples only
    weighted = tiny_context({"name": "rwft", "options": {"retain_weight": 0.5}}, cache_dir=cache_dir, registry=registry)
    assert len(weighted.split("train_retain")) > 0
    assert ctx.forget_targets(*_batch(ctx)).shape == (4, ctx.num_classes)


def _batch(ctx):
    split = ctx.split("train_forget")
    return ctx.inputs(split.x[:4]), split.y[:4]


def test_tiny_run_runs_a_method_end_to_end(cache_dir, registry):
    result = tiny_run({"name": "ft", "options": {"epochs": 1}}, cache_dir=cache_dir, registry=registry)
    assert result.run_dir is None  # no run folder unless asked
    assert 0.0 <= result.value("acc_r_test") <= 100.0
    assert result.config["model"]["options"]["width"] == 16
