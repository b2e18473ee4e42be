"""One plugin API: built-in plugins import only ``unlearnkit`` and ``unlearnkit.helpers``, lazily and torch-free.

And the engine never names a built-in plugin: the defaults it falls back to are data (defaults.toml).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import unlearnkit
import unlearnkit.helpers

ROOT = Path(__file__).resolve().parents[1]
PLUGINS = sorted((ROOT / "plugins").rglob("*.py"))
ENGINE = sorted((ROOT / "framework").rglob("*.py"))
ALLOWED = {"unlearnkit": set(unlearnkit.__all__), "unlearnkit.helpers": set(unlearnkit.helpers.__all__)}


def _unlearnkit_imports(path: Path) -> list[tuple[int, str, list[str]]]:
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "unlearnkit":
            out.append((node.lineno, node.module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            out += [(node.lineno, a.name, []) for a in node.names if a.name.split(".")[0] == "unlearnkit"]
    return out


def test_built_in_plugins_import_only_the_plugin_api():
    wrong = []
    for path in PLUGINS:
        for line, module, names in _unlearnkit_imports(path):
            if module.startswith("unlearnkit.plugins."):
                continue  # a module shared by built-in plugins of one family (models/zoo_common.py)
            allowed = ALLOWED.get(module)
            bad = names if allowed is None or not names else [n for n in names if n not in allowed]
            if bad or (allowed is None):
                wrong.append(f"{path.relative_to(ROOT)}:{line}: from {module} import {', '.join(names) or '(module)'}")
    assert not wrong, "plugins must import only from unlearnkit / unlearnkit.helpers:\n" + "\n".join(wrong)


def test_every_exported_name_resolves():
    for name in unlearnkit.__all__:
        assert getattr(unlearnkit, name) is not None, name
    for name in unlearnkit.helpers.__all__:
        assert callable(getattr(unlearnkit.helpers, name)), name
    assert set(dir(unlearnkit)) == set(unlearnkit.__all__)


def test_import_and_plugin_registration_stay_torch_free():
    code = (
        "import sys, unlearnkit\n"
        "from unlearnkit import GradientMethod, MethodSpec, UsageError, hookimpl\n"
        "from unlearnkit.core.registry import get_registry\n"
        "registry = get_registry()\n"
        "assert registry.names('method'), 'no methods registered'\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", out.stdout + out.stderr


def test_torch_names_load_on_first_use():
    out = subprocess.run(
        [sys.executable, "-c", "import sys, unlearnkit; unlearnkit.ImageDataset; print('torch' in sys.modules)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "True"


def _string_constants(path: Path) -> set[str]:
    """String literals of a module, less the names it exports in ``__all__`` (function names, not plugins)."""
    tree = ast.parse(path.read_text())
    exported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets):
            exported |= {e.value for e in ast.walk(node.value) if isinstance(e, ast.Constant)}
    return {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)} - exported


# Strings that equal a built-in plugin's name but mean something else in the engine.
NOT_PLUGIN_NAMES = {
    "all": "the metrics keyword 'all' (resolve.ALL_METRICS) and the image-tree split 'all' (dataio)",
    "lotus": "the JS-divergence flavour of the LoTUS reference code (maths.js_reference)",
    "retrain": "the reference mode --reference retrain (references.py), not the retrain method",
}
# Applications built on the engine may name plugins in their presets; the engine below them may not.
APPLICATIONS = {
    "helptext.py",
    "clierrors.py",
    "report_robustness.py",
    "cli.py",
    "sweep.py",
    "sweep_cli.py",
    "report.py",
    "store.py",
    "__main__.py",
    "api.py",
    "tune.py",
    "tune_cli.py",
}


def test_no_engine_module_names_a_built_in_plugin(registry):
    built_in = {e.spec.name for e in registry.entries() if e.provider == "unlearnkit"}
    assert {"digits", "rwft", "small-cnn", "reweight"} <= built_in
    named = []
    for path in ENGINE:
        if path.name in APPLICATIONS:
            continue
        for text in sorted(_string_constants(path) & built_in - set(NOT_PLUGIN_NAMES)):
            named.append(f"{path.name}: {text!r}")
    assert not named, "engine modules name built-in plugins (move them to defaults.toml):\n" + "\n".join(named)


def test_defaults_are_data_and_keep_the_default_run(registry):
    from unlearnkit.core.config import build_config, defaults
    from unlearnkit.run.resolve import resolve

    assert defaults()["dataset"] == "digits" and defaults()["method"] == "rwft"
    resolved = resolve(build_config([{}]), registry)
    names = (resolved.dataset.name, resolved.model.name, resolved.method.name, resolved.target.name)
    assert names == ("digits", "small-cnn", "rwft", "reweight")
    assert resolved.selector.name == "all"
