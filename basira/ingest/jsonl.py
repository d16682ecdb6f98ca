"""Generic JSON Lines: one post or account object per line (schema in docs/formats.md)."""

from __future__ import annotations

from collections.abc import Iterator

import orjson

from basira.core.errors import InputError
from basira.ingest.base import IngestFormat, Item, first_line, register
from basira.ingest.generic import record_from_generic


def _open(path: str):
    try:
        return open(path, "rb")  # noqa: SIM115 - closed by the caller
    except OSError as exc:
        raise InputError(path, None, None, f"cannot open: {exc.strerror or exc}") from exc


def iter_json_lines(path: str) -> Iterator[tuple[int, dict | InputError]]:
    """(line, object) per non-blank line; a bad line is yielded as an InputError and reading goes on."""
    with _open(path) as fh:
        for lineno, raw in enumerate(fh, start=1):
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


@register
class JsonLines(IngestFormat):
    name = "jsonl"
    description = "generic JSON Lines of posts and accounts"

    def sniff(self, path: str, head: bytes) -> bool:
        line = first_line(head)
        if not line.startswith(b"{"):
            return False
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError:
            return False
        if not isinstance(obj, dict) or "data" in obj or "messages" in obj:
            return False
        return "id" in obj and "platform" in obj and ("text" in obj or obj.get("type") == "account")

    def iter_records(self, path: str) -> Iterator[Item]:
        for lineno, obj in iter_json_lines(path):
            if isinstance(obj, InputError):
                yield lineno, obj
                continue
            try:
                yield lineno, record_from_generic(obj, path, lineno)
            except InputError as exc:
                yield lineno, exc
