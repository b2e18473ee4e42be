"""torchvision and timm models by name: derived layer groups, no downloads, selectors touch only their groups."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from unlearnkit.apps.cli import app

CLASSES = ["cat", "dog", "person_17", "tree"]


def write_image_folder(root: Path, size: int = 32, train: int = 6, test: int = 2, seed: int = 0) -> Path:
    """A class-per-folder RGB PNG set whose classes differ in colour, so a tiny model can learn them."""
    from PIL import Image

    gen = torch.Generator().manual_seed(seed)
    for c, name in enumerate(CLASSES):
        for split, n in (("train", train), ("test", test)):
            folder = root / split / name
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(n):
                base = torch.tensor([60 * c, 255 - 60 * c, 40 + 50 * c]).view(3, 1, 1)
                noise = torch.randint(-40, 41, (3, size, size), generator=gen)
                pixels = (base + noise).clamp(0, 255).to(torch.uint8).permute(1, 2, 0).numpy()
                Image.fromarray(pixels).save(folder / f"{i}.png")
    return root


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return write_image_folder(tmp_path_factory.mktemp("photos"))


def config(folder: Path, model: str, select: str, tmp_path: Path, cache_dir: str) -> dict:
    return {
        "dataset": {"name": "image-folder", "options": {"cache": False, "augment": "none"}},
        "data_root": str(folder),
        "model": {"name": model},
        "method": {"name": "rwft", "options": {"epochs": 1, "batch_size": 8, "lr": 0.05}},
        "selector": {"name": select},
        "forget": {"classes": ["person_17"]},
        "cache_dir": cache_dir,
        "out": str(tmp_path / "runs"),
        "device": "cpu",
    }


def original_tensor_name(name: str) -> str:
    # The adapters selector wraps a group as <group>.base; the original tensor is the unwrapped name.
    return name.replace(".base.", ".")


@pytest.mark.parametrize("model", ["torchvision:resnet18", "timm:resnet18"])
@pytest.mark.parametrize("select", ["two-layer", "adapters"])
def test_selected_groups_train_and_everything_else_is_bit_identical(
    workbench, folder, tmp_path, cache_dir, model, select
):
    pytest.importorskip("timm")
    bench = workbench(config(folder, model, select, tmp_path, cache_dir))
    assert bench.data.input_shape == (3, 32, 32) and bench.data.classes == CLASSES
    original = bench.build_model(0).eval()
    before = {k: v.clone() for k, v in original.state_dict().items()}
    unlearned, _, description = bench.unlearn(original, 0)
    after = unlearned.state_dict()
    if select == "two-layer":
        assert description == "groups layer3 + fc"
        trained = ("layer3.", "fc.")
        changed = {k for k in before if not torch.equal(before[k], after[k])}
        assert changed and all(k.startswith(trained) for k in changed), sorted(changed)[:5]
        # BatchNorm statistics of the frozen groups did not move (running means, vars, counters)
        assert all(torch.equal(before[k], after[k]) for k in before if "running_" in k and not k.startswith(trained))
        assert any(not torch.equal(before[k], after[k]) for k in before if k.startswith("fc."))
    else:
        assert description == "identity adapters after layer3, fc"
        adapters = {k for k in after if ".adapter." in k}
        assert adapters and any(k.startswith("layer3.adapter.") for k in adapters)
        originals = {original_tensor_name(k): v for k, v in after.items() if k not in adapters}
        assert originals.keys() == before.keys()
        assert all(torch.equal(before[k], originals[k]) for k in before)
    assert all(torch.equal(v, original.state_dict()[k]) for k, v in before.items())  # the input stayed intact


def test_derived_layer_groups_of_tiny_offline_architectures():
    timm = pytest.importorskip("timm")
    import torchvision

    from unlearnkit.models.layout import derive
    from unlearnkit.plugins.models import timm_models, torchvision_models

    expected = {
        "resnet18": ("layer3", "fc"),
        "mobilenet_v3_small": ("features.10", "classifier.3"),
        "squeezenet1_1": (None, "classifier.1"),
    }
    for arch, (middle, head) in expected.items():
        model = torchvision.models.get_model(arch, weights=None, num_classes=4)
        groups, got_middle, got_head = derive(model, torchvision_models.head_of(model))
        assert got_head == head and groups[-1] == head and got_middle in groups
        assert middle is None or got_middle == middle
    for arch, kwargs, (middle, head) in [
        ("resnet18", {}, ("layer3", "fc")),
        ("convnext_atto", {}, ("stages.2", "head.fc")),
        ("vit_tiny_patch16_224", {"img_size": 32, "patch_size": 8, "depth": 4}, ("blocks.2", "head")),
    ]:
        model = timm.create_model(arch, pretrained=False, num_classes=4, **kwargs)
        groups, got_middle, got_head = derive(model, timm_models.head_of(model))
        assert (got_middle, got_head) == (middle, head), arch
        for group in groups:
            model.get_submodule(group)


def test_describe_shows_derived_groups_and_options_override_them(registry):
    pytest.importorskip("timm")
    result = CliRunner().invoke(app, ["describe", "model", "timm:resnet18"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "layer groups (derived from the module tree): conv1, bn1, layer1, layer2, layer3, layer4, fc" in text
    assert "middle: layer3" in text and "head: fc" in text
    from unlearnkit.models.layout import completed_spec

    entry = registry.get("model", "torchvision")
    options = registry.options("model", "torchvision", {"arch": "resnet18", "middle": "layer2"})
    spec = completed_spec(entry.spec, options, entry.spec.load()(options, 4, (3, 32, 32)))
    assert spec.middle == "layer2" and spec.head == "fc"


def test_name_arch_form_resolves_to_the_plugin_with_an_arch_option(registry):
    from unlearnkit.core.config import build_config
    from unlearnkit.run.resolve import resolve

    resolved = resolve(build_config([{"model": {"name": "torchvision:resnet50"}}]), registry)
    assert resolved.model.name == "torchvision" and resolved.model.options.arch == "resnet50"
    assert resolved.as_config()["model"]["options"]["arch"] == "resnet50"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "model.pretrained=true"], "weights are never downloaded; give a local file"),
        (["--model", "torchvision:resnet1"], "unknown torchvision classification model 'resnet1'"),
        (["--model", "torchvision:"], "expected NAME or NAME:ARCH"),
        (["--set", "dataset.grayscale=true"], "takes 3-channel images, this dataset has 1"),
    ],
)
def test_bad_model_names_and_pretrained_without_local_weights_are_one_line(tmp_path, folder, args, message):
    base = ["run", "--model", "torchvision:resnet18", "--dataset", "image-folder", "--data-root", str(folder)]
    result = CliRunner().invoke(app, [*base, "--set", "dataset.cache=false", *args, "--out", str(tmp_path / "r")])
    assert result.exit_code == 2, result.output
    assert len([line for line in result.output.splitlines() if line.strip()]) == 1
    assert message in " ".join(result.output.split()), result.output
    assert not (tmp_path / "r").exists()


def test_pretrained_weights_load_from_a_local_file_and_the_head_starts_fresh(tmp_path, registry):
    import torchvision
    from safetensors.torch import save_file

    donor = torchvision.models.resnet18(num_classes=10)
    save_file({k: v.contiguous() for k, v in donor.state_dict().items()}, str(tmp_path / "r18.safetensors"))
    entry = registry.get("model", "torchvision")
    options = registry.options(
        "model", "torchvision", {"arch": "resnet18", "pretrained": True, "weights": str(tmp_path / "r18.safetensors")}
    )
    model = entry.spec.load()(options, 4, (3, 32, 32))
    assert torch.equal(model.layer3[0].conv1.weight, donor.layer3[0].conv1.weight)
    assert model.fc.weight.shape == (4, 512)
