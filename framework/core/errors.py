"""Errors with one-line messages meant for users. The CLI maps them to exit codes."""

from __future__ import annotations

import difflib
from typing import Any


class UnlearnError(Exception):
    """Base class. ``exit_code`` is 2 for usage and config errors, 1 for runtime failures."""

    exit_code = 1


class UsageError(UnlearnError):
    exit_code = 2


class UnknownComponentError(UsageError):
    pass


class AmbiguousComponentError(UsageError):
    pass


class OptionsError(UsageError):
    pass


class DataNotFoundError(UsageError):
    pass


class ScenarioMismatchError(UsageError):
    """A component that is not defined for the requested forget scenario (a sweep skips such cells)."""


class ComponentRuntimeError(UnlearnError):
    pass


def format_validation_error(exc: Any, model: Any = None) -> str:
    """One line from a pydantic ValidationError; an unknown key names the accepted keys and a close match."""
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "value"
        message = f"{loc}: {err['msg']}"
        if err.get("type") == "extra_forbidden":
            message = f"{loc}: unknown key" + (_accepted_keys_hint(model, err["loc"]) if model is not None else "")
        parts.append(message)
    return "; ".join(parts)


def _accepted_keys_hint(model: Any, loc: tuple[Any, ...]) -> str:
    """``; did you mean x? accepted: a, b, c`` for an unknown key at ``loc`` of a pydantic model."""
    import typing

    node = model
    for part in loc[:-1]:
        field = getattr(node, "model_fields", {}).get(part)
        if field is None:
            return ""
        # Optional[Model] / Model | None: take the model member.
        members = [field.annotation, *typing.get_args(field.annotation)]
        node = next((m for m in members if isinstance(m, type) and hasattr(m, "model_fields")), None)
        if node is None:
            return ""
    accepted = sorted(getattr(node, "model_fields", {}))
    if not accepted:
        return "; this component takes no options"
    close = difflib.get_close_matches(str(loc[-1]), accepted, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ";"
    return f"{hint} accepted: {', '.join(accepted)}"
