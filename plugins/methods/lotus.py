"""LoTUS: distillation with Gumbel-softened forget targets whose temperature tracks over-knowledge.

Spartalis et al., "LoTUS: Large-Scale Machine Unlearning with a Taste of Uncertainty", CVPR 2025,
and its supplementary material. Reference code:
cspartalis/LoTUS (``src/unlearning_methods/lotus_class.py::LoTUS``, hyperparameters in
``src/bash_scripts/{reproduce_results,class_reproduce_results}.sh``).

The student (a copy of the original) is trained on the forget set plus a 30% retain subset drawn
once, shuffled together. Targets come from the frozen original model on the very augmented view
the student sees; true labels are never used:

* retain samples: a hard Gumbel sample, i.e. the one-hot of ``argmax(z + g)``, an exact draw from
  ``Cat(softmax(z))`` (not the argmax);
* forget samples: ``softmax((z + g) / T)`` with fresh Gumbel noise ``g``.

At the start of every epoch ``T = exp(alpha * (acc_f - acc_v))``, where ``acc_f`` is the
student's eval-mode accuracy on the forget set and ``acc_v`` the original model's accuracy on
unseen validation data, both fractions rounded to 2 decimals; training stops before an epoch
where ``acc_f - acc_v <= -0.01``. For random-subset forgetting the validation set is a seeded
stratified half of the test set (as in the reference). For class forgetting ``acc_v = 0`` (the
reference's class branch; the model has never seen the forget class, so unseen-data accuracy on
it is taken as zero): the early stop then never fires and at ``acc_f ~ 1`` the forget targets are
essentially uniform over all classes, the forget class included; ``T`` falls as ``acc_f`` drops.
``alpha`` defaults to 32 for class forgetting and 8 for random-subset forgetting (CIFAR-10).

Cost (RWFT paper section 9): per epoch ``(n_f + 0.3 n_r)`` student steps and teacher forwards; the only
auxiliary work is one eval pass over the forget set per epoch and one teacher pass over the
validation half once, O(n_f + n_v). Gumbel noise is drawn from the run's seeded generator.
"""

from __future__ import annotations

import math
from typing import Literal

from unlearnkit import Field, GradientMethod, GradientOptions, MethodSpec, hookimpl


class LoTUSOptions(GradientOptions):
    epochs: int = Field(10, ge=0, description="maximum epochs (reference: 10)")
    lr: float = Field(1e-4, gt=0, description="learning rate (reference: 1e-4)")
    batch_size: int = Field(
        128, ge=1, description="batch size of the shuffled forget + retain-subset loader (reference: 128)"
    )
    optimizer: Literal["sgd", "adam", "adamw"] = Field("adamw", description="optimizer (reference: AdamW)")
    weight_decay: float = Field(5e-4, ge=0, description="weight decay (reference: 5e-4)")
    bn: Literal["eval", "train"] = Field(
        "train", description="BatchNorm statistics of the student (reference: train mode)"
    )
    augment: bool = Field(True, description="training augmentation (reference: RandomCrop)")
    alpha_class: float = Field(32.0, gt=0, description="temperature scale alpha for class forgetting (reference: 32)")
    alpha_random: float = Field(
        8.0,
        gt=0,
        description="temperature scale alpha for random-subset forgetting (reference CIFAR-10: 8; CIFAR-100: 2)",
    )
    retain_fraction: float = Field(
        0.3, gt=0, le=1, description="fraction of the retain set sampled once (reference: 0.3)"
    )
    val_fraction: float = Field(
        0.5,
        gt=0,
        le=1,
        description="stratified fraction of the test set used as validation in random-subset forgetting (reference: 0.5)",
    )


def temperature(acc_forget: float, acc_val: float, alpha: float) -> tuple[float, bool]:
    """``(T, stop)``: ``T = exp(alpha * (round(acc_f, 2) - round(acc_v, 2)))``; stop when the gap <= -0.01."""
    gap = round(round(acc_forget, 2) - round(acc_val, 2), 2)
    return math.exp(alpha * gap), gap <= -0.01


def gumbel_targets(logits, tau: float, hard: bool, generator):
    """Gumbel-softmax of ``logits`` with noise from ``generator``: one-hot sample (hard) or ``softmax((z+g)/tau)``."""
    import torch

    u = torch.rand(logits.shape, generator=generator).to(logits.device)
    g = -torch.log((-torch.log(u.clamp(min=1e-20))).clamp(min=1e-20))
    z = logits + g
    if hard:
        return torch.nn.functional.one_hot(z.argmax(dim=1), logits.shape[1]).to(logits.dtype)
    return (z / tau).softmax(dim=1)


def _accuracy(model, split, inputs, batch_size: int) -> float:
    import torch

    from unlearnkit.helpers import batches

    if len(split) == 0:
        return 0.0
    model.eval()
    correct = 0
    with torch.no_grad():
        for idx in batches(len(split), batch_size, shuffle=False):
            pred = model(inputs(split.x[idx])).argmax(dim=1).cpu()
            correct += int((pred == split.y[idx]).sum())
    return correct / len(split)


class LoTUS(GradientMethod):
    drive = "union"

    def __init__(self, options: LoTUSOptions):
        super().__init__(options)
        self.retain_fraction = options.retain_fraction
        self.tau = 1.0
        self.acc_forget = float("nan")

    def setup(self, ctx):
        o = self.options
        if ctx.scenario.kind == "class":
            self.alpha, self.acc_val = o.alpha_class, 0.0
        else:
            self.alpha = o.alpha_random
            from unlearnkit.helpers import stratified_indices

            test = ctx.split("test")
            val = test.take(stratified_indices(test.y, o.val_fraction, ctx.generator))
            self.acc_val = _accuracy(ctx.original, val, ctx.inputs, 256)

    def on_epoch_start(self, ctx, epoch):
        self.acc_forget = _accuracy(ctx.model, ctx.split("train_forget"), ctx.inputs, 256)
        self.tau, stop = temperature(self.acc_forget, self.acc_val, self.alpha)
        if stop:
            ctx.emit("unlearn", epoch, {"early_stop": 1.0, "acc_forget": self.acc_forget, "acc_val": self.acc_val})
            return False
        return None

    def epoch_logs(self, ctx, epoch):
        return {"temperature": self.tau, "acc_forget": self.acc_forget, "acc_val": self.acc_val}

    def loss(self, ctx, batch):
        import torch

        from unlearnkit.helpers import soft_cross_entropy

        xf, _ = batch.forget
        xr, _ = batch.retain
        x = torch.cat([xf, xr])
        with torch.no_grad():
            z = ctx.original(x)
            soft = gumbel_targets(z[: len(xf)], self.tau, hard=False, generator=ctx.generator)
            hard = gumbel_targets(z[len(xf) :], 1.0, hard=True, generator=ctx.generator)
        return soft_cross_entropy(ctx.model(x), torch.cat([soft, hard]))


# What 'unlearn tune' explores (learning rate, epochs, the method's own strength knob where it has one).
SEARCH_SPACE = {
    "lr": {"type": "float", "low": 1e-5, "high": 1e-3, "log": True},
    "epochs": {"type": "int", "low": 1, "high": 10},
    "alpha_class": {"type": "float", "low": 4.0, "high": 128.0, "log": True},
}


@hookimpl
def register_methods(register):
    register(
        MethodSpec(
            name="lotus",
            summary="distillation with Gumbel-softened forget targets at an accuracy-driven temperature (Spartalis et al. 2025)",
            options=LoTUSOptions,
            factory=LoTUS,
            search_space=SEARCH_SPACE,
            needs=("forget", "retain", "test"),
            uses_selector=True,
        )
    )
