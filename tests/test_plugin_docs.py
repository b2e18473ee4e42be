"""docs/plugin-authors.md documents every hook, record field, context attribute and plugin-API name."""

from __future__ import annotations

import dataclasses
import inspect
import re
from pathlib import Path

import unlearnkit
import unlearnkit.helpers
from unlearnkit.core import hookspecs, records
from unlearnkit.evaluation.evaluate import EvalContext
from unlearnkit.unlearning.context import UnlearnContext
from unlearnkit.unlearning.methods import GradientMethod

DOC = Path(__file__).resolve().parents[1] / "docs" / "plugin-authors.md"


def _sections() -> dict[str, str]:
    """Reference subsections by heading (### or ####), each with its text."""
    text = DOC.read_text().split("## Reference", 1)[1]
    parts = re.split(r"^#{3,4} (.+)$", text, flags=re.M)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts), 2)}


def _public(cls: type) -> set[str]:
    names = {f.name for f in dataclasses.fields(cls)} if dataclasses.is_dataclass(cls) else set()
    names |= {n for n, _ in inspect.getmembers(cls)}
    return {n for n in names if not n.startswith("_")}


def _missing(section: str, names: set[str]) -> list[str]:
    text = _sections()[section]
    return sorted(n for n in names if f"`{n}`" not in text)


def test_every_hook_is_documented():
    hooks = {n for n in dir(hookspecs) if n.startswith(("register_", "on_"))}
    assert hooks and not _missing("Hooks", hooks)


def test_every_record_field_is_documented():
    base = {f.name for f in dataclasses.fields(records.ComponentSpec)}
    assert not _missing("Every record", base)
    for cls in records.SPEC_TYPES.values():
        own = {f.name for f in dataclasses.fields(cls)} - base
        assert not _missing(cls.__name__, own), cls.__name__


def test_every_context_attribute_is_documented():
    assert not _missing("UnlearnContext (what a method receives)", _public(UnlearnContext))
    assert not _missing("EvalContext (what a metric receives)", _public(EvalContext))
    assert not _missing("GradientMethod", _public(GradientMethod) - {"options"})


def test_every_plugin_api_name_is_documented():
    assert not _missing("The plugin API", set(unlearnkit.__all__) | set(unlearnkit.helpers.__all__))
