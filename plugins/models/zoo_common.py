"""What the ``torchvision`` and ``timm`` model plugins share: options, local pretrained weights, layout.

Pretrained weights are never downloaded at run time: ``pretrained=true`` needs ``weights=FILE``,
a local safetensors file (keys as the library names them); the head is left at its fresh
initialisation when its class count differs, every other tensor must fit.
"""

from __future__ import annotations

from typing import Any

from pydantic import model_validator

from unlearnkit import Field, Options


class ZooOptions(Options):
    arch: str = Field("resnet18", description="architecture name in the library (also given as --model LIB:ARCH)")
    pretrained: bool = Field(False, description="start from pretrained weights; never downloaded: needs weights=FILE")
    weights: str | None = Field(None, description="local .safetensors file of pretrained weights")
    middle: str | None = Field(None, description="override the derived middle group (dotted module name)")
    head: str | None = Field(None, description="override the derived classifier head (dotted module name)")
    kwargs: dict[str, Any] = Field({}, description="extra keyword arguments of the constructor")

    @model_validator(mode="after")
    def _local_weights_only(self) -> ZooOptions:
        if self.pretrained and not self.weights:
            raise ValueError(
                "pretrained=true: weights are never downloaded; give a local file with model.weights=FILE.safetensors"
            )
        if self.weights and not self.pretrained:
            raise ValueError("weights=FILE needs pretrained=true")
        return self


def closest(name: str, available: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, available, n=3)
    return f"; did you mean {', '.join(close)}?" if close else ""


def load_pretrained(model: Any, options: ZooOptions, head: str, label: str) -> None:
    """Load ``options.weights`` into ``model``; a head of another class count keeps its fresh weights."""
    from unlearnkit import UsageError
    from unlearnkit.helpers import check_state, read_weights

    state = read_weights(options.weights, f"{label} weights file")
    own = model.state_dict()
    for key in [k for k in state if k.startswith(f"{head}.") and k in own and state[k].shape != own[k].shape]:
        state[key] = own[key]  # another class count: the head starts fresh, as fine-tuning does
    try:
        check_state(model, state, label, num_classes=-1, what=f"weights {options.weights!r}")
    except UsageError:
        raise
    model.load_state_dict(state, strict=True)


def layout(head_of: Any) -> Any:
    """A ``ModelSpec.layout`` whose head comes from ``head_of(model)`` unless the options override it."""

    def derive_layout(model: Any, options: ZooOptions) -> tuple[tuple[str, ...], str, str]:
        from unlearnkit import UsageError
        from unlearnkit.helpers import derive

        try:
            groups, middle, head = derive(model, options.head or head_of(model))
            if options.middle:
                model.get_submodule(options.middle)
        except AttributeError as exc:
            raise UsageError(
                f"model {options.arch!r}: {exc}; see 'unlearn describe model LIB:{options.arch}'"
            ) from None
        if options.middle and options.middle not in groups:
            groups = (*groups[:-1], options.middle, groups[-1])
        return groups, options.middle or middle, head

    return derive_layout
