"""Bank exchange formats and incremental sync, pure (the store saves what they read).

Formats, each a small class in one registry (`get_format`, `detect_format`); the partners' own formats live in
basira/signals/partners/ (see docs/hash-matching.md):

- `threatexchange`: python-threatexchange / HMA local signal files, one `<signal_type> <signal>` per line, with
  its names (`pdq`, `video_md5`, `video_sha256`, `raw_text`, `url`, `url_md5`, `vpdq`).
- `threatexchange-csv`: `threatexchange dataset -P --csv` output (signal_type, signal_str, collab, category, tags).
- `basira-jsonl`: one JSON object per line: signal_type, signal, labels, source, added_at, opinion,
  external_id, and `"deleted": true` for an item its source withdrew. Lossless round trip of a bank.
- `tat-csv` / `tat-json`: Tech Against Terrorism's hash list, as CSV or as hash-list v2 JSON pages
  (hash_digest, algorithm, ideology, file_type, deleted, updated_on, id).
- `stix`: STIX 2.1 bundles with a Basira extension definition (valid under `stix2-validator --strict`).

Reading never aborts a file over a signal type it does not know: the line (or object) is reported in the
`ReadReport` and skipped. A known type with a malformed value is an error naming the line.

Sync (`sync_source`) reads a file path or an http(s) URL and resumes from a checkpoint: the byte offset read so
far plus a hash of the bytes just before it, so an append-only source is read only where it grew, and a source
that was rewritten (the bytes before the offset changed) is read again from the start.
"""

from __future__ import annotations

import hashlib
import io
import json
import urllib.error
import urllib.request
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from basira.core.errors import BasiraError
from basira.core.i18n import N_
from basira.core.time import iso, parse_time, utcnow
from basira.signals.base import SignalError, get_signal_type


class ExchangeError(BasiraError):
    """A bank file or source that cannot be read (with the line or object that failed)."""


class BankFileError(ExchangeError):
    """A bank file's line that cannot be read, said the way InputError says bad input — `feed.jsonl:3: field
    'signal': not a PDQ hash (64 hex characters): 'zz'` — naming the file (once the reader knows it: formats read
    text, `read_entries` and `sync_source` add the path), the line and the field at fault. Kind `input`: the CLI
    exits 2, the web 422. Said from a template whose `reason` is a refusal's own words, so a face translates both."""

    kind = "input"

    def __init__(self, file: str | None, line: int | None, field: str | None, reason: str) -> None:
        self.file, self.line, self.field, self.reason = file, line, field, reason
        where = file if line is None else f"line {line}" if file is None else f"{file}:{line}"
        super().__init__(f"{where}: field {field!r}: {reason}" if field else f"{where}: {reason}")
        params = {"reason": reason, **({"field": repr(field)} if field else {})}
        if file is None and line is not None:
            self.said(N_("line %(line)s: field %(field)s: %(reason)s") if field else N_("line %(line)s: %(reason)s"),
                      line=line, **params)
        else:
            self.said(N_("%(where)s: field %(field)s: %(reason)s") if field else N_("%(where)s: %(reason)s"),
                      where=where, **params)

    def in_file(self, file: str) -> BankFileError:
        """The same error, naming the file it is in."""
        return BankFileError(file, self.line, self.field, self.reason)

    @classmethod
    def wrap(cls, file: str, exc: ExchangeError) -> BankFileError:
        """An error from reading `file`'s text, naming the file (a format's own errors name their line)."""
        return exc.in_file(file) if isinstance(exc, BankFileError) else cls(file, None, None, str(exc))


@dataclass
class BankEntry:
    """One item as exchanged: no database ids, the signal canonical for its type."""

    signal_type: str
    signal: str
    labels: dict[str, Any] = field(default_factory=dict)
    source: str | None = None
    added_at: datetime | None = None
    opinion: str = "positive"
    external_id: str | None = None
    deleted: bool = False  # the source withdrew it: stored disabled, never a positive

    @classmethod
    def make(cls, signal_type: str, signal: str, **kw: Any) -> BankEntry:
        st = get_signal_type(signal_type)
        return cls(st.name, st.validate(signal), **kw)


@dataclass
class ReadReport:
    """What a read skipped (unknown signal types, algorithms a bank cannot hold), one message per line."""

    skipped: list[str] = field(default_factory=list)

    def skip(self, where: str, why: str) -> None:
        self.skipped.append(f"{where}: {why}, skipped")


@dataclass
class WriteReport:
    """What a write put out, and what it had to leave out (per signal type) because the format cannot say it."""

    written: int = 0
    withdrawn: int = 0  # deleted items written as such (formats that carry `deleted`)
    withdrawn_left_out: int = 0  # deleted items a format with no way to say so could not write
    skipped: Counter[str] = field(default_factory=Counter)

    def summary(self) -> str:
        s = f"wrote {self.written} items"
        if self.withdrawn:
            s += f" ({self.withdrawn} of them marked deleted)"
        if self.withdrawn_left_out:
            s += f"; {self.withdrawn_left_out} withdrawn items left out (the format cannot mark them deleted)"
        if self.skipped:
            s += "; left out (no such signal type in this format): " + ", ".join(
                f"{n} {t}" for t, n in sorted(self.skipped.items()))
        return s


def known_type(name: str) -> str | None:
    """Basira's name for a signal type name used in a partner's file, or None when Basira has no such type."""
    try:
        return get_signal_type(name).name
    except SignalError:
        return None


class BankFormat(ABC):
    name: ClassVar[str]
    extensions: ClassVar[tuple[str, ...]] = ()
    #: Line-oriented formats can be synced incrementally from a byte offset.
    line_oriented: ClassVar[bool] = True

    @abstractmethod
    def read(self, text: str, *, source: str | None = None, report: ReadReport | None = None) -> Iterator[BankEntry]:
        """Entries in a text; skipped lines go to `report`; raise ExchangeError (with the line) on malformed
        input."""

    @abstractmethod
    def write(self, entries: Iterable[BankEntry], report: WriteReport | None = None) -> str:
        """The entries in this format; what it cannot carry is counted in `report.skipped`."""

    def header(self) -> str:
        """What must precede a chunk read from an offset (a CSV header); empty for most."""
        return ""


_FORMATS: dict[str, BankFormat] = {}


def _register(cls: type[BankFormat]) -> type[BankFormat]:
    _FORMATS[cls.name] = cls()
    return cls


register_format = _register


def _load_partners() -> None:
    from basira.signals.partners import stix, tat, te_files  # noqa: F401 - importing registers them


def get_format(name: str) -> BankFormat:
    _load_partners()
    try:
        return _FORMATS[name]
    except KeyError:
        raise ExchangeError.of(N_("unknown bank format %(name)s (known: %(known)s)"), name=repr(name),
                               known=", ".join(sorted(_FORMATS))) from None


def formats() -> list[str]:
    _load_partners()
    return sorted(_FORMATS)


def detect_format(name: str, head: str) -> BankFormat:
    """Pick a format from a file name and its first bytes."""
    _load_partners()
    lower = name.lower().split("?")[0]
    s = head.lstrip()
    first = next((ln for ln in s.splitlines() if ln.strip() and not ln.startswith("#")), "")
    cols = [c.strip().lower() for c in first.split(",")]
    if "signal_type" in cols and "signal_str" in cols:
        return _FORMATS["threatexchange-csv"]
    if lower.endswith(".csv"):
        return _FORMATS["tat-csv"]
    if s.startswith("{") and '"type"' in s[:2000] and '"bundle"' in s[:2000]:
        return _FORMATS["stix"]
    if (s.startswith("{") and '"results"' in s[:4000]) or (s.startswith("[") and '"hash_digest"' in s[:4000]):
        return _FORMATS["tat-json"]
    if s.startswith("{"):
        return _FORMATS["basira-jsonl"]
    if "," in first and not first.split(" ", 1)[0].isidentifier():
        return _FORMATS["tat-csv"]
    return _FORMATS["threatexchange"]


_iso = iso  # basira.core.time


def _parse_time(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    from basira.core.time import parse_time

    try:
        return parse_time(value)
    except ValueError as exc:
        raise ExchangeError.of(N_("bad time %(value)s: %(error)s"), value=repr(value), error=exc) from None



@_register
class JsonlFormat(BankFormat):
    name = "basira-jsonl"
    extensions = (".jsonl", ".ndjson")

    def read(self, text: str, *, source: str | None = None, report: ReadReport | None = None) -> Iterator[BankEntry]:
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                o = json.loads(line)
            except json.JSONDecodeError as exc:
                raise BankFileError(None, n, None, f"invalid JSON: {exc.msg} (column {exc.colno})") from None
            if not isinstance(o, dict):
                raise BankFileError(None, n, None, "expected a JSON object (one item per line)")
            for name in ("signal_type", "signal"):
                if name not in o:
                    raise BankFileError(None, n, name, "missing")
                if not isinstance(o[name], str):
                    raise BankFileError(None, n, name, "must be a string")
            if known_type(o["signal_type"]) is None:
                if report is not None:
                    report.skip(f"line {n}", f"unknown signal type {o['signal_type']!r}")
                continue
            labels = o.get("labels") or {}
            if not isinstance(labels, dict):
                raise BankFileError(None, n, "labels", "must be a JSON object")
            for name in ("source", "opinion", "external_id"):
                if o.get(name) is not None and not isinstance(o[name], str):
                    raise BankFileError(None, n, name, "must be a string")
            try:
                added_at = parse_time(o["added_at"]) if o.get("added_at") not in (None, "") else None
            except ValueError as exc:  # parse_time's reasons are fixed templates (basira.web.errors.REFUSALS)
                raise BankFileError(None, n, "added_at", str(exc)) from None
            try:
                yield BankEntry.make(o["signal_type"], o["signal"], labels=dict(labels), source=o.get("source") or source,
                                     added_at=added_at, opinion=o.get("opinion") or "positive",
                                     external_id=o.get("external_id"), deleted=bool(o.get("deleted")))
            except SignalError as exc:
                raise BankFileError(None, n, "signal", str(exc)) from None

    def write(self, entries: Iterable[BankEntry], report: WriteReport | None = None) -> str:
        out = io.StringIO()
        for e in entries:
            o: dict[str, Any] = {"signal_type": e.signal_type, "signal": e.signal, "labels": e.labels, "source": e.source,
                 "added_at": _iso(e.added_at), "opinion": e.opinion, "external_id": e.external_id}
            if e.deleted:
                o["deleted"] = True
            out.write(json.dumps(o, ensure_ascii=False, separators=(",", ":")) + "\n")
            _count(report, e)
        return out.getvalue()


def _count(report: WriteReport | None, e: BankEntry) -> None:
    if report is not None:
        report.written += 1
        report.withdrawn += bool(e.deleted)


def read_entries(
    path: str | Path, fmt: str | None = None, *, source: str | None = None, report: ReadReport | None = None
) -> list[BankEntry]:
    """Every entry of a bank file (format detected from the name and content unless given); lines skipped
    (unknown signal types) are listed in `report`."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ExchangeError.of(N_("%(path)s: cannot read (%(error)s)"), path=path, error=exc) from None
    f = get_format(fmt) if fmt else detect_format(p.name, text[:4096])
    try:
        return list(f.read(text, source=source or p.name, report=report))
    except ExchangeError as exc:
        raise BankFileError.wrap(str(path), exc) from None


def format_for_path(path: str | Path, fmt: str | None = None) -> BankFormat:
    if fmt:
        return get_format(fmt)
    _load_partners()
    name = str(path).lower()
    # Longest extension first: `.stix.json` is STIX, `.json` alone a TAT page.
    by_ext = sorted(((x, f) for f in _FORMATS.values() for x in f.extensions), key=lambda t: -len(t[0]))
    return next((f for x, f in by_ext if name.endswith(x)), _FORMATS["basira-jsonl"])


def write_entries(path: str | Path, entries: Iterable[BankEntry], fmt: str | None = None) -> WriteReport:
    """Write entries to a bank file (format from `fmt` or the file's extension): what was written and what the
    format had to leave out."""
    f = format_for_path(path, fmt)
    report = WriteReport()
    text = f.write(entries, report)
    out = Path(path)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out)
    return report


# --- incremental sync -----------------------------------------------------------------------------------------

_TAIL = 64  # bytes before the offset whose hash proves the source was only appended to


@dataclass
class SyncResult:
    entries: list[BankEntry]
    checkpoint: dict[str, Any]
    full: bool  # read from the start (first sync, or the source was rewritten)
    unchanged: bool = False
    skipped: list[str] = field(default_factory=list)


def _fetch(source: str, start: int, etag: str | None, timeout: float) -> tuple[bytes, int, str | None, bool]:
    """(bytes from `start`, their offset, etag, not-modified) from a path or an http(s) URL."""
    if source.startswith(("http://", "https://")):
        req = urllib.request.Request(source, headers={"User-Agent": "basira-bank-sync"})
        if start:
            req.add_header("Range", f"bytes={start}-")
        if etag:
            req.add_header("If-None-Match", etag)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - operator-given URL
                body = resp.read()
                status = resp.status
                new_etag = resp.headers.get("ETag")
        except urllib.error.HTTPError as exc:
            if exc.code == 304:
                return b"", start, etag, True
            if exc.code == 416:  # range starts at or past the end: nothing new, or shrunk
                return b"", start, etag, False
            raise ExchangeError(f"{source}: HTTP {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise ExchangeError(f"{source}: {exc}") from None
        if status == 206:
            return body, start, new_etag, False
        return body, 0, new_etag, False  # the server sent everything
    try:
        with open(source, "rb") as f:
            f.seek(start)
            return f.read(), start, None, False
    except OSError as exc:
        raise ExchangeError.of(N_("%(path)s: cannot read (%(error)s)"), path=source, error=exc.strerror or exc) from None


def sync_source(
    source: str, checkpoint: dict[str, Any] | None = None, fmt: str | None = None, *, timeout: float = 60.0,
    now: datetime | None = None,
) -> SyncResult:
    """Read what is new in a bank source since `checkpoint` (None: everything). Line formats yield complete
    lines only: a half-written last line waits for the next sync. `now` (default: basira.core.time.utcnow) is
    the checkpoint's `synced_at`."""
    cp = dict(checkpoint or {})
    name = fmt or cp.get("format")
    f = get_format(name) if name else None
    offset = int(cp.get("offset", 0)) if f is None or f.line_oriented else 0
    start = max(0, offset - _TAIL)
    raw, got_from, etag, not_modified = _fetch(source, start, cp.get("etag"), timeout)
    if not_modified:
        return SyncResult([], cp, full=False, unchanged=True)
    resume = False
    if offset and got_from <= start:
        before = raw[start - got_from : offset - got_from]
        resume = len(before) == offset - start and hashlib.sha256(before).hexdigest() == cp.get("tail")
    if not resume:
        offset = 0
        if got_from != 0:  # the source was rewritten: read it all again
            raw, got_from, etag, _ = _fetch(source, 0, None, timeout)
    body = raw[offset - got_from :]
    if f is None:
        f = detect_format(source, body[:4096].decode("utf-8", "replace"))
    end = body.rfind(b"\n") + 1 if f.line_oriented else len(body)
    new_offset = offset + end
    text = body[:end].decode("utf-8-sig" if offset == 0 else "utf-8", "strict")
    if offset and cp.get("header"):
        text = cp["header"] + text
    report = ReadReport()
    try:
        entries = list(f.read(text, source=source, report=report)) if text.strip() else []
    except ExchangeError as exc:
        raise BankFileError.wrap(source, exc) from None
    tail = raw[max(0, new_offset - _TAIL) - got_from : new_offset - got_from]
    new_cp: dict[str, Any] = {
        "offset": new_offset,
        "tail": hashlib.sha256(tail).hexdigest(),
        "format": f.name,
        "etag": etag,
        "synced_at": iso(now or utcnow()),
    }
    if f.header():
        new_cp["header"] = f.header() if offset == 0 else cp.get("header")
    return SyncResult(entries, new_cp, full=offset == 0, skipped=report.skipped)
