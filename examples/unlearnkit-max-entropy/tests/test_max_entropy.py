"""Tests of the max-entropy plugin on unlearnkit's tiny setup (seconds on a CPU).

A template for plugin tests: register the plugin in-process, then run it with unlearnkit.testing.
"""

from __future__ import annotations

import pytest
import unlearnkit_max_entropy

from unlearnkit.testing import plugin_registry, tiny_context, tiny_run


@pytest.fixture(scope="module")
def registry():
    return plugin_registry("max-entropy", unlearnkit_max_entropy)


def test_registers(registry):
    assert "max-entropy" in registry.names("method")


def test_loss_raises_forget_entropy(registry, tmp_path):
    import torch

    ctx = tiny_context("max-entropy", registry=registry, cache_dir=str(tmp_path))
    forget = ctx.split("train_forget")
    x = ctx.inputs(forget.x[:32])
    before = torch.special.entr(ctx.model(x).softmax(1)).sum(1).mean()
    method = unlearnkit_max_entropy.MaxEntropy(unlearnkit_max_entropy.MaxEntropyOptions(epochs=1))
    model = method.unlearn(ctx)
    after = torch.special.entr(model(x).softmax(1)).sum(1).mean()
    assert after > before


def test_forgets_in_a_whole_run(registry, tmp_path):
    # The tiny setup's forget set is two batches, so the default 5 epochs at lr 1e-3 are only 10 Adam
    # steps: entropy rises but the arg-max stays (acc_f_test 100 -> 100). lr 1e-2 forgets the class.
    # Max-entropy has no retain term, so the retained classes pay: measured drops of 5.2 points with one
    # torch thread and 10.8 with two or more (float reduction order), so the bound is 15 points.
    method = {"name": "max-entropy", "options": {"lr": 1e-2}}
    result = tiny_run(method, registry=registry, cache_dir=str(tmp_path))
    assert result.value("acc_f_test") < 10 < result.value("acc_f_test", "original")
    assert result.value("acc_r_test") > result.value("acc_r_test", "original") - 15
