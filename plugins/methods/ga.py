"""GA: gradient ascent on the forget set ("NegGrad").

Thudi et al., "Unrolling SGD: Understanding Factors Influencing Machine Unlearning", EuroS&P 2022,
in the form benchmarked by SalUn and l1-sparse; reference implementation OPTML-Group/Unlearn-Sparse
``unlearn/GA.py::GA`` (identical in Unlearn-Saliency ``Classification/unlearn/GA.py``).

Update: ``min_theta -E_{(x, y) in D_f} CE(f_theta(x), y)`` with the true labels. The sign is in the
loss and the optimizer is an ordinary SGD (momentum 0.9, weight decay 5e-4 kept on, as in the
reference: it still pulls weights towards zero during the ascent). Cross-entropy is unbounded and,
like the reference, there is no clipping or early stop: a fixed, small budget is the only safeguard.

Defaults follow the reference README: 5 epochs, lr 1e-4, batch 256. The RWFT paper ran 20 epochs
(appendix A.3; its presets set that), but on a small model the unbounded ascent then destroys it:
Fashion-MNIST, small CNN, class 0, seed 1, 20 epochs at lr 1e-4 left 11.1% retain test accuracy
(random guessing), 5 epochs kept 84.5% (20 epochs at lr 1e-5: 86.4%), both with forget accuracy 0.

Combinations: ``--select`` restricts the ascent to chosen parameters (``saliency`` = masked GA).
The forget loss uses the true labels, so ``--target`` is refused.
"""

from __future__ import annotations

from unlearnkit import Field, GradientMethod, GradientOptions, MethodSpec, hookimpl


class GAOptions(GradientOptions):
    epochs: int = Field(5, ge=0, description="passes over the forget set (reference README: 5; RWFT paper A.3: 20)")
    lr: float = Field(1e-4, gt=0, description="learning rate (reference README: 1e-4)")
    batch_size: int = Field(256, ge=1, description="batch size (reference: 256)")


class GA(GradientMethod):
    drive = "forget"

    def loss(self, ctx, batch):
        import torch.nn.functional as F

        x, y = batch.forget
        return -F.cross_entropy(ctx.model(x), y)


# What 'unlearn tune' explores (learning rate, epochs, the method's own strength knob where it has one).
SEARCH_SPACE = {
    "lr": {"type": "float", "low": 1e-5, "high": 1e-3, "log": True},
    "epochs": {"type": "int", "low": 1, "high": 10},
}


@hookimpl
def register_methods(register):
    register(
        MethodSpec(
            name="ga",
            summary="gradient ascent on the forget set (Thudi et al. 2022, SalUn protocol)",
            options=GAOptions,
            factory=GA,
            search_space=SEARCH_SPACE,
            needs=("forget",),
        )
    )
