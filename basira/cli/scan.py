"""`basira scan | demo`: the main job end to end (basira.scan) and its summary tables."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.text import Text

from basira.cli._common import err, fail
from basira.core.errors import InputError

if TYPE_CHECKING:
    from basira.cases.records import TopCase


def _print_returning(console: Console, store, top: int = 10) -> None:
    """Likely returning accounts (new accounts matched to a suspended one) with the evidence for each."""
    from basira.network.analysis import returning_accounts, returning_summary
    from basira.network.load import load_network_data

    data = load_network_data(store)
    rows = [returning_summary(data, m) for m in returning_accounts(data) if m.likely]
    rows.sort(key=lambda r: -r["candidates"][0]["score"])
    gone = sum(1 for a in data.accounts if a.gone)
    console.print(f"{len(rows):,} likely returning accounts among {gone:,} suspended or removed "
                  f"(basira network returning; top {min(top, len(rows))}):", highlight=False)
    for r in rows[:top]:
        c = r["candidates"][0]
        console.print(Text(f"  @{r['handle']} was @{c['handle']} ({c['status']}), score {c['score']:.3f}",
                           style="bold"))
        console.print(Text("    " + "; ".join(c["evidence"]), style="dim"))


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


def cluster_progress(enabled: bool):
    """A bar per stage of a cluster run: ingest, score, then match (hash pass) tasks; their totals are known."""
    from basira.cli._common import progress_bar

    progress = progress_bar(enabled)
    tasks: dict[str, int] = {}

    def update(stage: str, done: int, total: int | None) -> None:
        if stage not in tasks:
            tasks[stage] = progress.add_task(f"{stage} tasks", total=total)
        progress.update(tasks[stage], completed=done, total=total)

    return progress, update


def scan(
    paths: list[str] = typer.Argument(..., metavar="PATH...", help="Files or folders to scan (folders recursively)."),
    fmt: str = typer.Option("auto", "--format", help="auto, jsonl, csv, x-v2 or telegram (see docs/formats.md)."),
    db: str | None = typer.Option(None, "--db", help="Database URL or SQLite path (default: $BASIRA_DB or ./basira.db)."),
    on_error: str = typer.Option("skip", "--on-error", help="skip: report malformed records and go on; stop: stop at the first."),
    workers: int | None = typer.Option(None, "--workers", min=1, help="Scoring processes (default: both cores for large inputs)."),
    batch_size: int = typer.Option(500, "--batch-size", min=1, help="Posts per scoring batch (one transaction each)."),
    platform: str | None = typer.Option(None, "--platform", help="Platform of generic records that name none (minimal {id, text} lines)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as one JSON object."),
    cluster: str | None = typer.Option(None, "--cluster", metavar="ADDRESS",
                                       help="Run on a Dask cluster: tcp://host:8786 or a scheduler file "
                                            "(default: $BASIRA_DASK_SCHEDULER; PostgreSQL only; docs/deploy.md)."),
    local: bool = typer.Option(False, "--local", help="Scan on this machine even when BASIRA_DASK_SCHEDULER is set."),
) -> None:
    """Ingest files, score every new post, open a case per flagged post and print a summary."""
    import orjson

    from basira.core.settings import settings
    from basira.scan import scan_paths
    from basira.store import open_store

    if on_error not in ("skip", "stop"):
        err.print("[bold red]error:[/] --on-error must be skip or stop")
        raise typer.Exit(code=2)
    try:
        s = settings(db)  # a bad BASIRA_* value is an InputError naming the variable: exit 2
    except InputError as exc:
        raise fail(exc) from None
    address = None if local else (cluster or s.dask_scheduler)
    try:
        with open_store(s.db_url) as store:
            if address:
                from basira.cluster.client import cluster_scan, require_postgresql

                require_postgresql(store)
                progress, update = cluster_progress(enabled=not as_json)
                with progress:
                    summary = cluster_scan(store, s.db_url, address, paths, fmt, on_error, update,
                                           batch_size=batch_size, platform=platform, settings=s)
            else:
                progress, update = _scan_progress(enabled=not as_json)
                with progress:
                    summary = scan_paths(
                        store, paths, fmt, on_error, workers, update, batch_size=batch_size, platform=platform
                    )
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
    if summary.error_count:  # bad input exits 2 (house rule), even when the good records were scanned and kept
        for e in summary.errors[:20] if as_json else ():  # the text summary has listed them already
            where = e["file"] if e["line"] is None else f"{e['file']}:{e['line']}"
            err.print(f"malformed: {where}: {e['reason']}", markup=False, highlight=False, soft_wrap=True)
        err.print(f"error: {summary.error_count:,} malformed records skipped; the rest is scanned and stored. Fix "
                  "them and scan again (nothing is added twice)", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(code=2)


def _print_top_cases(console: Console, cases: list[TopCase], width: int = 200) -> None:
    """Each case: score, language, categories, author and the post (escaped, truncated), then its evidence."""
    console.print(f"[bold]Top {len(cases)} open cases[/] (highest priority first)")
    for c in cases:
        ev = c.evidence or {}
        text = " ".join((c.text or "").split())
        if len(text) > width:
            text = text[: width - 1] + "…"
        who = f"@{c.handle}" if c.handle else (c.account_external_id or "?")
        score = c.score if c.score is not None else c.priority
        console.print(
            f"[bold]case {c.case_id}[/]  score [bold]{score:.3f}[/]  {escape(str(ev.get('lang', '?')))}  "
            f"[magenta]{escape(', '.join(c.categories or []))}[/]  "
            f"{escape(c.platform)} post {escape(c.post_external_id)} by {escape(who)}",
            highlight=False,
        )
        console.print(Text("    " + text))
        whys = list(dict.fromkeys(s["why"] for s in ev.get("spans") or []))[:4]
        if whys:
            console.print(Text("    evidence: " + "; ".join(whys), style="dim"))


def _basira_command() -> str:
    """How to run basira from here: the virtualenv's script when it is not on PATH (e.g. `.venv/bin/basira`)."""
    import os
    import shutil
    import sys
    from pathlib import Path

    script = Path(sys.executable).parent / "basira"
    if script.exists() and shutil.which("basira") != str(script):
        try:
            return os.path.relpath(script)
        except ValueError:
            return str(script)
    return "basira"


def _review_work(path: Any) -> dict[str, int]:
    """How many users, decisions and audit entries a database holds; zeros when unreadable."""
    import sqlite3

    out = {"users": 0, "decisions": 0, "events": 0}
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            for key, sql in (("users", "SELECT count(*) FROM users"), ("decisions", "SELECT count(*) FROM decisions"),
                             ("events", "SELECT count(*) FROM events")):
                try:
                    out[key] = int(con.execute(sql).fetchone()[0])
                except sqlite3.Error:
                    pass
        finally:
            con.close()
    except sqlite3.Error:
        pass
    return out


def demo(
    accounts: int = typer.Option(2000, "--accounts", min=50, help="Accounts on the simulated platform."),
    seed: int = typer.Option(7, "--seed", help="Random seed of the simulated platform."),
    out: str = typer.Option("demo-platform", "--out", help="Where to write the simulated platform."),
    db: str = typer.Option("basira.db", "--db", help="SQLite file to scan into (a demo database is replaced)."),
    fresh: bool = typer.Option(False, "--fresh", help="Replace the demo database even if it holds review work "
                               "(users, decisions, audit entries)."),
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
    work = _review_work(target) if target.exists() else {}
    if (work.get("users") or work.get("decisions")) and not fresh:  # reviewers' users, decisions and audit chain are never wiped silently
        console.print(f"{target} holds review work ({work['users']} users, {work['decisions']} decisions, "
                      f"{work['events']} audit entries): keeping it and scanning into it again (nothing is added "
                      "twice); pass --fresh to start over.", markup=False, highlight=False)
    else:
        if work.get("users") or work.get("decisions"):
            console.print(f"--fresh: replacing {target} and its review work.", markup=False, highlight=False)
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
            # The platform's files, not its ground_truth.json: that is the answer key, not input to scan.
            files = [str(f) for f in sorted(Path(out).rglob("*")) if f.is_file() and f.name != "ground_truth.json"]
            summary = scan_paths(store, files, progress=update)
        _print_scan_summary(console, summary)
        console.rule("[bold]3. Top cases")
        # imported here, not at the top: every command (classify…) imports this module, and cases brings the store
        from basira.cases.views import top_cases

        _print_top_cases(console, top_cases(store, 10))
        console.rule("[bold]4. Returning accounts")
        _print_returning(console, store)
    console.rule("[bold]Next")
    db_arg = escape(str(target))
    exe = escape(_basira_command())
    console.print(
        f"- Review the cases in the web app: [bold]{exe} users add alice --role reviewer --db {db_arg}[/] (it asks "
        f"for a password of 12+ characters), then [bold]{exe} serve --insecure-cookies --db {db_arg}[/], open "
        f"http://localhost:8000/login and log in as alice with that password\n"
        f"- Map the networks behind them: [bold]{exe} network communities --db {db_arg}[/] "
        f"(and actors, returning, coordinated)\n"
        f"- Scan your own data: [bold]{exe} scan PATH... --db {db_arg}[/] (formats: docs/formats.md); "
        f"a second scan adds nothing, a killed scan resumes where it stopped\n"
        f"- Match known content: [bold]{exe} banks create NAME[/] and [bold]{exe} banks import NAME FILE[/], then "
        f"scan again (docs/hash-matching.md)\n"
        f"- Comply: removal orders at /orders in the web app or [bold]{exe} orders import FILE --db {db_arg}[/]; "
        f"[bold]{exe} report transparency --from D --to D --db {db_arg}[/] (docs/compliance.md, docs/reports.md)\n"
        f"- Measure the detector on labelled data: [bold]{exe} eval FILE.jsonl[/] (docs/model-card.md)\n"
        f"- Ground truth of this platform: {escape(out)}/ground_truth.json; speed and memory: docs/benchmarks.md",
        highlight=False,
    )
