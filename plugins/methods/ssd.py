"""SSD: Selective Synaptic Dampening, a one-shot, retrain-free edit of forget-specialised parameters.

Foster, Schoepf, Brintrup, "Fast Machine Unlearning Without Retraining Through Selective Synaptic
Dampening", AAAI 2024. Reference code: if-loops/selective-synaptic-dampening
(``src/ssd.py::ParameterPerturber.calc_importance / modify_weight``, constants in
``src/forget_full_class_main.py``); ../shared/reference/methods.md section 10.

Per parameter entry we compare a diagonal-Fisher-like importance on the forget set, ``I_f``,
with the same importance on the full training set (retain plus forget), ``I_D``. Each importance
is the average over mini-batches of the *squared mini-batch-mean* cross-entropy gradient, with
the model in eval mode and no augmentation; both sets use the same batch size because the value
scales like 1/B (methods.md pitfall 12). Entries with ``I_f > alpha * I_D`` (strict) are
specialised to the forget data and are multiplied by ``beta = min(lambda * I_D / I_f, 1)``;
every other entry, and every BatchNorm buffer, is left bit-identical. Because ``0 <= beta <= 1``
no magnitude ever grows. All parameters take part (conv, linear, biases, BatchNorm affine), as in
the reference. There is no learning rate and no optimizer step.

``alpha`` decides everything, and the reference's 10 is tuned for ResNet-18 (its ViT runs use 5,
its face-recognition runs 50). On small models it is sharp: digits, small CNN, class 0, seed 0,
alpha 5 / 10 / 20 / 50 gave retain test accuracy 73.1 / 94.1 / 99.7 / 99.4 (original 99.4) and
forget accuracy 0 / 0 / 0 / 100. Sweep it (``unlearn sweep --method 'ssd alpha=20'``) before
trusting one value on a new architecture.
"""

from __future__ import annotations

from unlearnkit import Field, MethodSpec, Options, hookimpl
from unlearnkit.methods import Method


class SSDOptions(Options):
    alpha: float = Field(10.0, gt=0, description="selection weighting: dampen where I_f > alpha * I_D (reference: 10)")
    dampening: float = Field(
        1.0, gt=0, description="dampening constant lambda in beta = min(lambda * I_D / I_f, 1) (reference: 1)"
    )
    batch_size: int = Field(
        64, ge=1, description="batch size of both importance passes (reference full-class: 64; random: 128)"
    )


def importances(model, x_uint8, y, inputs, batch_size: int, device) -> dict:
    """Mean over batches of the squared batch-mean CE gradient, per parameter (model in eval mode)."""
    import torch
    import torch.nn.functional as F

    from unlearnkit.data import batches

    model.eval()
    params = dict(model.named_parameters())
    for p in params.values():
        p.requires_grad_(True)
    total = {n: torch.zeros_like(p) for n, p in params.items()}
    count = 0
    for idx in batches(len(y), batch_size, shuffle=False):
        loss = F.cross_entropy(model(inputs(x_uint8[idx])), y[idx].to(device))
        grads = torch.autograd.grad(loss, list(params.values()), allow_unused=True)
        for (n, _), g in zip(params.items(), grads, strict=True):
            if g is not None:
                total[n] += g.detach() ** 2
        count += 1
    return {n: t / max(count, 1) for n, t in total.items()}


class SSD(Method):
    def unlearn(self, ctx):
        import torch

        o = self.options
        model = ctx.model
        forget, retain = ctx.split("train_forget"), ctx.split("train_retain")
        # the full training set, in training-set order
        order = torch.cat([retain.index, forget.index]).argsort()
        full_x, full_y = torch.cat([retain.x, forget.x])[order], torch.cat([retain.y, forget.y])[order]
        i_f = importances(model, forget.x, forget.y, ctx.inputs, o.batch_size, ctx.device)
        i_d = importances(model, full_x, full_y, ctx.inputs, o.batch_size, ctx.device)
        with torch.no_grad():
            for name, p in model.named_parameters():
                selected = i_f[name] > o.alpha * i_d[name]
                beta = (o.dampening * i_d[name] / i_f[name]).clamp(max=1.0)
                p.copy_(torch.where(selected, p * beta, p))
        model.requires_grad_(False)
        return model.eval()


# What 'unlearn tune' explores (learning rate, epochs, the method's own strength knob where it has one).
SEARCH_SPACE = {
    "alpha": {"type": "float", "low": 1.0, "high": 100.0, "log": True},
    "dampening": {"type": "float", "low": 0.1, "high": 10.0, "log": True},
}


@hookimpl
def register_methods(register):
    register(
        MethodSpec(
            name="ssd",
            summary="selective synaptic dampening of forget-specialised parameters, one shot (Foster et al. 2024)",
            options=SSDOptions,
            factory=SSD,
            search_space=SEARCH_SPACE,
            needs=("forget", "retain"),
            uses_selector=False,
        )
    )
