"""The ingest format seam: one small class per format, found through a registry."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

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
    top-level fields are read, streaming ({key: value}, lists and objects as CONTAINER, long strings cut):
    a post with a 50 MB text on line 1 is recognised without `--format` and without holding the line."""
    line = first_line(head)
    if not line.startswith(b"{"):
        return None
    if not first_line_cut(head):
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError:
            return None
        return obj if isinstance(obj, dict) else None
    try:
        with open(path, "rb") as fh:
            return _top_level_fields(fh)
    except OSError:
        return None


_STRING_END = re.compile(rb'["\\]')
_STRUCTURE = re.compile(rb'["{}\[\]:,\n]')


def _top_level_fields(fh: BinaryIO, chunk: int = 1 << 20) -> dict[str, Any] | None:
    """The top-level keys of the first JSON object in `fh` (string values up to 256 bytes, CONTAINER for
    lists and objects, None for other scalars), scanned in 1 MiB steps with C-speed searches: a 50 MB string
    value is skipped in well under a second and never held. None when the first value is not an object."""
    out: dict[str, Any] = {}
    depth, in_string, escape, expecting_key = 0, False, False, False
    capture: bytearray | None = None  # the depth-1 string being read (a key, or a value), capped
    is_key, key = False, None
    started = False
    first = True
    while True:
        buf = fh.read(chunk)
        if not buf:
            return out or None
        if first and buf.startswith(b"\xef\xbb\xbf"):
            buf = buf[3:]
        first = False
        i = 0
        while i < len(buf):
            if escape:
                i, escape = i + 1, False
                continue
            if in_string:
                m = _STRING_END.search(buf, i)
                j = m.start() if m else len(buf)
                if capture is not None and len(capture) < 256:
                    capture += buf[i:j][: 256 - len(capture)]
                if m is None:
                    break
                if buf[j] == 0x5C:  # backslash: the next byte is escaped (maybe in the next chunk)
                    if j + 1 < len(buf):
                        i = j + 2
                    else:
                        i, escape = j + 1, True
                    continue
                in_string, i = False, j + 1
                if capture is not None:
                    text = capture.decode("utf-8", "replace")
                    if is_key:
                        key = text
                        out[key] = None
                    elif key is not None:
                        out[key] = text
                    capture = None
                continue
            m = _STRUCTURE.search(buf, i)
            if m is None:
                break
            c, i = buf[m.start()], m.start() + 1
            if not started and c != 0x7B and c != 0x0A:
                return None  # the first value is not an object
            if c == 0x22:  # "
                in_string = True
                is_key = depth == 1 and expecting_key
                capture = bytearray() if depth == 1 else None
            elif c in (0x7B, 0x5B):  # { [
                if not started:
                    started, depth, expecting_key = True, 1, True
                    continue
                if depth == 1 and key is not None:
                    out[key] = CONTAINER
                depth += 1
            elif c in (0x7D, 0x5D):  # } ]
                depth -= 1
                if depth == 0:
                    return out
            elif c == 0x3A and depth == 1:  # :
                expecting_key = False
            elif c == 0x2C and depth == 1:  # ,
                expecting_key = True
            elif c == 0x0A and started and depth == 0:
                return out


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
