"""Generic JSON Lines: one post or account object per line (schema in docs/formats.md)."""

from __future__ import annotations

from collections.abc import Iterator

import orjson

from basira.core.errors import InputError
from basira.ingest.base import (
    MALFORMED,
    IngestFormat,
    Item,
    LongLine,
    first_object,
    iter_lines,
    looks_twarc,
    malformed,
    register,
)
from basira.ingest.clean import ReadOptions
from basira.ingest.generic import record_from_generic


def _open(path: str):
    try:
        return open(path, "rb")  # noqa: SIM115 - closed by the caller
    except OSError as exc:
        raise InputError(path, None, None, f"cannot open: {exc.strerror or exc}") from exc


def iter_json_lines(path: str, options: ReadOptions | None = None) -> Iterator[tuple[int, dict | InputError]]:
    """(line, object) per non-blank line; a bad line is yielded as an InputError and reading goes on. A line
    over the record limit is skipped without being read into memory."""
    options = options or ReadOptions()
    with _open(path) as fh:
        for lineno, raw in iter_lines(fh, options.max_record_bytes):
            if isinstance(raw, LongLine):
                yield lineno, raw.error(path, lineno, options.max_record_bytes)
                continue
            if lineno == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            if not raw.strip():
                continue
            try:
                obj = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                try:
                    raw.decode("utf-8")
                except UnicodeDecodeError as uexc:
                    yield lineno, InputError(path, lineno, None, f"invalid UTF-8 at byte {uexc.start}")
                    continue
                yield lineno, InputError(path, lineno, None, f"invalid JSON: {exc}")
                continue
            if not isinstance(obj, dict):
                yield lineno, InputError(path, lineno, None, "expected a JSON object")
                continue
            yield lineno, obj


def looks_generic(obj: dict | None) -> bool:
    """A generic post or account; `platform` may be left to --platform (a minimal {id, text} line)."""
    if obj is None or "data" in obj or "messages" in obj or "id" not in obj or looks_twarc(obj):
        return False
    return "text" in obj or (obj.get("type") == "account" and "platform" in obj)


@register
class JsonLines(IngestFormat):
    name = "jsonl"
    description = "generic JSON Lines of posts and accounts"

    def sniff(self, path: str, head: bytes) -> bool:
        return looks_generic(first_object(path, head))

    def iter_records(self, path: str, options: ReadOptions | None = None) -> Iterator[Item]:
        platform = options.default_platform if options else None
        for lineno, obj in iter_json_lines(path, options):
            if isinstance(obj, InputError):
                yield lineno, obj
                continue
            try:
                yield lineno, record_from_generic(obj, path, lineno, platform)
            except InputError as exc:
                yield lineno, exc
            except MALFORMED as exc:
                yield lineno, malformed(path, lineno, None, exc)
