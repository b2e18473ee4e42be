"""Tracker observers (--observe): MLflow and TensorBoard read back through their own readers; a failing
observer changes nothing in the run's results."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from unlearnkit import ObserverSpec, Options, hookimpl

FAST = {"method": {"name": "rwft", "options": {"epochs": 2}}, "metrics": ["accuracy", "utv"]}


def _values(result) -> dict:
    return {m.name: m.values for m in result.metrics}


def test_mlflow_run_holds_config_metrics_and_artifacts(tiny_config, run_config, tmp_path):
    pytest.importorskip("mlflow")
    from mlflow.tracking import MlflowClient

    result = run_config(tiny_config, FAST, {"observer": {"mlflow": {}}}, write=True)
    store = Path(tiny_config["out"]) / "mlruns"
    client = MlflowClient(tracking_uri=store.resolve().as_uri())
    experiment = client.get_experiment_by_name("unlearnkit")
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.status == "FINISHED"
    params = run.data.params
    assert params["method.name"] == "rwft" and params["method.options.epochs"] == "2"
    assert params["recipe.epochs"] == "12" and params["dataset.name"] == "digits"
    metrics = run.data.metrics
    for row, values in _values(result).items():
        for subject, value in values.items():
            if value is not None:
                assert metrics[f"{row}/{subject}"] == pytest.approx(value)
    assert metrics["acc_f_test/gap"] == pytest.approx(
        abs(result.value("acc_f_test") - result.value("acc_f_test", "retrained"))
    )
    # one unlearning loss per epoch, the epoch as step
    history = client.get_metric_history(run.info.run_id, "unlearn/loss")
    assert sorted(m.step for m in history) == [0, 1]
    assert run.data.tags["direction.acc_f_test"] == "match"
    assert run.data.tags["plugin.method.rwft"].startswith("unlearnkit ")
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"config.json", "metrics.json", "plugins.json", "split.json"} <= artifacts
    assert "unlearned.safetensors" not in artifacts  # weights only on request
    local = client.download_artifacts(run.info.run_id, "metrics.json", str(tmp_path))
    assert json.loads(Path(local).read_text()) == json.loads(Path(result.run_dir, "metrics.json").read_text())


class Boom(Options):
    pass


class ExplodingObserver:
    """Raises in every hook, and corrupts whatever it is handed, as a broken tracker might."""

    calls = 0

    def __init__(self, options):
        pass

    @hookimpl
    def on_epoch_end(self, phase, epoch, logs):
        ExplodingObserver.calls += 1
        logs.clear()
        raise ConnectionError("tracker down")

    @hookimpl
    def on_evaluation_end(self, metrics):
        ExplodingObserver.calls += 1
        metrics.clear()
        raise ConnectionError("tracker down")


def _needs_a_missing_package(options):
    # what a tracker observer whose package is not installed does when it is started
    raise ModuleNotFoundError("No module named 'no_such_module'")


class ExplodingPlugin:
    @hookimpl
    def register_observers(self, register):
        register(ObserverSpec(name="exploding", summary="always fails", options=Boom, factory=ExplodingObserver))
        register(
            ObserverSpec(name="unimportable", summary="cannot start", options=Boom, factory=_needs_a_missing_package)
        )


def test_failing_observer_warns_once_and_changes_nothing(tiny_config, capfd):
    from unlearnkit.core.config import build_config
    from unlearnkit.core.registry import build_registry
    from unlearnkit.run.runner import run

    registry = build_registry(extra=[("exploding", ExplodingPlugin())])
    plain = run(build_config([tiny_config, FAST]), registry=registry, write=False)
    capfd.readouterr()
    ExplodingObserver.calls = 0
    watched = run(
        build_config([tiny_config, FAST, {"observer": {"exploding": {}, "unimportable": {}}}]),
        registry=registry,
        write=False,
    )
    assert _values(watched) == _values(plain)
    assert ExplodingObserver.calls == 1  # dropped for the rest of the run after its first failure
    warnings = [line for line in capfd.readouterr().err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 2, warnings
    assert "exploding disabled for this run" in warnings[1] or "exploding disabled for this run" in warnings[0]
    assert not [name for name in registry.pm.list_name_plugin() if name[0].startswith("observer:")]


def test_unknown_observer_is_a_usage_error(tiny_config, registry):
    from unlearnkit.core.config import build_config
    from unlearnkit.core.errors import UnknownComponentError
    from unlearnkit.run.resolve import resolve

    with pytest.raises(UnknownComponentError, match="unknown observer 'mlfow'; did you mean mlflow"):
        resolve(build_config([tiny_config, {"observer": {"mlfow": {}}}]), registry)


def test_observer_settings_from_set_and_not_in_the_sweep_key(tiny_config, registry):
    from unlearnkit.apps.sweep import cell_key
    from unlearnkit.core.config import apply_set, build_config
    from unlearnkit.run.resolve import resolve

    layer: dict = {}
    apply_set(layer, "observer.mlflow.tracking_uri=sqlite:///x.db")
    assert layer == {"observer": {"mlflow": {"tracking_uri": "sqlite:///x.db"}}}
    watched = resolve(build_config([tiny_config, layer, {"tags": {"sweep": "s"}}]), registry).as_config()
    plain = resolve(build_config([tiny_config]), registry).as_config()
    assert watched["observer"]["mlflow"]["tracking_uri"] == "sqlite:///x.db"
    assert cell_key(watched) == cell_key(plain)


def test_tensorboard_event_files_hold_the_metrics(tiny_config, run_config, tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    log_dir = tmp_path / "tb"
    result = run_config(tiny_config, FAST, {"observer": {"tensorboard": {"log_dir": str(log_dir)}}})
    (folder,) = [p.parent for p in log_dir.rglob("events.out.tfevents.*")]
    assert folder.parent.name == "unlearnkit"
    acc = EventAccumulator(str(folder))
    acc.Reload()
    scalars = set(acc.Tags()["scalars"])
    for row, values in _values(result).items():
        for subject, value in values.items():
            if value is not None:
                (event,) = acc.Scalars(f"{row}/{subject}")
                assert event.value == pytest.approx(value, rel=1e-6)
    assert [e.step for e in acc.Scalars("unlearn/loss")] == [0, 1]
    assert "timing/unlearn_seconds" in scalars


def test_sweep_logs_one_mlflow_run_per_cell_grouped_by_sweep(tiny_config, registry, tmp_path):
    pytest.importorskip("mlflow")
    from mlflow.tracking import MlflowClient

    from unlearnkit.apps.store import Store
    from unlearnkit.apps.sweep import SweepSpec, expand, run_sweep

    spec = SweepSpec(
        name="observed",
        base={"model": tiny_config["model"], "recipe": tiny_config["recipe"], "metrics": ["accuracy"]},
        methods=[{"label": "RWFT-2", "name": "rwft", "options": {"epochs": 1}}, {"label": "GA", "name": "ga"}],
        classes=[0],
        seeds=[0],
    )
    out = tmp_path / "runs"
    runtime = {"out": str(out), "cache_dir": tiny_config["cache_dir"], "device": "cpu", "observer": {"mlflow": {}}}
    plan = expand(spec, registry, runtime)
    with Store(tmp_path / "s.sqlite") as store:
        assert run_sweep(spec, plan, store).ok == 2
    client = MlflowClient(tracking_uri=(out / "mlruns").resolve().as_uri())
    experiment = client.get_experiment_by_name("observed")
    runs = client.search_runs([experiment.experiment_id])
    assert sorted(r.data.tags["unlearnkit.label"] for r in runs) == ["GA", "RWFT-2"]
    assert {r.data.tags["unlearnkit.sweep"] for r in runs} == {"observed"}
    assert all("acc_f_test/unlearned" in r.data.metrics for r in runs)


def test_observe_flag_turns_observers_on_and_rejects_unknown_names():
    from typer.testing import CliRunner

    from unlearnkit.apps.cli import app

    ok = CliRunner().invoke(app, ["run", "--observe", "mlflow,tensorboard", "--dry-run"])
    assert ok.exit_code == 0, ok.output
    assert set(json.loads(ok.stdout)["observer"]) == {"mlflow", "tensorboard"}
    bad = CliRunner().invoke(app, ["run", "--observe", "mlfow", "--dry-run"])
    assert bad.exit_code == 2
    assert "unknown observer 'mlfow'" in bad.output
