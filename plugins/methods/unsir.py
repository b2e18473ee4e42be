"""UNSIR: error-maximising noise, then impair and repair.

Tarun, Chundawat, Mandal, Kankanhalli, "Fast Yet Effective Machine Unlearning", IEEE TNNLS 2023.
Reference code: vikram2000b/Fast-Machine-Unlearning (``Machine Unlearning.ipynb``) and the
refactored ``vikram2000b/bad-teaching-unlearning: unlearn.py::{UNSIR_noise, UNSIR_noise_train,
UNSIR_create_noisy_loader}``.

1. **Noise.** A batch of ``noise_batch`` inputs in the normalised input space, initialised from a
   seeded standard normal, is optimised with Adam to *maximise* the original model's
   cross-entropy for the forget class while staying small:
   ``min_N -CE(f(N), c_f) + noise_reg * mean_i ||N_i||^2``. The model is in eval mode with
   gradients off, so neither its weights nor its BatchNorm statistics move (the reference
   notebook ran this in train mode and polluted the running statistics, and labelled every noise
   image 0; we do neither, methods.md pitfalls 1-2).
2. **Impair.** One epoch, high learning rate, on the noise batch repeated ``noise_copies`` times,
   labelled with the forget class, shuffled together with a retain subset: the first
   ``retain_per_class`` training images of each retained class.
3. **Repair.** One epoch on the retain subset alone, lower learning rate.

Only the forget-class *labels* are needed, never forget images. With several forget classes the
noise batch is split evenly among them. The method edits the model with its own two-phase loop
because the noise is not a data split the engine's loop can drive; it trains all parameters in
train mode (reference) and ignores ``--select``. Random-subset forgetting has no forget class, so
the spec declares class forgetting only and the engine refuses the rest before training.
"""

from __future__ import annotations

from unlearnkit import Field, Method, MethodSpec, Options, hookimpl


class UNSIROptions(Options):
    noise_batch: int = Field(256, ge=1, description="number of noise images optimised (reference: 256)")
    noise_steps: int = Field(40, ge=0, description="noise optimisation steps (reference: 5 epochs x 8 steps = 40)")
    noise_lr: float = Field(0.1, gt=0, description="Adam learning rate of the noise (reference: 0.1)")
    noise_reg: float = Field(0.1, ge=0, description="weight of the mean squared L2 norm of the noise (reference: 0.1)")
    noise_copies: int = Field(
        20, ge=1, description="times the noise batch is repeated in the impair set (reference: 20)"
    )
    retain_per_class: int = Field(
        1000, ge=1, description="first images of each retained class forming the retain subset (reference: 1000)"
    )
    batch_size: int = Field(256, ge=1, description="batch size of impair and repair (reference: 256)")
    impair_lr: float = Field(0.02, gt=0, description="Adam learning rate of the impair epoch (reference: 0.02)")
    repair_lr: float = Field(0.01, gt=0, description="Adam learning rate of the repair epoch (reference: 0.01)")
    impair_epochs: int = Field(1, ge=0, description="impair epochs (reference: 1)")
    repair_epochs: int = Field(1, ge=0, description="repair epochs (reference: 1)")
    augment: bool = Field(
        True, description="training augmentation on retain images (reference: the training transform)"
    )


def noise_labels(forget_classes: list[int], n: int):
    """``n`` forget-class labels, the classes taking turns."""
    import torch

    classes = torch.tensor(forget_classes, dtype=torch.long)
    return classes[torch.arange(n) % len(classes)]


def optimise_noise(model, shape, labels, options: UNSIROptions, generator, device):
    """Error-maximising noise for ``labels``, optimised against ``model`` in eval mode; weights untouched."""
    import torch
    import torch.nn.functional as F

    was_training = model.training
    grad_flags = [p.requires_grad for p in model.parameters()]
    model.eval().requires_grad_(False)
    labels = labels.to(device)
    noise = torch.randn(shape, generator=generator).to(device).requires_grad_(True)
    opt = torch.optim.Adam([noise], lr=options.noise_lr)
    try:
        for _ in range(options.noise_steps):
            loss = -F.cross_entropy(model(noise), labels) + options.noise_reg * noise.pow(2).flatten(1).sum(1).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    finally:
        model.train(was_training)
        for p, flag in zip(model.parameters(), grad_flags, strict=True):
            p.requires_grad_(flag)
    return noise.detach()


def _retain_subset(split, forget_classes: list[int], per_class: int):
    from unlearnkit.helpers import first_per_class

    classes = [c for c in split.y.unique().tolist() if c not in forget_classes]
    keep = first_per_class(split.y, classes, per_class)
    return split.x[keep], split.y[keep]


class UNSIR(Method):
    def unlearn(self, ctx):
        o = self.options
        model = ctx.model
        labels = noise_labels(ctx.scenario.forget_classes, o.noise_batch)
        noise = optimise_noise(model, (o.noise_batch, *ctx.data.input_shape), labels, o, ctx.generator, ctx.device)
        rx, ry = _retain_subset(ctx.split("train_retain"), ctx.scenario.forget_classes, o.retain_per_class)
        impair_noise = noise.repeat(o.noise_copies, 1, 1, 1)
        impair_labels = labels.repeat(o.noise_copies)
        model.requires_grad_(True)
        self._train(ctx, rx, ry, impair_noise, impair_labels, o.impair_lr, o.impair_epochs, "impair")
        self._train(ctx, rx, ry, None, None, o.repair_lr, o.repair_epochs, "repair")
        model.eval()
        return model

    def _train(self, ctx, rx, ry, noise, noise_y, lr, epochs, phase):
        import torch
        import torch.nn.functional as F

        from unlearnkit.helpers import batches

        o, model = self.options, ctx.model
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        n_noise = 0 if noise is None else len(noise)
        n = n_noise + len(ry)
        ry_dev = ry.to(ctx.device)
        for epoch in range(epochs):
            model.train()
            total, count = 0.0, 0
            for idx in batches(n, o.batch_size, shuffle=True, generator=ctx.generator):
                parts_x, parts_y = [], []
                from_noise, from_retain = idx[idx < n_noise], idx[idx >= n_noise] - n_noise
                if len(from_noise):
                    parts_x.append(noise[from_noise.to(ctx.device)])
                    parts_y.append(noise_y[from_noise].to(ctx.device))
                if len(from_retain):
                    parts_x.append(ctx.inputs(rx[from_retain], augment=o.augment))
                    parts_y.append(ry_dev[from_retain.to(ctx.device)])
                loss = F.cross_entropy(model(torch.cat(parts_x)), torch.cat(parts_y))
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                total += loss.detach()  # a tensor: no host sync per step on a GPU
                count += 1
            ctx.emit(f"unlearn-{phase}", epoch, {"loss": float(total) / max(count, 1)})


# What 'unlearn tune' explores (learning rate, epochs, the method's own strength knob where it has one).
SEARCH_SPACE = {
    "impair_lr": {"type": "float", "low": 2e-3, "high": 0.2, "log": True},
    "repair_lr": {"type": "float", "low": 1e-3, "high": 0.1, "log": True},
    "noise_reg": {"type": "float", "low": 0.01, "high": 1.0, "log": True},
}


@hookimpl
def register_methods(register):
    register(
        MethodSpec(
            name="unsir",
            summary="error-maximising noise for the forget class, then impair and repair (Tarun et al. 2023)",
            options=UNSIROptions,
            factory=UNSIR,
            search_space=SEARCH_SPACE,
            needs=("retain",),
            uses_selector=False,
            scenarios=("class",),  # the noise is labelled with the forget class
        )
    )
