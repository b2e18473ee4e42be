"""l1-sparse: fine-tuning on the retain set with a linearly decaying l1 penalty on the weights.

Jia et al., "Model Sparsity Can Simplify Machine Unlearning", NeurIPS 2023; reference
implementation OPTML-Group/Unlearn-Sparse ``unlearn/FT.py::FT_l1`` (``FT_iter(with_l1=True)``,
CLI ``--unlearn FT_prune``; identical in Unlearn-Saliency ``Classification/unlearn/FT.py``).

Loss in epoch ``t`` (0-based) of ``E``: ``CE_mean(f(x_r), y_r) + gamma_t * ||theta||_1`` with
``gamma_t = gamma * (1 - t / (E - no_l1_epochs))`` for ``t < E - no_l1_epochs`` and 0 afterwards
(constant within an epoch; with ``no_l1_epochs = 0`` the last epoch still uses ``gamma / E``). The
norm sums |theta| over every trained parameter tensor (weights, biases and BatchNorm affine, not
BatchNorm buffers); parameters a selector froze get no gradient from it, so summing over the
trained ones is the same update. SGD weight decay (L2) stays on as well, as in the reference.

Protocol of the defaults: 20 epochs follow the RWFT paper's baseline budget (RWFT paper A.3; reference
README: 10); lr 0.01, batch 256, momentum 0.9, weight decay 5e-4 follow the reference; gamma 1e-4
follows the reference runs of this code (SalUn search range 5e-5..1e-4). The reference parser's
``--alpha 0.2`` default belongs to another method and would destroy the model (section 17 item 6).

Combinations: as FT, ``--select`` restricts which weights train and are penalised; no ``--target``.
"""

from __future__ import annotations

from unlearnkit import Field, GradientMethod, GradientOptions, MethodSpec, hookimpl


class L1SparseOptions(GradientOptions):
    epochs: int = Field(20, ge=0, description="passes over the retain set (RWFT paper A.3: 20; reference README: 10)")
    lr: float = Field(0.01, gt=0, description="learning rate (reference: 0.01)")
    batch_size: int = Field(256, ge=1, description="batch size (reference: 256)")
    gamma: float = Field(1e-4, ge=0, description="initial l1 weight, reference --alpha (reference runs: 1e-4)")
    no_l1_epochs: int = Field(0, ge=0, description="final epochs without the l1 term (reference: 0)")


class L1Sparse(GradientMethod):
    drive = "retain"

    def __init__(self, options: L1SparseOptions):
        super().__init__(options)
        self.gamma_t = options.gamma

    def on_epoch_start(self, ctx, epoch):
        o = self.options
        active = o.epochs - o.no_l1_epochs
        self.gamma_t = o.gamma * (1 - epoch / active) if epoch < active else 0.0

    def loss(self, ctx, batch):
        import torch
        import torch.nn.functional as F

        x, y = batch.retain
        loss = F.cross_entropy(ctx.model(x), y)
        if self.gamma_t > 0:
            l1 = torch.stack([p.abs().sum() for p in ctx.model.parameters() if p.requires_grad]).sum()
            loss = loss + self.gamma_t * l1
        return loss

    def epoch_logs(self, ctx, epoch):
        return {"gamma": self.gamma_t}


# What 'unlearn tune' explores (learning rate, epochs, the method's own strength knob where it has one).
SEARCH_SPACE = {
    "lr": {"type": "float", "low": 1e-3, "high": 1e-1, "log": True},
    "epochs": {"type": "int", "low": 1, "high": 20},
    "gamma": {"type": "float", "low": 1e-5, "high": 1e-3, "log": True},
}


@hookimpl
def register_methods(register):
    register(
        MethodSpec(
            name="l1-sparse",
            summary="fine-tune on the retain set with a decaying l1 penalty (Jia et al. 2023)",
            options=L1SparseOptions,
            factory=L1Sparse,
            search_space=SEARCH_SPACE,
            needs=("retain",),
        )
    )
