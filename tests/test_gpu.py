"""The CUDA path: skipped without a GPU, run on the lent GPU machine (see docs/results.md).

CPU runs cannot catch device mix-ups (a CUDA generator is "cuda" while tensors are "cuda:0"), so
every method runs once on digits on the GPU, with the training recipe's mixed precision on.
"""

from __future__ import annotations

import pytest
import torch

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def test_augmentation_draws_from_a_cuda_generator_repeatably():
    from unlearnkit.data.scenarios import random_crop, random_flip

    x = torch.arange(2 * 3 * 8 * 8, dtype=torch.float32, device="cuda").view(2, 3, 8, 8)

    def augment(seed: int) -> torch.Tensor:
        gen = torch.Generator(device="cuda").manual_seed(seed)
        return random_flip(random_crop(x, 2, gen), gen)

    first, again = augment(0), augment(0)
    assert first.device.type == "cuda" and first.shape == x.shape
    assert torch.equal(first, again)


def _method_names() -> list[str]:
    from unlearnkit.core.registry import get_registry

    registry = get_registry()
    return sorted({registry.get("method", name).spec.name for name in registry.names("method")})


@pytest.mark.parametrize("method", _method_names())
def test_every_method_runs_on_cuda(method, tiny_config, run_config):
    config = {**tiny_config, "device": "cuda", "metrics": ["accuracy", "utv"]}
    result = run_config(config, {"method": {"name": method}})
    assert 0.0 <= result.value("utv_train") <= 1.0
    assert result.value("acc_r_test", "original") > 80


@pytest.mark.parametrize("selector", ["two-layer", "adapters"])
def test_rwft_forget_path_runs_on_cuda_under_autocast(selector, tiny_config, run_config):
    config = {**tiny_config, "device": "cuda", "metrics": ["accuracy", "utv"]}
    layer = {"method": {"name": "rwft", "options": {"epochs": 2, "augment": False}}, "selector": {"name": selector}}
    result = run_config(config, layer)
    assert result.unlearn["forget_path"] == "cached-prefix+cached-original"
    assert 0.0 <= result.value("utv_train") <= 1.0
