"""Boundary Shrink: relabel each forget sample with its nearest wrong class, found by FGSM on the original.

Chen, Gao, Liu, Peng, Wang, "Boundary Unlearning: Rapid Forgetting of Deep Networks via Shifting
the Decision Boundary", CVPR 2023, section 4.1; reference implementation: the authors' code
(re-hosted at TY-LEE-KR/Boundary-Unlearning-Code) ``boundary_unlearning.py::boundary_shrink`` and
``adv_generator.py`` (FGSM), with OPTML-Group/Unlearn-Saliency ``Classification/unlearn/boundary_sh.py``
for comparison.

For each forget batch: one FGSM step of size ``eps`` on the **frozen original model** (never the
model being unlearned), taken in true [0, 1] pixel space (the batch is de-normalised, attacked,
clamped to [0, 1], rounded to the 8-bit grid, then re-normalised), gives ``x_adv``; the neighbour
label is the original model's prediction on ``x_adv`` (it may equal the true label when the attack
fails; not excluded, as in the reference). The model is then trained with cross-entropy on the
**clean** sample towards that neighbour label. The authors' FGSM de-normalised with a mistyped
mean/std (methods.md section 17 item 5); we use the dataset's own statistics.

Protocol of the defaults: the authors' code: 10 epochs, lr 1e-5, SGD momentum 0.9 without weight
decay, batch 64, eps 0.1, no augmentation, BatchNorm in train mode. The SalUn re-implementation
(weight decay 5e-4, batch 256, its own lr) is reachable through the options.

Combinations: ``--select`` restricts the update (``saliency`` = the SalUn variant with a mask). The
labels come from the attack, not from a target plugin, so ``--target`` is refused. Meaningful for
class-wise forgetting, the setting of the paper; it also runs on random subsets.
"""

from __future__ import annotations

from unlearnkit import Field, GradientMethod, GradientOptions, MethodSpec, hookimpl


class BoundaryShrinkOptions(GradientOptions):
    epochs: int = Field(10, ge=0, description="passes over the forget set (authors: 10)")
    lr: float = Field(1e-5, gt=0, description="learning rate (authors: 1e-5; SalUn search 1e-6..1e-4)")
    batch_size: int = Field(64, ge=1, description="batch size (authors: 64)")
    weight_decay: float = Field(0.0, ge=0, description="weight decay (authors: 0; SalUn variant: 5e-4)")
    augment: bool = Field(False, description="training augmentation on forget batches (authors: none)")
    eps: float = Field(0.1, gt=0, description="FGSM step in [0, 1] pixel units (authors: 0.1)")


def neighbour_labels(ctx, x, y, eps: float):
    """Labels the frozen original model gives one FGSM step (size ``eps``, pixel space) away from ``x``."""
    import torch
    import torch.nn.functional as F

    original, pre = ctx.original, ctx.pre
    with torch.enable_grad():
        pixels = pre.denormalize(x.detach()).requires_grad_(True)
        loss = F.cross_entropy(original(pre.normalize(pixels)), y)
        (grad,) = torch.autograd.grad(loss, pixels)
    with torch.no_grad():
        adv = torch.clamp(pixels.detach() + eps * grad.sign(), 0, 1)
        adv = torch.round(adv * 255) / 255
        return original(pre.normalize(adv)).argmax(dim=1)


class BoundaryShrink(GradientMethod):
    drive = "forget"

    def loss(self, ctx, batch):
        import torch.nn.functional as F

        x, y = batch.forget
        return F.cross_entropy(ctx.model(x), neighbour_labels(ctx, x, y, self.options.eps))


# What 'unlearn tune' explores (learning rate, epochs, the method's own strength knob where it has one).
SEARCH_SPACE = {
    "lr": {"type": "float", "low": 1e-6, "high": 1e-4, "log": True},
    "epochs": {"type": "int", "low": 1, "high": 10},
    "eps": {"type": "float", "low": 0.02, "high": 0.3},
}


@hookimpl
def register_methods(register):
    register(
        MethodSpec(
            name="boundary-shrink",
            summary="train forget samples towards their FGSM nearest-class labels (Chen et al. 2023)",
            options=BoundaryShrinkOptions,
            factory=BoundaryShrink,
            search_space=SEARCH_SPACE,
            needs=("forget",),
        )
    )
