"""Generic CSV: a header row, then one post or account per row (schema in docs/formats.md)."""

from __future__ import annotations

import csv
from collections.abc import Iterator

from basira.core.errors import InputError
from basira.ingest.base import IngestFormat, Item, register, strip_bom
from basira.ingest.generic import ACCOUNT_FIELDS, POST_FIELDS, record_from_generic

KNOWN = set(POST_FIELDS) | set(ACCOUNT_FIELDS)
csv.field_size_limit(16 * 1024 * 1024)


def _header(head: bytes) -> list[str] | None:
    text = strip_bom(head).decode("utf-8", errors="replace")
    first = text.splitlines()[0] if text else ""
    if not first or first.lstrip().startswith(("{", "[")):
        return None
    try:
        return [c.strip() for c in next(csv.reader([first]))]
    except (csv.Error, StopIteration):
        return None


@register
class Csv(IngestFormat):
    name = "csv"
    description = "generic CSV of posts and accounts (header row required)"

    def sniff(self, path: str, head: bytes) -> bool:
        cols = _header(head)
        return bool(cols) and {"platform", "id"} <= set(cols) and ("text" in cols or "type" in cols)

    def iter_records(self, path: str) -> Iterator[Item]:
        try:
            fh = open(path, encoding="utf-8-sig", newline="")  # noqa: SIM115
        except OSError as exc:
            raise InputError(path, None, None, f"cannot open: {exc.strerror or exc}") from exc
        with fh:
            reader = csv.reader(fh)
            try:
                header = [c.strip() for c in next(reader)]
            except StopIteration:
                raise InputError(path, 1, None, "empty file: no header row") from None
            except (csv.Error, UnicodeDecodeError) as exc:
                raise InputError(path, 1, None, f"unreadable header: {exc}") from None
            unknown = [c for c in header if c not in KNOWN]
            if unknown:
                raise InputError(path, 1, unknown[0], f"unknown column; known: {', '.join(sorted(KNOWN))}")
            for missing in ("platform", "id"):
                if missing not in header:
                    raise InputError(path, 1, missing, "missing column")
            while True:
                start = reader.line_num + 1
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except UnicodeDecodeError as exc:
                    # The decoder cannot resynchronise reliably; stop here.
                    raise InputError(path, start, None, f"invalid UTF-8: {exc.reason}") from None
                except csv.Error as exc:
                    yield start, InputError(path, start, None, f"bad CSV: {exc}")
                    continue
                if not any(c.strip() for c in row):
                    continue
                if len(row) != len(header):
                    yield (
                        start,
                        InputError(path, start, None, f"expected {len(header)} columns, found {len(row)}"),
                    )
                    continue
                obj = dict(zip(header, row, strict=True))
                try:
                    yield start, record_from_generic(obj, path, start)
                except InputError as exc:
                    yield start, exc
