"""Help a person can read: effective defaults in ``--help``, allowed values of ``Literal`` options.

Options whose default is ``None`` in the command signature mean "decided later" (by the run
config, the dataset or the method); click would show no default for them. ``EFFECTIVE_DEFAULTS``
says what that default is, per command and option, and :func:`show_effective_defaults` puts it
into the help of options whose help text does not already name it.
"""

from __future__ import annotations

import typing
from typing import Any

from unlearnkit.core.config import defaults as installation_defaults

# The names a run falls back to are the installation's (defaults.toml), never spelled here.
_installed = installation_defaults()

# command -> option name -> what happens without the option (tests check these against RunConfig)
EFFECTIVE_DEFAULTS: dict[str, dict[str, str]] = {
    "run": {
        "method": _installed["method"],
        "select": "the method's",
        "target": "the method's",
        "forget": "0",
        "seed": "0",
        "recipe": "the dataset's",
        "metrics": "default",
        "device": "auto",
        "cache_dir": "$UNLEARNKIT_CACHE_DIR or ~/.cache/unlearnkit",
        "save_outputs": "no",
    },
    "train": {
        "dataset": _installed["dataset"],
        "model": "the dataset's",
        "seed": "0",
        "recipe": "the dataset's",
        "device": "auto",
        "cache_dir": "$UNLEARNKIT_CACHE_DIR or ~/.cache/unlearnkit",
    },
    "sweep": {
        "recipe": "the preset's or each dataset's",
        "device": "auto",
        "cache_dir": "$UNLEARNKIT_CACHE_DIR or ~/.cache/unlearnkit",
    },
}


def show_effective_defaults(group: Any) -> None:
    """Set ``show_default`` of the options listed above on the click commands of ``group``."""
    for command_name, defaults in EFFECTIVE_DEFAULTS.items():
        command = getattr(group, "commands", {}).get(command_name)
        for param in getattr(command, "params", []):
            text = defaults.get(param.name)
            if text is None or param.default is not None or "(default" in (getattr(param, "help", "") or ""):
                continue
            param.show_default = text


def describe_type(annotation: Any) -> str:
    """``'sgd' | 'adam' | 'adamw'`` for a Literal, ``int | None`` for an optional int, ``float`` for float."""
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return " | ".join(repr(v) for v in typing.get_args(annotation))
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        return " | ".join(describe_type(a) for a in typing.get_args(annotation))
    if annotation is type(None):
        return "None"
    if isinstance(annotation, type) and origin is None:
        return annotation.__name__
    return str(annotation).replace("typing.", "")
