"""Any timm architecture by name: ``--model timm:convnext_tiny`` (needs the optional extra ``timm``).

Built with ``timm.create_model(arch, pretrained=False, num_classes=K, in_chans=C)``
(huggingface/pytorch-image-models, ``timm/models/_factory.py``), so nothing is downloaded;
``pretrained=true`` loads a local safetensors file instead (see ``zoo_common``). The head is the
module timm's ``get_classifier()`` returns; the other layer groups come from the module tree
(:mod:`unlearnkit.models.layout`). ``unlearn describe model timm:ARCH`` shows them; ``model.middle`` and
``model.head`` override them. Models with a fixed input size (ViTs) take ``kwargs={img_size: 32}``.
"""

from __future__ import annotations

from unlearnkit import ModelSpec, hookimpl
from unlearnkit.plugins.models.zoo_common import ZooOptions, closest, layout, load_pretrained


def head_of(model) -> str:
    from unlearnkit.helpers import last_linear, module_name

    classifier = model.get_classifier() if hasattr(model, "get_classifier") else None
    if classifier is None or not any(True for _ in classifier.parameters()):
        return last_linear(model)
    return module_name(model, classifier)


def build(options: ZooOptions, num_classes: int, input_shape: tuple[int, int, int]):
    from unlearnkit import UsageError

    try:
        import timm
    except ImportError:
        raise UsageError("timm models need the optional extra: pip install 'unlearnkit[timm]'") from None
    if not timm.is_model(options.arch):
        raise UsageError(
            f"unknown timm model {options.arch!r}{closest(options.arch, timm.list_models())} "
            "(accepted: the names of timm.list_models())"
        )
    try:
        model = timm.create_model(
            options.arch, pretrained=False, num_classes=num_classes, in_chans=input_shape[0], **options.kwargs
        )
    except TypeError as exc:
        raise UsageError(f"timm:{options.arch}: {exc}") from None
    if options.pretrained:
        load_pretrained(model, options, options.head or head_of(model), f"timm:{options.arch}")
    return model


@hookimpl
def register_models(register):
    register(
        ModelSpec(
            name="timm",
            summary="any timm model by name (--model timm:ARCH; optional extra 'timm'), never downloads weights",
            options=ZooOptions,
            factory=build,
            layout=layout(head_of),
        )
    )
