"""Selector ``two-layer``: one intermediate block plus the classifier head (RWFT-2-O).

RWFT paper section 4.2 ("Layer-Selective Fine-Tuning"): train one intermediate convolutional
block and the final fully connected layer, freeze everything else. Table 7 of the RWFT paper compares
layer1, layer2 and layer3 of ResNet-18 (each with the head) and finds layer3 best, which is the
ResNet default here; each model plugin declares its own ``middle`` group. Frozen BatchNorm layers
stay in eval mode, so every tensor outside the two groups is bit-identical after unlearning.
"""

from __future__ import annotations

from unlearnkit import Field, Options, SelectorSpec, hookimpl


class TwoLayerOptions(Options):
    group: str | None = Field(None, description="intermediate layer group to train (default: the model's middle group)")
    head: str | None = Field(None, description="classifier group to train (default: the model's head)")


def groups(options: TwoLayerOptions, model_spec) -> list[str]:
    """The two groups that train; the engine checks them against the model's when the config is resolved."""
    return [options.group or model_spec.middle, options.head or model_spec.head]


def select(model, model_spec, options: TwoLayerOptions, ctx):
    from unlearnkit import Selection, UsageError
    from unlearnkit.helpers import params_in_groups

    chosen = groups(options, model_spec)
    for group in chosen:  # a dotted name below a declared group may still name no parameters
        if not group or not params_in_groups(model, [group]):
            accepted = ", ".join(model_spec.groups) or "none declared"
            raise UsageError(f"two-layer: model {model_spec.name!r} has no layer group {group!r}; accepted: {accepted}")
    return Selection(model, params_in_groups(model, chosen), description=f"groups {' + '.join(chosen)}")


@hookimpl
def register_selectors(register):
    register(
        SelectorSpec(
            name="two-layer",
            summary="train one intermediate block and the classifier head (RWFT paper Table 7)",
            options=TwoLayerOptions,
            factory=select,
            groups=groups,
        )
    )
