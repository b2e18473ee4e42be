"""SCRUB: teacher-student unlearning alternating max-steps on the forget set and min-steps on the retain set.

Kurmanji, Triantafillou, Hayes, Triantafillou, "Towards Unbounded Machine Unlearning", NeurIPS
2023. Reference code: meghdadk/SCRUB (``large_scale_unlearning.ipynb``; loop
``thirdparty/repdistiller/helper/loops.py::train_distill``, KL ``distiller_zoo/KD.py::DistillKL``,
schedule ``helper/util.py::adjust_learning_rate``).
The reference repository carries a non-commercial licence, so this follows the paper and the
procedure described in methods.md, not the code.

The student starts as the original model; the teacher is the frozen original (eval mode). With
``KL_T(s, t) = T^2 * mean_batch sum_y softmax(t/T) (log softmax(t/T) - log softmax(s/T))``:

* max-step (forget batch):  ``L = -KL_T(student, teacher)``
* min-step (retain batch):  ``L = gamma * CE(student, y) + alpha * KL_T(student, teacher)``

Each epoch first runs a max pass over the forget set (only for the first ``msteps`` epochs), then
a min pass over the retain set. Both phases share one SGD optimizer (and its momentum), as the
reference does: each phase is one call of the engine's loop, and :meth:`make_optimizer` hands
every call the same optimizer. The learning rate decays by 0.1 after each epoch in
``lr_decay_epochs`` (inactive within the default 3 epochs). Defaults are the large-scale CIFAR-10
settings: 3 epochs, msteps 2, T 4, gamma 0.99, alpha 0.001, lr 5e-4, forget batch 512, retain
batch 256.
"""

from __future__ import annotations

from typing import Literal

from unlearnkit import Field, GradientMethod, GradientOptions, MethodSpec, hookimpl


class SCRUBOptions(GradientOptions):
    epochs: int = Field(
        3, ge=0, description="epochs, each a max pass (first msteps epochs only) then a min pass (reference: 3)"
    )
    msteps: int = Field(2, ge=0, description="epochs that include the max pass over the forget set (reference: 2)")
    lr: float = Field(5e-4, gt=0, description="learning rate (reference: 5e-4)")
    lr_decay_epochs: tuple[int, ...] = Field(
        (3, 5, 9), description="lr x lr_decay after each of these epochs (reference: 3, 5, 9)"
    )
    lr_decay: float = Field(0.1, gt=0, description="learning-rate decay factor (reference: 0.1)")
    batch_size: int = Field(256, ge=1, description="retain (min-step) batch size (reference: 256)")
    forget_batch_size: int = Field(512, ge=1, description="forget (max-step) batch size (reference: 512)")
    optimizer: Literal["sgd", "adam", "adamw"] = Field(
        "sgd", description="optimizer shared by both phases (reference: SGD)"
    )
    momentum: float = Field(0.9, ge=0, description="SGD momentum (reference: 0.9)")
    weight_decay: float = Field(5e-4, ge=0, description="weight decay (reference: 5e-4)")
    temperature: float = Field(4.0, gt=0, description="distillation temperature T (reference: 4)")
    gamma: float = Field(0.99, ge=0, description="weight of the retain cross-entropy (reference: 0.99)")
    alpha: float = Field(0.001, ge=0, description="weight of the retain KL to the teacher (reference: 0.001)")


def distill_kl(student_logits, teacher_logits, temperature: float):
    """``T^2 * KL(softmax(t/T) || softmax(s/T))``, summed over classes, averaged over the batch."""
    import torch.nn.functional as F

    log_s = F.log_softmax(student_logits / temperature, dim=1)
    log_t = F.log_softmax(teacher_logits / temperature, dim=1)
    return (log_t.exp() * (log_t - log_s)).sum(dim=1).mean() * temperature**2


class SCRUB(GradientMethod):
    def __init__(self, options: SCRUBOptions):
        super().__init__(options)
        self._optimizer = None
        self._lr = options.lr

    def make_optimizer(self, params, options):
        # one optimizer for both phases and every epoch: its momentum carries over, as in the reference
        if self._optimizer is None:
            self._optimizer = super().make_optimizer(params, options)
        for group in self._optimizer.param_groups:
            group["lr"] = self._lr
        return self._optimizer

    def unlearn(self, ctx):
        o = self.options
        forget_opts = o.model_copy(update={"epochs": 1, "batch_size": o.forget_batch_size})
        retain_opts = o.model_copy(update={"epochs": 1})
        for epoch in range(1, o.epochs + 1):
            self._lr = o.lr * o.lr_decay ** sum(epoch > m for m in o.lr_decay_epochs)
            if epoch <= o.msteps:
                ctx.fit(self, forget_opts, drive="forget")
            ctx.fit(self, retain_opts, drive="retain")
        return self.finish(ctx)

    def loss(self, ctx, batch):
        import torch
        import torch.nn.functional as F

        T = self.options.temperature
        if batch.forget is not None:
            x, _ = batch.forget
            with torch.no_grad():
                teacher = ctx.original(x)
            return -distill_kl(ctx.model(x), teacher, T)
        x, y = batch.retain
        with torch.no_grad():
            teacher = ctx.original(x)
        logits = ctx.model(x)
        return self.options.gamma * F.cross_entropy(logits, y) + self.options.alpha * distill_kl(logits, teacher, T)


# What 'unlearn tune' explores (learning rate, epochs, the method's own strength knob where it has one).
SEARCH_SPACE = {
    "lr": {"type": "float", "low": 1e-4, "high": 1e-2, "log": True},
    "epochs": {"type": "int", "low": 1, "high": 10},
    "msteps": {"type": "int", "low": 1, "high": 5},
}


@hookimpl
def register_methods(register):
    register(
        MethodSpec(
            name="scrub",
            summary="teacher-student max steps on the forget set, min steps on the retain set (Kurmanji et al. 2023)",
            options=SCRUBOptions,
            factory=SCRUB,
            search_space=SEARCH_SPACE,
            needs=("forget", "retain"),
            uses_selector=True,
        )
    )
