"""Basira's command line: a thin face over the package's functions, one module per command group."""

from __future__ import annotations

import sys

import typer

from basira.cli import (
    banks,
    cluster,
    compliance,
    detect,
    evidence,
    network,
    report,
    review,
    scan,
    simulate,
    worker,
)
from basira.cli._common import BasiraGroup, fail

__all__ = ["app", "fail", "main"]

app = typer.Typer(
    name="basira",
    help="Basira (بصيرة): detect, match and map online terrorist recruitment; review and act on it.",
    no_args_is_help=True,
    add_completion=False,
    cls=BasiraGroup,  # a BasiraError no command caught: "error: ..." and exit 2, never a traceback
)


@app.callback()
def _root() -> None:
    """Basira (بصيرة): detect, match and map online terrorist recruitment; review and act on it."""


@app.command()
def version() -> None:
    """Print Basira's version."""
    from basira import __version__

    print(__version__)


# Registered in the order `basira --help` has always listed them.
app.command()(simulate.simulate)
app.command()(detect.classify)
app.command("eval")(detect.eval_)
app.command()(detect.train)
app.add_typer(network.app, name="network")
app.add_typer(banks.app, name="banks")
app.command("match")(banks.match_files)
app.add_typer(review.users_app, name="users")
app.add_typer(review.audit_app, name="audit")
app.add_typer(review.review_app, name="review")
app.command()(review.serve)
app.command()(scan.scan)
app.command()(scan.demo)
app.add_typer(evidence.app, name="evidence")
app.add_typer(report.app, name="report")
app.add_typer(compliance.orders_app, name="orders")
app.add_typer(compliance.compliance_app, name="compliance")
app.add_typer(compliance.complaints_app, name="complaints")
app.command()(worker.worker)
app.command()(cluster.rescore)


def main() -> None:  # pragma: no cover - entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
