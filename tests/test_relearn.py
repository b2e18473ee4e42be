"""The relearn metric: a few-sample fine-tuning attack, scored on forget samples it never trained on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from unlearnkit.data.scenarios import ImageDataset, Preprocess, make_scenario
from unlearnkit.evaluation.evaluate import EvalContext


def _synthetic_ev(forget_classes: list[int], count: int | None = None) -> EvalContext:
    gen = torch.Generator().manual_seed(0)
    y = torch.arange(4).repeat_interleave(30)
    x = torch.randint(0, 256, (len(y), 1, 4, 4), generator=gen, dtype=torch.uint8)
    data = ImageDataset(x, y, x.clone(), y.clone(), ["a", "b", "c", "d"], (0.5,), (0.5,), "none")
    scenario = make_scenario(data, forget_classes, None, count, 0)
    return EvalContext({}, data, scenario, Preprocess(data, torch.device("cpu")), torch.device("cpu"), 3)


def test_relearning_samples_are_never_scored(registry):
    from unlearnkit.plugins.metrics.relearn import relearn_sets

    options = registry.get("metric", "relearn").spec.options(n_samples=7, retain_samples=5)
    # class forgetting: relearning from the training forget split, scoring on the test forget split
    ev = _synthetic_ev([1])
    sets = relearn_sets(ev, options)
    assert sets["scored_split"] == "test"
    assert torch.equal(sets["scored_index"], ev.scenario.splits["test_forget"].index)
    assert set(sets["forget"].tolist()) <= set(ev.scenario.train_forget.tolist())
    assert len(sets["forget"]) == 7 and len(set(sets["forget"].tolist())) == 7
    assert (ev.data.train_y[sets["retain"]] != 1).all() and len(sets["retain"]) == 5
    # random-subset forgetting (no test forget split): the scored samples are the other forget samples
    ev = _synthetic_ev([], count=20)
    sets = relearn_sets(ev, options)
    assert sets["scored_split"] == "train"
    scored, relearned = set(sets["scored_index"].tolist()), set(sets["forget"].tolist())
    assert not scored & relearned
    assert scored | relearned == set(ev.scenario.train_forget.tolist())
    assert not set(sets["retain"].tolist()) & set(ev.scenario.train_forget.tolist())


@pytest.mark.slow
def test_relearn_gap_is_larger_for_the_original_and_writes_the_curve(tiny_config, run_config):
    """Defining property: a model that knows the class scores above one that never saw it."""
    result = run_config(tiny_config, {"method": {"name": "rwft"}, "metrics": ["relearn"]}, write=True)
    gap = {s: result.value("relearn_gap", s) for s in ("original", "retrained")}
    assert gap["retrained"] == 0.0
    assert gap["original"] > gap["retrained"] + 20, gap
    curve = json.loads((Path(result.run_dir) / "relearn.json").read_text())
    assert curve["steps"][0] == 0 and curve["steps"][-1] == curve["options"]["steps"]
    assert set(curve["acc_f"]) == {"original", "unlearned", "retrained"}
    for subject, points in curve["acc_f"].items():
        assert len(points) == len(curve["steps"])
        assert points[-1] == pytest.approx(result.value("relearn_acc_f", subject))
    assert curve["acc_f"]["retrained"][0] == 0.0  # it never saw the class
    assert not set(curve["relearn_forget_index"]) & set(curve["relearn_retain_index"])


@pytest.mark.slow
def test_a_suppressed_class_relearns_faster_than_retraining(tiny_config, workbench, registry):
    """The original with the forget class's logit pushed down scores 0 but keeps its features:
    the attack brings it back far above the retrained model, which never learnt them."""
    import copy

    from unlearnkit.plugins.metrics.relearn import attack, relearn_sets

    bench = workbench(tiny_config)
    original, retrained = bench.original()[0], bench.retrained()[0]
    suppressed = copy.deepcopy(original)
    with torch.no_grad():
        suppressed.fc.bias[0] -= 12.0
    ev = EvalContext(
        {"original": original, "unlearned": suppressed, "retrained": retrained},
        bench.data,
        bench.scenario,
        bench.pre,
        torch.device("cpu"),
        0,
    )
    ev.shared["workbench"] = bench
    spec = registry.get("metric", "relearn").spec
    for options in (spec.options(), spec.options(params="head", lr=0.003)):
        sets = relearn_sets(ev, options)
        suppressed = attack(ev, "unlearned", options, sets)
        retrained = attack(ev, "retrained", options, sets)
        assert suppressed[0][1] < 5.0  # forgotten by the usual measure
        assert suppressed[-1][1] > retrained[-1][1] + 50, (options, suppressed, retrained)
