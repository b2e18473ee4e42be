"""Unlearning wall time (RTE) in seconds (metrics.md section 2.11).

SalUn / l1-sparse report RTE, the wall-clock time of the unlearning procedure. The engine times
``method.unlearn`` from the forget request to a ready model, including request-dependent
preprocessing (saliency masks, importances), excluding model loading and all evaluation, with a
CUDA synchronisation before the clock is read (``Workbench.unlearn``). The retrained model's
column is its training time (recorded when its cache entry was made, so a cache hit does not
look free); the original model has no unlearning time. Lower is better.
"""

from __future__ import annotations

from unlearnkit import MetricSpec, hookimpl


def compute(ev, subject, options):
    if subject == "unlearned":
        return {"time_s": ev.timings.get("unlearn_seconds")}
    if subject == "retrained":
        return {"time_s": ev.timings.get("retrain_seconds")}
    return None


@hookimpl
def register_metrics(register):
    register(
        MetricSpec(
            name="time",
            summary="unlearning wall time in seconds (retrained column: retraining time)",
            factory=compute,
            direction="lower",
            definition="seconds from the forget request to the unlearned model, evaluation excluded",
            default=True,
        )
    )
