"""`basira simulate`: write a synthetic platform for evaluation."""

from __future__ import annotations

import typer
from rich.console import Console

from basira.cli._common import fail
from basira.core.errors import InputError


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
