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


@app.command()
def simulate(
    accounts: int = typer.Option(500, "--accounts", min=50, help="Number of accounts (50 to 100,000+)."),
    seed: int = typer.Option(7, "--seed", help="Random seed: the same seed writes the same files."),
    out: str = typer.Option("demo-platform", "--out", help="Output directory."),
    texts: list[str] = typer.Option(
        [], "--texts", help="Labelled JSONL (id, text, label, lang) to draw texts from; repeatable."
    ),
) -> None:
    """Write a synthetic platform (X API v2 tweets, follows, ground truth) for evaluation."""
    from basira.simulate import simulate_platform

    try:
        s = simulate_platform(accounts, seed, out, texts=texts)
    except InputError as exc:
        raise fail(exc) from exc
    roles = ", ".join(f"{k} {v}" for k, v in s.roles.items())
    Console().print(
        f"[bold]Simulated platform[/] in {s.out_dir} ({s.seconds:.1f} s, seed {s.seed})\n"
        f"  accounts {s.accounts}: {roles}\n"
        f"  tweets {s.tweets} ({s.positive_tweets} propaganda) in {s.pages} pages; follows {s.follows}\n"
        f"  networks {s.networks}, suspended {s.suspended}, returning {s.returning}, "
        f"coordinated groups {s.coordinated_groups} ({s.bursts} bursts); texts: {s.texts}",
        highlight=False,
    )


def main() -> None:  # pragma: no cover - entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
