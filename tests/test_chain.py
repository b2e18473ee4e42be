"""Chained deletion requests: each request starts from the model the one before left."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch


def test_weights_hash_depends_on_values_names_and_dtypes():
    from unlearnkit.run.chain import weights_sha256

    a = {"w": torch.zeros(3), "b": torch.ones(2)}
    assert weights_sha256(a) == weights_sha256({"b": torch.ones(2), "w": torch.zeros(3)})
    assert weights_sha256(a) != weights_sha256({"w": torch.zeros(3), "b": torch.tensor([1.0, 1.0001])})
    assert weights_sha256(a) != weights_sha256({"v": torch.zeros(3), "b": torch.ones(2)})
    assert weights_sha256(a) != weights_sha256({"w": torch.zeros(3, dtype=torch.float64), "b": torch.ones(2)})


def test_chained_scenarios_evaluate_the_union_and_hide_earlier_classes_from_the_method():
    from unlearnkit.core.errors import UsageError
    from unlearnkit.data.scenarios import ImageDataset, make_scenario
    from unlearnkit.run.chain import chained_scenarios

    y = torch.arange(4).repeat_interleave(10)
    x = torch.zeros(len(y), 1, 2, 2, dtype=torch.uint8)
    data = ImageDataset(x, y, x.clone(), y.clone(), ["a", "b", "c", "d"], (0.5,), (0.5,), "none")
    union, method = chained_scenarios(data, [0], make_scenario(data, [2], None, None, 0), 0)
    assert union.forget_classes == [0, 2]
    assert set(data.train_y[union.train_forget].tolist()) == {0, 2}
    assert method.forget_classes == [2] and set(method.splits["train_forget"].y.tolist()) == {2}
    assert set(method.splits["train_retain"].y.tolist()) == {1, 3}  # class 0 was deleted: never trained on
    with pytest.raises(UsageError, match="already forgotten"):
        chained_scenarios(data, [0, 2], make_scenario(data, [2], None, None, 0), 0)
    with pytest.raises(UsageError, match="whole classes"):
        chained_scenarios(data, [0], make_scenario(data, [], None, 5, 0), 0)


@pytest.mark.slow
def test_a_chain_of_two_requests_records_both_and_uses_the_model_retrained_without_both(
    tiny_config, run_config, workbench
):
    layer = {"method": {"name": "rwft"}, "selector": {"name": "two-layer"}, "metrics": ["accuracy", "utv"]}
    first = run_config(tiny_config, layer, write=True)
    second = run_config(tiny_config, layer, {"from_run": first.run_dir, "forget": {"classes": [1]}}, write=True)

    chain = json.loads((Path(second.run_dir) / "chain.json").read_text())
    one, two = chain["requests"]
    assert (one["classes"], two["classes"]) == ([0], [1])
    assert one["forget_hash"] != two["forget_hash"]
    assert two["weights_before"] == one["weights_after"] != two["weights_after"]
    assert chain["started_from"] == first.run_dir and chain["forgotten_classes"] == [0, 1]
    # the reference is the model retrained without both classes, from the cache
    both = workbench(tiny_config, {"forget": {"classes": [0, 1]}})
    _, provenance = both.retrained()
    assert provenance["cache_hit"] and chain["reference"] == provenance["key"] == second.models["retrained"]["key"]
    assert chain["forgotten_hash"] == both.scenario.fingerprint
    # per request: ACC_f of every class forgotten so far; the retrained model never predicts them
    assert second.value("s1_acc_f_c0", "retrained") == 0.0
    assert second.value("s2_acc_f_c0", "retrained") == second.value("s2_acc_f_c1", "retrained") == 0.0
    assert second.value("s2_acc_f_c1") < 20.0 and second.value("s2_acc_f_c0") < 20.0
    assert second.value("s2_time_ratio") == pytest.approx(
        (one["unlearn_seconds"] + two["unlearn_seconds"]) / (one["retrain_seconds"] + two["retrain_seconds"])
    )
    # ACC_f on the union and the chain's own run (config.then) give the same chain
    assert second.value("acc_f_test", "retrained") == 0.0
    again = run_config(tiny_config, layer, {"then": [{"classes": [1]}]})
    assert again.artifacts["chain"]["requests"][1]["weights_after"] == two["weights_after"]


def test_from_refuses_a_run_of_another_model(tmp_path, tiny_config, registry):
    from unlearnkit.core.errors import UsageError
    from unlearnkit.run.chain import load_start

    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"dataset": {"name": "digits"}, "model": {"name": "vgg19"}}))
    (folder / "unlearned.safetensors").write_bytes(b"")
    with pytest.raises(UsageError, match="model"):
        load_start(folder, {"dataset": {"name": "digits"}, "model": {"name": "small-cnn"}})
    with pytest.raises(UsageError, match="not a run folder"):
        load_start(tmp_path / "missing", {})


@pytest.mark.slow
def test_sequential_preset_and_relearn_in_the_report(registry, cache_dir, tmp_path):
    """The digits sequential preset runs chains per method; the report's table and curves come from the store."""
    import sqlite3

    from unlearnkit.apps.report import Group, build_report, summarise
    from unlearnkit.apps.report_robustness import STEP_ROW, sequential_series
    from unlearnkit.apps.store import Store
    from unlearnkit.apps.sweep import expand, override, preset, run_sweep

    spec = override(preset("sequential-digits"), base={"metrics": ["accuracy", "utv", "time", "relearn"]})
    plan = expand(spec, registry, {"out": str(tmp_path / "runs"), "cache_dir": cache_dir, "device": "cpu"})
    db = tmp_path / "seq.sqlite"
    with Store(db) as store:
        summary = run_sweep(spec, plan, store)
    assert summary.failed == 0, summary.failures
    conn = sqlite3.connect(db)
    stored = dict(
        conn.execute(
            "SELECT c.label || ':' || v.row, v.value FROM cells c JOIN metric_values v ON v.key = c.key "
            "WHERE v.subject = 'unlearned'"
        ).fetchall()
    )
    conn.close()
    assert {"RWFT-2-O:s1_acc_f_c0", "RWFT-2-O:s2_acc_f_c0", "RWFT-2-O:s2_acc_f_c1", "FT:s2_time_ratio"} <= set(stored)

    files = build_report(db, tmp_path / "report")
    md = files.markdown.read_text()
    assert "sequential requests" in md
    value = stored["RWFT-2-O:s2_acc_r_test"]
    assert f"| RWFT-2-O | 2 | {value:.2f} |" in md
    with Store(db) as store:
        cells = store.cells(status="ok")
    group = Group("digits", "small-cnn", cells)
    rows = [r for r in cells[0]["metrics"] if STEP_ROW.match(r)]
    series = sequential_series(summarise(group, rows))
    assert series["acc_r_test"]["RWFT-2-O"] == ([1, 2], [stored["RWFT-2-O:s1_acc_r_test"], value])
    mean_f = (stored["FT:s2_acc_f_c0"] + stored["FT:s2_acc_f_c1"]) / 2
    assert series["acc_f"]["FT"][1][1] == pytest.approx(mean_f)
    assert series["acc_f"]["Retraining"][1] == [0.0, 0.0]
    pytest.importorskip("matplotlib")
    names = {p.name for p in files.figures}
    assert {"sequential_digits_small-cnn.png", "relearn_digits_small-cnn.png"} <= names
    for path in files.figures:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_from_a_run_of_another_dataset_fails_with_one_line(tmp_path):
    from typer.testing import CliRunner

    from unlearnkit.apps.cli import app

    folder = tmp_path / "run"
    folder.mkdir()
    earlier = {"dataset": {"name": "digits", "options": {}}, "model": None, "recipe": None, "seed": 0}
    (folder / "config.json").write_text(json.dumps(earlier))
    (folder / "unlearned.safetensors").write_bytes(b"")
    result = CliRunner().invoke(
        app, ["run", "--from", str(folder), "--forget", "1", "--dataset", "mnist", "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 2, result.output
    assert "dataset" in result.output and "differs" in result.output
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())
