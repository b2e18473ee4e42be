"""End to end: the digits demo sweep (3 methods x 2 classes x 2 seeds) locally, with Ray, after SIGKILL, and its report.

The recipe is cut to 3 epochs so the 6 reference models (2 originals, 4 retrained) train in
seconds; every test shares them through the session's model cache.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from unlearnkit.apps.store import Store
from unlearnkit.apps.sweep import SweepSpec, expand, override, preset, run_sweep

pytestmark = pytest.mark.slow

FAST = {"recipe": {"epochs": 3}}


def demo_spec() -> SweepSpec:
    return override(preset("digits-demo"), base=FAST)


@pytest.fixture(scope="module")
def local_db(registry, cache_dir, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("sweep-local")
    db = root / "demo.sqlite"
    spec = demo_spec()
    plan = expand(spec, registry, {"out": str(root / "runs"), "cache_dir": cache_dir, "device": "cpu"})
    with Store(db) as store:
        summary = run_sweep(spec, plan, store)
    assert summary.failed == 0, summary.failures
    return db


def _rows(db: Path) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT key, status, attempts, finished FROM cells ORDER BY key").fetchall()
    finally:
        conn.close()


def _ok_so_far(db: Path) -> int:
    """Finished cells of a running sweep: 0 until its database exists with its tables.

    The sweep's ``Store`` creates the file before its schema, so a poll in between finds no table.
    """
    if not db.exists():
        return 0
    try:
        return sum(r[1] == "ok" for r in _rows(db))
    except sqlite3.OperationalError as exc:
        if "no such table" not in str(exc):
            raise
        return 0


def test_local_sweep_runs_every_cell_once_and_a_rerun_skips_them(local_db, registry, cache_dir):
    rows = _rows(local_db)
    assert len(rows) == 12 and {r[1] for r in rows} == {"ok"} and {r[2] for r in rows} == {1}
    with Store(local_db) as store:
        cells = store.cells(status="ok")
        for c in cells:
            assert set(c["metrics"]) >= {"acc_f_test", "acc_r_test"}
            assert c["timings"]["unlearn_seconds"] > 0
            assert set(c["confusion"]["matrices"]) == {"original", "unlearned", "retrained"}
            assert not Path(c["run_dir"], "outputs.safetensors").exists()  # bulky outputs dropped
            assert Path(c["run_dir"], "metrics.json").exists()
        # retrained outputs are stored once per retrained model: 2 classes x 2 seeds x 2 forget splits
        assert len(store.reference_outputs()) == 8
        spec = demo_spec()
        plan = expand(spec, registry, {"cache_dir": cache_dir, "device": "cpu"})
        again = run_sweep(spec, plan, store)
    assert (again.ran, again.skipped_done) == (0, 12)
    assert _rows(local_db) == rows


def test_a_failing_cell_is_recorded_and_does_not_stop_the_sweep(registry, cache_dir, tmp_path):
    spec = override(demo_spec(), classes=[99, 0], seeds=[0])
    spec.methods = spec.methods[:1]
    plan = expand(spec, registry, {"out": str(tmp_path / "runs"), "cache_dir": cache_dir, "device": "cpu"})
    with Store(tmp_path / "f.sqlite") as store:
        summary = run_sweep(spec, plan, store)
        assert (summary.ok, summary.failed) == (1, 1)
        failed = store.cells(status="failed")[0]
    assert failed["forget"] == "classes=99"
    assert "out of range" in failed["error"] and "Traceback" in failed["traceback"]


def test_report_tables_and_plots(local_db, tmp_path):
    from unlearnkit.apps.report import build_report

    files = build_report(local_db, tmp_path / "report")
    md = files.markdown.read_text()
    for label in ("Original", "Retraining", "RWFT-O", "RWFT-2-O", "RWFT-O-max"):
        assert f"| {label} |" in md
    assert "mean ± std over seeds" in md
    # The CSV's mean is the mean over seeds of the per-seed mean over the two classes.
    conn = sqlite3.connect(local_db)
    per_seed = conn.execute(
        "SELECT c.seed, AVG(v.value) FROM cells c JOIN metric_values v ON v.key = c.key "
        "WHERE c.label = 'RWFT-2-O' AND v.row = 'acc_r_test' AND v.subject = 'unlearned' GROUP BY c.seed"
    ).fetchall()
    conn.close()
    expected = sum(v for _, v in per_seed) / len(per_seed)
    with open(files.csv) as handle:
        rows = {(r["method"], r["row"]): r for r in csv.DictReader(handle)}
    got = rows[("RWFT-2-O", "acc_r_test")]
    assert float(got["mean"]) == pytest.approx(expected, rel=1e-5)
    assert got["n_seeds"] == "2" and got["n_cells"] == "4"
    retrain = float(rows[("Retraining", "acc_r_test")]["mean"])
    assert float(got["gap"]) == pytest.approx(abs(expected - retrain), rel=1e-4, abs=1e-4)
    assert float(rows[("Retraining", "acc_f_test")]["mean"]) == 0.0
    # avg gap: the mean gap over rows with a retrained value, lower-is-better rows (time) left out.
    from unlearnkit.apps.report import Group, summarise
    from unlearnkit.apps.store import Store

    with Store(local_db) as store:
        cells = store.cells(status="ok")
    summary = summarise(Group("digits", "small-cnn", cells), ["acc_r_test", "acc_f_test", "time_s"])
    assert summary.directions["time_s"] == "lower" and summary.gaps["RWFT-2-O"]["time_s"] is not None
    fidelity = [summary.gaps["RWFT-2-O"][r] for r in ("acc_r_test", "acc_f_test")]
    assert summary.avg_gap["RWFT-2-O"] == pytest.approx(sum(fidelity) / 2)
    floors = json.loads((files.markdown.parent / "floors.json").read_text())
    floor = next(iter(floors.values()))
    if "utv_test" in floor:  # the UTV metric is installed: the floor comes from two retrained seeds
        assert 0 < floor["utv_test"]["mean"] < 1
    pytest.importorskip("matplotlib")
    names = {p.name for p in files.figures}
    assert {f"confusion_digits_small-cnn_{m}.png" for m in ("RWFT-O", "RWFT-2-O", "RWFT-O-max")} <= names
    assert any(n.startswith("reassignment_") for n in names)
    assert "utv_digits_small-cnn.png" in names or "UTV plot skipped" in md
    for path in files.figures:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_ray_executor_runs_the_same_cells(local_db, registry, cache_dir, tmp_path):
    ray = pytest.importorskip("ray", reason="Ray is an optional extra: pip install 'unlearnkit[ray]'")
    spec = demo_spec()
    plan = expand(spec, registry, {"out": str(tmp_path / "runs"), "cache_dir": cache_dir, "device": "cpu"})
    try:
        with Store(tmp_path / "ray.sqlite") as store:
            summary = run_sweep(spec, plan, store, executor="ray", ray_num_cpus=2, cpus_per_cell=1)
            ray_cells = {c["key"]: c for c in store.cells(status="ok")}
    finally:
        if ray.is_initialized():
            ray.shutdown()
    assert summary.failed == 0, summary.failures
    with Store(local_db) as store:
        local_cells = {c["key"]: c for c in store.cells(status="ok")}
    assert set(ray_cells) == set(local_cells) and len(ray_cells) == 12
    for key, cell in ray_cells.items():
        ours, theirs = cell["metrics"], local_cells[key]["metrics"]
        for row in ("acc_f_test", "acc_r_test"):  # same config and seed, same cached models: same numbers
            assert ours[row]["values"]["unlearned"] == pytest.approx(theirs[row]["values"]["unlearned"], abs=1.0)


def test_sigkill_mid_sweep_then_rerun_completes_with_every_cell_once(registry, cache_dir, tmp_path):
    """SIGKILL the CLI sweep (3 methods x 2 classes, seed 0) after 2 finished cells; the rerun completes it."""
    db = tmp_path / "killed.sqlite"
    exe = Path(sys.executable).with_name("unlearn")
    cmd = [str(exe), "sweep", "--preset", "digits-demo", "--seeds", "0", "--set", "recipe.epochs=3", "--db", str(db)]
    cmd += ["--cache-dir", cache_dir, "--device", "cpu", "--out", str(tmp_path / "runs"), "-q"]
    env = {**os.environ, "UNLEARNKIT_CACHE_DIR": cache_dir}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 1800  # a safety net on a loaded machine, not a timing
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.3)
            if 2 <= _ok_so_far(db) < 6:
                proc.send_signal(signal.SIGKILL)
                break
    finally:
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, f"sweep ended before it could be killed: {proc.stderr.read()!r}"
    before = _rows(db)
    done_before = {r[0]: r for r in before if r[1] == "ok"}
    assert 2 <= len(done_before) < 6
    rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1800)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{len(done_before)} already done" in rerun.stderr
    after = _rows(db)
    assert len(after) == 6 and len({r[0] for r in after}) == 6
    assert {r[1] for r in after} == {"ok"}
    for key, row in done_before.items():  # finished cells were not run again
        assert next(r for r in after if r[0] == key) == row
    spec = override(demo_spec(), seeds=[0])
    assert {r[0] for r in after} == {c.key for c in expand(spec, registry, {}).cells}
