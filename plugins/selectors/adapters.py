"""Selector ``adapters``: two small identity-initialised modules, original weights frozen (RW-A).

RWFT paper section 4.2 ("Augmented-Layer Extension"): one small trainable layer in the middle
stage and one after the final linear layer. Here the mid adapter is a 1x1 convolution (a linear
map for flat features) applied after the model's ``middle`` group, and the output adapter a
K x K linear map on the logits. Both start as the identity, so the adapted model computes exactly
the original function at step 0; every original parameter and BatchNorm statistic stays frozen.
"""

from __future__ import annotations

from unlearnkit import Field, Options, SelectorSpec, hookimpl


class AdapterOptions(Options):
    position: str | None = Field(
        None, description="layer group after which the mid adapter goes (default: the model's middle)"
    )
    output: bool = Field(True, description="also add the adapter on the logits")


def sites(options: AdapterOptions, model_spec) -> list[str]:
    """The groups after which adapters go; the engine checks them against the model's when the config is resolved."""
    return [options.position or model_spec.middle] + ([model_spec.head] if options.output else [])


def select(model, model_spec, options: AdapterOptions, ctx):
    import torch
    from torch import nn

    from unlearnkit import Selection, UsageError
    from unlearnkit.helpers import set_submodule

    class Adapted(nn.Module):
        """``adapter(base(x))``; the adapter starts as the identity map."""

        def __init__(self, base: nn.Module, features: torch.Size):
            super().__init__()
            self.base = base
            # Channels of a conv map (B, C, H, W); otherwise the last axis (features or ViT tokens).
            width = features[1] if len(features) == 4 else features[-1]
            if len(features) == 4:
                self.adapter = nn.Conv2d(width, width, 1, bias=True)
                eye = torch.eye(width).view(width, width, 1, 1)
            else:
                self.adapter = nn.Linear(width, width, bias=True)
                eye = torch.eye(width)
            with torch.no_grad():
                self.adapter.weight.copy_(eye)
                self.adapter.bias.zero_()

        def forward(self, x):
            return self.adapter(self.base(x))

    chosen = sites(options, model_spec)
    shapes = {}
    hooks = []
    try:
        for site in chosen:
            module = model.get_submodule(site)
            hooks.append(module.register_forward_hook(lambda m, i, o, s=site: shapes.__setitem__(s, o.shape)))
    except AttributeError:
        raise UsageError(
            f"adapters: model {model_spec.name!r} has no layer group {site!r}; accepted: {', '.join(model_spec.groups)}"
        ) from None
    was_training = model.training
    model.eval()
    with torch.no_grad():
        model(torch.zeros(2, *ctx.data.input_shape, device=ctx.device))
    model.train(was_training)
    for hook in hooks:
        hook.remove()
    for site in chosen:
        set_submodule(model, site, Adapted(model.get_submodule(site), shapes[site]).to(ctx.device))
    trainable = [n for n, _ in model.named_parameters() if ".adapter." in f".{n}"]
    return Selection(model, trainable, description=f"identity adapters after {', '.join(chosen)}")


@hookimpl
def register_selectors(register):
    register(
        SelectorSpec(
            name="adapters",
            summary="insert identity-initialised adapters (mid-network and on the logits), train only them",
            options=AdapterOptions,
            factory=select,
            groups=sites,
        )
    )
