"""MIA-NN: the RWFT paper's nearest-neighbour-class membership attack (metrics.md section 2.4).

Wang, Ebrahimpour-Boroojeny, Sundaram, arXiv:2506.20893 v1, sections 3.2 and 5.3, appendix A.1
(no public code). A retrained model sends a forgotten class's images to a semantically close
retained class (automobile -> truck); an unlearned model that spreads that mass differently is
detectable from its probability of that class.

1. The nearest class ``c_nn`` of each forget class ``c_f`` is the class the *retrained* model
   predicts most often for the train-forget samples of ``c_f`` (its confusion row, argmax over
   retained classes; ties to the lower index). Without a retrained model the *original* model's
   runner-up is used instead. Never the model under test, so every method is attacked on the
   same class. The choice is recorded in the run's ``mia_nn.json``.
2. For each model: feature ``p(c_nn | x)``; an ``SVC(C=3, gamma='auto', rbf)`` is fit on members
   = test samples of ``c_nn`` against non-members = test samples of the other retained classes,
   subsampled to the members' count (balanced; seeds ``seed .. seed+repeats-1``, averaged).
3. ``mia_nn`` = % of the test samples of ``c_f`` predicted member (the first of the RWFT paper's two
   appendix descriptions); ``mia_nn_gap`` = |mia_nn - the retrained model's mia_nn|, lower is
   better, 0 ideal. The raw score has no universal direction, hence "match".
"""

from __future__ import annotations

from unlearnkit import Field, MetricSpec, Options, hookimpl


class MIANNOptions(Options):
    repeats: int = Field(3, ge=1, description="balanced non-member subsamples, averaged (metrics.md: seeds 0, 1, 2)")


def nearest_class(probs, forget_class, forget_classes):
    """Most frequent argmax over the retained classes of ``probs`` (rows: samples of ``forget_class``)."""
    import torch

    masked = probs.clone()
    masked[:, forget_classes] = float("-inf")
    counts = torch.bincount(masked.argmax(dim=1), minlength=probs.shape[1])
    counts[forget_classes] = -1
    return int(counts.argmax())  # torch argmax returns the first maximum: ties go to the lower index


def choose(ev):
    from unlearnkit import MetricUnavailable

    if ev.scenario.kind != "class" or not ev.forget_classes:
        raise MetricUnavailable("needs a class-forgetting scenario")
    source = "retrained" if ev.has("retrained") else "original"
    probs, labels = ev.probs(source, "train_forget"), ev.labels("train_forget")
    pairs = {c: nearest_class(probs[labels == c], c, ev.forget_classes) for c in ev.forget_classes}
    ev.artifacts["mia_nn"] = {
        "source": source,
        "nearest": {str(c): {"class": n, "name": ev.data.classes[n]} for c, n in pairs.items()},
    }
    return pairs


def score(ev, subject, options):
    import torch

    from unlearnkit.helpers import membership_attack

    pairs = ev.once("mia_nn_pairs", lambda: choose(ev))
    probs, labels = ev.probs(subject, "test"), ev.labels("test")
    forgotten = torch.isin(labels, torch.tensor(ev.forget_classes))
    values = []
    for c_f, c_nn in pairs.items():
        feature = probs[:, c_nn]
        members = feature[labels == c_nn]
        others = feature[(labels != c_nn) & ~forgotten]
        n = min(len(members), len(others))
        for r in range(options.repeats):
            pick = torch.randperm(len(others), generator=torch.Generator().manual_seed(ev.seed + r))[:n]
            values.append(membership_attack(members, others[pick], feature[labels == c_f], "svc", ev.seed + r))
    return 100.0 * sum(values) / len(values)


def compute(ev, subject, options):
    value = ev.once(("mia_nn_score", subject, options.repeats), lambda: score(ev, subject, options))
    gap = None
    if ev.has("retrained"):
        reference = ev.once(("mia_nn_score", "retrained", options.repeats), lambda: score(ev, "retrained", options))
        gap = abs(value - reference)
    return {"mia_nn": value, "mia_nn_gap": gap}


@hookimpl
def register_metrics(register):
    register(
        MetricSpec(
            name="mia-nn",
            summary="the RWFT paper's nearest-class MIA: % of test-forget flagged as the nearest retained class, and gap to retrain",
            options=MIANNOptions,
            factory=compute,
            direction="match",
            row_directions={"mia_nn": "match", "mia_nn_gap": "lower"},
            definition="SVC on p(c_nn|x): test[c_nn] (member) vs balanced other retained test samples; % of test-forget predicted member; c_nn from the retrained model's confusion",
            default=True,
            scenarios=("class",),  # pairs each forgotten class with its nearest class
        )
    )
