"""``unlearnkit.unlearn(model, train, test, forget=...)``: the Python entry point for scripts and notebooks.

It takes the user's ``nn.Module`` and data (tensors or torch ``Dataset``s) and goes through the
very path ``unlearn run --original`` takes: the weights are written once to a content-addressed
safetensors file (``<cache>/originals/<sha256>.safetensors``, the "before" of the deletion
report), the data and the architecture become two in-process plugins (``python-data`` and
``python-model``) of a registry built for the call, and :func:`unlearnkit.run.runner.run` does the
rest: unlearning, evaluation, run folder, deletion report.
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from unlearnkit.core.errors import UsageError
from unlearnkit.core.hookspecs import hookimpl

Data = tuple[torch.Tensor, torch.Tensor] | torch.utils.data.Dataset


@dataclass
class UnlearnResult:
    """What :func:`unlearn` returns."""

    model: nn.Module  # the unlearned model (eval mode; adapters selectors return it wrapped)
    metrics: dict[str, dict[str, float | None]]  # row -> {"original": ..., "unlearned": ..., "retrained": ...}
    report: dict[str, Any] | None  # report.json of the run folder (None with write=False)
    run_dir: str | None
    skipped: dict[str, str] = field(default_factory=dict)  # metric -> why it has no value
    result: Any = None  # the underlying RunResult


def _to_uint8(x: torch.Tensor, name: str) -> torch.Tensor:
    if x.dim() != 4:
        raise UsageError(f"{name}: images must have shape (N, C, H, W), got {tuple(x.shape)}")
    if x.dtype == torch.uint8:
        return x.contiguous()
    if not torch.is_floating_point(x):
        raise UsageError(f"{name}: images must be uint8 (0-255) or float in [0, 1], got {x.dtype}")
    if x.numel() and (x.min() < 0 or x.max() > 1):
        raise UsageError(
            f"{name}: float images must be in [0, 1] (pass un-normalised images and give mean/std instead), "
            f"got values in [{float(x.min()):.3g}, {float(x.max()):.3g}]"
        )
    # 8-bit images scaled to [0, 1] come back exactly; other floats are rounded to 1/255.
    return (x * 255).round().to(torch.uint8).contiguous()


def _tensors(data: Data, name: str) -> tuple[torch.Tensor, torch.Tensor]:
    """``(uint8 images, int64 labels)`` from a ``(x, y)`` pair or a Dataset of ``(image, label)`` items."""
    if isinstance(data, tuple | list) and len(data) == 2 and all(torch.is_tensor(t) for t in data):
        x, y = data
    elif isinstance(data, torch.utils.data.Dataset):
        xs, ys = [], []
        for i in range(len(data)):  # type: ignore[arg-type]
            image, label = data[i]
            if not torch.is_tensor(image):
                from torchvision.transforms.functional import pil_to_tensor

                image = pil_to_tensor(image)
            xs.append(image)
            ys.append(int(label))
        if not xs:
            raise UsageError(f"{name}: the dataset is empty")
        x, y = torch.stack(xs), torch.tensor(ys)
    else:
        raise UsageError(f"{name}: give a (images, labels) pair of tensors or a torch Dataset of (image, label)")
    if len(x) != len(y):
        raise UsageError(f"{name}: {len(x)} images but {len(y)} labels")
    return _to_uint8(x, name), y.long().flatten()


def _fresh_copy(module: nn.Module) -> nn.Module:
    """A copy with re-initialised parameters (for retrained and random reference models)."""
    fresh = copy.deepcopy(module)
    for m in fresh.modules():
        if m is not fresh and hasattr(m, "reset_parameters"):
            m.reset_parameters()
    return fresh


def _signature(module: nn.Module) -> str:
    """The architecture's identity in cache keys: its printed structure and tensor shapes."""
    shapes = [(k, tuple(v.shape), str(v.dtype)) for k, v in module.state_dict().items()]
    return hashlib.sha256(f"{module!r}\n{shapes}".encode()).hexdigest()[:16]


class _InProcessPlugin:
    """Registers the caller's data and architecture as components of one call's registry."""

    def __init__(self, data: Any, module: nn.Module, head: str | None):
        self.data, self.module, self.head = data, module, head

    @hookimpl
    def register_datasets(self, register: Any) -> None:
        from unlearnkit import DatasetSpec

        register(
            DatasetSpec(
                name="python-data",
                summary="tensors or Datasets handed to unlearnkit.unlearn",
                factory=lambda options, data_root: self.data,
                default_model="python-model",
            )
        )

    @hookimpl
    def register_models(self, register: Any) -> None:
        from unlearnkit import Field, ModelSpec, Options
        from unlearnkit.models.layout import derive

        class PythonModelOptions(Options):
            signature: str = Field("", description="architecture fingerprint (keys the model cache)")
            middle: str | None = Field(None, description="override the derived middle group")
            head: str | None = Field(None, description="override the derived classifier head")

        def layout(model: nn.Module, options: PythonModelOptions) -> tuple[tuple[str, ...], str, str]:
            groups, middle, head = derive(model, options.head or self.head)
            return groups, options.middle or middle, head

        register(
            ModelSpec(
                name="python-model",
                summary="the nn.Module handed to unlearnkit.unlearn",
                options=PythonModelOptions,
                factory=lambda options, num_classes, input_shape: _fresh_copy(self.module),
                layout=layout,
            )
        )


def _store_original(model: nn.Module, folder: Path) -> Path:
    """The model's weights as ``<folder>/<sha256>.safetensors`` (written once; the report's "before")."""
    from safetensors.torch import save

    from unlearnkit.core.paths import write_tensors

    tensors = {k: v.detach().to("cpu").clone().contiguous() for k, v in model.state_dict().items()}
    path = folder / f"{hashlib.sha256(save(tensors)).hexdigest()}.safetensors"
    if not path.is_file():
        write_tensors(tensors, path)
    return path


def unlearn(
    model: nn.Module,
    train: Data,
    test: Data,
    forget: Any,
    method: str = "rwft",
    select: str | None = "two-layer",
    target: str | None = "reweight",
    *,
    classes: list[str] | None = None,
    mean: tuple[float, ...] | None = None,
    std: tuple[float, ...] | None = None,
    augment: str = "none",
    head: str | None = None,
    reference: str = "none",
    recipe: str | dict[str, Any] | None = None,
    metrics: list[str] | str = "default",
    seed: int = 0,
    device: str = "auto",
    out: str | Path = "runs",
    cache_dir: str | Path | None = None,
    write: bool = True,
    selector_options: dict[str, Any] | None = None,
    target_options: dict[str, Any] | None = None,
    **options: Any,
) -> UnlearnResult:
    """Unlearn ``forget`` from ``model`` and measure it; the model passed in is not modified.

    ``train`` and ``test`` are ``(images, labels)`` tensor pairs or torch Datasets of
    ``(image, label)``; images are uint8 (0-255) or float in [0, 1], shape (N, C, H, W) (PIL
    images from a Dataset are converted). The model sees ``(x - mean) / std`` on the 0-1 scale:
    give the ``mean``/``std`` it was trained with (default 0 and 1: the 0-1 images themselves).
    ``forget`` is a class index or name, a list of them, or ``{"fraction": f}`` / ``{"count": n}``
    for random training samples. ``**options`` are the method's options (``epochs=5``, ``lr=...``).
    ``reference="retrain"`` trains the gold standard with ``recipe`` from a fresh copy of the
    architecture (through the model cache); ``"none"`` (the default) evaluates without it.
    """
    from unlearnkit.core.registry import build_registry
    from unlearnkit.data.scenarios import ImageDataset
    from unlearnkit.models.cache import ModelCache
    from unlearnkit.run.runner import run

    train_x, train_y = _tensors(train, "train")
    test_x, test_y = _tensors(test, "test")
    if train_x.shape[1:] != test_x.shape[1:]:
        raise UsageError(f"train images are {tuple(train_x.shape[1:])} but test images {tuple(test_x.shape[1:])}")
    num_classes = int(max(train_y.max(), test_y.max())) + 1
    names = list(classes) if classes is not None else [str(c) for c in range(num_classes)]
    if len(names) < num_classes:
        raise UsageError(f"classes: {len(names)} names for labels up to {num_classes - 1}")
    channels = train_x.shape[1]
    data = ImageDataset(
        train_x,
        train_y,
        test_x,
        test_y,
        classes=names,
        mean=tuple(mean) if mean is not None else (0.0,) * channels,
        std=tuple(std) if std is not None else (1.0,) * channels,
        augment=augment,  # type: ignore[arg-type]
    )
    cache = ModelCache(cache_dir)
    original = _store_original(model, cache.root / "originals")
    registry = build_registry(extra=[("unlearnkit-python-api", _InProcessPlugin(data, model, head))])
    method_spec = registry.spec("method", method)
    if isinstance(forget, dict):
        forget_config = forget
    else:
        forget_config = {"classes": list(forget) if isinstance(forget, list | tuple) else [forget]}
    config: dict[str, Any] = {
        "dataset": {"name": "python-data"},
        "model": {"name": "python-model", "options": {"signature": _signature(model)}},
        "method": {"name": method, "options": options},
        "forget": forget_config,
        "original": str(original),
        "reference": reference,
        "metrics": [metrics] if isinstance(metrics, str) else list(metrics),
        "seed": seed,
        "device": device,
        "out": str(out),
        "cache_dir": str(cache.root),
    }
    if recipe is not None:
        config["recipe"] = recipe
    if method_spec.uses_selector and select is not None:
        config["selector"] = {"name": select, "options": selector_options or {}}
    if method_spec.uses_target and target is not None:
        config["target"] = {"name": target, "options": target_options or {}}
    result = run(config, registry=registry, write=write)
    report = None
    if result.run_dir:
        import json

        report = json.loads((Path(result.run_dir) / "report.json").read_text())
    return UnlearnResult(
        model=result.model,
        metrics={m.name: dict(m.values) for m in result.metrics if not m.note},
        report=report,
        run_dir=result.run_dir,
        skipped={m.name: m.note for m in result.metrics if m.note},
        result=result,
    )
