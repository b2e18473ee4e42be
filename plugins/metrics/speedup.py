"""Speed-up over retraining: retrain time divided by unlearning time (metrics.md section 2.11).

``speed-up = T_retrain / T_method``, as the RTE comparisons of SalUn, SSD and Kodge et al. use
it, both measured by this engine on the same machine: ``T_retrain`` is the training time of the
retrained model (same recipe as the original), ``T_method`` the unlearning time of ``time``.
Higher is better; the retrained model's own value is 1.
"""

from __future__ import annotations

from unlearnkit import MetricSpec, hookimpl


def compute(ev, subject, options):
    retrain = ev.timings.get("retrain_seconds")
    if subject == "retrained":
        return {"speedup": 1.0 if retrain else None}
    if subject == "unlearned":
        unlearn = ev.timings.get("unlearn_seconds")
        return {"speedup": retrain / unlearn if retrain and unlearn else None}
    return None


@hookimpl
def register_metrics(register):
    register(
        MetricSpec(
            name="speedup",
            summary="retraining time divided by unlearning time",
            factory=compute,
            direction="higher",
            definition="T_retrain / T_unlearn on the same machine",
            default=True,
        )
    )
