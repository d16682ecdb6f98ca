"""`basira banks ... | match`: hash banks and matching (basira.signals; docs/hash-matching.md)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import typer
from rich.markup import escape

from basira.cli._common import DB_HELP, err
from basira.core.errors import BasiraError

if TYPE_CHECKING:
    from basira.store import Store

app = typer.Typer(name="banks", help="Hash banks: create, import, export, sync, list.", no_args_is_help=True)


_FORMATS = "threatexchange | threatexchange-csv | basira-jsonl | tat-csv | tat-json | stix (default: detected)."


def _bank_store(db: str | None, *, create: bool = True) -> Store:
    """The store; `create=False` for commands that only read (`list`, `export`, `match` without --record): a
    missing SQLite file is refused (DatabaseOpenError, exit 2) instead of created empty."""
    from basira.core.settings import settings
    from basira.store import open_store

    return open_store(settings(db).db_url, create=create)


def _bank_fail(exc: BasiraError) -> typer.Exit:
    """What Basira refused (a bank, a file's line, an exchange), said on stderr; exit 2. Only BasiraError is
    caught: any other exception is a bug and keeps its traceback."""
    err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
    return typer.Exit(code=2)


def _thresholds(given: list[str]) -> dict[str, float]:
    """--threshold SIGNAL=DISTANCE options as {signal type: distance}."""
    out = {}
    for t in given:
        k, eq, v = t.partition("=")
        try:
            out[k.strip()] = float(v)
        except ValueError:
            raise typer.BadParameter(f"{t!r}: expected SIGNAL=DISTANCE, e.g. pdq=24"
                                     + ("" if eq else " (no '=')"), param_hint="'--threshold'") from None
    return out


@app.command("create")
def banks_create(
    name: str = typer.Argument(..., help="Bank name."),
    negative: bool = typer.Option(False, "--negative", help="An allow-list: its matches veto positive ones."),
    ratio: float = typer.Option(1.0, "--ratio", min=0.0, max=1.0, help="Share of lookups that consult it."),
    threshold: list[str] = typer.Option([], "--threshold", help="SIGNAL=DISTANCE, e.g. pdq=24; repeatable."),
    description: str = typer.Option("", "--description"),
    pdq_decode: str | None = typer.Option(
        None, "--pdq-decode", metavar="full|fast",
        help="How images are decoded for PDQ when hashed for this bank: full resolution (the hash HMA and "
             "partners compute) or fast (reduced-scale JPEG decode, ~4x faster, 2-10 bits off). Default: fast, "
             "until an exchange first feeds the bank (`banks sync`), then full."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Create a bank."""
    from basira import banks as repo

    thresholds = _thresholds(threshold)
    try:
        with _bank_store(db) as store, store.transaction() as tx:
            bank = repo.create_bank(tx, name, negative=negative, enabled_ratio=ratio, thresholds=thresholds,
                                    description=description, pdq_decode=pdq_decode, actor="cli")
    except BasiraError as exc:
        raise _bank_fail(exc) from None
    print(f"created bank {bank.name} (id {bank.id})")


@app.command("import")
def banks_import(
    name: str = typer.Argument(..., help="Bank name."),
    files: list[str] = typer.Argument(..., metavar="FILE...", help="Bank files (threatexchange, JSONL, CSV, STIX)."),
    fmt: str | None = typer.Option(None, "--format", help=_FORMATS),
    source: str | None = typer.Option(None, "--source", help="Source label for the items (default: file name)."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Import bank files into a bank. Lines of a signal type Basira does not know are reported and skipped;
    items the file marks deleted are withdrawn (kept, never a positive)."""
    from basira import banks as repo
    from basira.signals.exchange import ReadReport, read_entries

    try:
        with _bank_store(db) as store:
            for f in files:
                report = ReadReport()
                entries = read_entries(f, fmt, source=source, report=report)
                with store.transaction() as tx:  # one file, one unit of work
                    added, removed = repo.add_entries(tx, name, entries, actor="cli", note=f"import {f}",
                                                      on_deleted="withdraw")
                _print_skipped(f, report.skipped)
                print(f"{f}: {len(entries)} read, {added} added, {removed} withdrawn, {len(report.skipped)} skipped")
    except BasiraError as exc:
        raise _bank_fail(exc) from None


def _print_skipped(where: str, skipped: list[str], limit: int = 20) -> None:
    for msg in skipped[:limit]:
        err.print(f"[yellow]warning:[/] {where}: {msg}", highlight=False, markup=True, soft_wrap=True)
    if len(skipped) > limit:
        err.print(f"[yellow]warning:[/] {where}: {len(skipped) - limit} more lines skipped", markup=True)


@app.command("export")
def banks_export(
    name: str = typer.Argument(..., help="Bank name."),
    out: str = typer.Argument(..., metavar="FILE", help="Output file; the format follows its extension."),
    fmt: str | None = typer.Option(None, "--format", help=_FORMATS),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Export a bank's items."""
    from basira import banks as repo
    from basira.signals.exchange import write_entries

    try:
        with _bank_store(db, create=False) as store:
            if repo.get_bank(store, name) is None:
                raise repo.BankError("not_found", f"no bank named {name!r}")
            report = write_entries(out, repo.entries_of(store, name), fmt)
    except BasiraError as exc:
        raise _bank_fail(exc) from None
    print(f"{report.summary()} to {out}")


@app.command("sync")
def banks_sync(
    name: str = typer.Argument(..., help="Bank name."),
    source: str = typer.Argument(..., help="A file path, an http(s) URL, or a live exchange: `tat` (Tech Against "
                                           "Terrorism's hash list) or `threatexchange:<privacy group id>`; resumed "
                                           "from its checkpoint."),
    fmt: str | None = typer.Option(None, "--format", help=_FORMATS),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Pull what is new at a source into a bank. Live exchanges use python-threatexchange's clients, with
    credentials from BASIRA_TAT_USERNAME / BASIRA_TAT_PASSWORD or BASIRA_TE_TOKEN."""
    from basira import banks as repo
    from basira.core.settings import settings
    from basira.signals.partners.live import is_live, open_source

    try:
        with _bank_store(db) as store:
            if is_live(source):
                res = repo.sync_exchange(store, name, open_source(source, settings(db)), actor="cli")
                _print_skipped(source, res.skipped)
                print(f"{source}: {res.pages} pages, {res.entries} read, {res.added} added, {res.withdrawn} withdrawn, "
                      f"{len(res.skipped)} skipped ({'from the start' if res.full else 'from its checkpoint'})")
                return
            skipped: list[str] = []
            added, removed, full = repo.sync_bank(store, name, source, fmt, actor="cli", skipped=skipped)
    except BasiraError as exc:
        raise _bank_fail(exc) from None
    _print_skipped(source, skipped)
    print(f"{source}: {added} added, {removed} withdrawn, {len(skipped)} skipped "
          f"({'full read' if full else 'incremental'})")


@app.command("react")
def banks_react(
    item_id: int = typer.Argument(..., help="Bank item id (from `basira match` or the case page)."),
    reaction: str = typer.Argument(..., metavar="seen|true-positive|false-positive"),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Write an opinion on an exchanged item back to the exchange it came from (ThreatExchange reactions:
    SAW_THIS_TOO, HELPFUL, DISAGREE_WITH_TAGS on each of its descriptors)."""
    from basira import banks as repo
    from basira.core.settings import settings
    from basira.signals.partners.live import is_live, open_source

    key = reaction.replace("-", "_")
    try:
        with _bank_store(db) as store:
            item = repo.get_item(store, item_id)
            if item is None:
                raise repo.BankError("not_found", f"no bank item {item_id}")
            if not item.source or not is_live(item.source):
                raise repo.BankError("invalid", f"bank item {item_id} did not come from a live exchange (source {item.source!r})")
            answers = open_source(item.source, settings(db)).react(item.labels, key)
            with store.transaction() as tx:
                repo.record_reaction(tx, item_id, key, item.source, answers, actor="cli")
    except BasiraError as exc:
        raise _bank_fail(exc) from None
    print(f"item {item_id}: {reaction} sent to {item.source} ({len(answers)} descriptors)")


@app.command("list")
def banks_list(db: str | None = typer.Option(None, "--db", help=DB_HELP)) -> None:
    """List banks with their item counts and settings."""
    from basira import banks as repo

    with _bank_store(db, create=False) as store:
        for bank, n in repo.list_banks(store):
            kind = "negative" if bank.negative else "positive"
            extra = f" ratio={bank.enabled_ratio:g}" if bank.enabled_ratio < 1 else ""
            th = "".join(f" {k}<={v:g}" for k, v in sorted(bank.thresholds.items()))
            print(f"{bank.name}\t{n} items\t{kind}{extra}{th} pdq-decode={bank.pdq_decode}")


def match_files(
    files: list[str] = typer.Argument(..., metavar="FILE...", help="Images, videos or text files to match."),
    record: bool = typer.Option(False, "--record", help="Save the matches (subject file:<path>)."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Hash files (MD5, SHA-256, PDQ / vPDQ / text MinHash) and match them against every bank; JSON lines out."""
    import orjson

    from basira import banks as repo
    from basira.signals.banks import match_files as match_many

    with _bank_store(db, create=record) as store:  # without --record it only reads
        matcher = repo.load_matcher(store)
        # 64 files at a time hashed on both cores, printed as each chunk is matched.
        chunks = ((files[i : i + 64], match_many(matcher, files[i : i + 64])) for i in range(0, len(files), 64))
        for f, results in ((f, r) for names, rs in chunks for f, r in zip(names, rs, strict=True)):
            if record:
                with store.transaction() as tx:
                    repo.record_matches(tx, f"file:{f}", results, monitor=matcher.monitor)
            out = {"file": f, "matched": any(r.matched for r in results),
                   "results": [r.as_dict() for r in results if r.matches or r.vetoed or r.quarantined],
                   "signals": {r.signal_type: r.signal for r in results if r.signal_type != "vpdq"}}
            sys.stdout.write(orjson.dumps(out).decode() + "\n")

