"""Bad Teacher: distil from a competent teacher on retain data and an incompetent one on forget data.

Chundawat, Tarun, Mandal, Kankanhalli, "Can Bad Teaching Induce Forgetting? Unlearning in Deep
Networks Using an Incompetent Teacher", AAAI 2023. Reference code:
vikram2000b/bad-teaching-unlearning (``unlearn.py::{UnlearnerLoss, unlearning_step,
blindspot_unlearner}``, ``dataset.py::UnLearningData``, hyperparameters in
``CIFARSuper20_Rocket_Unlearn.ipynb``).

The student (a copy of the original) is trained by KL distillation on the forget set plus a
seeded 30% retain subset, shuffled together (the reference's loader shuffles; LoTUS's
re-implementation does not, a bug we do not copy). Forget samples take their targets from the
*incompetent teacher*, a randomly initialised network of the same architecture that is never
trained; retain samples take theirs from the *competent teacher*, the frozen original. Both
teachers are in eval mode with gradients off. The loss is ``F.kl_div(log_softmax(s/tau), T)``
with the default ``reduction="mean"``, i.e. divided by batch x classes, as in the reference.
True labels are unused.

The incompetent teacher is built with ``torch.manual_seed(teacher_seed)`` (default: the run's
seed) inside a forked RNG, so it is reproducible by seed and the run's other random streams are
unaffected. Defaults: Adam lr 1e-4 without weight decay, 1 epoch, batch 256, tau 1.
"""

from __future__ import annotations

from typing import Literal

from unlearnkit import Field, GradientMethod, GradientOptions, MethodSpec, hookimpl


class BadTeacherOptions(GradientOptions):
    epochs: int = Field(1, ge=0, description="passes over forget set + retain subset (reference: 1)")
    lr: float = Field(1e-4, gt=0, description="learning rate (reference: 1e-4)")
    batch_size: int = Field(256, ge=1, description="batch size (reference: 256)")
    optimizer: Literal["sgd", "adam", "adamw"] = Field("adam", description="optimizer (reference: Adam)")
    weight_decay: float = Field(0.0, ge=0, description="weight decay (reference: none)")
    bn: Literal["eval", "train"] = Field(
        "train", description="BatchNorm statistics of the student (reference: train mode)"
    )
    augment: bool = Field(True, description="training augmentation (reference: the training transform)")
    temperature: float = Field(1.0, gt=0, description="KL temperature tau (reference: 1)")
    retain_fraction: float = Field(
        0.3, gt=0, le=1, description="fraction of the retain set used, drawn once by seed (reference: 0.3)"
    )
    teacher_seed: int | None = Field(
        None, description="seed of the incompetent teacher's random init (default: the run's seed)"
    )


def incompetent_teacher(ctx, seed: int):
    """A freshly initialised model of the run's architecture, seeded, eval mode, gradients off."""
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = ctx.build_model()
    return model.to(ctx.device).eval().requires_grad_(False)


class BadTeacher(GradientMethod):
    drive = "union"

    def __init__(self, options: BadTeacherOptions):
        super().__init__(options)
        self.retain_fraction = options.retain_fraction
        self.incompetent = None

    def setup(self, ctx):
        seed = ctx.seed if self.options.teacher_seed is None else self.options.teacher_seed
        self.incompetent = incompetent_teacher(ctx, seed)

    def loss(self, ctx, batch):
        import torch
        import torch.nn.functional as F

        tau = self.options.temperature
        xf, _ = batch.forget
        xr, _ = batch.retain
        x = torch.cat([xf, xr])
        with torch.no_grad():
            targets = torch.cat([(self.incompetent(xf) / tau).softmax(dim=1), (ctx.original(xr) / tau).softmax(dim=1)])
        # F.kl_div's reduction="mean" (the reference's default): the sum divided by batch x classes
        return F.kl_div(F.log_softmax(ctx.model(x) / tau, dim=1), targets, reduction="sum") / targets.numel()


# What 'unlearn tune' explores (learning rate, epochs, the method's own strength knob where it has one).
SEARCH_SPACE = {
    "lr": {"type": "float", "low": 1e-5, "high": 1e-3, "log": True},
    "epochs": {"type": "int", "low": 1, "high": 5},
    "temperature": {"type": "float", "low": 0.5, "high": 4.0, "log": True},
}


@hookimpl
def register_methods(register):
    register(
        MethodSpec(
            name="bad-teacher",
            summary="KL distillation from a random-init teacher on forget data and the original on retain data (Chundawat et al. 2023)",
            options=BadTeacherOptions,
            factory=BadTeacher,
            search_space=SEARCH_SPACE,
            needs=("forget", "retain"),
            uses_selector=True,
        )
    )
