"""ingest_file: stream a file into the store in batches, resumably and idempotently."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from basira.core.errors import InputError
from basira.core.killpoints import pause, pause_point
from basira.ingest.base import detect_format, get_format
from basira.ingest.clean import ReadOptions, clean_record
from basira.ingest.records import AccountRecord, FollowRecord, PostRecord

if TYPE_CHECKING:  # basira.store imports basira.ingest.records: import it lazily
    from basira.store import Store

MAX_ERRORS_KEPT = 1000
# Test hook for the resume-after-kill test: "after:N" or "inside:N" pauses (for a SIGKILL) once batch N
# has committed, or while batch N is written but not yet committed.
_PAUSE_ENV = "BASIRA_INGEST_TEST_PAUSE"


@dataclass
class IngestResult:
    file: str
    format: str
    posts_new: int = 0
    posts_seen: int = 0
    accounts_new: int = 0
    accounts_seen: int = 0
    follows_new: int = 0
    records_skipped: int = 0  # already ingested by an earlier, interrupted run
    error_count: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)  # {file, line, field, reason}; first 1,000
    completed: bool = False


def fingerprint(path: Path, options: ReadOptions | None = None) -> str:
    """size:mtime_ns, and the default platform when one is given: records that lacked a platform on an
    earlier run are read again when --platform supplies it."""
    st = path.stat()
    fp = f"{st.st_size}:{st.st_mtime_ns}"
    if options is not None and options.default_platform:
        fp += f":platform={options.default_platform}"[:64]
    return fp


def _records(fmt_obj: Any, path: str, options: ReadOptions) -> Any:
    """The format's records, each cleaned and bounded for the store (basira.ingest.clean); a record that
    cannot be stored as given becomes its InputError. An exception the format did not foresee on one record
    ends the file as an InputError naming where it was, never a traceback."""
    line: int | None = None
    try:
        for line, item in fmt_obj.iter_records(path, options):
            if not isinstance(item, InputError):
                try:
                    item = clean_record(item, options)
                except InputError as exc:
                    item = exc
            yield line, item
    except InputError:
        raise
    except (TypeError, ValueError, AttributeError, KeyError, OverflowError, RecursionError) as exc:
        raise InputError(
            path, line, None, f"cannot read on after this record ({type(exc).__name__}: {str(exc)[:200]})"
        ) from None


def ingest_file(
    store: Store,
    path: str,
    fmt: str = "auto",
    on_error: str = "skip",
    batch_size: int = 1000,
    options: ReadOptions | None = None,
    part_of: tuple[str, str, int] | None = None,
) -> IngestResult:
    """Ingest one file. Each batch and the file's checkpoint commit together, so a re-run after a crash
    resumes after the last committed batch, and a re-run of a finished file stores nothing new.

    on_error="skip" records malformed records in the result and goes on; "stop" raises the first as an
    InputError (after committing the good records before it). Errors that make the rest of the file
    unreadable (cannot open, unknown format, broken JSON structure) always raise. `options`: record bounds
    and the default platform (ReadOptions.from_settings() when not given). `part_of`: (checkpoint key,
    fingerprint, line offset) when `path` holds one byte range of a larger file (a cluster scan's task,
    basira.cluster): the range resumes under that key, and records and errors name the larger file and its
    line numbers.
    """
    from basira.ingest.repository import Checkpoint, get_checkpoint, ingest_batch

    if on_error not in ("skip", "stop"):
        raise ValueError("on_error must be 'skip' or 'stop'")
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    p = Path(path)
    if not p.exists():
        raise InputError(path, None, None, "no such file")
    fmt_obj = detect_format(path) if fmt == "auto" else get_format(fmt)
    options = options or ReadOptions.from_settings()
    source = str(p.resolve())
    fp = fingerprint(p, options)
    origin, offset = path, 0
    if part_of is not None:
        source, fp, offset = part_of
        origin = source.split("#", 1)[0]
    done = 0
    previous = get_checkpoint(store, source)
    if previous is not None and previous.fingerprint == fp and previous.format == fmt_obj.name:
        done = previous.records_done
    result = IngestResult(file=path, format=fmt_obj.name)
    hook = pause_point(_PAUSE_ENV)
    accounts: list[AccountRecord] = []
    posts: list[PostRecord] = []
    follows: list[FollowRecord] = []
    seq = 0
    batches = 0

    def flush(completed: bool) -> None:
        nonlocal batches
        batches += 1
        inside = (lambda: pause("basira-ingest")) if hook and hook == ("inside", batches) else None
        cp = Checkpoint(source, fp, fmt_obj.name, max(seq, done), completed)
        if follows:
            # Idempotent, so committing them just before the batch's checkpoint keeps resume exact.
            from basira.ingest.repository import add_follows

            with store.transaction() as tx:
                result.follows_new += add_follows(tx, follows)
            follows.clear()
        with store.transaction() as tx:
            posts_new, accounts_new = ingest_batch(tx, accounts, posts, cp)
            if inside is not None:
                inside()
        result.posts_new += posts_new
        result.accounts_new += accounts_new
        accounts.clear()
        posts.clear()
        if hook and hook == ("after", batches):
            pause("basira-ingest")

    try:
        for _line, item in _records(fmt_obj, path, options):
            if part_of is not None:
                if isinstance(item, InputError):
                    item.file, item.line = origin, None if item.line is None else item.line + offset
                else:
                    item.source_file = origin
                    if item.source_line is not None:
                        item.source_line += offset
            seq += 1
            if seq <= done:
                result.records_skipped += 1
                continue
            if isinstance(item, InputError):
                if on_error == "stop":
                    seq -= 1  # the bad record is not done: a re-run after fixing the file starts over anyway
                    if accounts or posts or follows:
                        flush(False)
                    raise item
                result.error_count += 1
                if len(result.errors) < MAX_ERRORS_KEPT:
                    result.errors.append(
                        {"file": item.file, "line": item.line, "field": item.field, "reason": item.reason}
                    )
                continue
            if isinstance(item, PostRecord):
                posts.append(item)
                result.posts_seen += 1
            elif isinstance(item, FollowRecord):
                follows.append(item)
            else:
                accounts.append(item)
                result.accounts_seen += 1
            if len(posts) + len(accounts) + len(follows) >= batch_size:
                flush(False)
    except InputError:
        # The rest of the file is unreadable: keep the good records read before the break.
        if accounts or posts or follows:
            flush(False)
        raise
    flush(True)
    result.completed = True
    store.append_event(
        "ingest.completed",
        {
            "file": source,
            "format": fmt_obj.name,
            "fingerprint": fp,
            "posts_new": result.posts_new,
            "posts_seen": result.posts_seen,
            "accounts_new": result.accounts_new,
            "records_skipped": result.records_skipped,
            "errors": result.error_count,
        },
        actor="ingest",
        subject=f"file:{source}",
    )
    return result
