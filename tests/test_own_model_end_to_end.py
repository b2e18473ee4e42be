"""Issue 16's done-when test: a model trained outside unlearnkit, unlearned from the CLI and from Python."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file
from test_zoo_models import CLASSES, write_image_folder

import unlearnkit
from unlearnkit.core.errors import UsageError


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def read_folder(root: Path, split: str) -> tuple[torch.Tensor, torch.Tensor]:
    """The user's own loader: PIL, sorted class folders (torchvision ImageFolder's labels)."""
    from PIL import Image

    xs, ys = [], []
    for label, name in enumerate(sorted(p.name for p in (root / split).iterdir())):
        for file in sorted((root / split / name).iterdir()):
            array = torch.from_numpy(np.asarray(Image.open(file).convert("RGB")).copy())
            xs.append(array.permute(2, 0, 1))
            ys.append(label)
    return torch.stack(xs), torch.tensor(ys)


def train_outside(x: torch.Tensor, y: torch.Tensor) -> torch.nn.Module:
    import torchvision

    torch.manual_seed(0)
    model = torchvision.models.resnet18(num_classes=len(CLASSES))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    for _ in range(3):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x.float() / 255), y).backward()
        optimizer.step()
    return model.eval()


@pytest.fixture(scope="module")
def user(tmp_path_factory):
    root = tmp_path_factory.mktemp("user")
    folder = write_image_folder(root / "photos")
    train, test = read_folder(folder, "train"), read_folder(folder, "test")
    model = train_outside(*train)
    weights = root / "model.safetensors"
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(weights))
    with torch.no_grad():
        accuracy = (model(test[0].float() / 255).argmax(1) == test[1]).float().mean().item() * 100
    return {
        "root": root,
        "folder": folder,
        "train": train,
        "test": test,
        "model": model,
        "weights": weights,
        "acc": accuracy,
    }


METRICS = "accuracy,mia-salun,utv"


def test_cli_subprocess_unlearns_the_users_weights_and_reports_their_hashes(user, tmp_path):
    out = tmp_path / "runs"
    args = [
        *("run", "--original", str(user["weights"]), "--model", "torchvision:resnet18"),
        *("--dataset", "image-folder", "--data-root", str(user["folder"]), "--forget", "person_17"),
        *("--method", "rwft", "--select", "two-layer", "--set", "epochs=2", "--set", "dataset.cache=false"),
        *("--set", "dataset.mean=[0,0,0]", "--set", "dataset.std=[1,1,1]", "--device", "cpu"),
        *("--metrics", METRICS, "--out", str(out), "--json"),
    ]
    env = {**os.environ, "UNLEARNKIT_CACHE_DIR": str(tmp_path / "cache")}
    done = subprocess.run([sys.executable, "-m", "unlearnkit", *args], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    run_dir = Path(result["run_dir"])
    # unlearnkit saw the user's model exactly as the user did: same labels, same normalisation
    assert result["metrics"]["acc_test"]["values"]["original"] == pytest.approx(user["acc"])
    report = json.loads((run_dir / "report.json").read_text())
    assert report["weights"]["before"]["sha256"] == sha256(user["weights"])
    assert report["weights"]["after"]["sha256"] == sha256(run_dir / "unlearned.safetensors")
    assert report["request"]["classes"] == ["person_17"] and report["selection"] == "groups layer3 + fc"
    assert (run_dir / "report.md").is_file()
    shown = subprocess.run([sys.executable, "-m", "unlearnkit", "show", str(run_dir)], capture_output=True, text=True)
    assert shown.returncode == 0 and sha256(user["weights"]) in shown.stdout


def test_python_api_unlearns_the_module_and_reports_the_same_hashes(user, tmp_path):
    model = user["model"]
    before = {k: v.clone() for k, v in model.state_dict().items()}
    result = unlearnkit.unlearn(
        model,
        user["train"],
        user["test"],
        forget="person_17",
        classes=CLASSES,
        method="rwft",
        select="two-layer",
        target="reweight",
        metrics=METRICS.split(","),
        out=tmp_path / "runs",
        cache_dir=tmp_path / "cache",
        device="cpu",
        epochs=2,
    )
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in before.items())  # the caller's model is untouched
    assert result.metrics["acc_test"]["original"] == pytest.approx(user["acc"])
    assert result.skipped == {"utv": "needs the retrained model"}
    report = result.report
    before_file = Path(report["weights"]["before"]["file"])
    assert report["weights"]["before"]["sha256"] == sha256(before_file)
    assert report["weights"]["after"]["sha256"] == sha256(Path(result.run_dir) / "unlearned.safetensors")
    assert report["selection"] == "groups layer3 + fc" and report["request"]["classes"] == ["person_17"]
    # the returned module is the unlearned one: its weights are the ones in the run folder
    from safetensors.torch import load_file

    stored = load_file(str(Path(result.run_dir) / "unlearned.safetensors"))
    assert all(torch.equal(stored[k], v) for k, v in result.model.state_dict().items())
    changed = [k for k in before if not torch.equal(before[k], stored[k])]
    assert changed and all(k.startswith(("layer3.", "fc.")) for k in changed)


def test_python_api_refuses_normalised_floats_in_one_line(user):
    x, y = user["test"]
    with pytest.raises(UsageError, match=r"float images must be in \[0, 1\]"):
        unlearnkit.unlearn(user["model"], (x.float() - 128, y), (x, y), forget=0, write=False)


def test_the_example_script_runs(tmp_path):
    example = Path(__file__).parent.parent / "examples" / "python_api.py"
    env = {**os.environ, "UNLEARNKIT_CACHE_DIR": str(tmp_path / "cache")}
    done = subprocess.run(
        [sys.executable, str(example), str(tmp_path / "runs")], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert "acc_f_train" in done.stdout and "deletion report:" in done.stdout
    run_dir = Path(done.stdout.strip().splitlines()[-1].split(": ", 1)[1]).parent
    assert (run_dir / "report.json").is_file()
