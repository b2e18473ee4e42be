"""Every metric of a ``--metrics all --save-outputs`` run is recomputed from the saved files.

The run stores the softmax outputs of every model it evaluated (other-seed models of the floors
and shadow attacks included) in ``outputs.safetensors``, and the unlearned weights. A fresh
evaluation context that holds only those outputs (no forward pass, no workbench, so no model can
be trained or unlearned behind our back) must reproduce every reported value. Shadow attacks run
with k = 2 / one reference model to keep the test small.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch


@pytest.mark.slow
def test_every_metric_recomputes_from_saved_outputs(tiny_config, run_config, workbench, registry):
    from safetensors.torch import load_file

    from unlearnkit.evaluation.evaluate import SUBJECTS, EvalContext, compute_metrics
    from unlearnkit.models.modelio import load_weights

    layer = {
        "method": {"name": "rwft"},
        "selector": {"name": "two-layer"},
        "metrics": ["all"],
        "metric_options": {"u-lira": {"k": 2}, "rmia": {"references": 1}, "utv": {"floor": True}},
        "save_outputs": True,
    }
    result = run_config(tiny_config, layer, write=True)
    run_dir = Path(result.run_dir)
    reported = json.loads((run_dir / "metrics.json").read_text())
    outputs = load_file(str(run_dir / "outputs.safetensors"))

    # every metric produced values (no note), and the expected rows exist
    assert not [m.name for m in result.metrics if m.note], [(m.name, m.note) for m in result.metrics if m.note]
    rows = reported["metrics"]
    for row in ("mia_nn_gap", "utv_train", "jsd_train", "u_lira_acc", "rmia_auc", "avg_gap", "zrf", "speedup"):
        assert row in rows
    assert rows["jsd_train"]["values"]["retrained"] is not None  # the floor, side by side
    assert rows["utv_train"]["values"]["retrained"] is not None
    assert {"retrained@1/train_forget", "unlearned@1/train_forget"} <= set(outputs)

    # a fresh context that knows only the saved outputs and weights
    bench = workbench(tiny_config, layer)
    unlearned = load_weights(bench.build_model(), run_dir / "unlearned.safetensors")
    models = {"original": bench.original()[0], "unlearned": unlearned, "retrained": bench.retrained()[0]}
    ev = EvalContext(models, bench.data, bench.scenario, bench.pre, torch.device("cpu"), 0, reported["timings"])
    ev.registry = registry
    for key, probs in outputs.items():
        subject, _, split = key.partition("/")
        if subject in ("labels", "index"):
            assert torch.equal(probs, ev.labels(split) if subject == "labels" else ev.scenario.splits[split].index)
            continue
        ev._probs[(subject, split)] = probs
        ev._logits[(subject, split)] = probs.double().clamp_min(1e-300).log().float()
    ev.forward = None  # any output not in the file would fail loudly

    names = [m.name for m in result.metrics]
    resolved_metrics = {m.metric for m in result.metrics}
    entries = [registry.get("metric", n) for n in sorted(resolved_metrics)]
    options = {
        n: registry.get("metric", n).spec.options(**result.config["metric_options"][n]) for n in resolved_metrics
    }
    recomputed = {m.name: m.values for m in compute_metrics(ev, entries, options)}
    assert sorted(recomputed) == sorted(names)
    for name in names:
        for subject in SUBJECTS:
            want = rows[name]["values"].get(subject)
            got = recomputed[name].get(subject)
            if want is None:
                assert got is None, (name, subject, got)
            else:
                assert got == pytest.approx(want, rel=1e-4, abs=1e-5), (name, subject)
    confusion = json.loads((run_dir / "confusion.json").read_text())
    assert confusion["unlearned"] == ev.artifacts["confusion"]["unlearned"]
    assert json.loads((run_dir / "mia_nn.json").read_text()) == ev.artifacts["mia_nn"]


@pytest.mark.slow
def test_unlearned_shadow_outputs_come_from_the_cache_the_second_time(tiny_config, workbench):
    layer = {"method": {"name": "rwft"}, "selector": {"name": "two-layer"}}
    splits = ("train_forget", "test")
    first = workbench(tiny_config, layer).unlearned_outputs(1, splits)
    again = workbench(tiny_config, layer)

    def refuse(*args, **kwargs):
        raise AssertionError("a cached unlearned shadow was unlearned again")

    again.unlearn = refuse
    second = again.unlearned_outputs(1, splits)
    assert all(torch.equal(first[s], second[s]) for s in splits)
    assert first["train_forget"].shape == (len(again.scenario.splits["train_forget"]), again.data.num_classes)
    # another method configuration is another cache entry
    other = workbench(tiny_config, layer, {"target": {"name": "uniform"}})
    other.unlearn = refuse
    with pytest.raises(AssertionError, match="unlearned again"):
        other.unlearned_outputs(1, splits)


def test_default_metrics_are_cheap_and_all_selects_every_metric(registry):
    from unlearnkit.run.resolve import expand_metrics

    default = expand_metrics(["default"], registry)
    every = expand_metrics(["all"], registry)
    assert {"u-lira", "rmia"}.isdisjoint(default)
    assert {"accuracy", "mia-salun", "mia-entropy", "mia-nn", "utv", "avg-gap", "time", "speedup"} <= set(default)
    mine = {"per-class-accuracy", "confusion", "mia-kodge", "jsd", "zrf", "rf-jsd", "activation-distance"}
    assert mine | {"weight-distance", "u-lira", "rmia"} <= set(every)
