"""Relearning attack: how fast a few forget samples bring the forgotten data back.

An attacker with the model's weights fine-tunes a copy on a handful of forget samples; a method
that merely suppressed the forgotten class (its features intact) recovers far faster than a
model that never learnt it. The attack is the few-shot fine-tuning of the relearning literature:
Hu et al. 2024, "Unlearning or Obfuscating? Jogging the Memory of Unlearned LLMs via Benign
Relearning" (arXiv 2406.13356); Lynch et al. 2024, "Eight Methods to Evaluate Robust Unlearning
in LLMs" (arXiv 2402.16835, the fine-tuning evaluation); for class-level unlearning of image
classifiers, Ha et al. 2025, "Unlearning's Blind Spots: Over-Unlearning and Prototypical
Relearning Attack" (arXiv 2506.01318: a few forget samples restore the class), and Siddiqui et
al. 2025, "From Dormant to Deleted" (arXiv 2505.22310: forget accuracy of vision classifiers
recovers under fine-tuning while the retrained model's stays put).

Protocol, identical for every subject model (original, unlearned, retrained), on the run's seed:

* relearning set: ``n_samples`` samples drawn from the training forget split plus
  ``retain_samples`` from the training retain split (without them the fine-tune learns "always
  predict the forget class", which scores 100% on any model and measures nothing);
* ``steps`` SGD steps (momentum 0.9, batches of ``batch_size`` cycled over the relearning set,
  no augmentation, BatchNorm statistics and dropout frozen: the model stays in eval mode, as a
  few-sample fine-tune must) on all parameters or only the classifier head (``params``);
* scored samples: the test forget split (class forgetting), which never contains a relearning
  sample; for random-subset forgetting (empty test forget split) the training forget samples
  not drawn for relearning.

Rows: ``relearn_acc_f`` (accuracy in % on the scored samples after the attack),
``relearn_gap`` (the subject's ``relearn_acc_f`` minus the retrained model's; ideal 0, the
retrained column is 0 by definition; the original's column shows how much a model that knows the
class keeps) and ``relearn_auc`` (the mean of the recorded curve, step 0 included: how fast the
class comes back, which still separates models once the final value saturates). The whole curve over steps, the options and the indices used go to the run's
``relearn.json``.

Defaults (measured on CPU, machine shared; ``bench/relearn_defaults.py``): ``n_samples=10``,
``retain_samples=10``, ``steps=10``, ``lr=0.001``, ``params="all"``, ``batch_size=20``. Digits
(small CNN width 16, 12-epoch recipe, class 0, seed 0): at lr 0.01 the retrained model reaches
100% within 10 steps, like every method (the attack then only says "the class is learnable");
at lr 0.001 it is still at 0% after 10 steps and at 69% after 20, while FT, SalUn, SSD and
RWFT-2-O are back at 100% after 2-5 steps. Measured tables: docs/results.md.
"""

from __future__ import annotations

from typing import Literal

from unlearnkit import Field, MetricSpec, Options, hookimpl

SEED_OFFSET = 7_919  # relearning draws are independent of the split's and the method's draws


class RelearnOptions(Options):
    n_samples: int = Field(10, ge=1, description="forget samples the attacker fine-tunes on (training forget split)")
    retain_samples: int = Field(10, ge=0, description="retain samples mixed into the relearning set")
    steps: int = Field(10, ge=0, description="fine-tuning steps of the attack")
    lr: float = Field(0.001, gt=0, description="SGD learning rate (momentum 0.9) of the attack")
    params: Literal["all", "head"] = Field("all", description="parameters the attacker trains: all, or the head")
    batch_size: int = Field(20, ge=1, description="samples per attack step (cycled over the relearning set)")
    curve_every: int = Field(1, ge=1, description="record the scored accuracy every this many steps")


def relearn_sets(ev, options: RelearnOptions) -> dict:
    """The attack's data: relearning indices (into the training set) and the scored samples.

    Returns ``{"forget": idx, "retain": idx, "scored_split": name, "scored_index": idx}``; the
    scored samples never include a relearning sample (tested).
    """
    import torch

    gen = torch.Generator().manual_seed(ev.seed + SEED_OFFSET)
    forget = ev.scenario.splits["train_forget"]
    retain = ev.scenario.splits["train_retain"]
    pick_f = torch.randperm(len(forget), generator=gen)[: options.n_samples]
    pick_r = torch.randperm(len(retain), generator=gen)[: options.retain_samples]
    test_forget = ev.scenario.splits["test_forget"]
    if len(test_forget):
        scored_split, scored_index = "test", test_forget.index
    else:  # random-subset forgetting: score the forget samples the attacker did not get
        rest = torch.ones(len(forget), dtype=torch.bool)
        rest[pick_f] = False
        scored_split, scored_index = "train", forget.index[rest]
    return {
        "forget": forget.index[pick_f],
        "retain": retain.index[pick_r],
        "scored_split": scored_split,
        "scored_index": scored_index,
    }


def _head_names(ev, model) -> list[str]:
    """Parameter names of the classifier head: the model plugin's ``head`` group, else the last Linear."""
    from torch import nn

    from unlearnkit.helpers import params_in_groups

    bench = ev.shared.get("workbench")
    head = getattr(getattr(getattr(bench, "resolved", None), "model", None), "spec", None)
    names = params_in_groups(model, [head.head]) if head is not None and head.head else []
    if names:
        return names
    linear = [name for name, m in model.named_modules() if isinstance(m, nn.Linear)]
    if not linear:
        from unlearnkit import MetricUnavailable

        raise MetricUnavailable("relearn params=head: the model declares no head and has no Linear layer")
    return params_in_groups(model, [linear[-1]])


def attack(ev, subject: str, options: RelearnOptions, sets: dict) -> list[tuple[int, float]]:
    """Fine-tune a copy of ``subject``'s model on the relearning set; [(step, scored accuracy %)]."""
    import copy

    import torch
    import torch.nn.functional as F

    data = ev.data
    x = torch.cat([data.train_x[sets["forget"]], data.train_x[sets["retain"]]])
    y = torch.cat([data.train_y[sets["forget"]], data.train_y[sets["retain"]]]).to(ev.device)
    source_x = data.test_x if sets["scored_split"] == "test" else data.train_x
    source_y = data.test_y if sets["scored_split"] == "test" else data.train_y
    scored_x, scored_y = source_x[sets["scored_index"]], source_y[sets["scored_index"]]

    model = copy.deepcopy(ev.model(subject)).eval()  # eval mode throughout: BatchNorm and dropout frozen
    model.requires_grad_(False)
    train = {n for n, _ in model.named_parameters()} if options.params == "all" else set(_head_names(ev, model))
    params = [p.requires_grad_(True) for n, p in model.named_parameters() if n in train]
    opt = torch.optim.SGD(params, lr=options.lr, momentum=0.9)
    inputs = ev.pre(x)
    gen = torch.Generator().manual_seed(ev.seed + SEED_OFFSET + 1)  # same batches for every subject

    @torch.no_grad()
    def score() -> float:
        if len(scored_y) == 0:
            return float("nan")
        # its own forward pass (not ev.forward): these are new models, never the evaluation's outputs
        pred = torch.cat(
            [
                model(ev.pre(scored_x[i : i + ev.batch_size])).argmax(dim=1).cpu()
                for i in range(0, len(scored_x), ev.batch_size)
            ]
        )
        return 100.0 * (pred == scored_y).float().mean().item()

    curve = [(0, score())]
    order = torch.zeros(0, dtype=torch.long)
    for step in range(1, options.steps + 1):
        if len(order) < options.batch_size:
            order = torch.cat([order, torch.randperm(len(y), generator=gen)])
        idx, order = order[: options.batch_size], order[options.batch_size :]
        idx = idx.to(ev.device)
        loss = F.cross_entropy(model(inputs[idx]), y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % options.curve_every == 0 or step == options.steps:
            curve.append((step, score()))
    return curve


def _curves(ev, options: RelearnOptions) -> dict:
    """Every subject's curve, computed once per evaluation (the gap needs the retrained one)."""
    key = ("relearn", options.model_dump_json())
    if key not in ev.shared:
        sets = relearn_sets(ev, options)
        curves = {s: attack(ev, s, options, sets) for s in ("original", "unlearned", "retrained") if ev.has(s)}
        ev.shared[key] = curves
        ev.artifacts["relearn"] = {
            "options": options.model_dump(),
            "relearn_forget_index": sets["forget"].tolist(),
            "relearn_retain_index": sets["retain"].tolist(),
            "scored_split": sets["scored_split"],
            "scored_count": len(sets["scored_index"]),
            "steps": [step for step, _ in next(iter(curves.values()))],
            "acc_f": {s: [acc for _, acc in c] for s, c in curves.items()},
        }
    return ev.shared[key]


def compute(ev, subject, options):
    curves = _curves(ev, options)
    final = curves[subject][-1][1]
    reference = curves["retrained"][-1][1]
    # the mean over the recorded curve: how fast, not only how far (the final value saturates with enough steps)
    auc = sum(acc for _, acc in curves[subject]) / len(curves[subject])
    return {"relearn_acc_f": final, "relearn_gap": final - reference, "relearn_auc": auc}


@hookimpl
def register_metrics(register):
    register(
        MetricSpec(
            name="relearn",
            summary="relearning attack: forget accuracy after a few-sample fine-tune, against the retrained model's",
            options=RelearnOptions,
            factory=compute,
            direction="match",
            needs=("retrained",),
            definition="acc (%) on held-out forget samples after `steps` SGD steps on n_samples forget + "
            "retain_samples retain samples; gap = subject - retrained (ideal 0)",
        )
    )
