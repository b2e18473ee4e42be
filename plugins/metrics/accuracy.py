"""Accuracy on the forget and retain parts of the training and test sets, in percent.

Pooled (micro) accuracy, as Kodge et al.'s ``utils.test`` computes it from the confusion matrix
(metrics.md section 2.1): ``acc_f_*`` on samples of the forget classes (or the forgotten random
samples), ``acc_r_*`` on the others, ``acc_test`` on the whole test set. The RWFT paper's ACC_r
and ACC_f are ``acc_r_test`` and ``acc_f_test``. Test-time transforms, eval mode.
"""

from __future__ import annotations

from unlearnkit import MetricSpec, hookimpl

ROWS = {
    "acc_f_train": "train_forget",
    "acc_r_train": "train_retain",
    "acc_f_test": "test_forget",
    "acc_r_test": "test_retain",
    "acc_test": "test",
}


def compute(ev, subject, options):
    from unlearnkit.helpers import accuracy

    out = {}
    for row, split in ROWS.items():
        value = accuracy(ev.logits(subject, split), ev.labels(split))
        out[row] = None if value is None else 100.0 * value
    return out


@hookimpl
def register_metrics(register):
    register(
        MetricSpec(
            name="accuracy",
            summary="accuracy (%) on train/test forget and retain splits",
            factory=compute,
            direction="match",
            row_directions={
                "acc_r_train": "higher",
                "acc_r_test": "higher",
                "acc_test": "higher",
                "acc_f_train": "match",
                "acc_f_test": "match",
            },
            definition="pooled accuracy in %; ACC_f ideal = retrained model's value (0 for class forgetting)",
            default=True,
        )
    )
