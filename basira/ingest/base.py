"""The ingest format seam: one small class per format, found through a registry."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

from basira.core.errors import InputError
from basira.ingest.records import AccountRecord, FollowRecord, PostRecord

HEAD_BYTES = 64 * 1024

# A format yields (line, record) pairs. A malformed record is yielded as an InputError so the caller can
# skip it and go on; an error that makes the rest of the file unreadable is raised instead.
Item = tuple[int | None, AccountRecord | PostRecord | FollowRecord | InputError]


class IngestFormat(ABC):
    name: ClassVar[str]
    description: ClassVar[str] = ""

    @abstractmethod
    def sniff(self, path: str, head: bytes) -> bool:
        """True when the file's first bytes look like this format."""

    @abstractmethod
    def iter_records(self, path: str) -> Iterator[Item]:
        """Stream the file's accounts and posts, never holding the whole file in memory."""


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
