"""Forget lists: exactly the listed training samples are forgotten, by index or by path."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch

from unlearnkit.core.config import ForgetConfig
from unlearnkit.core.errors import UsageError
from unlearnkit.data.forget_list import scenario_from_config
from unlearnkit.data.scenarios import fingerprint_indices


@pytest.fixture(scope="module")
def digits():
    from unlearnkit.core.registry import get_registry

    spec = get_registry().get("dataset", "digits").spec
    return spec.load()(spec.options(), None)


def test_a_forget_list_on_digits_forgets_exactly_the_listed_indices(digits, tmp_path):
    rng = np.random.default_rng(0)
    chosen = sorted(rng.choice(len(digits.train_y), size=50, replace=False).tolist())
    lines = ["# deletion request 42", *map(str, chosen), str(chosen[0]), ""]  # a comment, a repeat, a blank
    path = tmp_path / "request.txt"
    path.write_text("\n".join(lines))

    scenario = scenario_from_config(digits, ForgetConfig(file=str(path)), seed=0)

    expected = torch.tensor(chosen)
    assert scenario.kind == "samples" and scenario.forget_classes == []
    assert torch.equal(scenario.train_forget, expected)
    assert scenario.fingerprint == fingerprint_indices(expected)
    sizes = {name: len(split) for name, split in scenario.splits.items()}
    assert sizes == {
        "train_forget": 50,
        "train_retain": len(digits.train_y) - 50,
        "test_forget": 0,
        "test_retain": len(digits.test_y),
        "test": len(digits.test_y),
    }
    assert torch.equal(scenario.splits["train_forget"].x, digits.train_x[expected])
    assert not set(scenario.splits["train_retain"].index.tolist()) & set(chosen)
    assert scenario.request == {
        "file": str(path),
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "entries": 51,
        "samples": 50,
    }


def test_a_csv_forget_list_reads_its_named_column_or_the_first(digits, tmp_path):
    path = tmp_path / "request.csv"
    path.write_text("note,index\nfirst,3\nsecond,10\n")
    by_name = scenario_from_config(digits, ForgetConfig(file=str(path), column="index"), seed=0)
    assert by_name.train_forget.tolist() == [3, 10]
    first = tmp_path / "first.csv"
    first.write_text("index,note\n7,a\n1,b\n")
    assert scenario_from_config(digits, ForgetConfig(file=str(first)), seed=0).train_forget.tolist() == [1, 7]
    with pytest.raises(UsageError, match="no column 'sample'; columns: note, index"):
        scenario_from_config(digits, ForgetConfig(file=str(path), column="sample"), seed=0)


def test_unknown_entries_are_one_error_naming_the_first_few(digits, tmp_path):
    path = tmp_path / "request.txt"
    path.write_text("\n".join(["1", "2", "cat.png", "-4", "99999", "x", "y", "z", "w"]))
    with pytest.raises(UsageError) as info:
        scenario_from_config(digits, ForgetConfig(file=str(path)), seed=0)
    message = str(info.value)
    assert "7 of 9 entries match no training sample: 'cat.png', '-4', '99999', 'x', 'y' ..." in message
    assert "\n" not in message and "0..1436" in message
    with pytest.raises(UsageError, match="not found"):
        scenario_from_config(digits, ForgetConfig(file=str(tmp_path / "missing.txt")), seed=0)
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n\n")
    with pytest.raises(UsageError, match="names no samples"):
        scenario_from_config(digits, ForgetConfig(file=str(empty)), seed=0)


def test_benchmark_forget_needs_a_dataset_that_defines_one(digits):
    with pytest.raises(UsageError, match="defines no forget set of its own"):
        scenario_from_config(digits, ForgetConfig(classes=["benchmark"]), seed=0)


def _write_png(path: Path, value: int) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.full((6, 6, 3), value, dtype=np.uint8)
    pixels[0, 0] = (value * 7) % 256  # no two images alike
    Image.fromarray(pixels).save(path)


@pytest.mark.parametrize("layout", ["split", "flat"])
def test_a_forget_list_on_an_image_folder_by_paths(tmp_path, layout):
    from unlearnkit.core.registry import get_registry

    root = tmp_path / "photos"
    value = 0
    written: dict[str, int] = {}
    for split in ("train", "test") if layout == "split" else ("",):
        for cls in ("alice", "bob"):
            for k in range(5):
                rel = "/".join(p for p in (split, cls, f"img{k}.png") if p)
                _write_png(root / rel, value)
                written[rel] = value
                value += 10
    spec = get_registry().get("dataset", "image-folder").spec
    data = spec.load()(spec.options(path=str(root), cache=False), None)
    ids = data.train_ids()
    assert len(ids) == len(data.train_y)
    # every training file is named by its path under the root; the flat layout holds some out for testing
    assert set(ids) <= set(written) and all(i.startswith("train/") for i in ids) == (layout == "split")
    wanted = [ids[-2], ids[1]]
    request = tmp_path / "request.txt"
    request.write_text("\n".join(["./" + wanted[0], wanted[1]]))

    scenario = scenario_from_config(data, ForgetConfig(file=str(request)), seed=0)

    assert len(scenario.splits["train_forget"]) == 2
    for rel in wanted:
        i = ids.index(rel)
        assert i in scenario.train_forget.tolist()
        # the index really is that file: its pixels are the ones written there
        assert int(data.train_x[i, 0, 1, 1]) == written[rel]
    with pytest.raises(UsageError, match="paths relative to the data root"):
        request.write_text("nobody/img9.png\n")
        scenario_from_config(data, ForgetConfig(file=str(request)), seed=0)


def test_forget_config_takes_exactly_one_scenario():
    with pytest.raises(ValueError, match="exactly one"):
        ForgetConfig(classes=[0], file="x.txt")
    with pytest.raises(ValueError, match="forget.column needs forget.file"):
        ForgetConfig(classes=[0], column="path")
    assert ForgetConfig(file="x.txt").scenario == "samples"
    assert ForgetConfig(classes=["benchmark"]).scenario == "samples"


def test_a_forget_list_run_records_the_request_and_skips_rows_that_do_not_apply(tiny_config, run_config, tmp_path):
    import json

    request = tmp_path / "request.csv"
    request.write_text("sample\n" + "\n".join(str(i) for i in range(0, 200, 8)) + "\n")
    layer = {"method": {"name": "ft", "options": {"epochs": 1}}, "forget": {"classes": [], "file": str(request)}}
    result = run_config(tiny_config, layer, {"metrics": ["accuracy", "jsd"]}, write=True)

    assert result.scenario["kind"] == "samples" and result.scenario["sizes"]["train_forget"] == 25
    assert result.scenario["request"]["entries"] == 25 and len(result.scenario["request"]["sha256"]) == 64
    notes = {m.name: m.note for m in result.metrics}
    assert notes["acc_f_train"] is None and result.value("acc_f_train", "retrained") is not None
    assert "does not apply to a sample-level request" in notes["acc_f_test"]
    run_dir = Path(result.run_dir)
    assert json.loads((run_dir / "split.json").read_text())["request"]["file"] == str(request)
    leaks = json.loads((run_dir / "leaks.json").read_text())
    assert leaks["forget_samples"] == 25 and "counts" in leaks
    assert json.loads((run_dir / "split.json").read_text())["leaks"] == leaks["leaking_forget_samples"]
    report = json.loads((run_dir / "report.json").read_text())
    assert report["leaks"] == leaks["leaking_forget_samples"]
    assert report["request"]["list"]["sha256"] == result.scenario["request"]["sha256"]
