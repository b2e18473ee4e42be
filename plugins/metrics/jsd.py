"""JSD: Jensen-Shannon divergence to the retrained model on the forget samples (metrics.md section 2.9 (a)).

The output-divergence metric of Chundawat et al. (Bad Teacher, AAAI 2023,
``vikram2000b/bad-teaching-unlearning`` ``metrics.py``), SSD (``src/metrics.py`` ``JSDiv``) and
LoTUS (CVPR 2025, ``cspartalis/LoTUS`` ``src/helpers/eval.py`` ``log_js``); the LoTUS
paper, section 10 lists it. Default: the textbook per-sample
``JS(p, q) = 0.5 KL(p||m) + 0.5 KL(q||m)``, ``m = (p+q)/2``, natural log, averaged over the
samples, in [0, ln 2]. ``flavor`` reproduces the repositories' numbers instead: ``badteacher``
(reverse KL, averaged over N*K entries, so divided by K) or ``lotus`` (whole-matrix
normalisation, divided by N; LoTUS tables multiply it by 1e4). Rows: ``jsd_train`` on
train-forget (LoTUS) and ``jsd_test`` on test-forget (Bad Teacher / SSD). Lower is better.
The retrained model's column holds the floor: the value between the retrained model and one of
seed + 1 (the best any method can reach), when ``floor`` is on.
"""

from __future__ import annotations

from typing import Literal

from unlearnkit import Field, MetricSpec, Options, hookimpl


class JSDOptions(Options):
    flavor: Literal["correct", "badteacher", "lotus"] = Field(
        "correct", description="textbook JS (default), or the Bad Teacher/SSD or LoTUS reductions"
    )
    floor: bool = Field(True, description="retrained column: JSD between retrained models of seeds s and s+1")


def divergence(p, q, flavor):
    from unlearnkit.helpers import js_divergence, js_reference

    if flavor == "correct":
        return js_divergence(p, q).mean().item()
    return js_reference(p, q, flavor)


def compute(ev, subject, options):
    from unlearnkit.helpers import forget_distance

    return forget_distance(ev, subject, options.floor, "jsd", lambda p, q: divergence(p, q, options.flavor))


@hookimpl
def register_metrics(register):
    register(
        MetricSpec(
            name="jsd",
            summary="Jensen-Shannon divergence to the retrained model on forget samples; retrain column = floor",
            options=JSDOptions,
            factory=compute,
            direction="lower",
            needs=("retrained",),
            definition="mean_x JS(p_model(x), p_retrained(x)) on forget samples, in [0, ln 2]; retrained column: retrain(s) vs retrain(s+1)",
        )
    )
