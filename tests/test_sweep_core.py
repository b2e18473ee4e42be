"""Sweep expansion, presets, sweep files and the result store: no training here."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from unlearnkit.apps.store import Store
from unlearnkit.apps.sweep import (
    PRESETS,
    MethodEntry,
    SweepSpec,
    expand,
    load_sweep_file,
    override,
    parse_method_flag,
    pending_cells,
    preset,
)


def test_digits_demo_is_the_full_cartesian_product(registry, tmp_path):
    plan = expand(preset("digits-demo"), registry, {"out": str(tmp_path), "device": "cpu"})
    assert plan.skipped == []
    assert len(plan.cells) == 3 * 2 * 2
    assert len({c.key for c in plan.cells}) == 12
    assert {c.label for c in plan.cells} == {"RWFT-O", "RWFT-2-O", "RWFT-O-max"}
    assert {(c.forget, c.seed) for c in plan.cells} == {(f"classes={k}", s) for k in (0, 1) for s in (0, 1)}
    by_label = {c.label: c.config for c in plan.cells}
    assert by_label["RWFT-2-O"]["selector"]["name"] == "two-layer"
    assert by_label["RWFT-O-max"]["target"]["name"] == "max-class"


def test_cell_key_ignores_where_and_how_but_not_what(registry, tmp_path):
    spec = preset("digits-demo")
    a = expand(spec, registry, {"out": str(tmp_path / "a"), "device": "cpu"})
    b = expand(spec, registry, {"out": str(tmp_path / "b"), "cache_dir": str(tmp_path / "c")})
    assert [c.key for c in a.cells] == [c.key for c in b.cells]
    changed = override(spec, base={"method": {"options": {"lr": 0.01}}})
    c = expand(changed, registry, {})
    assert not {x.key for x in c.cells} & {x.key for x in a.cells}


def test_methods_not_installed_are_skipped_with_a_reason(registry):
    spec = SweepSpec(
        methods=[MethodEntry(name="rwft"), MethodEntry(label="Future", name=["no-such-method", "nor-this"])],
        datasets=["digits", "no-such-dataset"],
        classes=[0],
    )
    plan = expand(spec, registry)
    assert [c.method for c in plan.cells] == ["rwft"]
    assert any("Future" in s and "not installed" in s for s in plan.skipped)
    assert any("no-such-dataset" in s for s in plan.skipped)


def test_alternative_method_names_take_the_first_installed(registry):
    spec = SweepSpec(methods=[MethodEntry(label="X", name=["not-installed", "rwft"])], classes=[0])
    assert [c.method for c in expand(spec, registry).cells] == ["rwft"]


def test_every_preset_validates_and_paper_presets_name_the_seed_classes(registry):
    for name in PRESETS:
        expand(preset(name), registry)  # unknown components are skipped, never an exception
    assert preset("rwft-table2").classes == list(range(10))
    assert preset("rwft-table4").seeds == [1, 10, 100]
    assert preset("lotus-table4").fractions == [0.1]
    assert preset("lotus-table4").seeds == [3407, 13, 12]


def test_method_flag_syntax(registry):
    entry = parse_method_flag("RWFT-2-O=rwft selector=two-layer lr=0.01")
    assert entry.label == "RWFT-2-O"
    cell = expand(SweepSpec(methods=[entry], classes=[3]), registry).cells[0]
    assert cell.config["selector"]["name"] == "two-layer"
    assert cell.config["method"]["options"]["lr"] == 0.01
    assert cell.config["forget"]["classes"] == [3]
    assert parse_method_flag("ft|finetune").names == ["ft", "finetune"]


def test_sweep_file_toml_and_yaml(registry, tmp_path):
    toml = tmp_path / "grid.toml"
    toml.write_text(
        'seeds = [0, 1, 2]\nclasses = [0, [1, 2]]\nfractions = [0.1]\n[base]\nrecipe = "fast"\n'
        '[[methods]]\nlabel = "A"\nname = "rwft"\nselector = "all"\n'
        '[[methods]]\nlabel = "B"\nname = "rwft"\nset = ["epochs=2"]\n'
    )
    spec = load_sweep_file(toml)
    assert spec.name == "grid"
    plan = expand(spec, registry)
    # rwft's reweight target is class forgetting only: the random-subset cells are skipped, with the reason.
    assert len(plan.cells) == 2 * 3 * 2
    assert {c.forget for c in plan.cells} == {"classes=0", "classes=1,2"}
    assert any("fraction=0.1" in note and "class forgetting only" in note for note in plan.skipped)
    spec.methods[1].target = "uniform"
    assert {c.forget for c in expand(spec, registry).cells} == {"classes=0", "classes=1,2", "fraction=0.1"}
    yaml_file = tmp_path / "grid.yaml"
    yaml_file.write_text("methods:\n  - name: rwft\nseeds: [5]\n")
    assert [c.seed for c in expand(load_sweep_file(yaml_file), registry).cells] == [5]


def test_store_records_failures_and_resumes(registry, tmp_path):
    plan = expand(preset("digits-demo"), registry)
    with Store(tmp_path / "s.sqlite") as store:
        first, second = plan.cells[:2]
        store.mark_running(first, "t")
        store.record(first.key, {"status": "ok", "metrics": {"m": {"metric": "x", "values": {"unlearned": 1.5}}}})
        store.mark_running(second, "t")
        store.record(second.key, {"status": "failed", "error": "ValueError: boom"})
        store.mark_running(plan.cells[2], "t")  # killed while running
        assert store.counts() == {"ok": 1, "failed": 1, "running": 1}
        assert len(pending_cells(plan, store, retry_failed=True)) == 11
        assert len(pending_cells(plan, store, retry_failed=False)) == 10
        failed = store.cells(status="failed")[0]
        assert failed["error"] == "ValueError: boom"
        value = store.conn.execute("SELECT value FROM metric_values WHERE key = ?", (first.key,)).fetchone()[0]
        assert value == 1.5
        store.mark_running(second, "t")  # a retry bumps attempts and clears the old error
        row = store.conn.execute("SELECT attempts, error FROM cells WHERE key = ?", (second.key,)).fetchone()
        assert tuple(row) == (2, None)


def test_sweep_modules_do_not_import_torch():
    code = (
        "import sys, unlearnkit.apps.cli, unlearnkit.apps.sweep, unlearnkit.apps.store, unlearnkit.apps.report, unlearnkit.apps.sweep_cli;"
        "print(json.dumps(sorted(m for m in ('torch', 'matplotlib', 'ray') if m in sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", "import json;" + code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_cli_sweep_dry_run_lists_cells(tmp_path):
    from typer.testing import CliRunner

    from unlearnkit.apps.cli import app

    result = CliRunner().invoke(
        app,
        ["sweep", "--preset", "digits-demo", "--seeds", "0", "--db", str(tmp_path / "d.sqlite"), "--dry-run"],
    )
    assert result.exit_code == 0, result.output
    assert result.output.count("pending") == 6


def test_cli_sweep_rejects_unknown_preset(tmp_path):
    from typer.testing import CliRunner

    from unlearnkit.apps.cli import app

    result = CliRunner().invoke(app, ["sweep", "--preset", "nope", "--db", str(tmp_path / "d.sqlite")])
    assert result.exit_code == 2
    assert "unknown preset" in result.output


@pytest.mark.parametrize("name", ["rwft-table4"])
def test_preset_with_missing_components_reports_them(name, tmp_path):
    from typer.testing import CliRunner

    from unlearnkit.apps.cli import app

    result = CliRunner().invoke(app, ["sweep", "--preset", name, "--db", str(tmp_path / "d.sqlite"), "--dry-run"])
    if result.exit_code == 0:  # the datasets/models exist now: every cell is listed
        assert "pending" in result.output
    else:
        assert "skipped" in result.output and "no cells" in result.output
