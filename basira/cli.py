"""Basira's command line: a thin face over the package's functions."""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from basira.errors import InputError

app = typer.Typer(
    name="basira",
    help="Basira (بصيرة): detect, match and map online terrorist recruitment; review and act on it.",
    no_args_is_help=True,
    add_completion=False,
)
err = Console(stderr=True)


@app.callback()
def _root() -> None:
    """Basira (بصيرة): detect, match and map online terrorist recruitment; review and act on it."""


def fail(exc: InputError) -> typer.Exit:
    """Print a bad-input error (file, line, field) and exit with code 2."""
    err.print(f"[bold red]error:[/] {exc}", highlight=False, markup=True)
    return typer.Exit(code=2)


@app.command()
def version() -> None:
    """Print Basira's version."""
    from basira import __version__

    print(__version__)


def main() -> None:  # pragma: no cover - entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
