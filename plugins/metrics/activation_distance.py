"""Activation distance: mean L2 distance between softmax outputs and the retrained model's (metrics.md section 2.10 (a)).

Chundawat et al. (Bad Teacher, ``metrics.py`` ``actv_dist``) and Foster et al. (SSD,
``src/metrics.py`` ``actv_dist``); the reference function refers to an undefined ``nn`` and is
rewritten here from its formula: ``AD = mean_x || p_model(x) - p_retrained(x) ||_2`` on the
forget samples (``ad_train`` on train-forget, ``ad_test`` on test-forget). Lower is better; the
retrained model's column holds the floor (retrained model vs the one of seed + 1) when ``floor``
is on.
"""

from __future__ import annotations

from unlearnkit import Field, MetricSpec, Options, hookimpl


class ADOptions(Options):
    floor: bool = Field(True, description="retrained column: distance between retrained models of seeds s and s+1")


def compute(ev, subject, options):
    from unlearnkit.helpers import forget_distance

    return forget_distance(ev, subject, options.floor, "ad", lambda p, q: (p - q).norm(dim=1).mean().item())


@hookimpl
def register_metrics(register):
    register(
        MetricSpec(
            name="activation-distance",
            summary="mean L2 distance of softmax outputs to the retrained model on forget samples",
            options=ADOptions,
            factory=compute,
            direction="lower",
            needs=("retrained",),
            definition="mean_x ||p_model(x) - p_retrained(x)||_2 on forget samples; retrained column: retrain(s) vs retrain(s+1)",
        )
    )
