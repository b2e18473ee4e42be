"""RMIA adapted to class unlearning (metrics.md section 2.7), offline, with retrained reference models.

Zarifzadeh, Liu, Shokri, "Low-cost high-power membership inference attacks" (ICML 2024),
reference ``privacytrustlab/ml_privacy_meter`` ``attacks.py`` (``run_rmia``); AMUN
(``Ali-E/AMUN`` ``rmia_evaluate.py``, same group as the RWFT paper) applies it to unlearning with
a forget-vs-test AUC. For a target model and a point x with label y:

* signal ``s(x) = p(y|x)`` (softmax, temperature 1: privacy-meter's default);
* ``Pr(x) = (1+a)/2 * mean_ref s_ref(x) + (1-a)/2`` (offline RMIA: reference models are OUT for
  every forget point, so ``a`` cannot be tuned and is an option, default 0.3);
* ``score(x) = fraction of population points z with (s(x)/Pr(x)) / (s(z)/Pr(z)) > gamma``;
* reference models: the retrained models of seeds seed+1 .. seed+``references`` (model cache);
  population z: the test-retain samples (never trained on by anyone);
* reported: AUC (%) of the scores of train-forget (members, 1) against test-forget (the
  same-class unseen samples, 0; a different class would measure class shift, not membership).

Every subject is attacked with the same references; ideal = the retrained model's AUC (about
50). The faithful online variant (AMUN: 128 half-split references) is out of CPU reach.
"""

from __future__ import annotations

from unlearnkit import Field, MetricSpec, Options, hookimpl


class RMIAOptions(Options):
    references: int = Field(2, ge=1, description="retrained reference models (seeds seed+1 ..)")
    a: float = Field(0.3, ge=0, le=1, description="offline parameter a (privacy-meter / RMIA CIFAR-10 config: 0.3)")
    gamma: float = Field(1.0, gt=0, description="likelihood-ratio threshold gamma (privacy-meter default 1)")


def rmia_scores(sig_x, ref_x, sig_z, ref_z, a, gamma):
    """RMIA score of every x: the fraction of population z it dominates by more than ``gamma``."""
    import torch

    ratio_x = sig_x / ((1 + a) / 2 * ref_x + (1 - a) / 2)
    ratio_z = (sig_z / ((1 + a) / 2 * ref_z + (1 - a) / 2)).sort().values
    # ratio_x / ratio_z > gamma  <=>  ratio_z < ratio_x / gamma (ratios are positive)
    below = torch.searchsorted(ratio_z, ratio_x / gamma, side="left")
    return below.double() / len(ratio_z)


def compute(ev, subject, options):
    import torch
    from sklearn.metrics import roc_auc_score

    from unlearnkit.helpers import true_class_probability

    if len(ev.labels("test_forget")) == 0 or len(ev.labels("train_forget")) == 0:
        from unlearnkit import MetricUnavailable

        raise MetricUnavailable("needs train and test samples of the forgotten classes (class forgetting)")
    refs = [ev.shadow("retrained", ev.seed + i) for i in range(1, options.references + 1)]

    def signal(model, split):
        return true_class_probability(ev.probs(model, split), ev.labels(split)).double()

    def reference(split):
        return torch.stack([signal(r, split) for r in refs]).mean(dim=0)

    x_splits = ("train_forget", "test_forget")
    sig_x = torch.cat([signal(subject, s) for s in x_splits])
    ref_x = torch.cat([reference(s) for s in x_splits])
    scores = rmia_scores(
        sig_x, ref_x, signal(subject, "test_retain"), reference("test_retain"), options.a, options.gamma
    )
    labels = torch.cat([torch.ones(len(ev.labels("train_forget"))), torch.zeros(len(ev.labels("test_forget")))])
    return {"rmia_auc": 100.0 * float(roc_auc_score(labels.numpy(), scores.numpy()))}


@hookimpl
def register_metrics(register):
    register(
        MetricSpec(
            name="rmia",
            summary="offline RMIA with retrained references: AUC (%) of train-forget vs test-forget",
            options=RMIAOptions,
            factory=compute,
            direction="match",
            needs=("retrained",),
            definition="RMIA score (pairwise likelihood ratio vs test-retain population > gamma); AUC of train-forget vs test-forget, ideal = retrained (~50)",
            scenarios=("class",),  # needs train and test samples of the forgotten classes
        )
    )
