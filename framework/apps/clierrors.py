"""The command line's one error path: every failure is one line on stderr and a documented exit code.

Exit codes: 0 success, 1 a runtime failure (training diverged, a plugin raised, a file could not
be written), 2 a usage or config error (unknown name, bad option, impossible request), 130
interrupted. ``--traceback`` (anywhere on the command line) or ``UNLEARNKIT_TRACEBACK=1`` adds
the Python traceback after the line, for developers.

Messages are printed as plain text, never as rich markup: a regex such as ``^[a-z]$`` or a
placeholder such as ``[key=value ...]`` in a message stays as it was written.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

import typer

from unlearnkit.core.errors import UnlearnError
from unlearnkit.core.notices import one_line, print_line, warn

__all__ = ["fail", "guard", "one_line", "run_app", "warn"]

EXIT_RUNTIME = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
TRACEBACK_ENV = "UNLEARNKIT_TRACEBACK"


def tracebacks_wanted() -> bool:
    return bool(os.environ.get(TRACEBACK_ENV) or os.environ.get("UNLEARNKIT_DEBUG"))


def describe(exc: BaseException) -> tuple[str, int]:
    """The one-line message and exit code of an exception that reached the command line."""
    if isinstance(exc, UnlearnError):
        return str(exc), exc.exit_code
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted (a finished cache entry or sweep cell is kept; rerun to continue)", EXIT_INTERRUPTED
    if isinstance(exc, MemoryError) or "out of memory" in str(exc).lower():
        return (
            f"out of memory ({type(exc).__name__}); try a smaller batch (--set recipe.batch_size=...) or --device cpu",
            EXIT_RUNTIME,
        )
    if isinstance(exc, OSError):
        return _os_error(exc), EXIT_RUNTIME
    return (
        f"unexpected {type(exc).__name__}: {exc} (this is a bug; rerun with --traceback and report it)",
        EXIT_RUNTIME,
    )


def _os_error(exc: OSError) -> str:
    where = exc.filename or ""
    reason = exc.strerror or str(exc)
    if where:
        return f"cannot use {where}: {reason} (choose a path you can write, e.g. with --out or --cache-dir)"
    return f"{type(exc).__name__}: {reason}"


def fail(exc: BaseException) -> NoReturn:
    """Print ``exc`` as one line (plus its traceback when asked) and exit with its code."""
    message, code = describe(exc)
    print_line("error", message)
    if tracebacks_wanted():
        import traceback

        traceback.print_exception(exc)
    raise typer.Exit(code)


def guard(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate a command: any exception but the CLI's own control flow becomes :func:`fail`."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except Exception as exc:
            if _is_click_error(exc):
                raise
            fail(exc)
        except KeyboardInterrupt as exc:
            fail(exc)

    return wrapper


def _is_click_error(exc: BaseException) -> bool:
    # typer vendors click; its exceptions are recognised by shape, not by a private import.
    return hasattr(exc, "format_message") and hasattr(exc, "exit_code") and hasattr(exc, "show")


def take_traceback_flag(argv: list[str]) -> list[str]:
    """Remove ``--traceback`` from ``argv`` (any position before ``--``) and switch tracebacks on.

    ``list-plugins --traceback`` keeps its flag: there it shows the failed plugins' tracebacks.
    """
    if "--traceback" not in argv:
        return argv
    cut = argv.index("--") if "--" in argv else len(argv)
    head, tail = argv[:cut], argv[cut:]
    if "list-plugins" in head:
        return argv
    os.environ[TRACEBACK_ENV] = "1"
    return [a for a in head if a != "--traceback"] + tail


def run_app(app: typer.Typer, argv: Sequence[str] | None = None, prog_name: str = "unlearn") -> NoReturn:
    """Run the Typer app with click's usage errors shortened to one line as well."""
    args = take_traceback_flag(list(sys.argv[1:] if argv is None else argv))
    command = typer.main.get_command(app)
    from unlearnkit.apps.helptext import show_effective_defaults

    show_effective_defaults(command)
    try:
        # Outside standalone mode click returns an Exit's code instead of raising it.
        code = command.main(args=args, prog_name=prog_name, standalone_mode=False)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        print_line("error", "aborted")
        sys.exit(EXIT_RUNTIME)
    except KeyboardInterrupt as exc:
        message, code = describe(exc)
        print_line("error", message)
        sys.exit(code)
    except Exception as exc:
        if not _is_click_error(exc):
            message, code = describe(exc)
            print_line("error", message)
            if tracebacks_wanted():
                import traceback

                traceback.print_exception(exc)
            sys.exit(code)
        if type(exc).__name__ == "NoArgsIsHelpError":  # bare `unlearn` or `unlearn sweep`: the help
            typer.echo(exc.format_message())
            sys.exit(0)
        print_line("error", _usage_message(exc))
        sys.exit(getattr(exc, "exit_code", EXIT_USAGE) or EXIT_USAGE)
    sys.exit(code if isinstance(code, int) else 0)


def _usage_message(exc: Any) -> str:
    message = exc.format_message()
    ctx = getattr(exc, "ctx", None)
    path = ctx.command_path if ctx is not None else "unlearn"
    return f"{message} (see '{path} --help')"
