"""Start-up: ``list-plugins`` from the saved listing imports no plugin module and stays current."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PLUGIN = """from unlearnkit import MetricSpec, hookimpl

@hookimpl
def register_metrics(register):
    register(MetricSpec(name="probe", summary={summary!r}, factory=lambda ev, subject, options: None))
"""


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    site = tmp_path / "site"
    info = site / "probe_plugin-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: probe-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[unlearnkit]\nprobe = probe_plugin\n")
    (site / "probe_plugin.py").write_text(PLUGIN.format(summary="first summary"))
    return {**os.environ, "PYTHONPATH": str(site), "UNLEARNKIT_CACHE_DIR": str(tmp_path / "cache")}


def listing(env: dict[str, str], *extra: str) -> dict:
    proc = subprocess.run(
        [sys.executable, "-m", "unlearnkit", "list-plugins", "--json", *extra], capture_output=True, text=True, env=env
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def summary(data: dict) -> str:
    return next(c["summary"] for c in data["components"] if c["name"] == "probe")


def test_saved_listing_equals_the_plugins_own_and_follows_an_edit(env, tmp_path):
    first = listing(env)
    assert (tmp_path / "cache" / "plugin-index.json").is_file()
    assert listing(env) == first == listing(env, "--refresh")
    module = tmp_path / "site" / "probe_plugin.py"
    module.write_text(PLUGIN.format(summary="second summary, a little longer"))
    assert summary(listing(env)) == "second summary, a little longer"


def test_listing_from_the_index_imports_no_plugin_module(env):
    listing(env)  # writes the index
    code = (
        "import sys; sys.argv = ['unlearn', 'list-plugins', '--json']\n"
        "import unlearnkit.apps.cli as cli\n"
        "try:\n    cli.main()\nexcept SystemExit:\n    pass\n"
        "print('MODULES', sorted(m for m in sys.modules if 'plugin' in m or m.startswith(('torch', 'pydantic.main'))))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    loaded = proc.stdout.rsplit("MODULES", 1)[1]
    assert loaded.strip() == "['unlearnkit.run.plugin_index']", loaded


def test_a_new_or_removed_plugin_changes_the_listing(env, tmp_path):
    assert any(c["name"] == "probe" for c in listing(env)["components"])
    env = {**env, "PYTHONPATH": ""}
    assert not any(c["name"] == "probe" for c in listing(env)["components"])


def test_kinds_match_the_records():
    from unlearnkit.core.records import KINDS as RECORD_KINDS
    from unlearnkit.run.plugin_index import KINDS

    assert KINDS == RECORD_KINDS


def test_fast_path_and_click_path_agree(env):
    from unlearnkit.apps.cli import _list_plugins_fast

    assert _list_plugins_fast(["run"]) is False
    assert _list_plugins_fast(["list-plugins", "--help"]) is False  # help goes through click
    proc = subprocess.run(
        [sys.executable, "-m", "unlearnkit", "list-plugins", "--kind=gadget"], capture_output=True, text=True, env=env
    )
    assert proc.returncode == 2 and proc.stderr.strip().startswith("error: unknown kind 'gadget'")
