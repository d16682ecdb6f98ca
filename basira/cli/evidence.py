"""`basira evidence keygen|export|verify`: a thin face over basira.compliance.evidence (docs/evidence.md)."""

from __future__ import annotations

import getpass
import os

import typer
from rich.markup import escape

from basira.cli._common import DB_HELP, err
from basira.core.settings import Settings

app = typer.Typer(name="evidence", help="Signed evidence packages for investigators: keygen, export, verify.",
                  no_args_is_help=True)
DB = typer.Option(None, "--db", help=DB_HELP)


def _bad(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code=2)


def _store(db: str | None):
    """The store, never created: `export` needs its subject there and `verify --db` its audit chain, so a missing
    SQLite file is `error: --db ...: no database at ...` and exit 2 (their one write, the audit entry that logs
    the export or verification, is only ever added to a database that exists)."""
    from basira.core.settings import settings
    from basira.store import open_store

    return open_store(settings(db).db_url, create=False)


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


@app.command()
def keygen(out: str = typer.Option(..., "--out", help="Directory for basira-evidence.key (0600) and .pub."),
           force: bool = typer.Option(False, "--force", help="Replace a key pair already there.")) -> None:
    """Create an Ed25519 signing key pair; hand the .pub (and its fingerprint) to investigators."""
    from basira.compliance import signing

    try:
        paths = signing.generate_keypair(out, overwrite=force)
    except (signing.SigningKeyError, OSError) as exc:
        raise _bad(str(exc)) from None
    fp = signing.fingerprint(signing.load_public_key(paths.public))
    print(f"private key {paths.private} (keep it secret; mode 0600)\npublic key  {paths.public}\n"
          f"fingerprint {fp}")


@app.command()
def export(
    ref: str = typer.Argument(..., metavar="case:ID|account:ID|account:@HANDLE|account:PLATFORM/ID|community:N"),
    out: str = typer.Option(..., "--out", help="X.zip for one zip file, any other name for a directory."),
    key: str | None = typer.Option(None, "--key", help="Ed25519 private key (PEM); default $BASIRA_SIGNING_KEY."),
    exporter: str | None = typer.Option(None, "--exporter", help="Who exports (logged; default: the OS user)."),
    db: str | None = DB,
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Export a signed evidence package; the export is logged in the audit chain (chain of custody)."""
    import orjson

    from basira.compliance import signing
    from basira.compliance.evidence import PackageError, export_package
    from basira.compliance.evidence_data import SubjectError

    key_path = key or Settings.from_env().signing_key
    if not key_path:
        raise _bad("--key: no signing key (give --key or set BASIRA_SIGNING_KEY; create one with "
                   "`basira evidence keygen`)")
    try:
        private = signing.load_private_key(key_path)
    except signing.SigningKeyError as exc:
        raise _bad(f"--key: {exc}") from None
    store = _store(db)
    try:
        r = export_package(store, ref, out, private, exporter=exporter or _user())
    except (SubjectError, PackageError) as exc:
        raise _bad(str(exc)) from None
    finally:
        store.close()
    res = {"package": str(r.path), "subject": r.subject, "manifest_sha256": r.manifest_sha256, "files": r.files,
           "bytes": r.bytes, "event_id": r.event_id, "counts": r.counts}
    if as_json:
        print(orjson.dumps(res, option=orjson.OPT_INDENT_2).decode())
        return
    c = r.counts
    print(f"exported {r.subject} → {r.path} ({r.files} files, {r.bytes:,} bytes): {c['posts']} posts, "
          f"{c['accounts']} accounts, {c['cases']} cases, {c['decisions']} decisions, {c['events']} log entries\n"
          f"manifest sha256 {r.manifest_sha256}; logged as event {r.event_id} (evidence.exported)")


@app.command()
def verify(
    package: str = typer.Argument(..., metavar="PACKAGE", help="A package zip or directory."),
    public_key: str | None = typer.Option(None, "--public-key", help="The exporter's public key (PEM), obtained "
                                          "separately. Without it only integrity is checked, not origin."),
    db: str | None = typer.Option(None, "--db", help="Also check the audit excerpt against this database's chain "
                                  "and log the verification there."),
    verifier: str | None = typer.Option(None, "--verifier", help="Who verifies (logged with --db)."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Check the signature and every file's SHA-256; name each file changed, added or removed.
    Exit 0 intact, 1 tampered, 2 bad input."""
    import orjson

    from basira.compliance import signing
    from basira.compliance.evidence import (
        PackageError,
        check_against_chain,
        excerpt_hashes,
        read_package,
        sha256,
        verify_entries,
    )

    try:
        pub = signing.load_public_key(public_key) if public_key else None
        entries = read_package(package)
    except (signing.SigningKeyError, PackageError) as exc:
        raise _bad(str(exc)) from None
    v = verify_entries(entries, pub)
    if db is not None:
        from basira.compliance.evidence_data import chain_hashes

        store = _store(db)
        try:
            v.problems.extend(check_against_chain(entries, chain_hashes(store, list(excerpt_hashes(entries)))))
            intact, bad = store.verify_events()
            if not intact:
                v.warnings.append(f"this database's audit chain is broken at entry {bad}")
            m = v.manifest or {}
            store.append_event("evidence.verified", {
                "package": os.path.basename(os.path.normpath(package)), "ok": v.ok,
                "manifest_sha256": sha256(entries["manifest.json"]) if "manifest.json" in entries else None,
                "problems": [str(p) for p in v.problems][:50], "key_source": v.key_source,
                "key_fingerprint": v.key_fingerprint,
            }, actor=verifier or _user(), subject=(m.get("subject") or {}).get("ref"))
        finally:
            store.close()
    if as_json:
        print(orjson.dumps(v.as_dict(), option=orjson.OPT_INDENT_2).decode())
    else:
        for w in v.warnings:
            err.print(f"[yellow]warning:[/] {escape(w)}", highlight=False, soft_wrap=True)
        m = v.manifest or {}
        if v.ok:
            print(f"package intact: {(m.get('subject') or {}).get('ref')} exported {m.get('exported_at')} by "
                  f"{m.get('exporter')}; {len(m.get('files') or [])} files match the manifest; signature valid "
                  f"({'given' if v.key_source == 'given' else 'embedded, origin NOT verified'} key {v.key_fingerprint})")
        else:
            print(f"package TAMPERED or incomplete: {len(v.problems)} problem(s)")
            for p in v.problems:
                print(f"  {p}")
    raise typer.Exit(code=0 if v.ok else 1)
