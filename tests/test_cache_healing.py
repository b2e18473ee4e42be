"""The cache heals itself: broken entries are quarantined and rebuilt; a read-only cache is only read."""

from __future__ import annotations

import json
import stat

import pytest
import torch

from unlearnkit.models.cache import CacheError, ModelCache, RowStore, cache_key


def tiny_model():
    torch.manual_seed(0)
    return torch.nn.Linear(4, 3)


def train(model):
    with torch.no_grad():
        model.weight.add_(1.0)
    return 0.5


PARTS = {"dataset": "x", "seed": 0}
CPU = torch.device("cpu")


@pytest.mark.parametrize(
    "damage",
    [
        lambda w, m: w.write_bytes(w.read_bytes()[:40]),
        lambda w, m: w.write_bytes(b"\x80\x04K\x01." * 20),  # a pickle, never unpickled
        lambda w, m: m.write_text("{not json"),
        lambda w, m: m.write_text(json.dumps({"key": "someone-else", "train_seconds": 1})),
    ],
    ids=["truncated", "pickle", "json-garbage", "json-foreign"],
)
def test_a_broken_entry_is_quarantined_with_one_warning_and_rebuilt(tmp_path, capsys, damage):
    cache = ModelCache(tmp_path)
    good, _ = cache.get_or_train(PARTS, tiny_model, train, CPU)
    weights, meta = cache.paths(cache_key(PARTS))
    damage(weights, meta)
    capsys.readouterr()
    model, provenance = cache.get_or_train(PARTS, tiny_model, train, CPU)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("warning: cache entry") and str(weights) in err[0]
    assert not provenance["cache_hit"] and torch.equal(model.weight, good.weight)
    (aside,) = (tmp_path / "quarantine").iterdir()
    assert {p.suffix for p in aside.iterdir()} == {".safetensors", ".json"}
    assert cache.get_or_train(PARTS, tiny_model, train, CPU)[1]["cache_hit"]


def test_foreign_tensors_are_quarantined(tmp_path, capsys):
    from safetensors.torch import save_file

    cache = ModelCache(tmp_path)
    cache.get_or_train(PARTS, tiny_model, train, CPU)
    weights, _ = cache.paths(cache_key(PARTS))
    save_file({"conv.weight": torch.zeros(2, 2)}, str(weights))
    _, provenance = cache.get_or_train(PARTS, tiny_model, train, CPU)
    assert not provenance["cache_hit"] and "moved to" in capsys.readouterr().err


def test_read_only_cache_reads_without_locking_and_refuses_to_train(tmp_path, monkeypatch):
    cache = ModelCache(tmp_path)
    cache.get_or_train(PARTS, tiny_model, train, CPU)
    for lock in cache.models.glob("*.lock"):
        lock.unlink()
    monkeypatch.setattr(ModelCache, "writable", property(lambda self: False))
    _, provenance = cache.get_or_train(PARTS, tiny_model, train, CPU)
    assert provenance["cache_hit"] and not list(cache.models.glob("*.lock"))
    calls = []
    with pytest.raises(CacheError, match="is not writable and lacks the original model"):
        cache.get_or_train({"other": 1}, tiny_model, lambda m: calls.append(1) or 0.0, CPU, what="original model")
    assert calls == []  # refused before training
    model, provenance = cache.get_or_train({"derived": 1}, tiny_model, train, CPU, store_optional=True)
    assert not provenance["cache_hit"] and not cache.lookup({"derived": 1})


def test_garbage_rows_file_is_quarantined(tmp_path, capsys):
    cache = ModelCache(tmp_path)
    cache.models.mkdir(parents=True)
    store = RowStore(cache, "abc")
    store.path.write_text("[[[")
    assert store.get("row") is RowStore.MISSING
    assert "recomputing its rows" in capsys.readouterr().err
    store.put("row", {"x": 1.0})
    assert json.loads(store.path.read_text()) == {"row": {"x": 1.0}}


def test_weights_and_sidecars_share_one_mode(tmp_path):
    cache = ModelCache(tmp_path)
    cache.get_or_train(PARTS, tiny_model, train, CPU)
    weights, meta = cache.paths(cache_key(PARTS))
    assert stat.S_IMODE(weights.stat().st_mode) == stat.S_IMODE(meta.stat().st_mode)
