"""Streaming helpers over ijson for the formats whose files are one big JSON value."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

import ijson

from basira.core.errors import InputError


def head_keys(head: bytes, prefix: str) -> set[str]:
    """Object keys seen at `prefix` in a possibly truncated JSON head ('' is the top level)."""
    keys: set[str] = set()
    try:
        for pfx, event, value in ijson.parse(io.BytesIO(head), multiple_values=True):
            if event == "map_key" and pfx == prefix:
                keys.add(value)
    except Exception:  # noqa: BLE001 - a head is cut anywhere; keep what was read
        pass
    return keys


def plain_numbers(events: Iterable[tuple[str, str, Any]]) -> Iterator[tuple[str, str, Any]]:
    """ijson events with fractions as floats. Parsing with `use_float=True` makes yajl stop the whole file at an
    integer beyond 64 bits ("integer overflow"); without it such an integer is a Python int (cleaned later like
    any other value) and only fractions need turning from Decimal into float."""
    for prefix, event, value in events:
        yield prefix, event, float(value) if isinstance(value, Decimal) else value


def first_char(head: bytes) -> bytes:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return text[:1]


def open_json(path: str):
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed by the caller
    except OSError as exc:
        raise InputError(path, None, None, f"cannot open: {exc.strerror or exc}") from exc
    if fh.read(3) != b"\xef\xbb\xbf":
        fh.seek(0)
    return fh


def stream_items(path: str, prefix: str, multiple_values: bool = False) -> Iterator[Any]:
    """Yield each value at `prefix` (e.g. 'item' for the elements of a top-level array), streaming."""
    with open_json(path) as fh:
        try:
            events = plain_numbers(ijson.parse(fh, multiple_values=multiple_values))
            yield from ijson.items(events, prefix)
        except ijson.JSONError as exc:
            raise InputError(path, None, None, f"invalid JSON: {exc}") from None
        except UnicodeDecodeError as exc:
            raise InputError(path, None, None, f"invalid UTF-8: {exc.reason}") from None
