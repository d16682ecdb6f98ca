"""`basira report transparency|statements|demo-decisions`: thin faces over basira.compliance (docs/reports.md)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import typer
from rich.markup import escape

from basira.cli._common import DB_HELP, err

app = typer.Typer(name="report", help="Transparency reports (HTML, PDF, JSON) and DSA statements of reasons.",
                  no_args_is_help=True)
DB = typer.Option(None, "--db", help=DB_HELP)
FROM = typer.Option(..., "--from", help="Start (YYYY-MM-DD or ISO 8601 time, UTC), inclusive.")
TO = typer.Option(..., "--to", help="End: a date is inclusive (the whole day), a time exclusive.")
FORMATS = ("html", "pdf", "json")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _bad(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code=2)


def period(start: str, end: str) -> tuple[datetime, datetime]:
    """[start, end) in UTC from the options; a date-only --to covers that whole day."""
    from basira.core.time import parse_time

    out = []
    for name, value, is_end in (("--from", start, False), ("--to", end, True)):
        try:
            t = parse_time(value)
        except ValueError as exc:
            raise _bad(f"{name}: {value!r}: {exc}") from None
        if is_end and _DATE.match(value.strip()):
            t += timedelta(days=1)
        out.append(t.astimezone(UTC))
    if out[0] >= out[1]:
        raise _bad(f"--from {start} is not before --to {end}")
    return out[0], out[1]


def _store(db: str | None, *, create: bool = False):
    """The database; a report only reads, so a --db that names no database is refused, not created empty."""
    from basira.core.settings import settings
    from basira.store import open_store

    return open_store(settings(db).db_url, create=create)


@app.command()
def transparency(
    start: str = FROM, end: str = TO,
    formats: str = typer.Option("html,pdf,json", "--format", help="Comma-separated: html, pdf, json."),
    out: str = typer.Option("reports", "--out", help="Directory to write the report files into."),
    platform_name: str | None = typer.Option(None, "--platform-name", envvar="BASIRA_PLATFORM_NAME",
                                             help="Name on the cover (default: the platforms in the database)."),
    lang: str = typer.Option("en", "--lang", help="Language of the HTML and PDF: en, ar (right to left) or ru. "
                             "The JSON is the same in every language."),
    db: str | None = DB,
) -> None:
    """Transparency report for a period: removals by category and language, removal orders and time to execute,
    complaints, appeals overturned, hash-bank and detector contributions."""
    from pathlib import Path

    import orjson

    from basira.compliance.report import build_report
    from basira.compliance.report_data import gather_counts
    from basira.core.jsonio import atomic_output

    wanted = [f.strip().lower() for f in formats.split(",") if f.strip()]
    unknown = [f for f in wanted if f not in FORMATS]
    if unknown or not wanted:
        raise _bad(f"--format: unknown format(s) {unknown or formats!r}; choose from {', '.join(FORMATS)}")
    from basira.core.i18n import LANGUAGES

    if lang not in LANGUAGES:
        raise _bad(f"--lang: {lang!r} is not one of {', '.join(LANGUAGES)}")
    a, b = period(start, end)
    store = _store(db)
    try:
        report = build_report(gather_counts(store, a, b), platform_name=platform_name)
    finally:
        store.close()
    stem = f"transparency-{a:%Y%m%d}-{(b - timedelta(seconds=1)):%Y%m%d}"
    written = []
    for fmt in wanted:
        if fmt == "json":
            data = orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n"
        elif fmt == "html":
            from basira.compliance.report_html import render_html

            data = render_html(report, lang).encode("utf-8")
        else:
            from basira.compliance.report_pdf import render_pdf

            data = render_pdf(report, lang)
        path = Path(out) / f"{stem}.{fmt}"
        with atomic_output(str(path)) as fh:
            fh.write(data)
        written.append(f"{path} ({len(data):,} bytes)")
    s = report["summary"]
    print(f"{report['platform']}, {report['period']['from']} – {report['period']['to']}: {s['content_removed']} "
          f"removed ({s['removals_recorded_not_confirmed']} more recorded, not confirmed by the platform), "
          f"{s['removal_orders_received']} removal orders, {s['complaints_received']} complaints, "
          f"{s['appeals_decided']} appeals decided")
    for w in written:
        print(f"  wrote {w}")


@app.command()
def statements(
    start: str | None = typer.Option(None, "--from", help="Start (inclusive), as for `report transparency`."),
    end: str | None = typer.Option(None, "--to", help="End (a date is inclusive)."),
    decision: int | None = typer.Option(None, "--decision", help="Only this decision (by id)."),
    out: str = typer.Option("-", "--out", help="JSON Lines file ('-' = stdout)."),
    territorial_scope: str | None = typer.Option(None, "--territorial-scope",
                                                 help="Comma-separated country codes (default: the EEA)."),
    policy_url: str | None = typer.Option(None, "--policy-url", help="URL of the terms the decisions rely on."),
    include_unconfirmed: bool = typer.Option(
        False, "--include-unconfirmed",
        help="Also removals the platform has not acknowledged (no action sink answered): only when it removes "
             "content by other means — a statement says the content was removed."),
    submit: str | None = typer.Option(
        None, "--submit", metavar="URL",
        help="Also post them to a Transparency Database batch endpoint (e.g. "
             "https://transparency.dsa.ec.europa.eu/api/v1/statements) in batches of at most 100, with the token "
             "in $BASIRA_TDB_TOKEN. Statements already there are skipped; exit 1 if any is refused."),
    db: str | None = DB,
) -> None:
    """DSA statements of reasons (Transparency Database API fields), one JSON line per removal:
    {"decision_id", "case_id", "statement": {...}}."""
    import orjson

    from basira.compliance.report_data import statement_facts
    from basira.compliance.statements import EEA, NoStatement, statement_of_reasons
    from basira.core.jsonio import atomic_output
    from basira.review.policy import load_catalogue

    if decision is None and (start is None or end is None):
        raise _bad("give --from and --to, or --decision ID")
    token = None
    if submit is not None:
        from basira.core.settings import Settings

        token = Settings().tdb_token
        if not token:
            raise _bad("--submit needs the Transparency Database API token in BASIRA_TDB_TOKEN")
        if not submit.startswith(("https://", "http://")):
            raise _bad(f"--submit: not an http(s) URL: {submit!r}")
    scope = EEA
    if territorial_scope:
        scope = tuple(c.strip().upper() for c in territorial_scope.split(",") if c.strip())
        bad = [c for c in scope if c not in EEA]
        if bad or not scope:
            raise _bad(f"--territorial-scope: not EEA country codes: {', '.join(bad) or territorial_scope!r}")
    a, b = period(start, end) if start and end else (None, None)
    store = _store(db)
    try:
        facts = statement_facts(store, start=a, end=b, decision_id=decision)
    finally:
        store.close()
    if decision is not None:
        if not facts:
            raise _bad(f"--decision {decision}: no such decision")
        if facts[0].action == "undone":
            raise _bad(f"--decision {decision}: the decision was undone; no statement of reasons is due")
        if not facts[0].confirmed and not include_unconfirmed and facts[0].action == "remove":
            raise _bad(f"--decision {decision}: the removal is recorded but the platform has not acknowledged it, "
                       "so nothing may have been removed; no statement until it does (--include-unconfirmed if "
                       "the platform removes content by other means)")
    withheld = 0
    if decision is None and not include_unconfirmed:
        withheld = sum(1 for f in facts if not f.confirmed)
        facts = [f for f in facts if f.confirmed]
    catalogue = load_catalogue()
    lines, made = [], []
    try:
        for f in facts:
            st = statement_of_reasons(f, catalogue, territorial_scope=scope, policy_url=policy_url)
            made.append(st)
            lines.append(orjson.dumps({"decision_id": f.decision_id, "case_id": f.case_id, "statement": st}) + b"\n")
    except NoStatement as exc:
        raise _bad(str(exc)) from None
    with atomic_output(out) as fh:
        fh.writelines(lines)
    if out != "-":
        err.print(f"wrote {len(lines)} statements of reasons → {out}")
    if withheld:
        err.print(f"withheld {withheld} statements: removals recorded, not confirmed by the platform (no action sink "
                  "acknowledged them); they are written once it does, or with --include-unconfirmed")
    if submit is not None and token:
        _submit(submit, token, made)


def _submit(url: str, token: str, made: list[dict]) -> None:
    from basira.compliance.tdb_submit import SubmitError, submit_statements

    try:
        res = submit_statements(url, token, made)
    except SubmitError as exc:
        res = exc.result
        err.print(f"[bold red]error:[/] {escape(str(exc))} (accepted before it: {res.accepted}, already there: "
                  f"{res.already_submitted})", highlight=False)
        raise typer.Exit(code=1) from None
    err.print(f"submitted to {escape(url)} in {res.batches} calls: {res.accepted} accepted, "
              f"{res.already_submitted} already there, {len(res.rejected)} refused", highlight=False)
    for r in res.rejected:
        err.print(f"  refused {escape(str(r['puid']))}: {escape(str(r['errors']))}", highlight=False)
    if res.rejected:
        raise typer.Exit(code=1)


@app.command("demo-decisions")
def demo_decisions(
    db: str | None = DB,
    start: str = typer.Option(..., "--from", help="When the first synthetic decision is made (ISO 8601)."),
    seed: int = typer.Option(7, "--seed"),
    share: float = typer.Option(0.5, "--share", min=0.0, max=1.0, help="Share of open post cases to decide."),
    gap_minutes: float = typer.Option(5.0, "--gap-minutes", min=0.1, help="Mean minutes between decisions."),
) -> None:
    """Decide open cases with synthetic reviewers (remove, keep, escalate, refer, appeals): demo data for reports."""
    from basira.compliance.demo import seed_decisions
    from basira.core.time import parse_time

    try:
        t0 = parse_time(start)
    except ValueError as exc:
        raise _bad(f"--from: {exc}") from None
    store = _store(db)
    try:
        s = seed_decisions(store, seed=seed, share=share, start=t0,
                           gap_seconds=(gap_minutes * 60 * 0.2, gap_minutes * 60 * 1.8))
    finally:
        store.close()
    print(f"decided {s.decided} cases: removed {s.removed}, kept {s.kept}, escalated {s.escalated}, "
          f"referred {s.referred}; appeals {s.appeals} ({s.upheld} upheld, {s.overturned} overturned)")
