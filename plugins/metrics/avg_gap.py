"""Avg Gap: mean absolute gap to the retrained model over four numbers (metrics.md section 2.9 (d)).

LoTUS Eq. 15 (``cspartalis/LoTUS`` ``notebooks/results_class.ipynb``); SalUn's "Avg. Gap"
(``OPTML-Group/Unlearn-Saliency``) is the same average over its own four columns; the LoTUS
paper, section 8. ``avg_gap = 1/4 (|MIA - MIA_r| + |Acc_f - Acc_f,r| + |Acc_r - Acc_r,r| +
|Acc_test - Acc_test,r|)`` in percentage points. ``preset='lotus'``: MIA = ``mia-entropy``,
Acc_f on train-forget, Acc_r on train-retain, Acc_test on the whole test set. ``preset='salun'``:
MIA = ``mia-salun``, UA = 100 - Acc_f on train-forget, RA on train-retain, TA on test-retain.
Within one run there is one seed; LoTUS averages over seeds *before* taking gaps, which a sweep
does by averaging the four components. No intermediate rounding (LoTUS rounds; we do not).
Lower is better, 0 ideal; the retrained model's own value is 0 by definition.
"""

from __future__ import annotations

from typing import Literal

from unlearnkit import Field, MetricSpec, Options, hookimpl


class AvgGapOptions(Options):
    preset: Literal["lotus", "salun"] = Field(
        "lotus", description="which four numbers are averaged (LoTUS Eq. 15 or SalUn)"
    )


def components(ev, subject, preset):
    from unlearnkit.helpers import accuracy

    def acc(split):
        value = accuracy(ev.logits(subject, split), ev.labels(split))
        return None if value is None else 100.0 * value

    if preset == "lotus":
        mia = ev.metric("mia-entropy", subject)["mia_entropy"]
        return [mia, acc("train_forget"), acc("train_retain"), acc("test")]
    mia = ev.metric("mia-salun", subject)["mia_salun"]
    return [mia, acc("train_forget"), acc("train_retain"), acc("test_retain")]


def average_gap(values, reference):
    """Mean of |v - r| over the pairs where both exist."""
    gaps = [abs(v - r) for v, r in zip(values, reference, strict=True) if v is not None and r is not None]
    return sum(gaps) / len(gaps) if gaps else None


def compute(ev, subject, options):
    if subject == "retrained":
        return {"avg_gap": 0.0}
    return {
        "avg_gap": average_gap(components(ev, subject, options.preset), components(ev, "retrained", options.preset))
    }


@hookimpl
def register_metrics(register):
    register(
        MetricSpec(
            name="avg-gap",
            summary="LoTUS/SalUn Avg Gap: mean |difference| to retrain over MIA, forget, retain and test accuracy",
            options=AvgGapOptions,
            factory=compute,
            direction="lower",
            needs=("retrained",),
            definition="1/4 (|MIA-MIA_r| + |Acc_f-Acc_f,r| + |Acc_r-Acc_r,r| + |Acc_test-Acc_test,r|), percentage points",
            default=True,
        )
    )
