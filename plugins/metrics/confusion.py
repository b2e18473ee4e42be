"""Confusion matrices of every model on the test set, saved with the run (``confusion.json``).

Rows are true classes, columns argmax predictions (Kodge et al. ``utils.test``, metrics.md
section 2.1). The whole matrix goes to the run folder for plots; the table gets one number per
model, ``forget_top_share``: the share (%) of forget-class test samples that go to the single
class the model predicts most often for them. A retrained model sends a forgotten class mostly
to its nearest class (RWFT paper Fig. 1, automobile -> truck), so matching the retrained model's
share is the goal; a model that still recognises the class shows its own index there.
"""

from __future__ import annotations

from unlearnkit import MetricSpec, hookimpl


def compute(ev, subject, options):
    from unlearnkit.helpers import confusion_matrix

    labels = ev.labels("test")
    cm = confusion_matrix(labels, ev.logits(subject, "test").argmax(dim=1), ev.num_classes)
    store = ev.artifacts.setdefault("confusion", {})
    store[subject] = cm.tolist()
    store.setdefault("classes", list(ev.data.classes))
    store.setdefault("forget_classes", list(ev.forget_classes))
    rows = cm[ev.forget_classes] if ev.forget_classes else cm[:0]
    total = int(rows.sum())
    share = None if total == 0 else 100.0 * int(rows.sum(dim=0).max()) / total
    return {"forget_top_share": share}


@hookimpl
def register_metrics(register):
    register(
        MetricSpec(
            name="confusion",
            summary="test-set confusion matrix of every model, saved as confusion.json in the run",
            factory=compute,
            direction="match",
            definition="cm[y, argmax p(x)] counts on the test set; row shown: % of forget-class samples sent to their top class",
            default=True,
        )
    )
