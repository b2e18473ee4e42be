"""FT: fine-tuning on the retain set; forgetting comes from catastrophic forgetting of the forget set.

Warnecke et al., "Machine Unlearning of Features and Labels", NDSS 2023 (arXiv:2108.11577), as
run in the SalUn and l1-sparse benchmarks; reference implementation OPTML-Group/Unlearn-Sparse
``unlearn/FT.py::FT_iter(with_l1=False)`` (same in Unlearn-Saliency ``Classification/unlearn/FT.py``).

Update: ``min_theta E_{(x, y) in D_r} CE(f_theta(x), y)`` starting from the original weights, with
the training augmentation, BatchNorm in train mode, SGD (momentum 0.9, weight decay 5e-4), batch 256.

Protocol of the defaults: 20 epochs follow the RWFT paper's baseline budget (RWFT paper appendix A.3;
the reference README uses 10); lr 0.01, batch 256, momentum and weight decay follow the reference
(Unlearn-Sparse README / ``unlearn/impl.py``). The reference's MultiStepLR([91, 136]) never fires
at these budgets and is omitted.

Combinations: ``--select`` restricts which weights fine-tune (``two-layer`` = fine-tune the middle
block and head only; ``saliency`` = saliency-masked FT). FT reads no forget data and uses no
forget target, so ``--target`` is refused.
"""

from __future__ import annotations

from unlearnkit import Field, GradientMethod, GradientOptions, MethodSpec, hookimpl


class FTOptions(GradientOptions):
    epochs: int = Field(20, ge=0, description="passes over the retain set (RWFT paper A.3: 20; reference README: 10)")
    lr: float = Field(0.01, gt=0, description="learning rate (reference: 0.01)")
    batch_size: int = Field(256, ge=1, description="batch size (reference: 256)")


class FT(GradientMethod):
    drive = "retain"

    def loss(self, ctx, batch):
        import torch.nn.functional as F

        x, y = batch.retain
        return F.cross_entropy(ctx.model(x), y)


# What 'unlearn tune' explores (learning rate, epochs, the method's own strength knob where it has one).
SEARCH_SPACE = {
    "lr": {"type": "float", "low": 1e-3, "high": 1e-1, "log": True},
    "epochs": {"type": "int", "low": 1, "high": 20},
}


@hookimpl
def register_methods(register):
    register(
        MethodSpec(
            name="ft",
            summary="fine-tune on the retain set (Warnecke et al. 2021, SalUn/l1-sparse protocol)",
            options=FTOptions,
            factory=FT,
            search_space=SEARCH_SPACE,
            needs=("retain",),
        )
    )
