"""SalUn: saliency unlearning, random-label fine-tuning restricted to the forget-salient weights.

Fan, Liu, Zhang, Wong, Wei, Liu, "SalUn: Empowering Machine Unlearning via Gradient-based Weight
Saliency in both Image Classification and Generation", ICLR 2024; reference implementation
OPTML-Group/Unlearn-Saliency ``Classification/generate_mask.py`` (mask) with
``Classification/main_random.py`` + ``Classification/unlearn/RL.py::RL`` (masked RL), commit a6e89fd.

SalUn is composition: the ``saliency`` selector (default; global top-``ratio`` mask of
``|grad CE|`` on the forget set at the original weights, model in eval mode) plus the
``random-label`` target (default) plus the RL loop: each epoch a pass over the forget set with the
targets, then a pass over the retain set with the true labels (the reference's CIFAR-10 branch;
``order="shuffled"`` is its CIFAR-100 branch). Masked-out weights stay bit-identical by default
(selector option ``mask_mode=restore``, the current reference); ``--select saliency
--set selector.mask_mode=gradient`` reproduces the paper-era drift through weight decay and momentum.
Random labels never equal a removed class, unlike the reference (methods.md section 17 item 3).

Protocol of the defaults: 15 epochs follow the RWFT paper's baseline budget (RWFT paper appendix A.3;
reference: 10); lr 0.013 (reference README example), batch 256, SGD momentum 0.9, weight decay
5e-4, BatchNorm in train mode, training augmentation (reference); mask ratio 0.5 (selector option).

Combinations: ``--target reweight`` gives saliency-masked fine-tuning towards the RWFT paper's
reweighted distribution (the RWFT paper's claim that reweighting helps any method); ``--select all`` is
plain RL with SalUn's budget; ``--select two-layer`` restricts the update to the middle block and
head instead of a saliency mask.
"""

from __future__ import annotations

from unlearnkit import Field, MethodSpec, RelabelMethod, RelabelOptions, hookimpl


class SalUnOptions(RelabelOptions):
    epochs: int = Field(15, ge=0, description="epochs, each over the forget and the retain set (RWFT paper A.3: 15)")
    lr: float = Field(0.013, gt=0, description="learning rate (reference README: 0.013; search 5e-3..2e-2)")
    batch_size: int = Field(256, ge=1, description="batch size (reference: 256)")


class SalUn(RelabelMethod):
    """SalUn: the relabelling loss of :class:`RelabelMethod` with the defaults above."""


# What 'unlearn tune' explores (learning rate, epochs, the method's own strength knob where it has one).
SEARCH_SPACE = {
    "lr": {"type": "float", "low": 1e-3, "high": 1e-1, "log": True},
    "epochs": {"type": "int", "low": 1, "high": 15},
}


@hookimpl
def register_methods(register):
    register(
        MethodSpec(
            name="salun",
            summary="saliency-masked random-label fine-tuning (Fan et al. 2024)",
            options=SalUnOptions,
            factory=SalUn,
            search_space=SEARCH_SPACE,
            needs=("forget", "retain"),
            uses_target=True,
            default_target="random-label",
            default_selector="saliency",
        )
    )
