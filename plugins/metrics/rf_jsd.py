"""RF-JSD: LoTUS's retrain-free JSD (metrics.md section 2.9 (c)).

Spartalis et al., "LoTUS: large-scale machine unlearning with a taste of uncertainty" (CVPR
2025), reference ``cspartalis/LoTUS`` ``src/helpers/eval.py`` ``log_js_proxy``; the LoTUS
paper, section 10. For each class c among the forget samples: ``p_c`` = mean softmax of the model
on the train-forget samples of class c, ``q_c`` = mean softmax of the *original* model on the
test samples of class c, both renormalised; RF-JSD = JS between the stacked rows. Needs no
retrained model. Designed for random-subset forgetting: for class forgetting the original model
predicts c on unseen c-images, so a perfect class unlearner scores *high*. ``variant='class'``
(our design, not LoTUS) removes the forget classes from ``q_c`` and renormalises, so the
reference becomes "what the original model would say if it could not say c". ``flavor``:
``lotus`` (default, the reference reduction; LoTUS tables show it x 1e4) or ``correct`` (the
mean textbook JS over classes). Lower is better, 0 ideal.
"""

from __future__ import annotations

from typing import Literal

from unlearnkit import Field, MetricSpec, Options, hookimpl


class RFJSDOptions(Options):
    flavor: Literal["lotus", "correct"] = Field("lotus", description="JS reduction: LoTUS's (reference) or textbook")
    variant: Literal["lotus", "class"] = Field(
        "lotus", description="'class' drops the forget classes from the original model's reference rows (our design)"
    )


def compute(ev, subject, options):
    import torch

    from unlearnkit.helpers import js_divergence, js_reference

    p_forget, y_forget = ev.probs(subject, "train_forget"), ev.labels("train_forget")
    q_test, y_test = ev.probs("original", "test"), ev.labels("test")
    rows_p, rows_q = [], []
    for c in sorted(set(y_forget.tolist())):
        if not (y_test == c).any():
            continue
        p = p_forget[y_forget == c].mean(dim=0)
        q = q_test[y_test == c].mean(dim=0)
        if options.variant == "class" and ev.forget_classes:
            q = q.clone()
            q[ev.forget_classes] = 0.0
        rows_p.append(p / p.sum())
        rows_q.append(q / q.sum())
    if not rows_p:
        return {"rf_jsd": None}
    p, q = torch.stack(rows_p), torch.stack(rows_q)
    value = js_divergence(p, q).mean().item() if options.flavor == "correct" else js_reference(p, q, "lotus")
    return {"rf_jsd": value}


@hookimpl
def register_metrics(register):
    register(
        MetricSpec(
            name="rf-jsd",
            summary="LoTUS retrain-free JSD: class-mean outputs on forget samples vs the original model on test (random forgetting)",
            options=RFJSDOptions,
            factory=compute,
            direction="lower",
            needs=("original",),
            definition="JS(mean_c p_model on train-forget, mean_c p_original on test) per forget class c; meant for random forgetting",
        )
    )
