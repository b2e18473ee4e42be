"""The CLI: bad input gets one line and exit code 2 with nothing written; precedence of settings; a full run."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from unlearnkit.apps.cli import app
from unlearnkit.core.config import apply_set, build_config, load_config_file

TINY = ["--set", "model.width=16", "--set", "recipe.epochs=12", "--device", "cpu"]


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--method", "rwtf"], "unknown method 'rwtf'; did you mean rwft?"),
        (["--select", "two-layers"], "did you mean two-layer"),
        (["--dataset", "cifar11"], "unknown dataset 'cifar11'"),
        (["--set", "lr=-1"], "invalid options for method 'rwft': lr: Input should be greater than 0"),
        (["--set", "learning_rate=0.1"], "learning_rate: unknown key; accepted: augment, batch_size"),
        (["--forget", "elephant"], "unknown forget class 'elephant'; accepted: indices 0..9"),
        (["--forget", "0", "--forget-fraction", "0.1"], "give exactly one of forget classes, fraction or count"),
        (["--method", "retrain", "--select", "two-layer"], "does not train selected parameters"),
        (["--device", "tpu"], "unknown device 'tpu'"),
        (["--forget-fraction", "0.1"], "target 'reweight' is defined for class forgetting only"),
        (["--forget-count", "9", "--target", "max-class"], "accepted: --target random-label, uniform"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, args, message):
    result = invoke("run", *TINY, *args, "--out", str(tmp_path / "runs"))
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and message in " ".join(result.output.split()), result.output
    assert not (tmp_path / "runs").exists()


def test_describe_shows_options_and_rejects_unknown_kind():
    result = invoke("describe", "method", "rwft")
    assert result.exit_code == 0
    assert "retain_weight" in result.output and "0.001" in result.output
    assert invoke("describe", "gadget", "x").exit_code == 2


def test_precedence_flags_over_set_over_file(tmp_path):
    config = tmp_path / "run.toml"
    config.write_text('seed = 5\n[method]\nname = "rwft"\noptions = { lr = 0.5, epochs = 3 }\n')
    file_layer = load_config_file(config)
    sets: dict = {}
    apply_set(sets, "lr=0.25")
    apply_set(sets, "seed=6")
    cfg = build_config([file_layer, sets, {"seed": 7}])
    assert cfg.seed == 7  # flag beats --set beats file
    assert cfg.method.options == {"lr": 0.25, "epochs": 3}  # --set beats file, untouched keys stay


def test_changing_the_method_drops_the_files_options(tmp_path):
    config = tmp_path / "run.yaml"
    config.write_text("method:\n  name: rwft\n  options: {retain_weight: 1.0}\n")
    cfg = build_config([load_config_file(config), {"method": {"name": "retrain"}}])
    assert cfg.method.name == "retrain" and cfg.method.options == {}


def test_set_addresses_components_and_nested_fields():
    data: dict = {}
    for assignment in ("selector.group=layer3", "recipe.epochs=5", "forget.fraction=0.1", "model=resnet18"):
        apply_set(data, assignment)
    assert data == {
        "selector": {"options": {"group": "layer3"}},
        "recipe": {"epochs": 5},
        "forget": {"fraction": 0.1},
        "model": {"name": "resnet18"},
    }


@pytest.mark.slow
def test_run_writes_a_complete_run_folder_and_repeats_from_its_config(tmp_path, cache_dir):
    out = tmp_path / "runs"
    base = ["--method", "rwft", "--select", "two-layer", "--out", str(out), "--cache-dir", cache_dir, *TINY]
    result = invoke("run", *base, "--json", "--save-outputs")
    assert result.exit_code == 0, result.output
    first = json.loads(result.stdout)
    run_dir = Path(first["run_dir"])
    for name in (
        "config.json",
        "metrics.json",
        "split.json",
        "plugins.json",
        "models.json",
        "unlearned.safetensors",
        "outputs.safetensors",
    ):
        assert (run_dir / name).is_file(), name
    assert not list(out.glob(".partial-*"))
    plugins = json.loads((run_dir / "plugins.json").read_text())
    assert {(p["kind"], p["name"]) for p in plugins} >= {
        ("method", "rwft"),
        ("selector", "two-layer"),
        ("target", "reweight"),
        ("dataset", "digits"),
    }
    split = json.loads((run_dir / "split.json").read_text())
    assert split["forget_classes"] == [0] and len(split["fingerprint"]) == 16
    # the resolved config repeats the run exactly (same seed, CPU)
    again = invoke("run", "--config", str(run_dir / "config.json"), "--out", str(out), "--json")
    assert again.exit_code == 0, again.output
    second = json.loads(again.stdout)

    def values(result):
        return {k: v["values"] for k, v in result["metrics"].items() if v["metric"] not in ("time", "speedup")}

    assert values(first) == values(second)


@pytest.mark.slow
def test_table_output(tmp_path, cache_dir):
    args = ("run", "--method", "rwft", "--select", "two-layer", "--out", str(tmp_path), "--cache-dir", cache_dir, *TINY)
    invoke(*args)  # make sure both reference models are cached
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())  # rich wraps at the terminal width
    assert "retrained (gold)" in text and "utv_train" in text
    assert "ratio" in text and "cache: original hit, retrained hit" in text


def test_recipe_fields_without_a_name_refine_the_datasets_default(registry):
    from unlearnkit.run.resolve import resolve

    cfg = build_config([{"recipe": {"epochs": 3}}])
    recipe = resolve(cfg, registry).recipe
    default = registry.spec("dataset", "digits").default_recipe
    assert recipe.epochs == 3 and recipe.name == default["name"] and recipe.lr == default["lr"]
    assert recipe.label_smoothing == default["label_smoothing"]


def test_set_reaches_metric_options():
    data: dict = {}
    apply_set(data, "metric_options.utv.floor=true")
    assert build_config([data]).metric_options == {"utv": {"floor": True}}
