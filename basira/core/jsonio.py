"""Streaming JSON Lines input with precise errors, and atomic output files."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import orjson

from basira.core.errors import InputError


def _open_binary(path: str) -> IO[bytes]:
    if path == "-":
        return sys.stdin.buffer
    try:
        return open(path, "rb")  # noqa: SIM115 - closed by the caller's context
    except OSError as exc:
        raise InputError(path, None, None, f"cannot open: {exc.strerror or exc}") from exc


def iter_jsonl(path: str, required: tuple[str, ...] = ()) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, object) from a JSON Lines file, streaming; blank lines are skipped.

    Raises InputError for invalid UTF-8, invalid JSON, a non-object line, a missing or non-string
    required field, or a file with no records at all.
    """
    name = "<stdin>" if path == "-" else path
    fh = _open_binary(path)
    count = 0
    try:
        for lineno, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InputError(name, lineno, None, f"invalid UTF-8 at byte {exc.start}") from exc
            try:
                obj = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                raise InputError(name, lineno, None, f"invalid JSON: {exc}") from exc
            if not isinstance(obj, dict):
                raise InputError(name, lineno, None, "expected a JSON object")
            for field in required:
                if field not in obj or obj[field] is None:
                    raise InputError(name, lineno, field, "missing")
            if "text" in required and not isinstance(obj["text"], str):
                raise InputError(name, lineno, "text", "must be a string")
            if "id" in required and not isinstance(obj["id"], str | int):
                raise InputError(name, lineno, "id", "must be a string or a number")
            count += 1
            yield lineno, obj
    finally:
        if fh is not sys.stdin.buffer:
            fh.close()
    if count == 0:
        raise InputError(name, None, None, "empty input: no JSON records")


@contextlib.contextmanager
def atomic_output(path: str) -> Iterator[IO[bytes]]:
    """Write to a temporary file beside `path` and rename it into place only on success."""
    if path == "-":
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
