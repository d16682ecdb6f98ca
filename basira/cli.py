"""Basira's command line: a thin face over the package's functions."""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from rich.markup import escape
from rich.text import Text

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
    err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
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


def _progress(enabled: bool = True):
    """A Rich progress bar on stderr; off when stdout carries the results or JSON."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=not enabled,
        transient=False,
    )


def _count_lines(path: str) -> int | None:
    if path == "-":
        return None
    try:
        with open(path, "rb") as fh:
            return sum(buf.count(b"\n") for buf in iter(lambda: fh.read(1 << 20), b""))
    except OSError:
        return None  # the reader reports the error with the file's name


@app.command()
def classify(
    input: str = typer.Argument(..., metavar="IN.jsonl", help="JSON Lines with `id` and `text` ('-' = stdin)."),
    output: str = typer.Option("-", "--output", "-o", help="Where to write results ('-' = stdout)."),
    threshold: float | None = typer.Option(None, help="Override the model's decision threshold (0–1)."),
    fast: bool = typer.Option(False, "--fast", help="First stage only: skip the embedding second stage."),
) -> None:
    """Score each text: score, flagged, lang, categories and evidence spans on the original text."""
    from basira.detect import load_detector
    from basira.detect.batch import classify_pool, classify_stream, pool_workers
    from basira.jsonio import atomic_output

    try:
        detector = load_detector(threshold=threshold, cascade=not fast)
        show = output != "-" and input != "-"
        # The worker pool forks before the progress bar's thread starts.
        with classify_pool(detector, pool_workers(input)) as pool, _progress(enabled=show) as progress:
            task = progress.add_task("classifying", total=_count_lines(input) if show else None)
            with atomic_output(output) as out:
                n = classify_stream(input, out, detector, lambda k: progress.advance(task, k), pool)
    except InputError as exc:
        raise fail(exc) from None
    if output != "-":
        err.print(f"classified {n} records → {output}")


@app.command("eval")
def eval_(
    files: list[str] = typer.Argument(..., metavar="FILE.jsonl...", help="Labelled JSON Lines (id, text, label)."),
    threshold: float | None = typer.Option(None, help="Override the model's decision threshold."),
    dev_only: bool = typer.Option(False, "--dev-only", help="Only rows in the dev split (not seen in training)."),
    worst: int = typer.Option(5, help="How many worst mistakes to show of each kind."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    obfuscate: str | None = typer.Option(
        None, help="Obfuscate every text first (tatweel, diacritics, invisible, bidi, homoglyphs, "
        "presentation_forms, spaced_letters) to measure robustness."
    ),
) -> None:
    """Precision, recall, F1 and flag rate per file and per language, and the worst mistakes."""
    from basira.detect.obfuscate import OBFUSCATIONS
    from basira.detect.obfuscate import obfuscate as apply_obfuscation

    if obfuscate is not None and obfuscate not in OBFUSCATIONS:
        err.print(f"[bold red]error:[/] --obfuscate: unknown kind {obfuscate!r}; one of {', '.join(OBFUSCATIONS)}")
        raise typer.Exit(code=2)
    transform = (lambda text: apply_obfuscation(text, obfuscate)) if obfuscate else None
    import orjson
    from rich.table import Table

    from basira.detect import load_detector
    from basira.detect.batch import evaluate_files
    from basira.detect.train import is_dev, split_key

    keep = (lambda stem, obj: is_dev(split_key(stem, obj))) if dev_only else (lambda stem, obj: True)
    try:
        detector = load_detector(threshold=threshold)
        with _progress(enabled=not as_json) as progress:
            task = progress.add_task("evaluating", total=sum(_count_lines(f) or 0 for f in files))
            report = evaluate_files(files, detector, keep, worst, lambda k: progress.advance(task, k), transform)
    except InputError as exc:
        raise fail(exc) from None
    if as_json:
        print(orjson.dumps(report.to_dict(), option=orjson.OPT_INDENT_2).decode())
        return
    console = Console()
    cuts = ", ".join(f"{k} {v:.3f}" for k, v in report.thresholds.items())
    for title, groups in (("by file", report.by_file), ("by language", report.by_lang)):
        table = Table(title=f"{title} (thresholds: {cuts})")
        for col in ("", "n", "positives", "flagged", "precision", "recall", "F1", "flag rate"):
            if col:
                table.add_column(col, justify="right")
            else:
                table.add_column(col, no_wrap=True, min_width=max(len(k) for k in groups))
        fmt = lambda v: "–" if v is None else f"{v:.3f}"  # noqa: E731
        for name, c in groups.items():
            table.add_row(name, str(c.n), str(c.positives), str(c.flagged), fmt(c.precision), fmt(c.recall), fmt(c.f1), f"{c.flag_rate:.4f}")
        console.print(table)
    for title, items in (("worst false positives", report.false_positives), ("worst false negatives", report.false_negatives)):
        console.print(f"[bold]{title}[/]")
        for score, name, rid, text in items:
            console.print(f"  {score:.3f} {name} {rid}: ", end="", highlight=False)
            console.print(text.replace("\n", " "), markup=False, highlight=False)


@app.command()
def train(
    data: str = typer.Option("../shared/datasets", help="Folder of labelled *.jsonl files."),
    out: str | None = typer.Option(None, help="Where to write the model (default: the packaged model folder)."),
    holdout: list[str] = typer.Option(
        [], help="Instead of saving a model: train without these sources (comma-separated group; repeatable) "
        "and report the flag rate on them as JSON."
    ),
) -> None:
    """Train the detector reproducibly (fixed seeds, dev split by id/account hash) and save it."""
    if holdout:
        import json

        from basira.detect.train import TrainConfig, dataset_files, source_holdout

        groups = [[s.strip() for s in g.split(",") if s.strip()] for g in holdout]
        # First stage only: the hold-out study asks what the n-gram model learns from a source's vocabulary.
        report = source_holdout(dataset_files(data), groups, TrainConfig(cascade=False), lambda m: err.print(m))
        print(json.dumps(report, indent=2, ensure_ascii=False))
        return
    from pathlib import Path

    from basira.detect.model import MODEL_DIR
    from basira.detect.train import dataset_files
    from basira.detect.train import train as train_detector

    try:
        result = train_detector(dataset_files(data), progress=lambda m: err.print(m))
    except (InputError, FileNotFoundError) as exc:
        err.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(code=2) from None
    target = Path(out) if out else MODEL_DIR
    result.model.save(target)
    cuts = {"default": result.model.threshold, **result.model.lang_thresholds}
    err.print(f"thresholds {cuts}; model {result.model.version} → {target}")
    for name, c in result.report["by_file"].items():
        err.print(f"  {name:26s} n={c['n']:6d} P={c['precision']} R={c['recall']} F1={c['f1']} flag={c['flag_rate']}")


from basira.network.cli import app as _network_app  # noqa: E402 - after the root app is defined

app.add_typer(_network_app, name="network")


# --- hash banks and matching (basira.signals; docs/hash-matching.md) -------------------------------------------

banks_app = typer.Typer(name="banks", help="Hash banks: create, import, export, sync, list.", no_args_is_help=True)
app.add_typer(banks_app, name="banks")
_BANK_DB_HELP = "Database URL or SQLite path (default: $BASIRA_DB or basira.db)."


def _bank_store(db: str | None):
    from basira.config import settings
    from basira.store import open_store

    return open_store(settings(db).db_url)


def _bank_fail(exc: Exception) -> typer.Exit:
    err.print(f"[bold red]error:[/] {exc}", highlight=False, markup=True)
    return typer.Exit(code=2)


@banks_app.command("create")
def banks_create(
    name: str = typer.Argument(..., help="Bank name."),
    negative: bool = typer.Option(False, "--negative", help="An allow-list: its matches veto positive ones."),
    ratio: float = typer.Option(1.0, "--ratio", min=0.0, max=1.0, help="Share of lookups that consult it."),
    threshold: list[str] = typer.Option([], "--threshold", help="SIGNAL=DISTANCE, e.g. pdq=24; repeatable."),
    description: str = typer.Option("", "--description"),
    db: str | None = typer.Option(None, "--db", help=_BANK_DB_HELP),
) -> None:
    """Create a bank."""
    from basira.store import banks as repo

    try:
        thresholds = {k.strip(): float(v) for k, _, v in (t.partition("=") for t in threshold)}
        with _bank_store(db) as store:
            bank = repo.create_bank(store, name, negative=negative, enabled_ratio=ratio, thresholds=thresholds,
                                    description=description, actor="cli")
    except ValueError as exc:
        raise _bank_fail(exc) from None
    print(f"created bank {bank.name} (id {bank.id})")


@banks_app.command("import")
def banks_import(
    name: str = typer.Argument(..., help="Bank name."),
    files: list[str] = typer.Argument(..., metavar="FILE...", help="Bank files (threatexchange, JSONL, CSV, STIX)."),
    fmt: str | None = typer.Option(None, "--format", help="threatexchange | basira-jsonl | tat-csv | stix."),
    source: str | None = typer.Option(None, "--source", help="Source label for the items (default: file name)."),
    db: str | None = typer.Option(None, "--db", help=_BANK_DB_HELP),
) -> None:
    """Import bank files into a bank."""
    from basira.signals.exchange import read_entries
    from basira.store import banks as repo

    try:
        with _bank_store(db) as store:
            for f in files:
                added, removed = repo.add_entries(store, name, read_entries(f, fmt, source=source), actor="cli",
                                                  note=f"import {f}")
                print(f"{f}: {added} added, {removed} removed")
    except ValueError as exc:
        raise _bank_fail(exc) from None


@banks_app.command("export")
def banks_export(
    name: str = typer.Argument(..., help="Bank name."),
    out: str = typer.Argument(..., metavar="FILE", help="Output file; the format follows its extension."),
    fmt: str | None = typer.Option(None, "--format", help="threatexchange | basira-jsonl | tat-csv | stix."),
    db: str | None = typer.Option(None, "--db", help=_BANK_DB_HELP),
) -> None:
    """Export a bank's items."""
    from basira.signals.exchange import write_entries
    from basira.store import banks as repo

    try:
        with _bank_store(db) as store:
            if repo.get_bank(store, name) is None:
                raise ValueError(f"no bank named {name!r}")
            n = write_entries(out, repo.entries_of(store, name), fmt)
    except ValueError as exc:
        raise _bank_fail(exc) from None
    print(f"wrote {n} items to {out}")


@banks_app.command("sync")
def banks_sync(
    name: str = typer.Argument(..., help="Bank name."),
    source: str = typer.Argument(..., help="A file path or an http(s) URL; resumed from its checkpoint."),
    fmt: str | None = typer.Option(None, "--format", help="threatexchange | basira-jsonl | tat-csv | stix."),
    db: str | None = typer.Option(None, "--db", help=_BANK_DB_HELP),
) -> None:
    """Pull what is new at a source into a bank."""
    from basira.store import banks as repo

    try:
        with _bank_store(db) as store:
            added, removed, full = repo.sync_bank(store, name, source, fmt, actor="cli")
    except ValueError as exc:
        raise _bank_fail(exc) from None
    print(f"{source}: {added} added, {removed} removed ({'full read' if full else 'incremental'})")


@banks_app.command("list")
def banks_list(db: str | None = typer.Option(None, "--db", help=_BANK_DB_HELP)) -> None:
    """List banks with their item counts and settings."""
    from basira.store import banks as repo

    with _bank_store(db) as store:
        for bank, n in repo.list_banks(store):
            kind = "negative" if bank.negative else "positive"
            extra = f" ratio={bank.enabled_ratio:g}" if bank.enabled_ratio < 1 else ""
            th = "".join(f" {k}<={v:g}" for k, v in sorted(bank.thresholds.items()))
            print(f"{bank.name}\t{n} items\t{kind}{extra}{th}")


@app.command("match")
def match_files(
    files: list[str] = typer.Argument(..., metavar="FILE...", help="Images, videos or text files to match."),
    record: bool = typer.Option(False, "--record", help="Save the matches (subject file:<path>)."),
    db: str | None = typer.Option(None, "--db", help=_BANK_DB_HELP),
) -> None:
    """Hash files (MD5, SHA-256, PDQ / vPDQ / text MinHash) and match them against every bank; JSON lines out."""
    import orjson

    from basira.signals.banks import match_files as match_many
    from basira.store import banks as repo

    with _bank_store(db) as store:
        matcher = repo.load_matcher(store)
        # 64 files at a time hashed on both cores, printed as each chunk is matched.
        chunks = ((files[i : i + 64], match_many(matcher, files[i : i + 64])) for i in range(0, len(files), 64))
        for f, results in ((f, r) for names, rs in chunks for f, r in zip(names, rs, strict=True)):
            if record:
                repo.record_matches(store, f"file:{f}", results, monitor=matcher.monitor)
            out = {"file": f, "matched": any(r.matched for r in results),
                   "results": [r.as_dict() for r in results if r.matches or r.vetoed or r.quarantined],
                   "signals": {r.signal_type: r.signal for r in results if r.signal_type != "vpdq"}}
            sys.stdout.write(orjson.dumps(out).decode() + "\n")


users_app = typer.Typer(help="Reviewer accounts and API tokens.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)
review_app = typer.Typer(help="Review workflow utilities.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(audit_app, name="audit")
app.add_typer(review_app, name="review")
_DB_HELP = "Database URL or SQLite path (default: $BASIRA_DB or basira.db)."


def _review_service(db: str | None):
    from basira.config import settings
    from basira.review.service import ReviewService, ReviewSettings, open_review_store

    return ReviewService(open_review_store(settings(db).db_url), ReviewSettings.from_env())


@app.command()
def serve(
    db: str | None = typer.Option(None, "--db", help=_DB_HELP),
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    insecure_cookies: bool = typer.Option(
        False, "--insecure-cookies", help="Send session cookies over plain HTTP (local development only)."
    ),
    workers: int = typer.Option(1, "--workers", help="Server processes (login throttling is per process)."),
) -> None:
    """Run the review web app and REST API (/api/v1, schema at /api/v1/openapi.json)."""
    import uvicorn

    from basira.web.app import create_app

    svc = _review_service(db)  # opens (and migrates) the database once, before any worker starts
    if workers > 1:
        import os

        from basira.config import settings

        os.environ["BASIRA_DB"] = settings(db).db_url
        os.environ["BASIRA_INSECURE_COOKIES"] = "1" if insecure_cookies else "0"
        svc.store.close()
        # Each worker is its own process; webhooks are sent by this one (a DeliveryLoop below), not by workers.
        from basira.review.service import DeliveryLoop

        loop = DeliveryLoop(svc) if svc.settings.webhook_url else None
        if loop:
            loop.start()
        from basira.web.compliance_api import background_loop

        background_loop(svc).start()  # removal-order alerts and the preservation purge: this process only
        uvicorn.run("basira.web.app:app_from_env", factory=True, workers=workers, host=host, port=port,
                    log_level="warning", proxy_headers=True)
        return
    if insecure_cookies:
        from dataclasses import replace

        svc.settings = replace(svc.settings, secure_cookies=False)
    uvicorn.run(create_app(svc, deliver_webhooks=True), host=host, port=port, log_level="warning",
                proxy_headers=True)


@users_app.command("add")
def users_add(
    username: str = typer.Argument(...),
    role: str = typer.Option(..., "--role", help="admin, reviewer, analyst, legal, auditor or platform."),
    db: str | None = typer.Option(None, "--db", help=_DB_HELP),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from stdin."),
) -> None:
    """Add a user (asks for the password unless --password-stdin)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    try:
        _review_service(db).add_user(username, password, role, actor="cli")
    except ValueError as exc:
        err.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(code=2) from None
    err.print(f"added {username} ({role})")


@users_app.command("disable")
def users_disable(username: str = typer.Argument(...), db: str | None = typer.Option(None, "--db", help=_DB_HELP)) -> None:
    """Disable a user: their sessions end and their API tokens are revoked."""
    if not _review_service(db).disable_user(username, actor="cli"):
        err.print(f"[bold red]error:[/] no user {username!r}")
        raise typer.Exit(code=2)
    err.print(f"disabled {username}")


@users_app.command("list")
def users_list(db: str | None = typer.Option(None, "--db", help=_DB_HELP)) -> None:
    """List users and roles."""
    for u in _review_service(db).repo.list_users():
        print(f"{u['username']}\t{u['role']}\t{'disabled' if u['disabled_at'] else 'active'}")


@users_app.command("token")
def users_token(
    username: str = typer.Argument(...),
    name: str = typer.Option("integration", "--name", help="What the token is for."),
    db: str | None = typer.Option(None, "--db", help=_DB_HELP),
) -> None:
    """Create an API token for a user (printed once; only its hash is stored)."""
    try:
        print(_review_service(db).create_token(username, name, actor="cli"))
    except ValueError as exc:
        err.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(code=2) from None


@audit_app.command("verify")
def audit_verify(
    db: str | None = typer.Option(None, "--db", help=_DB_HELP),
    expect_head: str | None = typer.Option(None, "--head", help="Hash the newest entry must have (catches deleted tails)."),
) -> None:
    """Recompute the audit chain; exit 1 if any entry was edited or deleted."""
    svc = _review_service(db)
    ok, bad = svc.store.verify_events()
    last = svc.repo.events(limit=1)
    head = last[0]["hash"] if last else None
    if ok and expect_head and head != expect_head:
        err.print(f"[bold red]audit chain shortened or replaced:[/] head is {head}, expected {expect_head}")
        raise typer.Exit(code=1)
    if not ok:
        err.print(f"[bold red]audit chain broken at entry {bad}[/]: an entry was edited or deleted")
        raise typer.Exit(code=1)
    print(f"audit chain intact: {svc.store.count_events()} entries, head {head}")


@review_app.command("seed")
def review_seed(
    db: str | None = typer.Option(None, "--db", help=_DB_HELP),
    cases: int = typer.Option(30, "--cases", help="How many synthetic (harmless) cases to open."),
    seed: int = typer.Option(7, "--seed"),
) -> None:
    """Open synthetic, harmless cases to try the review app with."""
    from basira.review.demo import seed_cases

    ids = seed_cases(_review_service(db).store, cases, seed)
    err.print(f"opened {len(ids)} synthetic cases")


@review_app.command("deliver")
def review_deliver(db: str | None = typer.Option(None, "--db", help=_DB_HELP)) -> None:
    """Send due webhooks once ($BASIRA_WEBHOOK_URL, $BASIRA_WEBHOOK_SECRET) and print the counts."""
    print(_review_service(db).deliver_due())


def _print_scan_summary(console: Console, s) -> None:
    """The scan summary as Rich tables; texts from the input are printed without markup."""
    from rich.table import Table

    totals = Table(title="Scan summary", show_header=True)
    for col in ("", "total", "new this run"):
        totals.add_column(col, justify="left" if not col else "right")
    totals.add_row("posts", f"{s.posts_total:,}", f"{s.posts_new:,}")
    totals.add_row("accounts", f"{s.accounts_total:,}", f"{s.accounts_new:,}")
    totals.add_row("flagged posts", f"{s.flagged_total:,}", f"{s.flagged_new:,}")
    totals.add_row("open cases", f"{s.cases_open:,}", f"{s.cases_new:,}")
    totals.add_row("hash-bank matches", "", f"{s.hash_matches:,}")
    totals.add_row("malformed records", "", f"{s.error_count:,}")
    console.print(totals)
    if s.by_language:
        langs = Table(title="By language")
        for col in ("language", "posts", "flagged", "flag rate"):
            langs.add_column(col, justify="left" if col == "language" else "right")
        for lang, c in s.by_language.items():
            rate = c["flagged"] / c["posts"] if c["posts"] else 0.0
            langs.add_row(escape(lang), f"{c['posts']:,}", f"{c['flagged']:,}", f"{rate:.1%}")
        console.print(langs)
    if s.by_category:
        cats = Table(title="Flagged posts by category")
        cats.add_column("category")
        cats.add_column("posts", justify="right")
        for cat, n in s.by_category.items():
            cats.add_row(escape(cat), f"{n:,}")
        console.print(cats)
    console.print(
        f"model {escape(s.model_version)} (threshold {s.threshold:.3f}), {s.workers} scoring process(es), "
        f"{s.seconds:.1f} s",
        highlight=False,
    )
    for f in s.skipped_files:
        console.print(f"skipped {f['file']}: {f['reason']}", markup=False, highlight=False)
    for e in s.errors[:20]:
        where = e["file"] if e["line"] is None else f"{e['file']}:{e['line']}"
        console.print(f"malformed: {where}: {e['reason']}", markup=False, highlight=False, style="yellow")
    if s.error_count > 20:
        console.print(f"... and {s.error_count - 20:,} more (see --json)", highlight=False, style="yellow")


def _scan_progress(enabled: bool):
    """Two live counters on stderr: records ingested and posts scored (totals are unknown while streaming)."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TextColumn("{task.completed:,.0f}"),
        TimeElapsedColumn(),
        console=err,
        disable=not enabled,
        transient=False,
    )
    tasks = {
        "ingest": progress.add_task("records ingested", total=None),
        "score": progress.add_task("posts scored", total=None),
    }

    def update(stage: str, done: int, total: int | None) -> None:
        progress.update(tasks[stage], completed=done)

    return progress, update


@app.command()
def scan(
    paths: list[str] = typer.Argument(..., metavar="PATH...", help="Files or folders to scan (folders recursively)."),
    fmt: str = typer.Option("auto", "--format", help="auto, jsonl, csv, x-v2 or telegram (see docs/formats.md)."),
    db: str | None = typer.Option(None, "--db", help="Database URL or SQLite path (default: $BASIRA_DB or ./basira.db)."),
    on_error: str = typer.Option("skip", "--on-error", help="skip: report malformed records and go on; stop: stop at the first."),
    workers: int | None = typer.Option(None, "--workers", min=1, help="Scoring processes (default: both cores for large inputs)."),
    batch_size: int = typer.Option(500, "--batch-size", min=1, help="Posts per scoring batch (one transaction each)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as one JSON object."),
) -> None:
    """Ingest files, score every new post, open a case per flagged post and print a summary."""
    import orjson

    from basira.config import settings
    from basira.scan import scan_paths
    from basira.store import open_store

    if on_error not in ("skip", "stop"):
        err.print("[bold red]error:[/] --on-error must be skip or stop")
        raise typer.Exit(code=2)
    try:
        with open_store(settings(db).db_url) as store:
            progress, update = _scan_progress(enabled=not as_json)
            with progress:
                summary = scan_paths(store, paths, fmt, on_error, workers, update, batch_size=batch_size)
    except InputError as exc:
        raise fail(exc) from None
    if as_json:
        print(orjson.dumps(summary.to_dict()).decode())
    else:
        _print_scan_summary(Console(), summary)
    if summary.stopped:
        e = summary.errors[-1]
        where = e["file"] if e["line"] is None else f"{e['file']}:{e['line']}"
        err.print(f"error: {where}: {e['reason']} (stopped: --on-error stop)", markup=False, highlight=False)
        raise typer.Exit(code=2)


def _print_top_cases(console: Console, cases: list[dict], width: int = 200) -> None:
    """Each case: score, language, categories, author and the post (escaped, truncated), then its evidence."""
    console.print(f"[bold]Top {len(cases)} open cases[/] (highest score first)")
    for c in cases:
        ev = c.get("evidence") or {}
        text = " ".join((c["text"] or "").split())
        if len(text) > width:
            text = text[: width - 1] + "…"
        who = f"@{c['handle']}" if c.get("handle") else (c.get("account_external_id") or "?")
        score = c["score"] if c.get("score") is not None else c["priority"]
        console.print(
            f"[bold]case {c['case_id']}[/]  score [bold]{score:.3f}[/]  {escape(str(ev.get('lang', '?')))}  "
            f"[magenta]{escape(', '.join(c.get('categories') or []))}[/]  "
            f"{escape(c['platform'])} post {escape(c['post_external_id'])} by {escape(who)}",
            highlight=False,
        )
        console.print(Text("    " + text))
        whys = list(dict.fromkeys(s["why"] for s in ev.get("spans") or []))[:4]
        if whys:
            console.print(Text("    evidence: " + "; ".join(whys), style="dim"))


@app.command()
def demo(
    accounts: int = typer.Option(2000, "--accounts", min=50, help="Accounts on the simulated platform."),
    seed: int = typer.Option(7, "--seed", help="Random seed of the simulated platform."),
    out: str = typer.Option("demo-platform", "--out", help="Where to write the simulated platform."),
    db: str = typer.Option("basira.db", "--db", help="SQLite file to scan into (a demo database is replaced)."),
) -> None:
    """The main job end to end: simulate a platform, scan it into SQLite, show the summary and top cases."""
    from pathlib import Path

    from basira.scan import scan_paths
    from basira.simulate import simulate_platform
    from basira.store import open_store

    console = Console()
    target = Path(db)
    marker = target.with_name(target.name + ".demo")  # says: this database was made by `basira demo`
    if target.exists() and not marker.exists():
        target = Path(out) / "basira.db"
        marker = target.with_name(target.name + ".demo")
        console.print(
            f"{db} exists and was not made by the demo: leaving it alone; the demo uses {target} instead.",
            markup=False,
            highlight=False,
        )
    if target.exists() and not marker.exists():
        err.print(f"error: {target} exists and was not made by the demo; remove it or pass --db", markup=False)
        raise typer.Exit(code=2)
    for p in (target, target.with_name(target.name + "-wal"), target.with_name(target.name + "-shm")):
        p.unlink(missing_ok=True)
    console.rule("[bold]1. Simulate a platform")
    s = simulate_platform(accounts, seed, out)
    console.print(
        f"{s.accounts:,} accounts, {s.tweets:,} tweets ({s.positive_tweets:,} propaganda by the ground truth) "
        f"in {s.out_dir} ({s.seconds:.1f} s)",
        highlight=False,
    )
    console.rule("[bold]2. Scan it")
    console.print(f"basira scan {out} --db {target}", markup=False, highlight=False)
    target.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text("Made by `basira demo`; the next `basira demo` replaces this database.\n")
    with open_store(str(target)) as store:
        progress, update = _scan_progress(enabled=True)
        with progress:
            summary = scan_paths(store, [out], progress=update)
        _print_scan_summary(console, summary)
        console.rule("[bold]3. Top cases")
        _print_top_cases(console, store.top_cases(10))
    console.rule("[bold]Next")
    db_arg = escape(str(target))
    console.print(
        f"- Review the cases in the web app: [bold]basira users add alice --role reviewer --db {db_arg}[/], then "
        f"[bold]basira serve --db {db_arg}[/] and open http://127.0.0.1:8000\n"
        f"- Map the networks behind them: [bold]basira network communities --db {db_arg}[/] "
        f"(and actors, returning, coordinated)\n"
        f"- Scan your own data: [bold]basira scan PATH... --db {db_arg}[/] (formats: docs/formats.md); "
        f"a second scan adds nothing, a killed scan resumes where it stopped\n"
        f"- Match known content: [bold]basira banks create NAME[/] and [bold]basira banks import NAME FILE[/], then "
        f"scan again (docs/hash-matching.md)\n"
        f"- Comply: removal orders at /orders in the web app or [bold]basira orders import FILE --db {db_arg}[/]; "
        f"[bold]basira report transparency --from D --to D --db {db_arg}[/] (docs/compliance.md, docs/reports.md)\n"
        f"- Measure the detector on labelled data: [bold]basira eval FILE.jsonl[/] (docs/model-card.md)\n"
        f"- Ground truth of this platform: {escape(out)}/ground_truth.json; speed and memory: docs/benchmarks.md",
        highlight=False,
    )


from basira.compliance.evidence_cli import app as _evidence_app  # noqa: E402

app.add_typer(_evidence_app, name="evidence")
from basira.compliance.report_cli import app as _report_app  # noqa: E402

app.add_typer(_report_app, name="report")
from basira.compliance.cli import complaints_app, compliance_app, orders_app  # noqa: E402

app.add_typer(orders_app, name="orders")
app.add_typer(compliance_app, name="compliance")
app.add_typer(complaints_app, name="complaints")


def main() -> None:  # pragma: no cover - entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
