"""MUFAC: a fixture in the benchmark's published layout loads with its splits and is cleaned."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from test_leaks import resized_recompressed, smooth_images

FORGET_ROWS = 8


def write_split(root: Path, split: str, images: np.ndarray, ages: str, start: int) -> list[str]:
    folder = root / f"{split}_images"
    folder.mkdir(parents=True)
    names = []
    with open(root / f"custom_{split}_dataset.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["family_id", "person_id", "age_class", "image_path"])
        for i, img in enumerate(images):
            age = ages[i % len(ages)]
            name = f"F{start + i // 4:04d}_AGE_D_{18 + i}_{age}{i % 4 + 1}.jpg"
            buffer = io.BytesIO()
            Image.fromarray(img).save(buffer, format="JPEG", quality=95)
            (folder / name).write_bytes(buffer.getvalue())
            writer.writerow([f"F{start + i // 4:04d}", f"D{i}", age, name])
            names.append(name)
    return names


@pytest.fixture(scope="module")
def mufac_root(tmp_path_factory) -> tuple[Path, dict[str, list[str]]]:
    """24 training rows (the first 8 the forget set), 6 validation and 6 test rows, with planted copies.

    - retain row 12 is a byte copy (another file name) of forget row 2: forget row 2 must go;
    - retain row 15 is a resized/recompressed copy of retain row 13: a duplicate within retain;
    - test row 3 is a resized/recompressed copy of retain row 20: the test copy must go;
    - val row 1 is an exact copy of test row 4: the validation copy must go.
    """
    root = tmp_path_factory.mktemp("mufac") / "custom_korean_family_dataset_resolution_128"
    train, val, test = smooth_images(24, 11, size=64), smooth_images(6, 12, size=64), smooth_images(6, 13, size=64)
    train[15] = resized_recompressed(train[13])
    test[3] = resized_recompressed(train[20])
    names = {
        "train": write_split(root, "train", train, "abcdefgh", 1),
        "val": write_split(root, "val", val, "abc", 801),
        "test": write_split(root, "test", test, "def", 851),
    }
    shutil.copyfile(root / "train_images" / names["train"][2], root / "train_images" / names["train"][12])
    shutil.copyfile(root / "test_images" / names["test"][4], root / "val_images" / names["val"][1])
    return root, names


def load(root: Path, **options):
    from unlearnkit.core.registry import get_registry

    spec = get_registry().get("dataset", "mufac").spec
    return spec.load()(spec.options(path=str(root), forget_rows=FORGET_ROWS, cache=False, **options), None)


def test_the_fixture_loads_with_the_benchmark_splits_uncleaned(mufac_root):
    root, names = mufac_root
    data = load(root, clean=False)
    assert len(data.train_y) == 24 and len(data.test_y) == 6 and data.num_classes == 8
    assert data.classes[0] == "0-6" and data.classes[7] == "67-80"
    assert data.train_y[:8].tolist() == list(range(8))  # age classes a..h
    assert data.benchmark_forget.tolist() == list(range(FORGET_ROWS))
    assert data.train_ids() == names["train"]
    assert data.input_shape == (3, 64, 64) and data.artifacts == {}
    assert len(load(root, clean=False, eval_split="val").test_y) == 6


def test_planted_duplicates_are_found_and_removed(mufac_root):
    from unlearnkit.core.config import ForgetConfig
    from unlearnkit.data.forget_list import scenario_from_config
    from unlearnkit.data.leaks import detect_leaks

    root, names = mufac_root
    data = load(root, clean=True, threshold=4)
    report = data.artifacts["cleaning"]
    removed = {(r["split"], r["name"]): r for r in report["removed"]}
    assert set(removed) == {
        ("forget", names["train"][2]),
        ("retain", names["train"][15]),
        ("test", names["test"][3]),
        ("val", names["val"][1]),
    }
    assert removed[("forget", names["train"][2])]["copy_of"] == f"retain/{names['train'][12]}"
    assert removed[("forget", names["train"][2])]["exact"] is True
    assert removed[("retain", names["train"][15])]["copy_of"] == f"retain/{names['train'][13]}"
    assert removed[("test", names["test"][3])]["copy_of"] == f"retain/{names['train'][20]}"
    assert removed[("val", names["val"][1])]["exact"] is True
    assert report["counts"]["forget"] == {"before": 8, "after": 7, "removed": 1}

    assert len(data.train_y) == 22 and len(data.test_y) == 5
    kept = data.train_ids()
    assert names["train"][2] not in kept and names["train"][15] not in kept and names["train"][12] in kept
    scenario = scenario_from_config(data, ForgetConfig(classes=["benchmark"]), seed=0)
    assert scenario.kind == "samples" and len(scenario.splits["train_forget"]) == 7
    assert [kept[i] for i in scenario.train_forget.tolist()] == [n for i, n in enumerate(names["train"][:8]) if i != 2]
    # after cleaning, nothing the forget set holds has a copy left in retain or test
    assert detect_leaks(data, scenario, threshold=4)["leaking_forget_samples"] == 0
    uncleaned = load(root, clean=False)
    before = scenario_from_config(uncleaned, ForgetConfig(classes=["benchmark"]), seed=0)
    assert detect_leaks(uncleaned, before, threshold=4)["leaking_forget_samples"] == 1


def test_missing_data_is_one_line_naming_where_to_get_it(tmp_path):
    from unlearnkit.core.errors import DataNotFoundError

    with pytest.raises(DataNotFoundError) as info:
        load(tmp_path)
    assert "ndb796/MachineUnlearning" in str(info.value) and "\n" not in str(info.value)


def test_the_mufac_table4_preset_is_refused_in_one_line_without_the_data(tmp_path):
    from typer.testing import CliRunner

    from unlearnkit.apps.cli import app

    db = tmp_path / "sweep.sqlite"
    result = CliRunner().invoke(
        app, ["sweep", "--preset", "lotus-table4-mufac", "--data-root", str(tmp_path), "--db", str(db)]
    )
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "mufac" in lines[0] and "ndb796/MachineUnlearning" in " ".join(result.output.split())
    assert not db.exists()


def test_the_mufac_table4_preset_has_both_models_and_three_trials():
    from unlearnkit.apps.sweep import preset

    spec = preset("lotus-table4-mufac")
    assert spec.needs_data and spec.seeds == [3407, 13, 12] and spec.scenarios() == [{"classes": ["benchmark"]}]
    assert [m if isinstance(m, str) else m["name"] for m in spec.models] == ["resnet18", "vit"]
