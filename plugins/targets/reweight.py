"""Target ``reweight``: the original model's distribution with the forget classes removed and renormalised.

RWFT paper Eq. 3: ``q*(y|x) = 0`` for a forget class and ``p_o(y|x) / (1 - p_o(y_f|x))`` otherwise.
Computed as a softmax over logits with the removed classes set to -inf, which is exactly equal
and cannot divide by a vanishing ``1 - p_o(y_f|x)``.

Defined for class forgetting only. On a random subset every class stays, so the only thing it
could remove is each sample's own label, and the model the target imitates would then be the
opposite of the retrained one (which still predicts most forget samples correctly): RWFT with it
on 10% of MNIST dropped test accuracy to 49.5%. The engine refuses that combination.
"""

from __future__ import annotations

from unlearnkit import TargetSpec, hookimpl


def build(original_logits, removed, generator, options):
    from unlearnkit.helpers import masked_softmax

    return masked_softmax(original_logits, removed)


@hookimpl
def register_targets(register):
    register(
        TargetSpec(
            name="reweight",
            summary="proportional reassignment of the forget mass (RWFT paper Eq. 3)",
            factory=build,
            from_original=True,
            scenarios=("class",),
        )
    )
