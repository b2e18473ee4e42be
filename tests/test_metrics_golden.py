"""Golden tests of the evaluation suite on hand-built outputs (no training).

A tiny synthetic dataset gives real splits; the logits of each model on each split are planted
directly in an EvalContext, so every metric runs on numbers whose answer is known.
"""

from __future__ import annotations

import math

import pytest
import torch

from unlearnkit.data.scenarios import ImageDataset, Preprocess, make_scenario
from unlearnkit.evaluation.evaluate import EvalContext, MetricUnavailable, compute_metrics


def synthetic(per_class: int = 60, classes: int = 3, forget: int = 0, kind: str = "class") -> tuple:
    y_train = torch.arange(classes).repeat_interleave(per_class)
    y_test = torch.arange(classes).repeat_interleave(per_class)
    x_train = torch.zeros(len(y_train), 1, 2, 2, dtype=torch.uint8)
    x_test = torch.zeros(len(y_test), 1, 2, 2, dtype=torch.uint8)
    data = ImageDataset(x_train, y_train, x_test, y_test, [f"c{i}" for i in range(classes)], (0.5,), (0.5,), "none")
    if kind == "class":
        scenario = make_scenario(data, [forget], None, None, 0)
    else:
        scenario = make_scenario(data, [], 0.1, None, 0)
    return data, scenario


def make_ev(logits_for, subjects=("original", "unlearned", "retrained"), **kwargs) -> EvalContext:
    """``logits_for(subject, split, labels)`` gives each base split's logits."""
    data, scenario = synthetic(**kwargs)
    ev = EvalContext(
        {s: torch.nn.Identity() for s in subjects},
        data,
        scenario,
        Preprocess(data, torch.device("cpu")),
        torch.device("cpu"),
    )
    for s in subjects:
        for split in ("train_forget", "train_retain", "test"):
            ev._logits[(s, split)] = logits_for(s, split, ev.labels(split)).float()
    return ev


def onehot_logits(labels: torch.Tensor, classes: int, scale: float = 60.0) -> torch.Tensor:
    return scale * torch.nn.functional.one_hot(labels, classes).float()


def metric(name: str, registry, ev, subject: str, **options):
    spec = registry.get("metric", name).spec
    return spec.load()(ev, subject, spec.options(**options))


# --- UTV, JSD, activation distance --------------------------------------------------------------


def test_utv_identical_outputs_is_zero_and_disjoint_onehots_is_one(registry):
    same = make_ev(lambda s, split, y: onehot_logits(y, 3))
    assert metric("utv", registry, same, "unlearned")["utv_train"] == pytest.approx(0.0, abs=1e-9)

    # unlearned puts all mass on (y + 1) mod 3, retrained on y: disjoint one-hots
    def disjoint(s, split, y):
        return onehot_logits((y + 1) % 3 if s == "unlearned" else y, 3)

    ev = make_ev(disjoint)
    values = metric("utv", registry, ev, "unlearned")
    assert values["utv_train"] == pytest.approx(1.0, abs=1e-6)
    assert values["utv_test"] == pytest.approx(1.0, abs=1e-6)
    assert metric("activation-distance", registry, ev, "unlearned", floor=False)["ad_train"] == pytest.approx(
        math.sqrt(2), abs=1e-6
    )


def test_marginal_utv_compares_mean_distributions_not_samples(registry):
    # Forget samples (class 0) split in two halves. The unlearned model sends the first half to
    # class 1 and the second to class 2; the retrained model does the opposite. Per sample the
    # one-hots are disjoint (UTV 1), but both means are (0, 1/2, 1/2): marginal UTV 0.
    def swapped(s, split, y):
        half = torch.arange(len(y)) < len(y) // 2
        to = torch.where(half, torch.ones_like(y), 2 * torch.ones_like(y))
        if s == "retrained":
            to = 3 - to
        return onehot_logits(torch.where(y == 0, to, y), 3)

    values = metric("utv", registry, make_ev(swapped), "unlearned")
    assert values["utv_train"] == pytest.approx(1.0, abs=1e-6)
    assert values["utv_marginal_train"] == pytest.approx(0.0, abs=1e-6)

    # mean unlearned (0, 1, 0) vs mean retrained (0, 1/2, 1/2): TV = 1/2, by hand
    def shifted(s, split, y):
        half = torch.arange(len(y)) < len(y) // 2
        to = torch.ones_like(y) if s == "unlearned" else torch.where(half, torch.ones_like(y), 2 * torch.ones_like(y))
        return onehot_logits(torch.where(y == 0, to, y), 3)

    values = metric("utv", registry, make_ev(shifted), "unlearned")
    assert values["utv_marginal_train"] == pytest.approx(0.5, abs=1e-6)
    assert values["utv_marginal_train"] <= values["utv_train"] + 1e-9  # triangle inequality


def test_jsd_is_symmetric_bounded_by_ln2_and_reaches_it_on_disjoint_supports():
    from unlearnkit.core.maths import js_divergence

    gen = torch.Generator().manual_seed(0)
    p = torch.rand(200, 7, generator=gen).softmax(1)
    q = (3 * torch.randn(200, 7, generator=gen)).softmax(1)
    assert torch.allclose(js_divergence(p, q), js_divergence(q, p))
    assert (js_divergence(p, q) <= math.log(2) + 1e-12).all() and (js_divergence(p, q) >= 0).all()
    assert torch.allclose(js_divergence(p, p), torch.zeros(200, dtype=torch.float64), atol=1e-12)
    a = torch.eye(4)
    b = torch.eye(4).roll(1, dims=1)
    assert torch.allclose(js_divergence(a, b), torch.full((4,), math.log(2), dtype=torch.float64), atol=1e-9)


def test_jsd_reference_flavors_divide_by_classes_and_samples():
    from unlearnkit.core.maths import js_divergence, js_reference

    gen = torch.Generator().manual_seed(1)
    p, q = torch.rand(50, 5, generator=gen).softmax(1), torch.rand(50, 5, generator=gen).softmax(1)
    m = 0.5 * (p + q)
    reverse = 0.5 * (m * (m / p).log()).sum(1) + 0.5 * (m * (m / q).log()).sum(1)  # KL(m||p), KL(m||q)
    assert js_reference(p, q, "badteacher") == pytest.approx(reverse.mean().item() / 5, rel=1e-5)
    assert js_reference(p, q, "lotus") == pytest.approx(reverse.mean().item() / 50, rel=1e-4)
    assert js_divergence(p, q).mean().item() != pytest.approx(reverse.mean().item() / 5, rel=1e-2)


def test_jsd_metric_floor_uses_another_retrained_seed(registry):
    ev = make_ev(lambda s, split, y: onehot_logits(y, 3))
    for split in ("train_forget", "train_retain", "test"):
        ev._logits[("retrained@1", split)] = torch.zeros(len(ev.labels(split)), 3)  # uniform
    values = metric("jsd", registry, ev, "retrained")
    expected = js_of_onehot_and_uniform = 0.5 * math.log(2 / (1 + 1 / 3)) + 0.5 * (
        (1 / 3) * math.log((1 / 3) / (0.5 * (1 + 1 / 3))) + 2 * (1 / 3) * math.log(2)
    )
    assert values["jsd_train"] == pytest.approx(expected, abs=1e-6) == js_of_onehot_and_uniform
    assert metric("jsd", registry, ev, "retrained", floor=False) is None


# --- membership inference presets ----------------------------------------------------------------


def confident_train_only(forget_like_member: bool):
    """Members (train-retain) are confident, unseen samples uniform; train-forget follows the flag."""

    def logits(s, split, y):
        noise = 0.01 * torch.randn(len(y), 3, generator=torch.Generator().manual_seed(len(y) + len(split)))
        confident = split == "train_retain" or (split == "train_forget" and forget_like_member)
        return (onehot_logits(y, 3, 5.0) if confident else torch.zeros(len(y), 3)) + noise

    return logits


@pytest.mark.parametrize(
    "name,row,forgotten,remembered",
    [("mia-salun", "mia_salun", 100.0, 0.0), ("mia-entropy", "mia_entropy", 0.0, 100.0)],
)
def test_mia_presets_on_separable_features(registry, name, row, forgotten, remembered):
    assert metric(name, registry, make_ev(confident_train_only(False)), "unlearned")[row] == pytest.approx(forgotten)
    assert metric(name, registry, make_ev(confident_train_only(True)), "unlearned")[row] == pytest.approx(remembered)


def test_mia_kodge_on_separable_features(registry):
    # Kodge: train-retain (member) vs train-forget (non-member), scored on test-forget.
    def logits(s, split, y):
        return onehot_logits(y, 3, 5.0) if split == "train_retain" else torch.zeros(len(y), 3)

    assert metric("mia-kodge", registry, make_ev(logits), "unlearned")["mia_kodge"] == pytest.approx(100.0)

    def looks_member(s, split, y):
        return torch.zeros(len(y), 3) if split == "train_forget" else onehot_logits(y, 3, 5.0)

    assert metric("mia-kodge", registry, make_ev(looks_member), "unlearned")["mia_kodge"] == pytest.approx(0.0)


@pytest.mark.parametrize(
    "name,row", [("mia-salun", "mia_salun"), ("mia-entropy", "mia_entropy"), ("mia-kodge", "mia_kodge")]
)
def test_mia_presets_about_half_on_identical_distributions(registry, name, row):
    def same(s, split, y):
        gen = torch.Generator().manual_seed({"train_forget": 1, "train_retain": 2, "test": 3}[split])
        return 2 * torch.randn(len(y), 2, generator=gen)

    # two classes: every member / non-member set has 300 samples, so chance is 50%
    value = metric(name, registry, make_ev(same, per_class=300, classes=2), "unlearned")[row]
    assert 35.0 <= value <= 65.0, value


def test_membership_attack_classifiers_separable_and_balanced():
    from unlearnkit.core.maths import membership_attack

    gen = torch.Generator().manual_seed(0)
    members, nonmembers = torch.rand(100, generator=gen) + 2.0, torch.rand(100, generator=gen)
    for clf in ("svc", "logreg"):
        assert membership_attack(members, nonmembers, members, clf) == 1.0
        assert membership_attack(members, nonmembers, nonmembers, clf) == 0.0
    assert math.isnan(membership_attack(members, nonmembers, members[:0]))


# --- MIA-NN --------------------------------------------------------------------------------------


def planted(s, split, y):
    """4 classes, forget 0. Retrained sends class-0 samples to class 2; the original's runner-up is 3;
    the unlearned model sends them to 1 (it must not influence the choice)."""
    out = onehot_logits(y, 4, 6.0)
    is_forget = y == 0
    target = {"retrained": 2, "original": 0, "unlearned": 1}[s]
    out[is_forget] = 0.0
    out[is_forget, target] = 6.0
    if s == "original":
        out[is_forget, 3] = 3.0
    return out


def test_mia_nn_picks_the_planted_nearest_class(registry):
    ev = make_ev(planted, classes=4)
    values = metric("mia-nn", registry, ev, "unlearned")
    assert ev.artifacts["mia_nn"]["nearest"]["0"]["class"] == 2
    assert ev.artifacts["mia_nn"]["source"] == "retrained"
    # retrained: forget test samples have p(c_nn) = high like class-2 members -> flagged member
    assert metric("mia-nn", registry, ev, "retrained")["mia_nn"] == pytest.approx(100.0)
    assert values["mia_nn"] == pytest.approx(0.0)  # the unlearned model sends them to class 1
    assert values["mia_nn_gap"] == pytest.approx(100.0)

    no_retrain = make_ev(planted, subjects=("original", "unlearned"), classes=4)
    metric("mia-nn", registry, no_retrain, "unlearned")
    assert no_retrain.artifacts["mia_nn"] == {"source": "original", "nearest": {"0": {"class": 3, "name": "c3"}}}


def test_mia_nn_says_why_in_random_forgetting(registry):
    ev = make_ev(lambda s, split, y: onehot_logits(y, 3), kind="random")
    with pytest.raises(MetricUnavailable, match="class-forgetting"):
        metric("mia-nn", registry, ev, "unlearned")


# --- Avg Gap, RMIA, U-LiRA helpers --------------------------------------------------------------


def test_avg_gap_hand_computed(registry):
    from unlearnkit.plugins.metrics.avg_gap import average_gap

    assert average_gap([10.0, 20.0, 90.0, 80.0], [0.0, 0.0, 100.0, 90.0]) == pytest.approx(12.5)
    assert average_gap([10.0, None], [0.0, 5.0]) == pytest.approx(10.0)
    # through the metric: a model identical to the retrained one has gap 0
    ev = make_ev(lambda s, split, y: onehot_logits(y, 3) if s != "original" else onehot_logits((y + 1) % 3, 3))
    ev.registry = registry
    assert metric("avg-gap", registry, ev, "unlearned")["avg_gap"] == pytest.approx(0.0)
    # the original model is wrong on every sample: each accuracy gap is 100 points, plus its MIA gap
    orig = metric("avg-gap", registry, ev, "original")["avg_gap"]
    mia_gap = abs(
        ev.metric("mia-entropy", "original")["mia_entropy"] - ev.metric("mia-entropy", "retrained")["mia_entropy"]
    )
    assert orig == pytest.approx((mia_gap + 100 + 100 + 100) / 4)


def test_rmia_scores_count_dominated_population():
    from unlearnkit.plugins.metrics.rmia import rmia_scores

    sig_x = torch.tensor([0.9, 0.1], dtype=torch.float64)
    ref = torch.tensor([0.5, 0.5], dtype=torch.float64)
    sig_z = torch.tensor([0.2, 0.4, 0.6, 0.8], dtype=torch.float64)
    ref_z = torch.full((4,), 0.5, dtype=torch.float64)
    # a = 1: Pr = ref everywhere, so ratios compare signals directly
    assert rmia_scores(sig_x, ref, sig_z, ref_z, a=1.0, gamma=1.0).tolist() == [1.0, 0.0]
    assert rmia_scores(sig_x, ref, sig_z, ref_z, a=1.0, gamma=2.0).tolist() == [0.5, 0.0]


def test_ulira_loo_separable_and_indistinguishable():
    import numpy as np

    from unlearnkit.plugins.metrics.u_lira import loo_attack

    rng = np.random.default_rng(0)
    far = [rng.normal(5, 1, 200) for _ in range(3)], [rng.normal(-5, 1, 200) for _ in range(3)]
    acc, auc = loo_attack(*far)
    assert acc == pytest.approx(1.0) and auc == pytest.approx(1.0)
    same = [rng.normal(0, 1, 200) for _ in range(3)], [rng.normal(0, 1, 200) for _ in range(3)]
    acc, auc = loo_attack(*same)
    assert 0.5 <= acc < 0.6 and 0.4 < auc < 0.6


def test_ulira_signal_logit_scaled_or_probability():
    import math

    from unlearnkit.plugins.metrics.u_lira import phi

    class Ev:  # two samples: p_y = 3/4 (label 1) and p_y = 1/2 (label 0)
        def logits(self, subject, split):
            return torch.tensor([[0.0, math.log(3.0)], [0.0, 0.0]])

        def labels(self, split):
            return torch.tensor([1, 0])

    # logit scaling: log p_y - log(1 - p_y) = log 3 and 0
    assert phi(Ev(), "unlearned", "train_forget").tolist() == pytest.approx([math.log(3.0), 0.0], abs=1e-6)
    assert phi(Ev(), "unlearned", "train_forget", "prob").tolist() == pytest.approx([0.75, 0.5], abs=1e-6)


# --- notes instead of silent disappearance -------------------------------------------------------


def test_missing_retrained_model_is_reported_not_dropped(registry):
    ev = make_ev(lambda s, split, y: onehot_logits(y, 3), subjects=("original", "unlearned"))
    ev.registry = registry
    names = ["accuracy", "utv", "jsd", "mia-nn", "u-lira"]
    entries = [registry.get("metric", n) for n in names]
    options = {n: registry.get("metric", n).spec.options() for n in names}
    results = {r.name: r for r in compute_metrics(ev, entries, options)}
    assert results["utv"].note == "needs the retrained model"
    assert results["jsd"].note == "needs the retrained model"
    assert results["u-lira"].note == "needs the retrained model"
    assert results["acc_f_test"].note is None
    assert results["mia_nn"].values["unlearned"] is not None


def test_confusion_matrix_saved_as_artifact(registry):
    ev = make_ev(lambda s, split, y: onehot_logits(y if s != "unlearned" else torch.full_like(y, 2), 3))
    values = metric("confusion", registry, ev, "unlearned")
    cm = ev.artifacts["confusion"]["unlearned"]
    assert cm == [[0, 0, 60], [0, 0, 60], [0, 0, 60]]
    assert values["forget_top_share"] == pytest.approx(100.0)
    per_class = metric("per-class-accuracy", registry, ev, "unlearned")
    assert per_class == {"acc_class_0": 0.0, "acc_class_1": 0.0, "acc_class_2": 100.0}
