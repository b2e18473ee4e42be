"""Per-class test accuracy, in percent: where the forgetting lands and what it costs each class.

Kodge et al. read ACC_f/ACC_r off the confusion matrix (``utils.test``; metrics.md section 2.1);
this splits the same test-set accuracy by true class, one row per class (``acc_class_<k>``),
eval mode and test-time transforms. The forget classes' rows should match the retrained model
(0 for class forgetting); the others should stay high. The run also keeps the full confusion
matrix (metric ``confusion``).
"""

from __future__ import annotations

from unlearnkit import MetricSpec, hookimpl


def compute(ev, subject, options):
    labels = ev.labels("test")
    pred = ev.logits(subject, "test").argmax(dim=1)
    out = {}
    for c in range(ev.num_classes):
        mask = labels == c
        out[f"acc_class_{c}"] = None if not mask.any() else 100.0 * (pred[mask] == c).float().mean().item()
    return out


@hookimpl
def register_metrics(register):
    register(
        MetricSpec(
            name="per-class-accuracy",
            summary="test accuracy (%) of every class, one row per class",
            factory=compute,
            direction="match",
            definition="100 * mean_{x in test, y=k} 1[argmax p(x) = k] for each class k; ideal = retrained model",
        )
    )
