"""Bank exchange formats and incremental sync, pure (the store saves what they read).

Formats, each a small class in one registry (`get_format`, `detect_format`):

- `threatexchange`: python-threatexchange / HMA signal files, one `<signal_type> <signal>` per line
  (`pdq <hex>`, `video_md5 <hex>`, `url <url>`, ...); `#` comments and blank lines skipped.
- `basira-jsonl`: one JSON object per line: signal_type, signal, labels, source, added_at, opinion,
  external_id, and `"deleted": true` to take an item out on sync. Lossless round trip of a bank.
- `tat-csv`: CSV hash lists as Tech Against Terrorism publishes them: hash, type (algorithm), ideology,
  entity (group), and optional file_type / content_type, behaviour, source, added/created columns.
- `stix`: STIX 2.1 bundles (via `stix2`): Indicators whose pattern is `[file:hashes.'MD5' = '...']`,
  `[file:hashes.'SHA-256' = ...]`, `[file:hashes.'PDQ' = ...]` or `[url:value = '...']`; labels in the
  indicator's `labels` (key:value) and in `x_basira_labels`.

Sync (`sync_source`) reads a file path or an http(s) URL and resumes from a checkpoint: the byte offset read so
far plus a hash of the bytes just before it, so an append-only source is read only where it grew, and a source
that was rewritten (the bytes before the offset changed) is read again from the start.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import urllib.error
import urllib.request
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from basira.core.errors import BasiraError
from basira.core.time import iso
from basira.signals.base import SignalError, get_signal_type


class ExchangeError(BasiraError, ValueError):
    """A bank file or source that cannot be read (with the line or object that failed)."""


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
    deleted: bool = False

    @classmethod
    def make(cls, signal_type: str, signal: str, **kw: Any) -> BankEntry:
        st = get_signal_type(signal_type)
        return cls(st.name, st.validate(signal), **kw)


class BankFormat(ABC):
    name: ClassVar[str]
    extensions: ClassVar[tuple[str, ...]] = ()
    #: Line-oriented formats can be synced incrementally from a byte offset.
    line_oriented: ClassVar[bool] = True

    @abstractmethod
    def read(self, text: str, *, source: str | None = None) -> Iterator[BankEntry]:
        """Entries in a text; raise ExchangeError (with the line) on malformed input."""

    @abstractmethod
    def write(self, entries: Iterable[BankEntry]) -> str:
        """The entries in this format."""

    def header(self) -> str:
        """What must precede a chunk read from an offset (a CSV header); empty for most."""
        return ""


_FORMATS: dict[str, BankFormat] = {}


def _register(cls: type[BankFormat]) -> type[BankFormat]:
    _FORMATS[cls.name] = cls()
    return cls


def get_format(name: str) -> BankFormat:
    try:
        return _FORMATS[name]
    except KeyError:
        raise ExchangeError(f"unknown bank format {name!r} (known: {', '.join(sorted(_FORMATS))})") from None


def formats() -> list[str]:
    return sorted(_FORMATS)


def detect_format(name: str, head: str) -> BankFormat:
    """Pick a format from a file name and its first bytes."""
    lower = name.lower().split("?")[0]
    s = head.lstrip()
    if lower.endswith(".csv"):
        return _FORMATS["tat-csv"]
    if s.startswith("{") and '"type"' in s[:2000] and '"bundle"' in s[:2000]:
        return _FORMATS["stix"]
    if s.startswith("{"):
        return _FORMATS["basira-jsonl"]
    first = next((ln for ln in s.splitlines() if ln.strip() and not ln.startswith("#")), "")
    if "," in first and not first.split(" ", 1)[0].isidentifier():
        return _FORMATS["tat-csv"]
    return _FORMATS["threatexchange"]


@_register
class ThreatExchangeFormat(BankFormat):
    name = "threatexchange"
    extensions = (".txt", ".te")

    def read(self, text: str, *, source: str | None = None) -> Iterator[BankEntry]:
        for n, line in enumerate(text.splitlines(), 1):
            s = line.strip()
            if not s or s.startswith("#"):
                continue
            st, _, signal = s.partition(" ")
            if not signal.strip():
                raise ExchangeError(f"line {n}: expected '<signal_type> <signal>', got {s[:80]!r}")
            try:
                yield BankEntry.make(st, signal.strip(), source=source)
            except SignalError as exc:
                raise ExchangeError(f"line {n}: {exc}") from None

    def write(self, entries: Iterable[BankEntry]) -> str:
        names = {"md5": "video_md5", "text_minhash": "text_minhash"}  # threatexchange's name for file MD5
        return "".join(f"{names.get(e.signal_type, e.signal_type)} {e.signal}\n" for e in entries if not e.deleted)


_iso = iso  # basira.core.time


def _parse_time(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    from basira.core.time import parse_time

    try:
        return parse_time(value)
    except ValueError as exc:
        raise ExchangeError(f"bad time {value!r}: {exc}") from None


@_register
class JsonlFormat(BankFormat):
    name = "basira-jsonl"
    extensions = (".jsonl", ".ndjson")

    def read(self, text: str, *, source: str | None = None) -> Iterator[BankEntry]:
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                o = json.loads(line)
                yield BankEntry.make(
                    o["signal_type"],
                    o["signal"],
                    labels=dict(o.get("labels") or {}),
                    source=o.get("source") or source,
                    added_at=_parse_time(o.get("added_at")),
                    opinion=o.get("opinion") or "positive",
                    external_id=o.get("external_id"),
                    deleted=bool(o.get("deleted")),
                )
            except (json.JSONDecodeError, KeyError, TypeError, AttributeError, SignalError, ExchangeError) as exc:
                raise ExchangeError(f"line {n}: {type(exc).__name__}: {exc}") from None

    def write(self, entries: Iterable[BankEntry]) -> str:
        out = io.StringIO()
        for e in entries:
            o = {"signal_type": e.signal_type, "signal": e.signal, "labels": e.labels, "source": e.source,
                 "added_at": _iso(e.added_at), "opinion": e.opinion, "external_id": e.external_id}
            if e.deleted:
                o["deleted"] = True
            out.write(json.dumps(o, ensure_ascii=False, separators=(",", ":")) + "\n")
        return out.getvalue()


_TAT_COLUMNS = {
    "hash": ("hash", "hash_digest", "digest", "signal", "value"),
    "type": ("type", "algorithm", "hash_type", "signal_type"),
    "ideology": ("ideology",),
    "entity": ("entity", "group", "organisation", "organization", "terrorist_entity"),
    "content_type": ("content_type", "file_type", "media_type"),
    "behaviour": ("behaviour", "behavior"),
    "source": ("source", "platform"),
    "added_at": ("added_at", "created_on", "created_at", "date", "added"),
    "id": ("id", "external_id", "hash_id"),
}
_TAT_HEADER = ["hash", "type", "ideology", "entity", "content_type", "behaviour", "source", "added_at", "id"]


@_register
class TatCsvFormat(BankFormat):
    name = "tat-csv"
    extensions = (".csv",)

    def __init__(self) -> None:
        self._last_header = ",".join(_TAT_HEADER)

    def header(self) -> str:
        return self._last_header + "\n"

    def read(self, text: str, *, source: str | None = None) -> Iterator[BankEntry]:
        reader = csv.reader(io.StringIO(text))
        header = next(reader, None)
        if header is None:
            return
        self._last_header = ",".join(header)
        cols = [h.strip().lower().replace(" ", "_") for h in header]
        where = {}
        for key, names in _TAT_COLUMNS.items():
            where[key] = next((cols.index(n) for n in names if n in cols), None)
        if where["hash"] is None or where["type"] is None:
            raise ExchangeError(f"line 1: CSV needs 'hash' and 'type' columns, has {header}")
        for n, row in enumerate(reader, 2):
            if not row or not any(c.strip() for c in row):
                continue

            def col(key: str, _row: list[str] = row) -> str | None:
                i = where[key]
                return _row[i].strip() if i is not None and i < len(_row) and _row[i].strip() else None

            labels = {k: col(k) for k in ("ideology", "entity", "content_type", "behaviour") if col(k)}
            try:
                yield BankEntry.make(col("type") or "", col("hash") or "", labels=labels,
                                     source=col("source") or source, added_at=_parse_time(col("added_at")),
                                     external_id=col("id"))
            except (SignalError, ExchangeError) as exc:
                raise ExchangeError(f"line {n}: {exc}") from None

    def write(self, entries: Iterable[BankEntry]) -> str:
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        w.writerow(_TAT_HEADER)
        for e in entries:
            if e.deleted:
                continue
            w.writerow([e.signal, e.signal_type, e.labels.get("ideology", ""), e.labels.get("entity", ""),
                        e.labels.get("content_type", ""), e.labels.get("behaviour", ""), e.source or "",
                        _iso(e.added_at) or "", e.external_id or ""])
        return out.getvalue()


_STIX_HASH_NAMES = {"md5": "MD5", "sha256": "SHA-256", "pdq": "PDQ"}
_STIX_PATTERN = re.compile(
    r"^\[\s*(?:file:hashes\.(?:'(?P<alg>[^']+)'|(?P<alg2>[A-Za-z0-9_-]+))|(?P<url>url:value))\s*=\s*"
    r"'(?P<value>(?:[^'\\]|\\.)*)'\s*\]$"
)


@_register
class StixFormat(BankFormat):
    name = "stix"
    extensions = (".stix", ".stix.json")
    line_oriented = False

    def read(self, text: str, *, source: str | None = None) -> Iterator[BankEntry]:
        import stix2
        from stix2.exceptions import STIXError

        try:
            bundle = stix2.parse(text, allow_custom=True)
        except (STIXError, ValueError) as exc:
            raise ExchangeError(f"not a STIX 2.1 bundle: {exc}") from None
        if bundle.get("type") != "bundle":
            raise ExchangeError(f"not a STIX 2.1 bundle (type {bundle.get('type')!r})")
        for obj in getattr(bundle, "objects", None) or []:
            if obj.get("type") != "indicator":
                continue
            m = _STIX_PATTERN.match(str(obj.get("pattern", "")).strip())
            if m is None:
                continue  # patterns that are not a single hash or URL are not bank items
            value = m.group("value").replace("\\'", "'").replace("\\\\", "\\")
            if m.group("url"):
                st = "url"
            else:
                alg = (m.group("alg") or m.group("alg2") or "").upper().replace("_", "-")
                st = {"MD5": "md5", "SHA-256": "sha256", "SHA256": "sha256", "PDQ": "pdq"}.get(alg, "")
                if not st:
                    continue
            labels: dict[str, Any] = {}
            for lab in obj.get("labels") or []:
                k, sep, v = str(lab).partition(":")
                if sep:
                    labels[k] = v
            labels.update(obj.get("x_basira_labels") or {})
            try:
                yield BankEntry.make(st, value, labels=labels, source=obj.get("x_basira_source") or source,
                                     added_at=obj.get("valid_from") or obj.get("created"),
                                     opinion=obj.get("x_basira_opinion") or "positive", external_id=str(obj.id))
            except SignalError as exc:
                raise ExchangeError(f"{obj.id}: {exc}") from None

    def write(self, entries: Iterable[BankEntry]) -> str:
        import stix2

        objs = []
        for e in entries:
            if e.deleted or e.signal_type not in (*_STIX_HASH_NAMES, "url"):
                continue
            if e.signal_type == "url":
                pattern = "[url:value = '{}']".format(e.signal.replace("\\", "\\\\").replace("'", "\\'"))
            else:
                pattern = f"[file:hashes.'{_STIX_HASH_NAMES[e.signal_type]}' = '{e.signal}']"
            kw: dict[str, Any] = {"pattern": pattern, "pattern_type": "stix", "indicator_types": ["malicious-activity"],
                                  "x_basira_labels": e.labels, "x_basira_opinion": e.opinion,
                                  "labels": [f"{k}:{v}" for k, v in sorted(e.labels.items())] or None}
            if e.added_at:
                kw["valid_from"] = e.added_at
            if e.source:
                kw["x_basira_source"] = e.source
            objs.append(stix2.Indicator(allow_custom=True, **{k: v for k, v in kw.items() if v is not None}))
        return stix2.Bundle(objects=objs, allow_custom=True).serialize(pretty=False) if objs else \
            json.dumps({"type": "bundle", "id": "bundle--00000000-0000-4000-8000-000000000000", "objects": []})


def read_entries(path: str | Path, fmt: str | None = None, *, source: str | None = None) -> list[BankEntry]:
    """Every entry of a bank file (format detected from the name and content unless given)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ExchangeError(f"{path}: cannot read ({exc})") from None
    f = get_format(fmt) if fmt else detect_format(p.name, text[:4096])
    try:
        return list(f.read(text, source=source or p.name))
    except ExchangeError as exc:
        raise ExchangeError(f"{path}: {exc}") from None


def write_entries(path: str | Path, entries: Iterable[BankEntry], fmt: str | None = None) -> int:
    """Write entries to a bank file (format from `fmt` or the file's extension); return the count written."""
    entries = list(entries)
    name = str(path).lower()
    f = get_format(fmt) if fmt else next(
        (f for f in _FORMATS.values() if any(name.endswith(x) for x in f.extensions)), _FORMATS["basira-jsonl"]
    )
    text = f.write(entries)
    out = Path(path)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out)
    return sum(1 for e in entries if not e.deleted)


# --- incremental sync -----------------------------------------------------------------------------------------

_TAIL = 64  # bytes before the offset whose hash proves the source was only appended to


@dataclass
class SyncResult:
    entries: list[BankEntry]
    checkpoint: dict[str, Any]
    full: bool  # read from the start (first sync, or the source was rewritten)
    unchanged: bool = False


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
        raise ExchangeError(f"{source}: cannot read ({exc.strerror or exc})") from None


def sync_source(
    source: str, checkpoint: dict[str, Any] | None = None, fmt: str | None = None, *, timeout: float = 60.0
) -> SyncResult:
    """Read what is new in a bank source since `checkpoint` (None: everything). Line formats yield complete
    lines only: a half-written last line waits for the next sync."""
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
    try:
        entries = list(f.read(text, source=source)) if text.strip() else []
    except ExchangeError as exc:
        raise ExchangeError(f"{source}: {exc}") from None
    tail = raw[max(0, new_offset - _TAIL) - got_from : new_offset - got_from]
    new_cp: dict[str, Any] = {
        "offset": new_offset,
        "tail": hashlib.sha256(tail).hexdigest(),
        "format": f.name,
        "etag": etag,
        "synced_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if f.header():
        new_cp["header"] = f.header() if offset == 0 else cp.get("header")
    return SyncResult(entries, new_cp, full=offset == 0)
