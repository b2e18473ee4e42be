"""U-LiRA in the RWFT paper's section 6.2 setting (metrics.md section 2.6).

Hayes et al., "Inexact unlearning needs more careful evaluations" (SaTML 2025, arXiv
2403.01218) adapt LiRA (Carlini et al., S&P 2022, ``tensorflow/privacy``
``research/mi_lira_2021``) to unlearning; no official code exists, Kodge et al.'s ``main.py
--do-mia-ulira`` is a small class-unlearning version. The RWFT paper uses k unlearned and k
retrained models with class-conditional statistics, which is what this implements:

* pool: for seeds s = seed .. seed+k-1, the unlearned model ``U_s`` = the configured method applied
  to the original model of seed s, and the retrained model ``R_s`` (seed = the run's own models);
  shadows come through the model cache (unlearned ones as cached outputs keyed by the method
  config), so a second evaluation trains and unlearns nothing;
* signal: ``phi = log p_y - log sum_{c != y} p_c`` (logit-scaled true-class probability, from
  logits; LiRA's choice) on the train-forget samples, or with ``signal="prob"`` ``p_y`` itself.
  The difference matters for class forgetting: a retrained model gives a class it never saw
  ``p_y`` around 1e-6 (phi about -14 on Fashion-MNIST), while a method that stops at ACC_f 0
  may leave 1e-3 (phi about -6). UTV and accuracy cannot see that gap; the attack can, on
  either signal (Fashion-MNIST trousers, RWFT-2-O: 97.1 % with both, since the retrained models'
  ``p_y`` sits so tightly at 0 that the variance alone separates them);
* leave-one-out over the k seeds: fit one Gaussian to all ``phi`` of the other unlearned models
  and one to the other retrained models (pooled over samples and models: with 2 models per side
  a per-example variance is meaningless), score the held-out ``U_i`` (label 1) and ``R_i``
  (label 0) with the log-likelihood ratio;
* report the best-threshold balanced accuracy (LiRA's ``sweep``) and the AUC, mean over folds,
  in %. Ideal 50 (indistinguishable from retraining); lower is better down to 50.

The original model's column plays the same game with the original models in place of the
unlearned ones: how well the attack separates models that never unlearned (near 100).
"""

from __future__ import annotations

from typing import Literal

from unlearnkit import Field, MetricSpec, Options, hookimpl


class ULiRAOptions(Options):
    k: int = Field(3, ge=2, description="models per side: unlearned (or original) and retrained seeds (RWFT paper: 3)")
    split: Literal["train_forget", "test_forget"] = Field(
        "train_forget", description="samples attacked (RWFT paper: the forget set, train_forget)"
    )
    signal: Literal["logit", "prob"] = Field(
        "logit",
        description="per-sample signal: logit-scaled p_y (LiRA) or the probability p_y (the RWFT paper does not say)",
    )


def phi(ev, subject, split, signal="logit"):
    from unlearnkit.helpers import logit_scaled, true_class_probability

    logits, labels = ev.logits(subject, split), ev.labels(split)
    if signal == "prob":
        return true_class_probability(logits.float().softmax(1), labels).numpy()
    return logit_scaled(logits, labels).numpy()


def loo_attack(phi_in, phi_out):
    """Leave-one-out pooled-Gaussian likelihood-ratio attack; (mean balanced accuracy, mean AUC) in [0, 1]."""
    import numpy as np
    from scipy.stats import norm
    from sklearn.metrics import roc_auc_score, roc_curve

    accs, aucs = [], []
    for i in range(len(phi_in)):
        a = np.concatenate([p for j, p in enumerate(phi_in) if j != i])
        b = np.concatenate([p for j, p in enumerate(phi_out) if j != i])
        x = np.r_[phi_in[i], phi_out[i]]
        y = np.r_[np.ones(len(phi_in[i])), np.zeros(len(phi_out[i]))]
        score = norm.logpdf(x, a.mean(), a.std() + 1e-12) - norm.logpdf(x, b.mean(), b.std() + 1e-12)
        fpr, tpr, _ = roc_curve(y, score)
        accs.append(float(np.max(1 - (fpr + (1 - tpr)) / 2)))
        aucs.append(float(roc_auc_score(y, score)))
    return float(np.mean(accs)), float(np.mean(aucs))


def compute(ev, subject, options):
    if subject == "retrained":
        return None
    if len(ev.labels(options.split)) == 0:
        from unlearnkit import MetricUnavailable

        raise MetricUnavailable(f"split {options.split!r} is empty")
    seeds = [ev.seed + i for i in range(options.k)]
    phi_in = [phi(ev, ev.shadow(subject, s), options.split, options.signal) for s in seeds]
    phi_out = [phi(ev, ev.shadow("retrained", s), options.split, options.signal) for s in seeds]
    acc, auc = loo_attack(phi_in, phi_out)
    return {"u_lira_acc": 100.0 * acc, "u_lira_auc": 100.0 * auc}


@hookimpl
def register_metrics(register):
    register(
        MetricSpec(
            name="u-lira",
            summary="U-LiRA (RWFT paper sec. 6.2): k unlearned vs k retrained shadows, pooled Gaussians, leave-one-out",
            options=ULiRAOptions,
            factory=compute,
            direction="lower",
            needs=("retrained",),
            definition="LOO likelihood-ratio attack on logit-scaled p_y of forget samples, unlearned vs retrained models; balanced acc %, ideal 50",
        )
    )
