"""What every command group shares: the stderr console, the bad-input exit, progress bars, option help."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.markup import escape

from basira.core.errors import InputError

err = Console(stderr=True)
DB_HELP = "Database URL or SQLite path (default: $BASIRA_DB or basira.db)."

def fail(exc: InputError) -> typer.Exit:
    """Print a bad-input error (file, line, field) and exit with code 2."""
    err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
    return typer.Exit(code=2)

def progress_bar(enabled: bool = True):
    """A Rich progress bar on stderr; off when stdout carries the results or JSON."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=not enabled,
        transient=False,
    )

def count_lines(path: str) -> int | None:
    if path == "-":
        return None
    try:
        with open(path, "rb") as fh:
            return sum(buf.count(b"\n") for buf in iter(lambda: fh.read(1 << 20), b""))
    except OSError:
        return None  # the reader reports the error with the file's name

