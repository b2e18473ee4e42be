"""The one progress display of the command line (rich): one bar on stderr, for a run and for a sweep.

A run shows a transient bar per phase (training a reference model, unlearning, evaluating) and hides
it in logs and pipes; a sweep prints one line per finished cell under its bar, so that a log of a
long sweep says what ran and how long it took.
"""

from __future__ import annotations

from typing import Any


def _progress(*columns: Any, transient: bool = False, quiet_off_terminal: bool = False) -> Any:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True, highlight=False)
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        *columns,
        TimeElapsedColumn(),
        console=console,
        transient=transient,
        disable=quiet_off_terminal and not console.is_terminal,
    )


class RunProgress:
    """The runner's reporter: ``start`` a phase, ``update`` it, ``warn`` above the bar, ``stop``."""

    def __init__(self) -> None:
        from rich.progress import TextColumn, TimeRemainingColumn

        self.progress = _progress(TextColumn("eta"), TimeRemainingColumn(), transient=True, quiet_off_terminal=True)
        self.task: Any = None

    def start(self, label: str, total: int) -> None:
        self.progress.start()
        self.task = self.progress.add_task(label, total=total or None)

    def update(self, done: int, total: int) -> None:
        if self.task is not None:
            self.progress.update(self.task, completed=done, total=total)

    def warn(self, message: str) -> None:
        self.progress.console.print(f"[yellow]warning:[/] {message}", soft_wrap=True, highlight=False)

    def stop(self) -> None:
        if self.task is not None:
            self.progress.remove_task(self.task)
            self.task = None
        self.progress.stop()


class SweepProgress:
    """A sweep's progress: one bar over its cells, and one printed line per finished cell."""

    def __init__(self) -> None:
        from rich.progress import TextColumn

        self.progress = _progress(TextColumn("{task.fields[last]}"))
        self.task: Any = None

    def start(self, total: int, done: int) -> None:
        self.progress.start()
        self.task = self.progress.add_task("sweep", total=total, completed=done, last="")

    def advance(self, cell: Any, payload: dict[str, Any]) -> None:
        from rich.markup import escape

        status = payload["status"]
        mark = "[green]ok[/]" if status == "ok" else "[red]failed[/]"
        elapsed = payload.get("elapsed")
        self.progress.console.print(
            f"{mark} {cell.label} {cell.dataset}/{cell.model} {cell.forget} seed={cell.seed}"
            + (f" ({elapsed:.1f} s)" if elapsed else "")
            + (f": {escape(str(payload.get('error')))}" if status != "ok" else "")
        )
        self.progress.update(self.task, advance=1, last=f"{cell.label} {cell.forget} s{cell.seed}")

    def stop(self) -> None:
        self.progress.stop()
