"""Bad inputs and broken files through the real command line, each in its own process.

Every case asserts the exit code (2 usage, 1 runtime), that the output is one line (no
traceback) and that nothing half-written is left behind. Tiny digits models (width 8, one
epoch) come from one session cache built once; tests that damage it work on a copy.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

TINY = ["--set", "model.width=8", "--set", "recipe.epochs=1", "--device", "cpu"]
RUN = ["run", *TINY, "--metrics", "accuracy", "--set", "epochs=1", "-q"]
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
not_as_root = pytest.mark.skipif(IS_ROOT, reason="root ignores permission bits (CI runs as a normal user)")


def cli(*args: str, cwd: Path, cache: Path | str | None = None, env: dict[str, str] | None = None):
    """Run ``unlearn ARGS`` in a fresh process; return (exit code, non-empty output lines)."""
    environment = {**os.environ, "UNLEARNKIT_CACHE_DIR": str(cache or cwd / "cache"), "COLUMNS": "300"}
    environment.pop("UNLEARNKIT_TRACEBACK", None)
    environment.update(env or {})
    proc = subprocess.run(
        [sys.executable, "-m", "unlearnkit", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=900,
    )
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]
    return proc.returncode, lines


def one_line(result, code: int, *fragments: str) -> str:
    returncode, lines = result
    assert returncode == code, lines
    assert len(lines) == 1, lines
    assert "Traceback" not in lines[0]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def leftovers(*folders: Path) -> list[Path]:
    """Files a crash could leave half-written: temporaries, partial runs, lock-free stray entries."""
    found = []
    for folder in folders:
        if folder.exists():
            found += [p for p in folder.rglob("*") if p.name.startswith((".tmp-", ".partial-"))]
    return found


# --- shared fixtures --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def built_cache(tmp_path_factory) -> Path:
    """A cache holding the tiny original, retrained (forget class 0) models and their stored outputs."""
    root = tmp_path_factory.mktemp("bad-inputs")
    code, lines = cli(*RUN, "--out", str(root / "runs"), cwd=root, cache=root / "cache")
    assert code == 0, lines
    return root / "cache"


def entries(cache: Path) -> dict[str, Path]:
    """Role -> JSON sidecar of each cache entry: original, retrained, outputs."""
    roles = {}
    for meta in sorted((cache / "models").glob("*.json")):
        if meta.name.endswith(".rows.json"):
            continue
        parts = json.loads(meta.read_text())["parts"]
        if parts.get("kind") == "reference-outputs":
            roles.setdefault("outputs", meta)
        elif parts.get("excluded") == "none":
            roles["original"] = meta
        else:
            roles["retrained"] = meta
    return roles


@pytest.fixture
def cache_copy(built_cache: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "cache"
    shutil.copytree(built_cache, copy, ignore=shutil.ignore_patterns("quarantine"))
    return copy


@pytest.fixture
def fake_plugins(tmp_path: Path) -> Path:
    """A folder with two installed-looking distributions: a metric that raises, a plugin with a bad name."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "explode_metric.py").write_text(
        "from unlearnkit import MetricSpec, hookimpl\n\n"
        "def compute(ev, subject, options):\n    raise ValueError('boom')\n\n"
        "@hookimpl\ndef register_metrics(register):\n"
        "    register(MetricSpec(name='explode', summary='raises', factory=compute))\n"
    )
    (site / "badname_plugin.py").write_text(
        "from unlearnkit import MethodSpec, hookimpl\n\n"
        "@hookimpl\ndef register_methods(register):\n"
        "    register(MethodSpec(name='Bad[x]', summary='bad', factory=object))\n"
    )
    for dist, module in (("explode_metric", "explode_metric"), ("badname_plugin", "badname_plugin")):
        info = site / f"{dist}-0.1.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist.replace('_', '-')}\nVersion: 0.1\n")
        (info / "entry_points.txt").write_text(f"[unlearnkit]\n{module} = {module}\n")
    return site


# --- usage errors found before any data is loaded (exit 2) -----------------------------------

USAGE_CASES = [
    (["run", "--method", "rwtf"], "did you mean rwft"),
    (["run", "--sed", "3"], "No such option: --sed"),
    (["run", "--seed", "abc"], "Invalid value for '--seed'"),
    (["frobnicate"], "No such command 'frobnicate'"),
    (["run", "--set", "foo"], "--set 'foo': expected key=value"),
    (["run", "--set", "retain_weigth=2"], "did you mean 'retain_weight'? accepted: augment"),
    (["run", "--set", "recipe.epoch=3"], "did you mean 'epochs'?"),
    (["run", "--set", "forget.clases=1"], "forget.clases: unknown key; did you mean 'classes'?"),
    (["run", "--set", "selector.group=x"], "this component takes no options"),
    (
        ["run", "--set", "recipe.optimizer=rmsprop"],
        "invalid recipe: optimizer: Input should be 'sgd', 'adam' or 'adamw'",
    ),
    (["run", "--recipe", "turbo"], "unknown recipe 'turbo'; available: seed, fast"),
    (["run", "--forget", "0", "--forget-fraction", "0.1"], "give exactly one of forget classes, fraction or count"),
    (["run", "--forget-fraction", "1.5", "--target", "uniform"], "forget.fraction: Input should be less than 1"),
    (["run", "--forget-count", "0", "--target", "uniform"], "forget.count: Input should be greater than 0"),
    (["run", "--dataset", "cifar11"], "unknown dataset 'cifar11'"),
    (["run", "--method", "retrain", "--select", "two-layer"], "does not train selected parameters"),
    (["run", "--metrics", "accuracy,nope"], "unknown metric 'nope'"),
    (["run", "--forget-fraction", "0.1"], "target 'reweight' is defined for class forgetting only"),
    (["list-plugins", "--kind", "gadget"], "unknown kind 'gadget'; accepted: method"),
    (["describe", "gadget", "x"], "unknown kind 'gadget'"),
    (["describe", "method", "nope"], "unknown method 'nope'"),
    (["sweep"], "nothing to sweep"),
    (["sweep", "--method", "rwft", "--executor", "dask"], "unknown executor 'dask'; accepted: local, ray"),
    (["sweep", "--method", "rwft", "--seeds", "a,b"], "expected comma-separated ints"),
    (["sweep", "--preset", "nope"], "unknown preset 'nope'; available:"),
    (
        ["sweep", "--method", "RWFT-2-O fast=rwft selector=two-layer", "--dry-run"],
        "unknown method 'RWFT-2-O'; accepted: bad-teacher",
    ),
    (["report", "missing.sqlite"], "database 'missing.sqlite' not found"),
]


@pytest.mark.parametrize(("args", "message"), USAGE_CASES, ids=[" ".join(a) for a, _ in USAGE_CASES])
def test_usage_error_is_one_line_exit_2_nothing_written(tmp_path, args, message):
    before = set(tmp_path.iterdir())
    one_line(cli(*args, cwd=tmp_path), 2, "error:", message)
    assert set(tmp_path.iterdir()) == before  # no runs/, no sweeps/, no cache, no report folder


CONFIG_FILES = [
    ("missing.toml", None, "config file 'missing.toml' not found"),
    ("bad.toml", "method = [unclosed", "config file 'bad.toml' could not be parsed"),
    ("list.yaml", "- a\n- b\n", "must hold a table of settings"),
    ("settings.ini", "[x]\n", "use .toml, .yaml, .yml or .json"),
    ("unknown.json", '{"methd": "rwft"}', "methd: unknown key; did you mean 'method'?"),
]


@pytest.mark.parametrize(("name", "text", "message"), CONFIG_FILES, ids=[c[0] for c in CONFIG_FILES])
def test_bad_config_file(tmp_path, name, text, message):
    if text is not None:
        (tmp_path / name).write_text(text)
    one_line(cli("run", "--config", name, cwd=tmp_path), 2, message)
    assert not (tmp_path / "runs").exists()


def test_out_is_a_file_or_under_a_file(tmp_path):
    (tmp_path / "afile").write_text("x")
    one_line(cli(*RUN, "--out", "afile", cwd=tmp_path), 2, "--out afile is a file, not a folder")
    one_line(cli(*RUN, "--out", "afile/runs", cwd=tmp_path), 2, "--out afile/runs cannot be created: afile is a file")
    assert not (tmp_path / "cache").exists()  # refused before anything was trained or cached


def test_cache_dir_is_a_file(tmp_path):
    (tmp_path / "afile").write_text("x")
    one_line(cli(*RUN, "--cache-dir", "afile", cwd=tmp_path), 2, "--cache-dir afile: afile is a file, not a folder")
    one_line(cli("train", *TINY, "--cache-dir", "afile", cwd=tmp_path), 2, "afile is a file, not a folder")
    assert not (tmp_path / "runs").exists()


def test_report_on_files_that_are_not_sweep_databases(tmp_path):
    (tmp_path / "garbage.sqlite").write_bytes(b"\x00not a database" * 40)
    one_line(cli("report", "garbage.sqlite", cwd=tmp_path), 2, "is not a sweep database (not an SQLite file)")
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
    conn.close()
    before = other.read_bytes()
    one_line(cli("report", "other.sqlite", cwd=tmp_path), 2, "an SQLite file but not a sweep database")
    assert other.read_bytes() == before  # no tables added
    assert sorted(p.name for p in tmp_path.iterdir()) == ["garbage.sqlite", "other.sqlite"]  # no report folders


def test_sweep_dry_run_writes_nothing(tmp_path):
    code, lines = cli("sweep", "--method", "rwft", "--classes", "0,1", "--dry-run", "--db", "s/x.sqlite", cwd=tmp_path)
    assert code == 0, lines
    assert sum("pending" in line for line in lines) == 2
    assert list(tmp_path.iterdir()) == []


def test_sweep_database_under_a_file(tmp_path):
    (tmp_path / "afile").write_text("x")
    one_line(cli("sweep", "--method", "rwft", "--db", "afile/x.sqlite", cwd=tmp_path), 2, "--db folder afile is a file")


def test_markup_never_eats_message_text_and_a_broken_plugin_is_one_warning(tmp_path, fake_plugins):
    env = {"PYTHONPATH": str(fake_plugins)}
    code, lines = cli("describe", "method", "ft", "--json", cwd=tmp_path, env=env)
    assert code == 0
    warnings = [line for line in lines if line.startswith("warning:")]
    assert len(warnings) == 1 and "badname-plugin 0.1" in warnings[0], lines
    assert "must match ^[a-z][a-z0-9-]*$" in warnings[0]  # the regex, brackets and all
    code, lines = cli("sweep", "--help", cwd=tmp_path)
    assert code == 0 and any("[LABEL=]NAME [key=value ...]" in line for line in lines)


def test_help_shows_no_bool_metavar_and_traceback_flag_adds_traceback(tmp_path):
    code, lines = cli("run", "--help", cwd=tmp_path)
    assert code == 0 and not any("<bool>" in line for line in lines)
    code, lines = cli("run", "--method", "rwtf", "--traceback", cwd=tmp_path)
    assert code == 2 and lines[0].startswith("error: unknown method") and any("Traceback" in x for x in lines)


def test_missing_dataset_files(tmp_path):
    one_line(cli(*RUN, "--dataset", "mnist", "--data-root", "nowhere", cwd=tmp_path), 2, "nowhere")
    assert not (tmp_path / "runs").exists()


def test_unknown_device(tmp_path):
    one_line(cli(*RUN, "--device", "tpu", cwd=tmp_path), 2, "unknown device 'tpu'; accepted: auto, cpu")


# --- impossible requests, found once the data is known, before any training (exit 2) ----------


def test_forgetting_every_class_is_refused(tmp_path):
    every = ",".join(str(i) for i in range(10))
    message = "forgetting every class (10 of 10) leaves nothing to train"
    one_line(cli(*RUN, "--forget", every, cwd=tmp_path), 2, message)
    one_line(cli("train", *TINY, "--exclude", every, cwd=tmp_path), 2, message)
    assert not (tmp_path / "runs").exists() and not (tmp_path / "cache" / "models").exists()


def test_forget_count_beyond_the_data_is_a_count_problem(tmp_path):
    line = one_line(cli(*RUN, "--target", "uniform", "--forget-count", "99999", cwd=tmp_path), 2)
    assert "--forget-count 99999 asks to forget 99999 of the 1437 training samples; accepted: 1..1436" in line
    assert not (tmp_path / "cache" / "models").exists()


# --- divergence and failing plugins (exit 1) ---------------------------------------------------


def test_training_divergence_stops_with_one_line_and_caches_nothing(tmp_path):
    line = one_line(cli(*RUN, "--set", "recipe.lr=1e12", cwd=tmp_path), 1)
    assert "training the original model diverged in epoch 1 of 1" in line and "--set recipe.lr" in line
    models = tmp_path / "cache" / "models"
    assert not list(models.glob("*.safetensors")) and not leftovers(tmp_path)
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_unlearning_divergence_names_the_method(tmp_path, cache_copy):
    line = one_line(cli(*RUN, "--set", "lr=1e12", "--set", "epochs=2", cwd=tmp_path, cache=cache_copy), 1)
    assert "method 'rwft': unlearning diverged in epoch 1 of 2" in line and "(--set lr=...)" in line
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_a_metric_that_raises_is_named_with_its_plugin(tmp_path, cache_copy, fake_plugins):
    args = [a if a != "accuracy" else "accuracy,explode" for a in RUN]
    env = {"PYTHONPATH": str(fake_plugins), "UNLEARNKIT_DISABLE_PLUGINS": "badname-plugin"}
    line = one_line(cli(*args, cwd=tmp_path, cache=cache_copy, env=env), 1)
    assert "metric 'explode' (explode-metric 0.1) failed on the original model: ValueError: boom" in line
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_sweep_whose_cells_all_fail_exits_1_with_reasons_grouped(tmp_path, built_cache):
    args = ["sweep", "--method", "rwft epochs=1", "--classes", "42", "--seeds", "0,1", "--db", "s.sqlite", "-q"]
    code, lines = cli(*args, "--set", "model.width=8", "--set", "recipe.epochs=1", cwd=tmp_path, cache=built_cache)
    assert code == 1, lines
    grouped = [line for line in lines if line.startswith("failed: ")]
    assert len(grouped) == 1 and "2 cell(s): UsageError: forget class 42 is out of range" in grouped[0], lines
    assert lines[-1].startswith("error: 2 of 2 cells failed"), lines
    assert not any("Traceback" in line for line in lines)


# --- the model cache heals itself --------------------------------------------------------------


def _pickled(path: Path) -> None:
    import pickle

    path.write_bytes(pickle.dumps({"weights": [1.0, 2.0]}))


# Garbled bytes and foreign tensors are covered in-process by tests/test_cache_healing.py.
DAMAGE = {
    "truncated": lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]),
    "pickled": _pickled,
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_broken_weights_are_quarantined_and_rebuilt(tmp_path, cache_copy, damage):
    meta = entries(cache_copy)["original"]
    weights = meta.with_suffix(".safetensors")
    DAMAGE[damage](weights)
    code, lines = cli("train", *TINY, cwd=tmp_path, cache=cache_copy)
    assert code == 0, lines
    warnings = [line for line in lines if line.startswith("warning:")]
    assert len(warnings) == 1 and str(weights) in warnings[0] and "moved to" in warnings[0], lines
    assert "Traceback" not in " ".join(lines)
    (moved,) = (cache_copy / "quarantine").iterdir()
    assert (moved / weights.name).exists()  # kept aside, not deleted
    code, lines = cli("train", *TINY, cwd=tmp_path, cache=cache_copy)  # the rebuilt entry loads
    assert code == 0 and len(lines) == 1 and "cache hit" in lines[0], lines


def test_provenance_that_is_not_json_is_quarantined_and_rebuilt(tmp_path, cache_copy):
    meta = entries(cache_copy)["original"]
    meta.write_text("garbage {")
    code, lines = cli("train", *TINY, cwd=tmp_path, cache=cache_copy)
    assert code == 0, lines
    (warning,) = [line for line in lines if line.startswith("warning:")]
    assert "is not JSON" in warning and "moved to" in warning
    assert len(lines) == 2 and any("trained in" in line for line in lines), lines
    assert json.loads(meta.read_text())["key"] == meta.stem


def test_truncated_stored_outputs_are_quarantined_and_rebuilt(tmp_path, cache_copy):
    weights = entries(cache_copy)["outputs"].with_suffix(".safetensors")
    weights.write_bytes(weights.read_bytes()[:100])
    # A run killed two days ago while writing its folder left this; the next run removes it.
    stale = tmp_path / "runs" / ".partial-somehost-1-20200101-000000-digits-rwft-s0-deadbeef"
    stale.mkdir(parents=True)
    os.utime(stale, (0, 0))
    code, lines = cli(*RUN, "--out", "runs", cwd=tmp_path, cache=cache_copy)
    assert code == 0, lines
    assert len(lines) == 1 and str(weights) in lines[0] and lines[0].startswith("warning:"), lines
    assert len(list((tmp_path / "runs").iterdir())) == 1 and not leftovers(tmp_path, cache_copy)


def test_garbage_attack_rows_are_quarantined(tmp_path, cache_copy):
    original = entries(cache_copy)["original"]
    rows = original.with_name(original.stem + ".rows.json")
    rows.write_text("[[[ not json")
    args = [a if a != "accuracy" else "mia-entropy" for a in RUN]
    code, lines = cli(*args, "--out", "runs", cwd=tmp_path, cache=cache_copy)
    assert code == 0, lines
    assert len(lines) == 1 and str(rows) in lines[0] and "recomputing its rows" in lines[0], lines
    assert isinstance(json.loads(rows.read_text()), dict)


def test_cache_files_share_one_permission_mode(built_cache):
    models = built_cache / "models"
    modes = {stat.S_IMODE(p.stat().st_mode) for p in models.iterdir() if p.suffix in (".json", ".safetensors")}
    assert len(modes) == 1 and modes.pop() & 0o044 == 0o044  # group and others may read


# --- read-only places --------------------------------------------------------------------------


def _readonly(path: Path) -> None:
    for p in [path, *path.rglob("*")]:
        if p.is_dir():
            p.chmod(0o555)


@pytest.fixture
def restore_modes(tmp_path):
    yield
    for p in [tmp_path, *tmp_path.rglob("*")]:
        if p.is_dir():
            p.chmod(0o755)


@not_as_root
def test_read_only_out_is_refused_before_training(tmp_path, restore_modes):
    (tmp_path / "runs").mkdir()
    _readonly(tmp_path / "runs")
    one_line(cli(*RUN, "--out", "runs", cwd=tmp_path), 2, "--out runs is not writable")
    assert not (tmp_path / "cache").exists()


@not_as_root
def test_read_only_cache_holding_everything_is_usable(tmp_path, built_cache, restore_modes):
    cache = tmp_path / "cache"
    shutil.copytree(built_cache, cache, ignore=shutil.ignore_patterns("quarantine", "*.lock"))
    _readonly(cache)
    before = sorted(p.name for p in cache.rglob("*"))
    code, lines = cli(*RUN, "--out", "runs", cwd=tmp_path, cache=cache)
    assert code == 0 and lines == [], lines
    assert sorted(p.name for p in cache.rglob("*")) == before  # not even a lock file


@not_as_root
def test_read_only_cache_lacking_a_model_is_refused_before_training(tmp_path, built_cache, restore_modes):
    cache = tmp_path / "cache"
    shutil.copytree(built_cache, cache, ignore=shutil.ignore_patterns("quarantine", "*.lock"))
    _readonly(cache)
    line = one_line(cli(*RUN, "--seed", "5", "--out", "runs", cwd=tmp_path, cache=cache), 1)
    assert "is not writable and lacks the original model" in line and "--cache-dir" in line
