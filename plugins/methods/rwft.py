"""RWFT: output-reweighting fine-tuning (the RWFT paper; read this file to learn the plugin API).

Wang, Ebrahimpour-Boroojeny, Sundaram, "On the necessity of output distribution reweighting for
effective class unlearning", arXiv:2506.20893 v1 (2025). No public reference code exists; this
follows the paper (section 4, appendix A.3, A.7).

On every forget sample the model is trained towards a target distribution built from the frozen
original model's output on the same augmented view (RWFT paper Eq. 4, soft-target cross-entropy). The
target comes from the ``--target`` plugin (``reweight`` = RWFT paper Eq. 3, ``max-class`` = Eq. 6) and
the trained parameters from the ``--select`` plugin:

* ``--select all``       RWFT-O
* ``--select two-layer`` RWFT-2-O (intermediate block + head)
* ``--select adapters``  RW-A (identity-initialised adapters, original weights frozen)

Defaults: 10 epochs and lr 1e-3 (RWFT paper A.3). The paper leaves the optimizer, batch size and
BatchNorm mode open. We chose plain SGD (no momentum, no weight decay, so adapters are not pulled
off the identity) with batch size 32, and frozen BatchNorm statistics, because forget-only
batches would drag the running statistics towards the forget class. Re-measured on all ten digits
classes (seed 0): Adam, or SGD with momentum 0.9, with ``tolerance=0.02`` cost 6-13 points of retain
accuracy on average (up to 23) and saved no time (the tiny forget set never reaches the tolerance
in 10 epochs). On Fashion-MNIST (10 classes, seed 1) ``optimizer=adam tolerance=0.02`` stops after
one to three epochs: 5-6x less unlearning time, mean UTV within 0.003 of plain SGD, single cells
within 0.02 and up to 7 points of retain accuracy lost on one RW-A cell. It is the documented fast
setting for larger forget sets, not the default (docs/results.md, "Unlearning cost"). Fewer
epochs at a proportionally larger learning rate (``epochs=5 lr=2e-3``) halve the time with every
Fashion-MNIST cell within 0.004 UTV for two-layer and adapters, but move digits, whose original
memorises its training set, by up to 0.34 UTV. The paper's budget itself costs about one training
epoch of FLOPs (10 passes over a tenth of the data), so no exact loop makes the defaults much cheaper.
``retain_weight`` > 0 adds a cross-entropy term on retain batches (an ablation; the RWFT paper
uses forget samples only): the loop then pairs a retain batch with every forget batch, and the
engine adds "retain" to the method's data when the config is resolved (``GradientMethod.reads``).
Every combination with any target and selector is valid.

Cost: the loss reads ``ctx.forget_logits_and_targets``, so with ``two-layer`` or ``adapters`` the
frozen prefix of the network runs once per batch for the student and the original, and with
``augment=false`` once for the whole forget set (``unlearnkit.unlearning.prefix``). ``tolerance`` stops
training at the start of the first epoch after one whose mean KL(target || model) over the forget
batches (soft cross-entropy minus the target's entropy, measured during that epoch) is at most
the tolerance; ``metrics.json`` then records ``unlearn.stopped_early``, ``epochs_run`` and
``final_kl``.

What to expect: RWFT fits its target, so its UTV is the target's distance to the retrained model;
how well the original's leftover mass predicts retraining decides the result, not the budget
(docs/results.md, ``bench/rwft_target_utv.py``).
"""

from __future__ import annotations

from typing import Literal

from unlearnkit import Field, GradientMethod, GradientOptions, MethodSpec, hookimpl


class RWFTOptions(GradientOptions):
    epochs: int = Field(10, ge=0, description="passes over the forget set (RWFT paper A.3: 10)")
    lr: float = Field(1e-3, gt=0, description="learning rate (RWFT paper A.3: 1e-3)")
    batch_size: int = Field(32, ge=1, description="batch size (not stated in the RWFT paper)")
    optimizer: Literal["sgd", "adam", "adamw"] = Field("sgd", description="optimizer (not stated in the RWFT paper)")
    momentum: float = Field(0.0, ge=0, description="SGD momentum")
    weight_decay: float = Field(0.0, ge=0, description="weight decay")
    bn: Literal["eval", "train"] = Field("eval", description="BatchNorm statistics: frozen ('eval') or updated")
    retain_weight: float = Field(0.0, ge=0, description="weight of an optional cross-entropy term on retain batches")
    tolerance: float | None = Field(
        None,
        ge=0,
        description="stop once an epoch's mean KL(target || model) on the forget set (soft cross-entropy minus "
        "the target's entropy, nats) is at most this; none: run every epoch",
    )


class RWFT(GradientMethod):
    drive = "forget"

    def __init__(self, options: RWFTOptions):
        super().__init__(options)
        self.paired = ("retain",) if options.retain_weight > 0 else ()
        self.kl_sum, self.kl_count = None, 0

    def on_epoch_start(self, ctx, epoch):
        kl = self.mean_kl()
        if self.options.tolerance is not None and kl is not None and kl <= self.options.tolerance:
            # Recorded in metrics.json ("unlearn"), so a stopped run is told apart from a full one.
            ctx.notes.update(stopped_early=True, epochs_run=epoch, final_kl=kl)
            return False
        self.kl_sum, self.kl_count = None, 0
        ctx.notes.update(stopped_early=False, epochs_run=epoch + 1)
        return None

    def mean_kl(self) -> float | None:
        # One host sync per epoch, not per step: the sum stays on the device during the epoch.
        return None if not self.kl_count else float(self.kl_sum) / self.kl_count

    def epoch_logs(self, ctx, epoch):
        kl = self.mean_kl()
        if kl is not None:
            ctx.notes["final_kl"] = kl
        return {} if kl is None else {"kl": kl}

    def loss(self, ctx, batch):
        import torch
        import torch.nn.functional as F

        from unlearnkit.helpers import soft_cross_entropy

        logits, targets = ctx.forget_logits_and_targets(batch)
        loss = soft_cross_entropy(logits, targets)
        with torch.no_grad():
            # KL(target || model) = soft cross-entropy - H(target); entr() gives 0 log 0 = 0.
            kl = (loss.detach() - torch.special.entr(targets).sum(dim=1).mean()) * len(targets)
            self.kl_sum = kl if self.kl_sum is None else self.kl_sum + kl
            self.kl_count += len(targets)
        if batch.retain is not None:
            xr, yr = batch.retain
            loss = loss + self.options.retain_weight * F.cross_entropy(ctx.model(xr), yr)
        return loss


# What 'unlearn tune' explores (learning rate, epochs, the method's own strength knob where it has one).
SEARCH_SPACE = {
    "lr": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True},
    "epochs": {"type": "int", "low": 1, "high": 20},
}


@hookimpl
def register_methods(register):
    register(
        MethodSpec(
            name="rwft",
            summary="output-reweighting fine-tuning on the forget set (the RWFT paper)",
            options=RWFTOptions,
            factory=RWFT,
            search_space=SEARCH_SPACE,
            uses_target=True,
            default_target="reweight",
            uses_selector=True,
            default_selector="all",
        )
    )
