"""Generic CSV: a header row, then one post or account per row (schema in docs/formats.md).

The file is read line by line in binary (each line bounded, decoded on its own), and the csv module parses
those lines strictly, so: invalid UTF-8 is reported on the line it is on and the rows around it are kept; a
quote left open at the end of the file is an error at the record where it opened, and reading resumes on
the line after it (instead of the rest of the file vanishing into one cell).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator

from basira.core.errors import InputError
from basira.ingest.base import (
    MALFORMED,
    IngestFormat,
    Item,
    LongLine,
    iter_lines,
    malformed,
    register,
    strip_bom,
)
from basira.ingest.clean import ReadOptions
from basira.ingest.generic import ACCOUNT_FIELDS, POST_FIELDS, record_from_generic

KNOWN = set(POST_FIELDS) | set(ACCOUNT_FIELDS)
FIELD_LIMIT = 16 * 1024 * 1024
csv.field_size_limit(FIELD_LIMIT)
_MAX_RESTARTS = 100  # unterminated quotes re-read from the next line at most this often per file


def _header(head: bytes) -> list[str] | None:
    text = strip_bom(head).decode("utf-8", errors="replace")
    first = text.splitlines()[0] if text else ""
    if not first or first.lstrip().startswith(("{", "[")):
        return None
    try:
        return [c.strip() for c in next(csv.reader([first]))]
    except (csv.Error, StopIteration):
        return None


class _Lines:
    """Decoded lines for csv.reader from a byte offset on, remembering each line's problems (invalid UTF-8,
    too long) and where each line starts, for the rows that cover them."""

    def __init__(self, fh, path: str, max_bytes: int, first_line: int) -> None:
        self.fh, self.path, self.max_bytes = fh, path, max_bytes
        self.first_line = first_line
        self.problems: dict[int, str] = {}
        self.record_start = first_line  # the line the current record starts on
        self.resume_at: int | None = None  # byte offset of the line after it
        self.offset = fh.tell()

    def __iter__(self) -> Iterator[str]:
        for n, raw in iter_lines(self.fh, self.max_bytes):
            lineno = self.first_line + n - 1
            self.offset += raw.size if isinstance(raw, LongLine) else len(raw)
            if lineno == self.record_start:
                self.resume_at = self.offset
            if isinstance(raw, LongLine):
                self.problems[lineno] = raw.error(self.path, lineno, self.max_bytes).reason
                yield "\n"
                continue
            if lineno == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                self.problems[lineno] = f"invalid UTF-8 at byte {exc.start} of the line"
                yield raw.decode("utf-8", errors="replace")

    def next_record(self, line: int) -> None:
        self.record_start, self.resume_at = line, None
        for k in [k for k in self.problems if k < line]:
            del self.problems[k]

    def problem_in(self, first: int, last: int) -> tuple[int, str] | None:
        for k in sorted(self.problems):
            if first <= k <= last:
                return k, self.problems[k]
        return None


@register
class Csv(IngestFormat):
    name = "csv"
    description = "generic CSV of posts and accounts (header row required)"

    def sniff(self, path: str, head: bytes) -> bool:
        cols = _header(head)
        return bool(cols) and "id" in cols and ("text" in cols or ("type" in cols and "platform" in cols))

    def iter_records(self, path: str, options: ReadOptions | None = None) -> Iterator[Item]:
        options = options or ReadOptions()
        try:
            fh = open(path, "rb")  # noqa: SIM115
        except OSError as exc:
            raise InputError(path, None, None, f"cannot open: {exc.strerror or exc}") from exc
        with fh:
            lines = _Lines(fh, path, options.max_record_bytes, 1)
            reader = csv.reader(lines, strict=True)
            try:
                header = [c.strip() for c in next(reader)]
            except StopIteration:
                raise InputError(path, 1, None, "empty file: no header row") from None
            except csv.Error as exc:
                raise InputError(path, 1, None, f"unreadable header: {exc}") from None
            bad = lines.problem_in(1, reader.line_num)
            if bad:
                raise InputError(path, 1, None, f"unreadable header: {bad[1]}")
            seen: set[str] = set()
            for i, c in enumerate(header, start=1):
                if not c:
                    raise InputError(path, 1, f"column {i}", "empty column name")
                if c in seen:
                    raise InputError(path, 1, c, "duplicate column")
                seen.add(c)
            if "id" not in header:
                raise InputError(path, 1, "id", "missing column")
            if "platform" not in header and not options.default_platform:
                raise InputError(path, 1, "platform", "missing column (or pass --platform NAME)")
            yield from self._rows(path, fh, lines, reader, header, options, restarts=0)

    def _rows(self, path, fh, lines, reader, header, options, restarts: int) -> Iterator[Item]:
        base = lines.first_line - 1  # reader.line_num counts from where this reader started
        last = reader.line_num + base
        while True:
            start = last + 1
            lines.next_record(start)
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                end = reader.line_num + base
                # A record that fails across several lines (a quote opened and never closed, or closed
                # only lines later in the wrong place): report it where it starts and read on from the line
                # after that, so the rows it swallowed are not lost.
                if end > start or "end of data" in str(exc):
                    if "end of data" in str(exc):
                        reason = "unterminated quoted field (a quote opened here is never closed)"
                    elif "field limit" in str(exc):
                        reason = f"quoted field over {FIELD_LIMIT:,} bytes (a quote opened here is not closed?)"
                    else:
                        reason = f"bad CSV: {exc} (on line {end}, in a quoted field opened here)"
                    yield start, InputError(path, start, None, reason)
                    resume = lines.resume_at
                    if end <= start or resume is None or restarts >= _MAX_RESTARTS:
                        if end <= start:
                            last = end
                            continue
                        return
                    # Read again from the line after the one the record started on.
                    fh.seek(resume)
                    nxt = _Lines(fh, path, options.max_record_bytes, start + 1)
                    yield from self._rows(
                        path, fh, nxt, csv.reader(nxt, strict=True), header, options, restarts + 1
                    )
                    return
                yield start, InputError(path, start, None, f"bad CSV: {exc}")
                last = end
                continue
            last = reader.line_num + base
            problem = lines.problem_in(start, last)
            if problem:
                yield problem[0], InputError(path, problem[0], None, problem[1])
                continue
            if not any(c.strip() for c in row):
                continue
            if len(row) != len(header):
                yield start, InputError(path, start, None, f"expected {len(header)} columns, found {len(row)}")
                continue
            obj = dict(zip(header, row, strict=True))
            try:
                yield start, record_from_generic(obj, path, start, options.default_platform)
            except InputError as exc:
                yield start, exc
            except MALFORMED as exc:
                yield start, malformed(path, start, None, exc)
