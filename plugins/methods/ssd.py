"""SSD: Selective Synaptic Dampening, a one-shot, retrain-free edit of forget-specialised parameters.

Foster, Schoepf, Brintrup, "Fast Machine Unlearning Without Retraining Through Selective Synaptic
Dampening", AAAI 2024. Reference code: if-loops/selective-synaptic-dampening
(``src/ssd.py::ParameterPerturber.calc_importance / modify_weight``, constants in
``src/forget_full_class_main.py``).

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

Why alpha does not transfer (measured, bench/ssd_alpha.py): a one-class forget set's gradients do
not cancel the way the ten-class mixture's do, so for a typical entry I_f / I_D is of the order of
the number of classes. On the default Fashion-MNIST small CNN (class 0) its median is 7.8 and its
99th percentile 94: alpha 10 selects 46 % of all entries (each scaled by about 0.04) and test
ACC_r falls to 15 %; alpha 100 selects 0.7 % and keeps ACC_r at 89.9 with ACC_f 0.
``select_fraction`` states the selection in the unit that transfers: ``select_fraction=0.01``
dampens the 1 % most forget-specialised entries on any model. The default stays the reference's
alpha for comparability with the paper; on a new model, prefer ``select_fraction``.
"""

from __future__ import annotations

from unlearnkit import Field, Method, MethodSpec, Options, hookimpl


class SSDOptions(Options):
    alpha: float = Field(10.0, gt=0, description="selection weighting: dampen where I_f > alpha * I_D (reference: 10)")
    dampening: float = Field(
        1.0, gt=0, description="dampening constant lambda in beta = min(lambda * I_D / I_f, 1) (reference: 1)"
    )
    batch_size: int = Field(
        64, ge=1, description="batch size of both importance passes (reference full-class: 64; random: 128)"
    )
    select_fraction: float | None = Field(
        None,
        gt=0,
        lt=1,
        description="dampen this fraction of all parameter entries, those with the largest I_f/I_D (overrides alpha)",
    )


def alpha_for_fraction(i_f: dict, i_d: dict, fraction: float) -> float:
    """The alpha that selects ``fraction`` of all entries: the (1 - fraction) quantile of I_f / I_D."""
    import torch

    ratio = torch.cat([(i_f[n] / i_d[n]).flatten() for n in i_f]).nan_to_num(nan=0.0)
    k = max(1, min(len(ratio), round((1 - fraction) * len(ratio))))
    return ratio.kthvalue(k).values.item()


def importances(model, x_uint8, y, inputs, batch_size: int, device) -> dict:
    """Mean over batches of the squared batch-mean CE gradient, per parameter (model in eval mode)."""
    import torch
    import torch.nn.functional as F

    from unlearnkit.helpers import batches

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
        alpha = o.alpha if o.select_fraction is None else alpha_for_fraction(i_f, i_d, o.select_fraction)
        with torch.no_grad():
            for name, p in model.named_parameters():
                selected = i_f[name] > alpha * i_d[name]
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
