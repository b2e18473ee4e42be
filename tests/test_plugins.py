"""Plugin loading: broken plugins are isolated, third-party plugins work like built-ins, torch stays unloaded."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from unlearnkit.core.registry import build_registry

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "unlearnkit-max-entropy"


def make_distribution(root: Path, name: str, entry_points: dict[str, str], modules: dict[str, str]) -> None:
    """A fake installed distribution: a .dist-info folder with entry points, plus its modules."""
    info = root / f"{name.replace('-', '_')}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    lines = "\n".join(f"{k} = {v}" for k, v in entry_points.items())
    (info / "entry_points.txt").write_text(f"[unlearnkit]\n{lines}\n")
    for module, source in modules.items():
        (root / f"{module}.py").write_text(textwrap.dedent(source))


BROKEN = {
    "import_fails": "import not_a_module_anywhere\n",
    "register_raises": """
        from unlearnkit import hookimpl
        @hookimpl
        def register_methods(register):
            raise RuntimeError("boom")
    """,
    "typo_hook": """
        from unlearnkit import hookimpl
        @hookimpl
        def register_metods(register):
            pass
    """,
}


@pytest.fixture
def broken_env(tmp_path, monkeypatch):
    make_distribution(tmp_path, "unlearnkit-broken", {m: m for m in BROKEN}, BROKEN)
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def test_broken_plugins_are_isolated(broken_env):
    registry = build_registry()
    status = {p.name: p for p in registry.plugins if p.distribution == "unlearnkit-broken"}
    assert {name.split(":")[1]: p.status for name, p in status.items()} == dict.fromkeys(BROKEN, "FAILED")
    assert "ModuleNotFoundError" in status["unlearnkit-broken:import_fails"].error
    assert "boom" in status["unlearnkit-broken:register_raises"].error
    assert "register_metods" in status["unlearnkit-broken:typo_hook"].error
    # the built-ins are all there and the failed plugins are fully unregistered
    assert "rwft" in registry.names("method")
    assert not any(registry.pm.get_plugin(name) for name in status)


def test_unknown_name_mentions_failed_plugins(broken_env):
    from unlearnkit.core.errors import UnknownComponentError

    with pytest.raises(UnknownComponentError, match="did you mean rwft.*unlearnkit-broken"):
        build_registry().get("method", "rwtf")


def run_cli(*args: str, env_extra: dict[str, str] | None = None, cwd: Path | None = None):
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "unlearnkit", *args], capture_output=True, text=True, env=env, cwd=cwd)


def test_cli_survives_a_broken_plugin(broken_env):
    proc = run_cli("list-plugins", env_extra={"PYTHONPATH": str(broken_env)})
    assert proc.returncode == 0, proc.stderr
    assert "FAILED" in proc.stdout and "rwft" in proc.stdout
    proc = run_cli("list-plugins", "--json", env_extra={"PYTHONPATH": str(broken_env)})
    data = json.loads(proc.stdout)
    failed = {p["plugin"] for p in data["plugins"] if p["status"] == "FAILED"}
    assert failed == {f"unlearnkit-broken:{m}" for m in BROKEN}


def test_disabling_a_plugin(broken_env, monkeypatch):
    monkeypatch.setenv("UNLEARNKIT_DISABLE_PLUGINS", "unlearnkit-broken")
    registry = build_registry()
    assert not registry.failed()
    assert {p.status for p in registry.plugins if p.distribution == "unlearnkit-broken"} == {"disabled"}


def test_list_plugins_and_help_do_not_import_torch():
    code = textwrap.dedent("""
        import sys
        from typer.testing import CliRunner
        from unlearnkit.apps.cli import app
        for args in (["--help"], ["list-plugins", "--json"], ["describe", "method", "rwft"], ["run", "--help"]):
            result = CliRunner().invoke(app, args)
            assert result.exit_code == 0, (args, result.output)
        loaded = sorted(m for m in sys.modules if m == "torch" or m.startswith("torch."))
        print("LOADED", loaded)
        assert not loaded
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_builtin_component_is_its_own_entry_point(registry):
    builtin = [p for p in registry.plugins if p.distribution == "unlearnkit"]
    assert all(p.status == "ok" for p in builtin), [(p.name, p.error) for p in builtin if p.status != "ok"]
    assert all(len(p.components) == 1 for p in builtin), [p.name for p in builtin if len(p.components) != 1]


@pytest.mark.slow
def test_third_party_example_plugin(tmp_path, cache_dir):
    """The example package, registered through its entry point, is listed and runs from the CLI."""
    make_distribution(tmp_path, "unlearnkit-max-entropy", {"max-entropy": "unlearnkit_max_entropy"}, {})
    env = {"PYTHONPATH": os.pathsep.join([str(tmp_path), str(EXAMPLE)]), "UNLEARNKIT_CACHE_DIR": cache_dir}
    listing = json.loads(run_cli("list-plugins", "--json", "--kind", "method", env_extra=env).stdout)
    [component] = [c for c in listing["components"] if c["name"] == "max-entropy"]
    assert component["provider"] == "unlearnkit-max-entropy"
    proc = run_cli(
        "run",
        "--method",
        "max-entropy",
        "--select",
        "two-layer",
        "--json",
        "--set",
        "epochs=2",
        "--set",
        "model.width=16",
        "--set",
        "recipe.epochs=12",
        "--out",
        str(tmp_path / "runs"),
        "--device",
        "cpu",
        env_extra=env,
    )
    assert proc.returncode == 0, proc.stderr
    metrics = json.loads(proc.stdout)["metrics"]
    assert metrics["acc_f_test"]["values"]["unlearned"] < metrics["acc_f_test"]["values"]["original"]
