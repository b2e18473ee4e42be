"""Method ``max-entropy``: push forget-sample outputs towards maximum entropy, keep retain accuracy.

A classic simple baseline, used here to show the whole plugin API in one small file: an options
model, a GradientMethod with one ``loss``, and a registration hook. It composes with every
selector (``--select``); it does not use a forget target.
"""

from __future__ import annotations

from typing import Literal

from unlearnkit import Field, GradientMethod, GradientOptions, MethodSpec, hookimpl


class MaxEntropyOptions(GradientOptions):
    epochs: int = Field(5, ge=0, description="passes over the forget set")
    lr: float = Field(1e-3, gt=0, description="learning rate")
    optimizer: Literal["sgd", "adam", "adamw"] = Field("adam", description="optimizer")
    retain_weight: float = Field(1.0, ge=0, description="weight of the cross-entropy on retain batches")


class MaxEntropy(GradientMethod):
    drive = "forget"
    paired = ("retain",)

    def loss(self, ctx, batch):
        import torch.nn.functional as F

        x, _ = batch.forget
        log_p = F.log_softmax(ctx.model(x), dim=1)
        entropy = -(log_p.exp() * log_p).sum(dim=1).mean()
        xr, yr = batch.retain
        return -entropy + self.options.retain_weight * F.cross_entropy(ctx.model(xr), yr)


@hookimpl
def register_methods(register):
    register(
        MethodSpec(
            name="max-entropy",
            summary="maximise output entropy on forget samples (example plugin)",
            options=MaxEntropyOptions,
            factory=MaxEntropy,
            needs=("forget", "retain"),
        )
    )
