"""Unlearning the user's own weights: --original, import-weights, --reference, the deletion report, show."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file
from typer.testing import CliRunner

from unlearnkit.apps.cli import app

# small-cnn of width 8 on digits, one RWFT epoch, accuracy only: a run takes about a second.
FAST = [
    "--set",
    "model.width=8",
    "--set",
    "recipe.epochs=12",
    "--set",
    "epochs=1",
    "--device",
    "cpu",
    "--metrics",
    "accuracy,mia-salun,utv",
]


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def small_cnn(num_classes: int = 10, width: int = 8) -> torch.nn.Module:
    from unlearnkit.plugins.models.small_cnn import SmallCNNOptions, build

    torch.manual_seed(0)
    return build(SmallCNNOptions(width=width), num_classes, (1, 8, 8))


def save(model: torch.nn.Module, path: Path) -> Path:
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path))
    return path


@pytest.fixture(scope="module")
def weights(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("weights")
    model = small_cnn()
    torch.save(model.state_dict(), folder / "model.pt")
    return {
        "good": save(model, folder / "model.safetensors"),
        "nine": save(small_cnn(num_classes=9), folder / "nine.safetensors"),
        "wide": save(small_cnn(width=16), folder / "wide.safetensors"),
        "pt": folder / "model.pt",
    }


def test_original_run_writes_a_deletion_report_whose_hashes_match_the_weight_files(tmp_path, weights, cache_dir):
    out = tmp_path / "runs"
    result = invoke("run", "--original", str(weights["good"]), "--forget", "3", "--out", str(out), *FAST, "--json")
    assert result.exit_code == 0, result.output
    run_dir = Path(json.loads(result.stdout)["run_dir"])
    report = json.loads((run_dir / "report.json").read_text())
    assert report["weights"]["before"]["sha256"] == sha256(weights["good"])
    assert report["weights"]["after"]["sha256"] == sha256(run_dir / "unlearned.safetensors")
    assert report["weights"]["before"]["sha256"] != report["weights"]["after"]["sha256"]
    assert report["request"] == {"kind": "classes", "classes": ["3"], "class_indices": [3], "train_samples": 146}
    assert report["method"]["name"] == "rwft" and report["method"]["options"]["epochs"] == 1
    # no retrained model: the metric that needs one is skipped with its reason, the others sit beside ideals
    assert {"metric": "utv", "reason": "needs the retrained model"} in report["skipped"]
    rows = {r["metric"]: r for r in report["evidence"]}
    assert rows["acc_f_train"]["reference"] == 0.0 and rows["acc_f_train"]["reference_kind"] == "ideal"
    assert rows["acc_r_test"]["reference"] == rows["acc_r_test"]["original"]
    assert any(line.startswith("forget accuracy") for line in report["verdict"])
    assert report["not_shown"] and report["wall_seconds"] >= report["unlearn_seconds"] > 0
    assert {p["name"] for p in report["plugins"]} >= {"rwft", "digits", "small-cnn"}
    models = json.loads((run_dir / "models.json").read_text())
    assert models["retrained"] is None and models["original"]["sha256"] == sha256(weights["good"])
    shown = invoke("show", str(run_dir))
    assert shown.exit_code == 0 and shown.output == (run_dir / "report.md").read_text() + "\n"
    assert sha256(weights["good"]) in shown.output and "What this evidence does not show" in shown.output


def test_table_run_says_in_one_line_that_there_is_no_retrained_model(tmp_path, weights):
    result = invoke("run", "--original", str(weights["good"]), "--out", str(tmp_path), *FAST)
    assert result.exit_code == 0, result.output
    assert result.output.count("no retrained model (--reference none)") == 1
    assert "cache: original from your file, no retrained model" in " ".join(result.output.split())


def test_reference_retrain_trains_the_gold_standard_through_the_cache(tmp_path, weights, cache_dir):
    args = ["run", "--original", str(weights["good"]), "--reference", "retrain", "--out", str(tmp_path)]
    result = invoke(*args, "--cache-dir", cache_dir, *FAST, "--json")
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)["metrics"]
    assert metrics["utv_train"]["values"]["unlearned"] is not None
    run_dir = Path(json.loads(result.stdout)["run_dir"])
    report = json.loads((run_dir / "report.json").read_text())
    assert report["skipped"] == [] and "retrained with recipe" in report["reference"]
    rows = {r["metric"]: r for r in report["evidence"]}
    assert rows["acc_f_train"]["reference_kind"] == "retrained"


@pytest.mark.parametrize(
    ("key", "extra", "message"),
    [
        ("missing", [], "--original file '{path}' not found"),
        ("pt_as_safetensors", [], "is a PyTorch pickle checkpoint, not safetensors; it is never unpickled"),
        ("nine", [], "has 9 classes (fc.weight has shape [9, 32]) but the dataset has 10"),
        ("wide", [], "does not fit model 'small-cnn': wrong shapes layer1.0.weight"),
        ("good", ["--model", "resnet18"], "does not fit model 'resnet18': missing keys conv1.weight"),
        ("good", ["--forget", "person_17"], "unknown forget class 'person_17'"),
        ("good", ["--reference", "gold.pt"], "--reference 'gold.pt': accepted: retrain, none"),
    ],
)
def test_bad_original_is_one_line_exit_2_and_leaves_no_run_folder(tmp_path, weights, key, extra, message):
    if key == "missing":
        path = tmp_path / "absent.safetensors"
    elif key == "pt_as_safetensors":
        path = tmp_path / "renamed.safetensors"
        path.write_bytes(weights["pt"].read_bytes())
    else:
        path = weights[key]
    result = invoke("run", "--original", str(path), *FAST, *extra, "--out", str(tmp_path / "runs"))
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and message.format(path=path) in " ".join(result.output.split()), result.output
    assert not (tmp_path / "runs").exists()


def test_import_weights_converts_a_state_dict_and_refuses_pickled_objects(tmp_path, weights):
    model = small_cnn()
    wrapped = {"epoch": 3, "state_dict": {f"module.{k}": v for k, v in model.state_dict().items()}}
    torch.save(wrapped, tmp_path / "ckpt.pth")
    result = invoke("import-weights", str(tmp_path / "ckpt.pth"), "-o", str(tmp_path / "out.safetensors"))
    assert result.exit_code == 0, result.output
    from safetensors.torch import load_file

    converted = load_file(str(tmp_path / "out.safetensors"))
    expected = model.state_dict()
    assert converted.keys() == expected.keys()
    assert all(torch.equal(converted[k], expected[k]) for k in expected)
    assert sha256(tmp_path / "out.safetensors") in result.output
    # a whole pickled module is refused by weights_only=True, in one line, and nothing is written
    torch.save(torch.nn.Sequential(torch.nn.Linear(2, 2)), tmp_path / "whole.pt")
    refused = invoke("import-weights", str(tmp_path / "whole.pt"), "-o", str(tmp_path / "no.safetensors"))
    assert refused.exit_code == 2 and "not a PyTorch state-dict file loadable with weights_only=True" in " ".join(
        refused.output.split()
    )
    assert len([line for line in refused.output.splitlines() if line.strip()]) == 1
    assert not (tmp_path / "no.safetensors").exists()
    wrong = invoke("import-weights", str(weights["pt"]), "-o", str(tmp_path / "x.pt"))
    assert wrong.exit_code == 2 and "must end in .safetensors" in wrong.output


def test_show_refuses_a_folder_without_report(tmp_path):
    result = invoke("show", str(tmp_path))
    assert result.exit_code == 2 and "has no report.md" in result.output


def test_sample_request_is_count_and_sha256_of_sorted_ids():
    from unlearnkit.run.deletion_report import sample_ids_sha256

    expected = hashlib.sha256(b"2\n10\n33\n").hexdigest()
    assert sample_ids_sha256([33, 2, 10]) == expected  # numeric order, not "10" < "2"
    assert sample_ids_sha256(["b.png", "a.png"]) == hashlib.sha256(b"a.png\nb.png\n").hexdigest()


def test_a_forget_list_on_the_users_own_weights_is_the_practitioners_path(tmp_path, weights, cache_dir):
    """--original and --forget-list compose: the report names the user's file, the listed samples
    and the list's hash; the gold standard is retrained without exactly those samples."""
    from unlearnkit.run.deletion_report import sample_ids_sha256

    listed = list(range(5, 400, 9))  # 44 training indices of several classes
    request = tmp_path / "request.txt"
    request.write_text("# deletion request 7\n" + "\n".join(map(str, listed)) + "\n")
    args = ["run", "--original", str(weights["good"]), "--forget-list", str(request), "--reference", "retrain"]
    args += ["--method", "rwft", "--target", "uniform"]  # the reweight target is class-only (refused)
    result = invoke(*args, "--out", str(tmp_path / "runs"), "--cache-dir", cache_dir, *FAST, "--json")
    assert result.exit_code == 0, result.output
    run_dir = Path(json.loads(result.stdout)["run_dir"])
    split = json.loads((run_dir / "split.json").read_text())
    assert split["kind"] == "samples" and split["sizes"]["train_forget"] == len(listed)
    assert split["request"]["sha256"] == sha256(request) and split["request"]["samples"] == len(listed)
    report = json.loads((run_dir / "report.json").read_text())
    assert report["weights"]["before"]["sha256"] == sha256(weights["good"])
    assert report["request"]["kind"] == "samples" and report["request"]["list"]["sha256"] == sha256(request)
    assert report["request"]["sha256"] == sample_ids_sha256(listed)
    rows = {r["metric"]: r for r in report["evidence"]}
    assert rows["acc_f_train"]["reference_kind"] == "retrained"
    # the gold standard is a cache entry keyed by the forget set: retrained without exactly these samples
    models = json.loads((run_dir / "models.json").read_text())
    entry = json.loads((Path(cache_dir) / "models" / f"{models['retrained']['key']}.json").read_text())
    assert entry["parts"]["excluded"] == split["fingerprint"] and entry["parts"]["excluded_count"] == len(listed)
