"""What every command group shares: the stderr console, the bad-input exit, progress bars, option help."""

from __future__ import annotations

from typing import Any

import click
import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

from basira.core.errors import BasiraError

err = Console(stderr=True)
DB_HELP = "Database URL or SQLite path (default: $BASIRA_DB or basira.db)."


def fail(exc: BasiraError) -> typer.Exit:
    """Print what Basira refuses (a bad input's file, line and field; a database it cannot open) and exit 2."""
    err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
    return typer.Exit(code=2)


class BasiraGroup(TyperGroup):
    """The root command group: a BasiraError that a command did not catch itself ends as `error: ...` and exit
    code 2, in this one place, instead of a traceback (a wrong --db URL, a setting at fault, a refused input).
    Any other exception is a bug and keeps its traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BasiraError as exc:
            raise fail(exc) from None

def basira_command() -> str:
    """How the user ran basira, to repeat in a hint: `basira` when that is what PATH finds, the script's path
    when it is not on PATH (`.venv/bin/basira`), `python -m basira.cli` when run that way."""
    import os
    import shutil
    import sys
    from pathlib import Path

    def shown(path: Path) -> str:
        try:
            rel = os.path.relpath(path)
        except ValueError:  # another drive (Windows)
            return str(path)
        return rel if not rel.startswith("..") else str(path)

    argv0 = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if argv0 is not None and argv0.name == "__main__.py" and argv0.parent.name == "cli":
        return f"{shown(Path(sys.executable))} -m basira.cli"
    script = argv0 if argv0 is not None and argv0.name == "basira" else Path(sys.executable).parent / "basira"
    on_path = shutil.which("basira")
    if on_path and script.exists() and Path(on_path).resolve() == script.resolve():
        return "basira"
    return shown(script.resolve()) if script.exists() else "basira"


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

