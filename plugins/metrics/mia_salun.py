"""MIA-Efficacy of SalUn / l1-sparse, the MIA the RWFT paper's Table 2 reports (metrics.md section 2.3).

Fan et al., "SalUn" (ICLR 2024), reference ``OPTML-Group/Unlearn-Saliency``
``Classification/evaluation/SVC_MIA.py`` and ``main_forget.py``; the RWFT paper (section 5.3)
attributes the same construction to Kodge et al. Feature: the softmax probability of the true
class ("confidence", the only one SalUn reports). An ``SVC(C=3, gamma='auto', rbf)`` is fit on
members = the first |test-retain| samples of train-retain in stored order (SalUn's
``Subset(retain, range(len(test)))``, no shuffling) against non-members = test-retain, then
applied to train-forget; reported is the percentage predicted non-member. Higher means more
forgetting; the ideal is the retrained model's value (about 100% for class forgetting).
"""

from __future__ import annotations

from unlearnkit import MetricSpec, hookimpl


def compute(ev, subject, options):
    from unlearnkit.helpers import membership_attack, true_class_probability

    def conf(split):
        return true_class_probability(ev.probs(subject, split), ev.labels(split))

    nonmembers = conf("test_retain")
    members = conf("train_retain")[: len(nonmembers)]
    fraction_member = membership_attack(members, nonmembers, conf("train_forget"), "svc", ev.seed)
    return {"mia_salun": 100.0 * (1.0 - fraction_member)}


@hookimpl
def register_metrics(register):
    register(
        MetricSpec(
            name="mia-salun",
            summary="SalUn MIA-Efficacy: SVC on confidence, % of train-forget predicted non-member (RWFT paper Table 2)",
            factory=compute,
            direction="match",
            definition="SVC fit on p_y: train-retain[:|test-retain|] (member) vs test-retain (non-member); % of train-forget predicted non-member",
            default=True,
            per_model=True,  # depends on this model's outputs only: stored with cached models
        )
    )
