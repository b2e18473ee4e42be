"""One-line notices on stderr (errors and warnings), printed as plain text: no markup is interpreted."""

from __future__ import annotations


def one_line(text: object) -> str:
    """Collapse a message to one line (library messages sometimes span several)."""
    return " ".join(part.strip() for part in str(text).splitlines() if part.strip())


def print_line(prefix: str, message: str, style: str = "bold red") -> None:
    """Print ``prefix: message`` on stderr as one line; only the prefix is styled."""
    from rich.console import Console
    from rich.text import Text

    line = Text(f"{prefix}:", style=style)
    line.append(" " + one_line(message))
    Console(stderr=True, highlight=False, soft_wrap=True).print(line)


def warn(message: str) -> None:
    """A one-line warning on stderr (a quarantined cache entry, a plugin that failed to load)."""
    print_line("warning", message, style="yellow")
