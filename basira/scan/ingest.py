"""The scan's ingest step: one Part (a whole file, or a byte range of one) into the store, with its checkpoint.
The local scan runs it per file in a thread; a cluster scan runs it per part on the Dask workers."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from basira.core.errors import InputError
from basira.ingest import ingest_file
from basira.ingest.clean import ReadOptions
from basira.ingest.runner import fingerprint
from basira.scan.resolve import Part

if TYPE_CHECKING:
    from basira.store import Store

__all__ = ["PartResult", "ingest_part", "mark_file_done", "records_done"]

ERRORS_PER_PART = 1000  # malformed-record reports a part returns (a cluster ships them to the client)


@dataclass
class PartResult:
    file: str
    format: str
    start: int | None = None
    posts_new: int = 0
    posts_seen: int = 0
    accounts_new: int = 0
    records_skipped: int = 0
    error_count: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)  # {file, line, field, reason}
    failure: InputError | None = None  # the rest of the part was unreadable, or on_error="stop" met a bad record
    completed: bool = False


def ingest_part(store: Store, part: Part, options: ReadOptions | None, on_error: str = "skip") -> PartResult:
    """Ingest one part, resumably (a re-run goes on after its last committed batch). A byte range is copied
    to a local file first and checkpointed under `source#bytes=start-end`."""
    out = PartResult(part.path, part.format, part.start)
    tmp = None
    try:
        if not part.is_range:
            res = ingest_file(store, part.path, part.format, on_error=on_error, options=options)
        else:
            assert part.start is not None and part.end is not None and part.source and part.fingerprint
            fd, tmp = tempfile.mkstemp(suffix=Path(part.path).suffix or ".jsonl", prefix="basira-part-")
            with os.fdopen(fd, "wb") as dst, open(part.path, "rb") as src:
                src.seek(part.start)
                left = part.end - part.start
                while left > 0:
                    buf = src.read(min(left, 1 << 20))
                    if not buf:
                        break
                    dst.write(buf)
                    left -= len(buf)
            key = f"{part.source}#bytes={part.start}-{part.end}"
            res = ingest_file(store, tmp, part.format, on_error=on_error, options=options,
                              part_of=(key, part.fingerprint, part.line_offset))
    except InputError as exc:
        out.failure = exc
        return out
    finally:
        if tmp:
            os.unlink(tmp)
    out.format = res.format
    out.posts_new, out.posts_seen, out.accounts_new = res.posts_new, res.posts_seen, res.accounts_new
    out.records_skipped, out.error_count = res.records_skipped, res.error_count
    out.errors, out.completed = res.errors[:ERRORS_PER_PART], res.completed
    return out


def mark_file_done(store: Store, path: str, fmt: str, options: ReadOptions | None, posts_seen: int) -> None:
    """The whole-file checkpoint of a file ingested in byte ranges, so a re-scan skips it unread."""
    from basira.ingest.repository import Checkpoint, save_checkpoint

    src = str(Path(path).resolve())
    with store.transaction() as tx:
        save_checkpoint(tx, Checkpoint(src, fingerprint(Path(src), options), fmt, posts_seen, True))


def records_done(store: Store, source: str | None) -> int:
    if source is None:
        return 0
    from basira.ingest.repository import get_checkpoint

    cp = get_checkpoint(store, source)
    return cp.records_done if cp else 0
