"""Errors with one-line messages meant for users. The CLI maps them to exit codes."""

from __future__ import annotations


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
