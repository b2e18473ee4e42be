"""MIA as the Kodge et al. reference code builds it (TMLR 2024; metrics.md sections 2.2 and 4.2).

Kodge, Saha, Roy, "Deep unlearning: fast and efficient gradient-free class forgetting",
reference ``sangamesh-kodge/class_forgetting`` ``main.py --do-mia`` and ``utils.SVC_MIA``.
Feature: the softmax probability of the true class. An ``SVC(C=3, gamma='auto', rbf)`` is fit
on members = the train-retain split (label 1) against non-members = the train-forget split
(label 0), unbalanced and unscaled, then applied to the test-forget samples; reported is the
percentage of them predicted non-member. Differences from the reference, by design: clean
(non-augmented) images, and at most ``max_members`` members (a seeded random subset; Kodge
uses all of them on CIFAR and a random 50,000 on ImageNet) so the quadratic SVC fit stays cheap.
The RWFT paper describes a different split for "Kodge's MIA"; that one is ``mia-salun``.
Direction: match the retrained model (about 100% for class forgetting).
"""

from __future__ import annotations

from unlearnkit import Field, MetricSpec, Options, hookimpl


class KodgeOptions(Options):
    max_members: int | None = Field(
        10000, ge=1, description="cap on members (seeded random subset); null = all, as Kodge on CIFAR"
    )


def compute(ev, subject, options):
    import torch

    from unlearnkit.helpers import membership_attack, true_class_probability

    if len(ev.labels("test_forget")) == 0:
        from unlearnkit import MetricUnavailable

        raise MetricUnavailable("needs test samples of the forgotten data (class forgetting)")

    def conf(split):
        return true_class_probability(ev.probs(subject, split), ev.labels(split))

    members = conf("train_retain")
    if options.max_members is not None and len(members) > options.max_members:
        keep = torch.randperm(len(members), generator=torch.Generator().manual_seed(ev.seed))[: options.max_members]
        members = members[keep]
    fraction_member = membership_attack(members, conf("train_forget"), conf("test_forget"), "svc", ev.seed)
    return {"mia_kodge": 100.0 * (1.0 - fraction_member)}


@hookimpl
def register_metrics(register):
    register(
        MetricSpec(
            name="mia-kodge",
            summary="SVC MIA on true-class confidence as Kodge's code builds it (% test-forget predicted non-member)",
            options=KodgeOptions,
            factory=compute,
            direction="match",
            definition="SVC fit on p_y: train-retain (member) vs train-forget (non-member); % of test-forget predicted non-member",
            per_model=True,  # depends on this model's outputs only: stored with cached models
            scenarios=("class",),  # needs test samples of the forgotten classes
        )
    )
