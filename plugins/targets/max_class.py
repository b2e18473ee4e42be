"""Target ``max-class``: all forget mass moves to the most probable retained class (RWFT paper Eq. 5-6).

``y_max = argmax_{y not removed} p_o(y|x)``; ``q(y_max) = p_o(y_max) + p_o(removed)``, removed
classes get 0 and every other class keeps ``p_o(y|x)``.
"""

from __future__ import annotations

from unlearnkit import TargetSpec, hookimpl


def build(original_logits, removed, generator, options):
    probs = original_logits.softmax(dim=1)
    mass = (probs * removed).sum(dim=1)
    target = probs.masked_fill(removed, 0.0)
    best = target.masked_fill(removed, -1.0).argmax(dim=1)
    target[range(len(best)), best] += mass
    return target


@hookimpl
def register_targets(register):
    register(
        TargetSpec(
            name="max-class",
            summary="move the forget mass to the nearest retained class (RWFT paper Eq. 6)",
            factory=build,
            from_original=True,
            scenarios=("class",),  # same reason as reweight: a random subset has no class to remove
        )
    )
