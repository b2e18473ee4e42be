"""The model cache: a second identical request trains nothing; different keys never collide."""

import json

import torch

from unlearnkit.models.cache import ModelCache, cache_key


def tiny_model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3))


def test_second_request_is_a_hit_and_loads_identical_weights(tmp_path):
    cache = ModelCache(tmp_path)
    calls = []

    def train(model):
        calls.append(1)
        with torch.no_grad():
            model[0].weight.add_(1.0)
            model[1].running_mean.add_(2.0)
        return 1.5

    parts = {"dataset": "x", "seed": 0}
    first, prov1 = cache.get_or_train(parts, tiny_model, train, torch.device("cpu"))
    second, prov2 = cache.get_or_train(parts, tiny_model, train, torch.device("cpu"))
    assert calls == [1]
    assert not prov1["cache_hit"] and prov2["cache_hit"]
    assert prov2["train_seconds"] == 1.5
    for (k, a), (_, b) in zip(first.state_dict().items(), second.state_dict().items(), strict=True):
        assert torch.equal(a, b), k
    weights, meta = cache.paths(prov1["key"])
    assert weights.suffix == ".safetensors" and json.loads(meta.read_text())["parts"] == parts
    # CPU training depends on the thread count, so the entry says which one trained it.
    assert json.loads(meta.read_text())["torch_threads"] == torch.get_num_threads() == prov1["torch_threads"]
    assert not second.training  # handed out in eval mode


def test_keys_depend_on_every_part():
    base = {"dataset": "digits", "model": "small-cnn", "seed": 0, "excluded": "none"}
    keys = {cache_key(base)} | {cache_key({**base, k: "other"}) for k in base}
    assert len(keys) == len(base) + 1


def test_an_interrupted_training_leaves_no_entry(tmp_path):
    cache = ModelCache(tmp_path)

    def crash(model):
        raise KeyboardInterrupt

    try:
        cache.get_or_train({"a": 1}, tiny_model, crash, torch.device("cpu"))
    except KeyboardInterrupt:
        pass
    assert cache.lookup({"a": 1}) is None
    assert not list(cache.models.glob("*.safetensors"))


def test_run_twice_is_a_cache_hit(tiny_config, run_config):
    run_config(tiny_config)
    second = run_config(tiny_config)
    assert second.models["original"]["cache_hit"] and second.models["retrained"]["cache_hit"]


def test_same_config_same_seed_same_metrics(tiny_config, run_config):
    layer = {"method": {"name": "rwft", "options": {"epochs": 2}}, "selector": {"name": "two-layer"}}

    def values(result):
        return {m.name: m.values for m in result.metrics if m.metric not in ("time", "speedup")}

    assert values(run_config(tiny_config, layer)) == values(run_config(tiny_config, layer))


def test_reference_outputs_are_stored_once_and_shared_across_scenarios(tiny_config, workbench, monkeypatch):
    from unlearnkit.evaluation.evaluate import EvalContext

    first = workbench(tiny_config, {"forget": {"classes": [0]}})
    original, provenance = first.original()
    direct = EvalContext({"m": original}, first.data, first.scenario, first.pre, first.device).forward(
        original, first.data.train_x
    )
    stored = first.stored_outputs(original, provenance)("train")
    assert torch.allclose(stored, direct, atol=1e-5)

    # Another scenario on the same original model reads them back instead of running the model.
    second = workbench(tiny_config, {"forget": {"classes": [3]}})
    model, prov = second.original()
    monkeypatch.setattr(EvalContext, "forward", lambda *a, **k: (_ for _ in ()).throw(AssertionError("forward")))
    ev = EvalContext({"original": model}, second.data, second.scenario, second.pre, second.device)
    ev.stored = {"original": second.stored_outputs(model, prov)}
    forget = ev.logits("original", "train_forget")
    assert torch.equal(forget, stored[second.scenario.splits["train_forget"].index])
    assert len(ev.logits("original", "test_forget")) == len(second.scenario.splits["test_forget"])


def test_per_model_metric_rows_are_stored_with_the_reference_model(tiny_config, workbench, tmp_path):
    from types import SimpleNamespace

    from unlearnkit import MetricSpec, Options
    from unlearnkit.evaluation.evaluate import EvalContext, compute_metrics
    from unlearnkit.models.cache import RowStore

    class Opts(Options):
        k: int = 1

    calls = []

    def score(ev, subject, options):
        calls.append((subject, options.k))
        return {"score": float(ev.logits(subject, "train_forget").sum()) * options.k}

    spec = MetricSpec(name="probe", summary="s", factory=score, options=Opts, per_model=True)
    entry = SimpleNamespace(spec=spec)

    def evaluate(bench, k):
        original, provenance = bench.original()
        ev = EvalContext({"original": original}, bench.data, bench.scenario, bench.pre, bench.device)
        ev.row_store = {"original": RowStore(bench.cache, provenance["key"])}
        return compute_metrics(ev, [entry], {"probe": Opts(k=k)})[0].values["original"]

    first = evaluate(workbench(tiny_config), 1)
    assert evaluate(workbench(tiny_config), 1) == first and calls == [("original", 1)]  # read back
    evaluate(workbench(tiny_config), 2)  # other options: computed
    evaluate(workbench(tiny_config, {"forget": {"classes": [4]}}), 1)  # other scenario: computed
    assert calls == [("original", 1), ("original", 2), ("original", 1)]
