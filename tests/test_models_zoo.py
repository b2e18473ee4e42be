"""Model plugins: shapes, stems, declared layer groups, and the selectors on each (tiny CPU inputs)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

TINY = {
    "small-cnn": {"width": 4, "stem_pool": True},
    "resnet18": {"width": 8},
    "vgg19": {"width_divisor": 16},
    "vit": {"hidden_dim": 16, "num_heads": 2, "mlp_dim": 16},
}
SHAPES = [(3, 32, 32), (1, 28, 28)]


def build(registry, name: str, shape, classes: int = 5, **extra):
    entry = registry.get("model", name)
    options = registry.options("model", name, {**TINY[name], **extra})
    torch.manual_seed(0)
    return entry.spec, entry.spec.load()(options, classes, shape)


@pytest.mark.parametrize("name", list(TINY))
@pytest.mark.parametrize("shape", SHAPES)
def test_forward_shape_and_groups(registry, name, shape):
    spec, model = build(registry, name, shape)
    model.eval()
    assert model(torch.zeros(2, *shape)).shape == (2, 5)
    modules = dict(model.named_modules())
    for group in spec.groups:
        assert group in modules, f"{name}: declared group {group!r} is not a submodule"
    assert spec.middle in spec.groups and spec.head in spec.groups
    assert any(p.numel() for p in modules[spec.head].parameters())


def test_resnet_stems(registry):
    _, cifar = build(registry, "resnet18", (3, 32, 32))
    assert cifar.conv1.kernel_size == (3, 3) and cifar.conv1.stride == (1, 1)
    assert isinstance(cifar.maxpool, torch.nn.Identity)
    _, tiny = build(registry, "resnet18", (3, 64, 64))
    assert tiny.conv1.kernel_size == (7, 7) and tiny.conv1.stride == (2, 2)
    assert isinstance(tiny.maxpool, torch.nn.MaxPool2d)
    _, forced = build(registry, "resnet18", (3, 64, 64), stem="cifar")
    assert forced.conv1.kernel_size == (3, 3)
    _, standard = build(registry, "resnet18", (3, 32, 32), width=64, stem="imagenet")
    from torchvision.models import resnet18

    reference = resnet18(num_classes=5)
    assert [tuple(p.shape) for p in standard.parameters()] == [tuple(p.shape) for p in reference.parameters()]


def test_vit_is_torchvision_and_rejects_bad_patch(registry):
    from torchvision.models.vision_transformer import VisionTransformer

    from unlearnkit.core.errors import UsageError

    _, model = build(registry, "vit", (3, 32, 32))
    assert isinstance(model, VisionTransformer) and model.patch_size == 4
    with pytest.raises(UsageError, match="divisible"):
        build(registry, "vit", (3, 30, 30))


def _ctx(shape):
    return SimpleNamespace(data=SimpleNamespace(input_shape=shape), device=torch.device("cpu"))


@pytest.mark.parametrize("name", list(TINY))
def test_two_layer_selector_trains_only_middle_and_head(registry, name):
    shape = (3, 32, 32)
    spec, model = build(registry, name, shape)
    selector = registry.get("selector", "two-layer").spec
    selection = selector.load()(model, spec, registry.options("selector", "two-layer", {}), _ctx(shape))
    trainable = set(selection.apply())
    assert trainable
    names = {n for n, p in selection.model.named_parameters() if p in trainable}
    assert all(n.startswith((spec.middle + ".", spec.head + ".")) for n in names)
    assert any(n.startswith(spec.middle + ".") for n in names) and any(n.startswith(spec.head + ".") for n in names)
    # One step on the selection leaves every other tensor, BatchNorm buffers included, bit-identical.
    from unlearnkit.unlearning.selection import set_train_mode

    before = {k: v.clone() for k, v in selection.model.state_dict().items()}
    set_train_mode(selection.model, selection, bn="train")
    opt = torch.optim.SGD(list(trainable), lr=0.1)
    selection.model(torch.randn(4, *shape)).logsumexp(1).mean().backward()
    opt.step()
    after = selection.model.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed and all(k.startswith((spec.middle + ".", spec.head + ".")) for k in changed)


@pytest.mark.parametrize("name", list(TINY))
def test_adapters_selector_starts_as_identity(registry, name):
    shape = (3, 32, 32)
    spec, model = build(registry, name, shape)
    model.eval()
    x = torch.randn(3, *shape)
    with torch.no_grad():
        reference = model(x)
    selector = registry.get("selector", "adapters").spec
    selection = selector.load()(model, spec, registry.options("selector", "adapters", {}), _ctx(shape))
    selection.apply()
    assert selection.trainable and all(".adapter." in f".{n}" for n in selection.trainable)
    selection.model.eval()
    with torch.no_grad():
        torch.testing.assert_close(selection.model(x), reference, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("name", list(TINY))
def test_gpu_path_ops_on_cpu(registry, name):
    """The fast recipe's GPU path (channels_last + bfloat16 autocast) runs each model; checked on CPU."""
    shape = (3, 32, 32)
    _, model = build(registry, name, shape)
    model = model.to(memory_format=torch.channels_last).train()
    x = torch.randn(4, *shape).contiguous(memory_format=torch.channels_last)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss = torch.nn.functional.cross_entropy(model(x), torch.tensor([0, 1, 2, 3]), label_smoothing=0.1)
    loss.backward()
    assert torch.isfinite(loss) and all(p.grad is not None for p in model.parameters() if p.requires_grad)


def test_batched_augmentation_is_a_per_sample_crop_and_flip():
    from unlearnkit.data.scenarios import random_crop, random_flip

    x = torch.arange(2 * 1 * 6 * 6, dtype=torch.uint8).view(2, 1, 6, 6).repeat(64, 1, 1, 1)
    gen = torch.Generator().manual_seed(0)
    cropped = random_crop(x, 2, gen)
    assert cropped.shape == x.shape and cropped.dtype == torch.uint8
    padded = torch.nn.functional.pad(x, (2, 2, 2, 2))
    for i in range(0, len(x), 17):  # every crop is some 6x6 window of the padded image
        windows = padded[i, 0].unfold(0, 6, 1).unfold(1, 6, 1).reshape(-1, 6, 6)
        assert any(torch.equal(w, cropped[i, 0]) for w in windows)
    assert len({tuple(c.flatten().tolist()) for c in cropped[::2]}) > 5  # offsets differ per sample
    flipped = random_flip(x, gen)
    same = (flipped == x).flatten(1).all(1)
    mirrored = (flipped == x.flip(3)).flatten(1).all(1)
    assert bool((same | mirrored).all()) and 0 < int(mirrored.sum()) < len(x)
