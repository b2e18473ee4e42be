"""Any torchvision classification architecture by name: ``--model torchvision:resnet50``.

Built with ``torchvision.models.get_model(arch, weights=None, num_classes=K)`` (torchvision's
model registry, https://pytorch.org/vision/stable/models.html), so nothing is downloaded;
``pretrained=true`` loads a local safetensors file instead (see ``zoo_common``). Layer groups
come from the module tree (:mod:`unlearnkit.models.layout`); the head is the last linear layer under
torchvision's head attribute (``fc`` for ResNets, ``classifier`` for VGG, MobileNet,
EfficientNet and ConvNeXt, ``heads`` for ViT, ``head`` for Swin). ``unlearn describe model
torchvision:ARCH`` shows them; ``model.middle`` and ``model.head`` override them.
"""

from __future__ import annotations

from unlearnkit import ModelSpec, hookimpl
from unlearnkit.plugins.models.zoo_common import ZooOptions, closest, layout, load_pretrained

HEAD_ATTRIBUTES = ("fc", "classifier", "heads", "head")


def head_of(model) -> str:
    from unlearnkit.helpers import last_linear

    for name in HEAD_ATTRIBUTES:
        if hasattr(model, name):
            return last_linear(model, name)
    return last_linear(model)


def build(options: ZooOptions, num_classes: int, input_shape: tuple[int, int, int]):
    import torchvision

    from unlearnkit import UsageError

    available = torchvision.models.list_models(module=torchvision.models)
    if options.arch not in available:
        raise UsageError(
            f"unknown torchvision classification model {options.arch!r}{closest(options.arch, available)} "
            f"(accepted: the names of torchvision.models.list_models(), e.g. resnet18, vgg16_bn, convnext_tiny)"
        )
    if input_shape[0] != 3:
        raise UsageError(
            f"torchvision:{options.arch} takes 3-channel images, this dataset has {input_shape[0]}; "
            "use an RGB dataset or a timm model (its in_chans adapts)"
        )
    try:
        model = torchvision.models.get_model(options.arch, weights=None, num_classes=num_classes, **options.kwargs)
    except TypeError as exc:
        raise UsageError(f"torchvision:{options.arch}: {exc}") from None
    if options.pretrained:
        load_pretrained(model, options, options.head or head_of(model), f"torchvision:{options.arch}")
    return model


@hookimpl
def register_models(register):
    register(
        ModelSpec(
            name="torchvision",
            summary="any torchvision classifier by name (--model torchvision:ARCH), never downloads weights",
            options=ZooOptions,
            factory=build,
            layout=layout(head_of),
        )
    )
