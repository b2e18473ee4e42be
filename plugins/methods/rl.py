"""RL: random labelling of the forget set, fine-tuned together with the retain set.

Golatkar, Achille, Soatto, "Eternal Sunshine of the Spotless Net", CVPR 2020 (the relabelling
baseline), in the form benchmarked by SalUn (Fan et al., ICLR 2024, the RL objective of its
section 4); reference implementation OPTML-Group/Unlearn-Saliency ``Classification/unlearn/RL.py::RL``
(without ``--mask_path``).

Objective: ``E_{x in D_f} CE(f(x), y') + E_{(x, y) in D_r} CE(f(x), y)``. The forget-sample targets
come from the ``--target`` plugin on the very augmented view the model sees; the default
``random-label`` draws a fresh one-hot on a retained class per sample and step. Unlike the
reference, that draw never equals a removed class (the reference's ``randint(0, K)`` may pick the
true label, methods.md section 17 item 3).

Each epoch follows the reference's CIFAR-10 branch by default (``order="forget-then-retain"``):
one pass over the forget set, then one over the retain set, separate optimizer steps. The
reference's CIFAR-100 branch (``order="shuffled"``) takes one shuffled pass over both together; a
mixed batch's loss is the mean over all its samples.

Protocol of the defaults: the reference's 10 epochs, batch 256, SGD momentum 0.9, weight decay
5e-4, BatchNorm in train mode, training augmentation; lr 0.01 at the low end of SalUn's search range
[0.01, 0.1]. The RWFT paper gives no RL budget.

Combinations: any ``--target`` (``reweight`` gives fine-tuning towards the reweighted original
distribution with retain data, i.e. RWFT plus retain replay; ``uniform`` and ``max-class`` work too)
and any ``--select`` (``--select saliency`` is SalUn).
"""

from __future__ import annotations

from unlearnkit import Field, MethodSpec, RelabelMethod, RelabelOptions, hookimpl


class RLOptions(RelabelOptions):
    epochs: int = Field(10, ge=0, description="epochs, each over the forget and the retain set (reference: 10)")
    lr: float = Field(0.01, gt=0, description="learning rate (SalUn search range 0.01..0.1)")
    batch_size: int = Field(256, ge=1, description="batch size (reference: 256)")


class RL(RelabelMethod):
    """Random Labeling: the relabelling loss of :class:`RelabelMethod` with the defaults above."""


# What 'unlearn tune' explores (learning rate, epochs, the method's own strength knob where it has one).
SEARCH_SPACE = {
    "lr": {"type": "float", "low": 1e-3, "high": 1e-1, "log": True},
    "epochs": {"type": "int", "low": 1, "high": 10},
}


@hookimpl
def register_methods(register):
    register(
        MethodSpec(
            name="rl",
            summary="random labels on the forget set plus retain data (SalUn's RL baseline)",
            options=RLOptions,
            factory=RL,
            search_space=SEARCH_SPACE,
            needs=("forget", "retain"),
            uses_target=True,
            default_target="random-label",
        )
    )
