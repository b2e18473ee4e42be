"""The SSD / Bad Teacher / LoTUS MIA: logistic regression on output entropy (metrics.md section 2.10 (b)).

Foster et al., "Selective Synaptic Dampening" (AAAI 2024), reference
``if-loops/selective-synaptic-dampening`` ``src/metrics.py`` ``get_membership_attack_prob``
(from Chundawat et al.'s Bad Teacher, ``vikram2000b/bad-teaching-unlearning`` ``metrics.py``).
Feature: the entropy of the softmax. ``LogisticRegression(class_weight='balanced', lbfgs)`` is
fit on members = train-retain (label 1) against non-members = the whole test set, forget class
included (label 0), then applied to train-forget; reported is the percentage predicted MEMBER
(the opposite orientation to ``mia-kodge`` / ``mia-salun``). SSD's ``multi_class='multinomial'``
is omitted: it is deprecated in scikit-learn >= 1.5 and for binary labels only changes the
effective regularisation. Ideal: the retrained model's value, not 0.
"""

from __future__ import annotations

from unlearnkit import MetricSpec, hookimpl


def compute(ev, subject, options):
    from unlearnkit.helpers import entropy, membership_attack

    def ent(split):
        return entropy(ev.probs(subject, split))

    fraction_member = membership_attack(ent("train_retain"), ent("test"), ent("train_forget"), "logreg", ev.seed)
    return {"mia_entropy": 100.0 * fraction_member}


@hookimpl
def register_metrics(register):
    register(
        MetricSpec(
            name="mia-entropy",
            summary="SSD/LoTUS MIA: logistic regression on entropy, % of train-forget predicted member",
            factory=compute,
            direction="match",
            definition="LogReg(balanced) on entropy: train-retain (member) vs full test (non-member); % of train-forget predicted member",
            default=True,
            per_model=True,  # depends on this model's outputs only: stored with cached models
        )
    )
