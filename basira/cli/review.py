"""`basira serve | users | audit | review`: the review web app and its accounts, audit chain and utilities."""

from __future__ import annotations

import re
import sys

import typer
from rich.markup import escape

from basira.cli._common import DB_HELP, basira_command, err, fail
from basira.core.errors import BasiraError, InputError

users_app = typer.Typer(help="Reviewer accounts and API tokens.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)
review_app = typer.Typer(help="Review workflow utilities.", no_args_is_help=True)


def _review_service(db: str | None, *, create: bool = True):
    """The review service on the database. `create=False` for commands that only read (`users list`, `audit
    verify`, `review prioritize --explain`): a missing SQLite file is `error: --db ...: no database at ...` and
    exit 2, never a new empty database (the server's connection pool is not needed there either)."""
    from basira.core.settings import settings
    from basira.review.service import ReviewService, ReviewSettings, open_review_store
    from basira.store import open_store

    url = settings(db).db_url
    try:
        store = open_review_store(url) if create else open_store(url, create=False)
        return ReviewService(store, ReviewSettings.from_env())
    except InputError as exc:  # a setting at fault (BASIRA_WEBHOOK_URL without BASIRA_WEBHOOK_SECRET): exit 2
        raise fail(exc) from None


def serve(
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    insecure_cookies: bool = typer.Option(
        False, "--insecure-cookies", help="Send session cookies over plain HTTP (local development only)."
    ),
    workers: int = typer.Option(1, "--workers", help="Server processes (login throttling is per process)."),
    access_log: bool = typer.Option(True, "--access-log/--no-access-log", help="One line per request (uvicorn's access log)."),
) -> None:
    """Run the review web app and REST API (/api/v1, schema at /api/v1/openapi.json)."""
    import uvicorn

    from basira.web.app import create_app

    svc = _review_service(db)  # opens (and migrates) the database once, before any worker starts
    shown = "localhost" if host in ("127.0.0.1", "::1") else host
    err.print(f"Basira review app: http://{shown}:{port}/  (API under /api/v1; Ctrl-C stops)")
    err.print(f"Log in as a user made with `{basira_command()} users add NAME --role reviewer`.", markup=False,
              highlight=False, soft_wrap=True)
    level = "info" if access_log else "warning"
    if workers > 1:
        from dataclasses import replace

        from basira.core.settings import export_for_workers, settings

        export_for_workers(replace(settings(db), insecure_cookies=insecure_cookies))
        svc.store.close()
        # Each worker is its own process; webhooks are sent by this one (a DeliveryLoop below), not by workers.
        from basira.review.service import DeliveryLoop

        loop = DeliveryLoop(svc) if svc.settings.webhook_url else None
        if loop:
            loop.start()
        from basira.web.compliance_api import background_loop

        background_loop(svc).start()  # removal-order alerts and the preservation purge: this process only
        uvicorn.run("basira.web.app:app_from_env", factory=True, workers=workers, host=host, port=port,
                    log_level=level, access_log=access_log, proxy_headers=True)
        return
    if insecure_cookies:
        from dataclasses import replace

        svc.settings = replace(svc.settings, secure_cookies=False)
    uvicorn.run(create_app(svc, deliver_webhooks=True), host=host, port=port, log_level=level,
                access_log=access_log, proxy_headers=True)


@users_app.command("add")
def users_add(
    username: str = typer.Argument(...),
    role: str = typer.Option(..., "--role", help="admin, reviewer, analyst, legal, auditor or platform."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from stdin."),
) -> None:
    """Add a user (asks for the password unless --password-stdin)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    try:
        _review_service(db).add_user(username, password, role, actor="cli")
    except BasiraError as exc:  # a bad name, role or password; a taken name; no such user
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        raise typer.Exit(code=2) from None
    err.print(f"added {username} ({role})")


@users_app.command("disable")
def users_disable(username: str = typer.Argument(...), db: str | None = typer.Option(None, "--db", help=DB_HELP)) -> None:
    """Disable a user: their sessions end and their API tokens are revoked. The last active admin cannot be."""
    _set_disabled(db, username, True)
    err.print(f"disabled {username}")


@users_app.command("enable")
def users_enable(username: str = typer.Argument(...), db: str | None = typer.Option(None, "--db", help=DB_HELP)) -> None:
    """Enable a disabled user again (their old sessions and tokens stay revoked: issue a new token)."""
    _set_disabled(db, username, False)
    err.print(f"enabled {username}")


def _set_disabled(db: str | None, username: str, disabled: bool) -> None:
    from basira.review.repository import LockoutError

    try:
        found = _review_service(db).disable_user(username, actor="cli", disabled=disabled)
    except LockoutError as exc:
        err.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(code=1) from None
    if not found:
        err.print(f"[bold red]error:[/] no user {username!r}")
        raise typer.Exit(code=2)


@users_app.command("list")
def users_list(db: str | None = typer.Option(None, "--db", help=DB_HELP)) -> None:
    """List users and roles."""
    for u in _review_service(db, create=False).repo.list_users():
        print(f"{u['username']}\t{u['role']}\t{'disabled' if u['disabled_at'] else 'active'}")


@users_app.command("token")
def users_token(
    username: str = typer.Argument(...),
    name: str = typer.Option("integration", "--name", help="What the token is for."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Create an API token for a user (printed once; only its hash is stored)."""
    try:
        print(_review_service(db).create_token(username, name, actor="cli"))
    except BasiraError as exc:  # a bad name, role or password; a taken name; no such user
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        raise typer.Exit(code=2) from None


@audit_app.command("verify")
def audit_verify(
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    expect_head: str | None = typer.Option(
        None, "--head", help="A head hash noted earlier: it must still be in the chain (growth is fine; a deleted "
                             "or replaced tail is not)."),
) -> None:
    """Recompute the audit chain; exit 1 if any entry was edited or deleted, or if an earlier head (--head) is no
    longer part of it."""
    if expect_head is not None and not re.fullmatch(r"[0-9a-f]{64}", expect_head.strip().lower()):
        err.print("[bold red]error:[/] --head: expected the 64 hex digits of a SHA-256 head hash")
        raise typer.Exit(code=2)
    svc = _review_service(db, create=False)
    ok, bad = svc.store.verify_events()
    if not ok:
        err.print(f"[bold red]audit chain broken at entry {bad}[/]: an entry was edited or deleted")
        raise typer.Exit(code=1)
    last = svc.repo.events(limit=1)
    head = last[0]["hash"] if last else None
    count = svc.store.count_events()
    grown = ""
    if expect_head:
        # The chain is intact, so an entry with that hash means everything up to it is unchanged: the old
        # chain is a prefix of this one, and the entries after it were appended since.
        at = svc.store.event_id_of_hash(expect_head.strip().lower())
        if at is None:
            err.print(f"[bold red]audit chain shortened or replaced:[/] {expect_head} is not in it "
                      f"(head is now {head}, {count} entries)")
            raise typer.Exit(code=1)
        grown = (f"; {expect_head} is entry {at}, " + ("still the head" if at == count else
                                                       f"{count - at} entries appended since"))
    print(f"audit chain intact: {count} entries, head {head}{grown}")


@review_app.command("seed")
def review_seed(
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    cases: int = typer.Option(30, "--cases", help="How many synthetic (harmless) cases to open."),
    seed: int = typer.Option(7, "--seed"),
) -> None:
    """Open synthetic, harmless cases to try the review app with."""
    from basira.review.demo import seed_cases

    ids = seed_cases(_review_service(db).store, cases, seed)
    err.print(f"opened {len(ids)} synthetic cases")


@review_app.command("deliver")
def review_deliver(db: str | None = typer.Option(None, "--db", help=DB_HELP)) -> None:
    """Send due webhooks once ($BASIRA_WEBHOOK_URL, $BASIRA_WEBHOOK_SECRET) and print the counts."""
    print(_review_service(db).deliver_due().to_dict())


@review_app.command("prioritize")
def review_prioritize(db: str | None = typer.Option(None, "--db", help=DB_HELP),
                      explain: int | None = typer.Option(None, "--explain", help="Print one case's inputs and terms.")
                      ) -> None:
    """Recompute every open case's priority from its current evidence (scans do this at their end)."""
    import json

    from basira.cases.prioritize import explain as explain_case
    from basira.cases.prioritize import reprioritize

    store = _review_service(db, create=explain is None).store  # --explain only reads
    if explain is not None:
        x = explain_case(store, explain)
        if x is None:
            err.print(f"no open post or account case {explain}")
            raise typer.Exit(1)
        print(json.dumps(x.to_dict(), indent=2))
        return
    err.print(f"{reprioritize(store)} case priorities changed")
