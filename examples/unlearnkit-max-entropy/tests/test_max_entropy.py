"""Tests of the max-entropy plugin on unlearnkit's tiny setup (seconds on a CPU).

A template for plugin tests: register the plugin in-process, then run it with unlearnkit.testing.
"""

from __future__ import annotations

import pytest
import unlearnkit_max_entropy

from unlearnkit.registry import build_registry
from unlearnkit.testing import tiny_context, tiny_run


@pytest.fixture(scope="module")
def registry():
    return build_registry(extra=[("max-entropy", unlearnkit_max_entropy)])


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
    result = tiny_run("max-entropy", registry=registry, cache_dir=str(tmp_path))
    assert result.value("acc_f_test") < result.value("acc_f_test", "original")
