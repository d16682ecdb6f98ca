"""`basira rescore`: re-score stored posts with the current model (basira.cluster.rescore)."""

from __future__ import annotations

import typer

from basira.cli._common import DB_HELP, err, fail
from basira.core.errors import InputError


def rescore(
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    cluster: str | None = typer.Option(None, "--cluster", metavar="ADDRESS",
                                       help="A Dask scheduler (tcp://host:8786 or a scheduler file; default "
                                            "$BASIRA_DASK_SCHEDULER); PostgreSQL only."),
    local: bool = typer.Option(False, "--local", help="Score in this process even when BASIRA_DASK_SCHEDULER is set."),
    since: str | None = typer.Option(None, "--since", help="Only posts ingested at or after this time (ISO 8601)."),
    batch_size: int = typer.Option(500, "--batch-size", min=1, help="Posts per transaction."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as one JSON object."),
) -> None:
    """Score every stored post the current model has not scored; open a case per flagged post, as a scan does.
    Resumable: run it again after an interruption."""
    import orjson

    from basira.cli.scan import cluster_progress
    from basira.cluster.rescore import rescore as run
    from basira.core.settings import settings
    from basira.core.time import parse_time
    from basira.store import open_store

    s = settings(db)
    try:
        when = parse_time(since) if since else None
    except ValueError as exc:
        raise fail(InputError("--since", None, None, str(exc))) from None
    address = None if local else (cluster or s.dask_scheduler)
    try:
        with open_store(s.db_url) as store:
            progress, update = cluster_progress(enabled=not as_json)
            with progress:
                out = run(store, s.db_url, address, when, update, batch_size)
    except InputError as exc:
        raise fail(exc) from None
    if as_json:
        print(orjson.dumps(out.to_dict()).decode())
    else:
        err.print(f"rescored {out.scored:,} posts with model {out.model_version}: {out.flagged_new:,} flagged, "
                  f"{out.cases_new:,} cases opened; {out.cases_open:,} open cases ({out.seconds:.1f} s)",
                  markup=False, highlight=False)
