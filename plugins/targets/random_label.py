"""Target ``random-label``: a one-hot on a random retained class, drawn per sample and step.

This is the relabelling of Random Labeling (Golatkar et al. 2020) and SalUn (Fan et al. 2024),
except that the drawn label is never a removed class (the reference code may draw the true
label; see methods.md section 17, item 3).
"""

from __future__ import annotations

from unlearnkit import TargetSpec, hookimpl


def build(original_logits, removed, generator, options):
    import torch

    keep = (~removed).float()
    noise = (
        torch.rand(keep.shape, generator=generator).to(keep.device) if generator is not None else torch.rand_like(keep)
    )
    choice = (noise * keep).argmax(dim=1)
    return torch.nn.functional.one_hot(choice, keep.shape[1]).float()


@hookimpl
def register_targets(register):
    register(
        TargetSpec(
            name="random-label", summary="one-hot on a random retained class (RL / SalUn relabelling)", factory=build
        )
    )
