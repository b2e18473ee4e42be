"""Target ``uniform``: equal probability on every retained class, zero on the forget classes.

The baseline the RWFT paper argues against: it removes the forget class but ignores which retained
classes a retrained model would choose, which MIA-NN and UTV detect.
"""

from __future__ import annotations

from unlearnkit import TargetSpec, hookimpl


def build(original_logits, removed, generator, options):
    keep = (~removed).float()
    return keep / keep.sum(dim=1, keepdim=True)


@hookimpl
def register_targets(register):
    register(TargetSpec(name="uniform", summary="uniform over the retained classes", factory=build))
