"""NegGrad+: joint descent on the retain set and ascent on the forget set, in one loss per step.

Kurmanji, Triantafillou, Hayes, Triantafillou, "Towards Unbounded Machine Unlearning", NeurIPS
2023; reference implementation kairanzhao/RUM ``unlearn/neggrad.py::negative_grad`` (SalUn-family
loop; also meghdadk/SCRUB ``small_scale_unlearning.ipynb`` and
``thirdparty/repdistiller/helper/loops.py::train_negrad``).

Loss per step, on one retain batch and one forget batch cycled alongside it (an epoch is one pass
over the retain set): ``beta * CE(f(x_r), y_r) - (1 - beta) * CE(f(x_f), y_f)``, one joint backward
pass. This is true ascent on the forget term: the LoTUS re-implementation, which flips ``.grad``
before ``backward()`` and so descends on D_f, is not copied (methods.md section 17 item 7).

Protocol of the defaults: the RUM form recommended for CIFAR-10/ResNet-18 (methods.md 5): beta 0.95,
lr 0.01, 5 epochs, SGD momentum 0.9, weight decay 5e-4, batch 256, BatchNorm in train mode. The
RWFT paper gives no NegGrad+ budget. The SCRUB notebook variant (plain SGD, 10 epochs, BN frozen)
is reachable with ``momentum=0 weight_decay=0 epochs=10 bn=eval``.

Combinations: ``--select`` restricts the update; the forget term uses the true labels, so
``--target`` is refused.
"""

from __future__ import annotations

from unlearnkit import Field, GradientMethod, GradientOptions, MethodSpec, hookimpl


class NegGradPlusOptions(GradientOptions):
    epochs: int = Field(5, ge=0, description="passes over the retain set (RUM README: 5)")
    lr: float = Field(0.01, gt=0, description="learning rate (RUM / SCRUB notebook: 0.01)")
    batch_size: int = Field(256, ge=1, description="batch size of each of the retain and forget batches (RUM: 256)")
    beta: float = Field(
        0.95, ge=0, le=1, description="weight of the retain term; the forget term gets 1 - beta (reference alpha: 0.95)"
    )


class NegGradPlus(GradientMethod):
    drive = "retain"
    paired = ("forget",)

    def loss(self, ctx, batch):
        import torch.nn.functional as F

        (xr, yr), (xf, yf) = batch.retain, batch.forget
        # Two forwards, as the reference: in train mode each batch is normalised by its own statistics.
        beta = self.options.beta
        return beta * F.cross_entropy(ctx.model(xr), yr) - (1 - beta) * F.cross_entropy(ctx.model(xf), yf)


# What 'unlearn tune' explores (learning rate, epochs, the method's own strength knob where it has one).
SEARCH_SPACE = {
    "lr": {"type": "float", "low": 1e-3, "high": 1e-1, "log": True},
    "epochs": {"type": "int", "low": 1, "high": 10},
    "beta": {"type": "float", "low": 0.5, "high": 0.999},
}


@hookimpl
def register_methods(register):
    register(
        MethodSpec(
            name="neggrad-plus",
            summary="joint retain descent and forget ascent (Kurmanji et al. 2023)",
            options=NegGradPlusOptions,
            factory=NegGradPlus,
            search_space=SEARCH_SPACE,
            needs=("forget", "retain"),
        )
    )
