"""The ingest format seam: one small class per format, found through a registry."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

import ijson
import orjson

from basira.core.errors import InputError
from basira.ingest.clean import ReadOptions
from basira.ingest.records import AccountRecord, FollowRecord, PostRecord

HEAD_BYTES = 64 * 1024

# A format yields (line, record) pairs. A malformed record is yielded as an InputError so the caller can
# skip it and go on; an error that makes the rest of the file unreadable is raised instead.
Item = tuple[int | None, AccountRecord | PostRecord | FollowRecord | InputError]


# What a record of a shape no check foresaw raises; the formats turn it into that record's InputError.
MALFORMED = (TypeError, ValueError, AttributeError, KeyError, OverflowError, RecursionError)


def malformed(path: str, line: int | None, field: str | None, exc: BaseException) -> InputError:
    return InputError(path, line, field, f"malformed: {type(exc).__name__}: {str(exc)[:200]}")


class IngestFormat(ABC):
    name: ClassVar[str]
    description: ClassVar[str] = ""

    @abstractmethod
    def sniff(self, path: str, head: bytes) -> bool:
        """True when the file's first bytes look like this format."""

    @abstractmethod
    def iter_records(self, path: str, options: ReadOptions | None = None) -> Iterator[Item]:
        """Stream the file's accounts and posts, never holding the whole file in memory (nor a record longer
        than `options.max_record_bytes`)."""


FORMATS: dict[str, IngestFormat] = {}


def register(cls: type[IngestFormat]) -> type[IngestFormat]:
    FORMATS[cls.name] = cls()
    return cls


def _load_builtin() -> None:
    from basira.ingest import csv_format, follows, jsonl, telegram, x_v2  # noqa: F401 - registers the formats


def get_format(name: str) -> IngestFormat:
    _load_builtin()
    try:
        return FORMATS[name]
    except KeyError:
        raise InputError(
            "<format>", None, "format", f"unknown format {name!r}; known: {', '.join(sorted(FORMATS))}"
        ) from None


def read_head(path: str, size: int = HEAD_BYTES) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read(size)
    except OSError as exc:
        raise InputError(path, None, None, f"cannot open: {exc.strerror or exc}") from exc


def detect_format(path: str) -> IngestFormat:
    """The one format whose sniff accepts the file; InputError naming the candidates otherwise."""
    _load_builtin()
    if Path(path).is_dir():
        raise InputError(
            path, None, None, "is a directory; give the file (for Telegram exports, result.json)"
        )
    head = read_head(path)
    if not head.strip():
        raise InputError(path, None, None, "empty file")
    hits = [f for f in FORMATS.values() if f.sniff(path, head)]
    if len(hits) == 1:
        return hits[0]
    names = ", ".join(sorted(FORMATS))
    if not hits:
        raise InputError(
            path, None, None, f"cannot tell the input format; candidates: {names} (pass --format NAME)"
        )
    raise InputError(
        path,
        None,
        None,
        f"ambiguous input format: looks like {', '.join(f.name for f in hits)} (pass --format NAME)",
    )


def strip_bom(head: bytes) -> bytes:
    return head[3:] if head.startswith(b"\xef\xbb\xbf") else head


def first_line(head: bytes) -> bytes:
    """The first non-blank line of the head (possibly cut short if longer than the head)."""
    for line in strip_bom(head).splitlines():
        if line.strip():
            return line.strip()
    return b""


def first_line_cut(head: bytes) -> bool:
    """True when the head ends inside its first non-blank line (a first line longer than the head)."""
    body = strip_bom(head).lstrip(b" \t\r\n")
    return len(head) >= HEAD_BYTES and b"\n" not in body


class Container:
    """Stands for a list or object value in `first_object`."""

    def __repr__(self) -> str:
        return "<container>"


CONTAINER = Container()


@lru_cache(maxsize=8)
def first_object(path: str, head: bytes) -> dict[str, Any] | None:
    """The first line when it is a JSON object, else None. When the line is longer than the head, only its
    top-level fields are read ({key: value}, lists and objects as CONTAINER, long strings cut). A first line longer than the head is read streaming, so a post with a 50 MB
    text on line 1 is recognised without `--format` and without holding the line."""
    line = first_line(head)
    if not line.startswith(b"{"):
        return None
    if not first_line_cut(head):
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError:
            return None
        return obj if isinstance(obj, dict) else None
    out: dict[str, Any] = {}
    try:
        with open(path, "rb") as fh:
            if fh.read(3) != b"\xef\xbb\xbf":
                fh.seek(0)
            for prefix, event, value in ijson.parse(fh, multiple_values=True):
                if prefix == "" and event == "end_map":
                    return out
                if prefix == "" or "." in prefix:
                    continue
                if event in ("start_map", "start_array"):
                    out[prefix] = CONTAINER
                elif event in ("string", "number", "boolean", "null"):
                    out[prefix] = value if not isinstance(value, str) or len(value) < 256 else "..."
    except (OSError, ijson.JSONError, UnicodeDecodeError):
        return out or None
    return out or None


def looks_twarc(obj: dict[str, Any] | None) -> bool:
    """One tweet per line as `twarc2 flatten` writes it: the tweet with its expansions inlined (`author`,
    `__twarc`, ...), no response wrapper."""
    if obj is None or {"data", "includes"} & obj.keys() or "platform" in obj:
        return False
    if "id" not in obj or "text" not in obj:
        return False
    return bool({"__twarc", "author", "author_id", "edit_history_tweet_ids"} & obj.keys())


@dataclass(frozen=True)
class LongLine:
    """A line longer than the record limit: skipped unread (its length only), reported by the format."""

    size: int

    def error(self, path: str, line: int, limit: int) -> InputError:
        return InputError(
            path,
            line,
            None,
            f"record too long: {self.size:,} bytes (the limit is {limit:,}; BASIRA_MAX_RECORD_BYTES); skipped",
        )


def iter_lines(fh: BinaryIO, max_bytes: int) -> Iterator[tuple[int, bytes | LongLine]]:
    """(line number, line with its ending) of a binary file; a line over `max_bytes` comes as a LongLine and
    is skipped in 1 MiB steps, so a 50 MB line never sits in memory."""
    lineno = 0
    while True:
        raw = fh.readline(max_bytes + 1)
        if not raw:
            return
        lineno += 1
        if len(raw) > max_bytes and not raw.endswith(b"\n"):
            size = len(raw)
            del raw
            while True:
                rest = fh.readline(1 << 20)
                size += len(rest)
                if not rest or rest.endswith(b"\n"):
                    break
            yield lineno, LongLine(size)
            continue
        yield lineno, raw
