"""`basira orders|compliance|complaints …`: a thin face over basira.compliance.service (docs/compliance.md).

Bad input (a file, a time, a field) exits with code 2; a refused action (not found, not open, not allowed) with 1."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson
import typer
from rich.markup import escape

from basira.cli._common import DB_HELP, err
from basira.core.errors import BasiraError, InputError

if TYPE_CHECKING:  # imported when a command runs: `basira --help` stays fast
    from basira.compliance.service import ComplianceService

orders_app = typer.Typer(name="orders", help="Removal orders (EU 2021/784): import, list, show, execute, reject.",
                         no_args_is_help=True)
compliance_app = typer.Typer(name="compliance", help="Deadline alerts, statements, preservation: tick, purge, hold.",
                             no_args_is_help=True)
complaints_app = typer.Typer(name="complaints", help="Complaints about removals (art. 10): list, file, decide.",
                             no_args_is_help=True)
DB = typer.Option(None, "--db", help=DB_HELP)
AS = typer.Option(..., "--as", help="The Basira user acting (legal or admin); logged.")
NOW = typer.Option(None, "--now", help="Act as if it were this ISO-8601 time (e.g. 2027-06-01T00:00:00Z).")


def _exit(message: str, code: int) -> typer.Exit:
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code=code)


def _service(db: str | None, now: str | None = None, *, create: bool = True) -> ComplianceService:
    """The compliance service on the database; `create=False` for commands that only read (no empty database made)."""
    from basira.compliance.alerts import AlertSettings
    from basira.compliance.orders import OrderError, parse_time
    from basira.compliance.service import ComplianceService
    from basira.core.settings import settings
    from basira.core.time import utcnow
    from basira.review.service import ReviewSettings
    from basira.store import open_store

    clock = utcnow
    if now is not None:
        try:
            fixed = parse_time(now, "--now")
        except OrderError as exc:
            raise _exit(f"--now: {exc.reason}", 2) from None
        clock = lambda: fixed  # noqa: E731
    try:
        review, alerts = ReviewSettings.from_env(), AlertSettings.from_env()
    except BasiraError as exc:  # InputError: a BASIRA_* value Settings cannot read
        raise _exit(f"bad setting in the environment: {exc}", 2) from None
    return ComplianceService(open_store(settings(db).db_url, create=create), review, alerts, clock=clock)


def _run(fn: Any, *args: Any, **kw: Any) -> Any:
    from basira.compliance.orders import OrderError
    from basira.compliance.repository import ComplianceError

    try:
        return fn(*args, **kw)
    except InputError as exc:
        raise _exit(str(exc), 2) from None
    except OrderError as exc:
        raise _exit(str(exc), 2) from None
    except ComplianceError as exc:
        raise _exit(str(exc), 2 if exc.kind == "invalid" else 1) from None


def _json(obj: Any) -> None:
    sys.stdout.write(orjson.dumps(obj, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode() + "\n")


def _time(value: str, name: str) -> datetime:
    from basira.compliance.orders import OrderError, parse_time

    try:
        return parse_time(value, name)
    except OrderError as exc:
        raise _exit(f"{name}: {exc.reason}", 2) from None


# --- orders ---------------------------------------------------------------------------------------------------

@orders_app.command("import")
def orders_import(path: str = typer.Argument(..., metavar="FILE.jsonl|.json|.csv"),
                  by: str | None = typer.Option(None, "--by", help="Who entered them (default: file:PATH)."),
                  db: str | None = DB) -> None:
    """Import removal orders from a file: all or nothing; orders already received are skipped."""
    svc = _service(db)
    try:
        ids, dupes = _run(svc.import_file, path, by)
    finally:
        svc.store.close()
    for d in dupes:
        err.print(f"skipped (already received): {escape(d)}", highlight=False)
    print(f"{path}: {len(ids)} orders imported" + (f" (ids {ids[0]}–{ids[-1]})" if ids else "")
          + (f", {len(dupes)} already received" if dupes else ""))


@orders_app.command("list")
def orders_list(status: str | None = typer.Option(None, "--status", help="open, executed, rejected or withdrawn."),
                as_json: bool = typer.Option(False, "--json"), db: str | None = DB) -> None:
    """Orders, open ones first by time left."""
    svc = _service(db, create=False)
    try:
        rows = svc.orders(status)
    finally:
        svc.store.close()
    if as_json:
        _json([o.to_dict() for o in rows])
        return
    for o in rows:
        left = o.time_left + (" OVERDUE" if o.overdue else "") if o.status == "open" else ""
        print(f"{o.id}\t{o.status}\t{left}\t{o.authority}\t{o.order_ref}\t"
              f"{o.found_count}/{o.target_count} targets found")


@orders_app.command("show")
def orders_show(order_id: int = typer.Argument(...), db: str | None = DB) -> None:
    """One order as JSON: targets, statement, notices, alerts, complaints, preserved items."""
    svc = _service(db, create=False)
    try:
        o = svc.order(order_id)
    finally:
        svc.store.close()
    if o is None:
        raise _exit(f"no removal order {order_id}", 1)
    _json(o.to_dict())


@orders_app.command("execute")
def orders_execute(order_id: int = typer.Argument(...), user: str = AS, db: str | None = DB) -> None:
    """Remove every target found (action webhooks), preserve it, notify its provider; print the statement."""
    svc = _service(db)
    try:
        out = _run(svc.execute, order_id, user)
    finally:
        svc.store.close()
    if out.recorded:
        typer.echo(f"warning: {out.recorded} item(s) only recorded — no action sink is configured "
                   "(BASIRA_WEBHOOK_URL), so nothing was removed on the platform", err=True)
    _json(out.statement)


@orders_app.command("reject")
def orders_reject(order_id: int = typer.Argument(...),
                  reason: str = typer.Option(..., "--reason", help="Why (art. 3(7)/(8)), or the withdrawal."),
                  withdrawn: bool = typer.Option(False, "--withdrawn", help="The authority withdrew the order."),
                  user: str = AS, db: str | None = DB) -> None:
    """Close an open order without executing it: rejected (with the reason) or withdrawn."""
    svc = _service(db)
    try:
        out = _run(svc.close, order_id, "withdrawn" if withdrawn else "rejected", reason, user)
    finally:
        svc.store.close()
    print(f"order {order_id}: {out.status}")


# --- compliance: the clock-driven jobs --------------------------------------------------------------------------

@compliance_app.command("tick")
def compliance_tick(now: str | None = NOW, db: str | None = DB,
                    as_json: bool = typer.Option(True, "--json/--no-json",
                                                 help="Print the result as JSON (the default).")) -> None:
    """Send due deadline alerts and statements, preserve any removal left without a copy, purge what is past its
    preservation, deliver action webhooks. Every step runs, and every row on its own: the JSON names each step's
    successes and failures (`steps`, `failures`); failed rows are retried by the next tick."""
    svc = _service(db, now)
    try:
        out = svc.tick()
    finally:
        svc.store.close()
    _json(out)


@compliance_app.command("purge")
def compliance_purge(now: str | None = NOW, db: str | None = DB) -> None:
    """Purge preserved content past six months (or its legal hold); the minimal record stays."""
    svc = _service(db, now)
    try:
        ids = svc.purge()
    finally:
        svc.store.close()
    print(f"{len(ids)} preserved items purged" + (f": {', '.join(map(str, ids))}" if ids else ""))


@compliance_app.command("hold")
def compliance_hold(item_id: int = typer.Argument(..., help="Preserved item id (orders show lists them)."),
                    until: str = typer.Option(..., "--until", help="ISO-8601 end of the hold."),
                    reason: str = typer.Option(..., "--reason", help="The authority or court and its request."),
                    user: str = AS, db: str | None = DB) -> None:
    """Extend the preservation of one item with a legal hold (art. 6(2))."""
    end = _time(until, "--until")
    svc = _service(db)
    try:
        try:
            _run(svc.set_legal_hold, item_id, end, reason, user)
        except BasiraError as exc:  # HoldError: no reason, an end not in the future
            raise _exit(str(exc), 2) from None
    finally:
        svc.store.close()
    print(f"preserved item {item_id}: held until {end.isoformat()}")


@compliance_app.command("preserved")
def compliance_preserved(as_json: bool = typer.Option(False, "--json"), db: str | None = DB) -> None:
    """Preserved items (minimal record: ids, hash, dates, hold); no content."""
    svc = _service(db, create=False)
    try:
        rows = svc.repo.preserved()
    finally:
        svc.store.close()
    if as_json:
        _json([r.to_dict() for r in rows])
        return
    for r in rows:
        state = f"purged {r.purged_at:%Y-%m-%d}" if r.purged_at else f"until {r.preserve_until:%Y-%m-%d}"
        hold = f" hold until {r.legal_hold_until:%Y-%m-%d}" if r.legal_hold_until else ""
        print(f"{r.id}\t{r.reason}\t{r.platform}:{r.external_id}\t{state}{hold}\t{r.content_sha256[:16]}")


# --- complaints -----------------------------------------------------------------------------------------------

@complaints_app.command("list")
def complaints_list(status: str | None = typer.Option(None, "--status", help="open, upheld or rejected."),
                    as_json: bool = typer.Option(False, "--json"), db: str | None = DB) -> None:
    """Complaints, newest first."""
    svc = _service(db, create=False)
    try:
        rows = svc.repo.complaints(status)
    finally:
        svc.store.close()
    if as_json:
        _json([c.to_dict() for c in rows])
        return
    for c in rows:
        about = f"order {c.order_id}" if c.order_id else f"case {c.case_id}"
        print(f"{c.id}\t{c.status}\t{about}\t{c.received_at:%Y-%m-%d %H:%M}\t{c.complainant}")


@complaints_app.command("file")
def complaints_file(order: int | None = typer.Option(None, "--order", help="The removal order complained about."),
                    case: int | None = typer.Option(None, "--case", help="Or the case whose removal it is about."),
                    post: int | None = typer.Option(None, "--post", help="The post (for an order with several)."),
                    complainant: str = typer.Option(..., "--complainant", help="Who complains (the provider)."),
                    grounds: str = typer.Option(..., "--grounds", help="Their grounds."),
                    db: str | None = DB) -> None:
    """Record a complaint by a content provider (art. 10)."""
    svc = _service(db)
    try:
        cid = _run(svc.file_complaint, complainant=complainant, grounds=grounds, order_id=order, case_id=case,
                   post_id=post, actor="cli")
    finally:
        svc.store.close()
    print(f"complaint {cid} received")


@complaints_app.command("decide")
def complaints_decide(complaint_id: int = typer.Argument(...),
                      uphold: bool = typer.Option(..., "--uphold/--reject",
                                                  help="Uphold (reinstate the content) or reject."),
                      reasons: str = typer.Option(..., "--reasons", help="The reasons, told to the complainant."),
                      user: str = AS, db: str | None = DB) -> None:
    """Decide a complaint with reasons; upheld: the content is reinstated (restore webhook)."""
    svc = _service(db)
    try:
        out = _run(svc.decide_complaint, complaint_id, uphold, reasons, user)
    finally:
        svc.store.close()
    print(f"complaint {complaint_id}: {out.status}" + (" — content reinstated" if out.reinstated else ""))
