"""`basira worker`: process the content intake queue (POST /api/v1/content?mode=async; basira.intake.worker)."""

from __future__ import annotations

import signal

import typer

from basira.cli._common import DB_HELP, err


def worker(
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    batch: int = typer.Option(100, "--batch", min=1, max=1000, help="Items claimed per transaction."),
    until_empty: bool = typer.Option(False, "--until-empty", help="Exit once nothing is pending (default: keep polling)."),
    poll: float = typer.Option(0.5, "--poll", min=0.05, help="Seconds between polls of an empty queue."),
    log: bool = typer.Option(False, "--log", help="Print one JSON line per batch processed (worker, queue ids)."),
) -> None:
    """Process queued content items: store, score, hash-match, open cases; send results as signed webhooks
    (BASIRA_WEBHOOK_URL, BASIRA_WEBHOOK_SECRET). Run several, on any machine: they share the queue (PostgreSQL)."""
    from basira.core.settings import settings
    from basira.intake.worker import print_log, run_worker
    from basira.store import open_store

    s = settings(db)
    stopping: list[bool] = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))  # finish the batch in hand, then exit
    with open_store(s.db_url) as store:
        if store.dialect != "postgresql":
            err.print("note: SQLite has no row locks; run one worker per SQLite database", highlight=False)
        stats = run_worker(store, batch=batch, until_empty=until_empty, poll=poll, webhook_url=s.webhook_url,
                           webhook_secret=s.webhook_secret, log=print_log if log else None,
                           should_stop=lambda: bool(stopping))
    err.print(f"worker: {stats.items:,} items in {stats.batches:,} batches; {stats.delivered:,} results delivered",
              highlight=False)
