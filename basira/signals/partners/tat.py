"""Tech Against Terrorism's hash list: CSV files and hash-list v2 JSON pages.

A v2 page is `{"count", "next", "previous", "checkpoint", "results": [...]}`, each result
`{hash_digest, algorithm, ideology, file_type, deleted, updated_on, created_on, id}`. Algorithms are MD5,
SHA256, SHA512 and PDQ. `deleted: true` means TAT withdrew the hash: the item is stored disabled (never a
positive) and exported with `deleted` again. TAT's `id` is the item's external id, kept and exported;
`updated_on` is kept in the labels (`tat_updated_on`) so a page goes back out as it came in.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

from basira.core.i18n import N_
from basira.signals.base import SignalError
from basira.signals.exchange import (
    BankEntry,
    BankFormat,
    ExchangeError,
    ReadReport,
    WriteReport,
    _iso,
    _parse_time,
    known_type,
    register_format,
)

#: Basira's type -> TAT's algorithm name.
TAT_ALGORITHMS = {"md5": "MD5", "sha256": "SHA256", "sha512": "SHA512", "pdq": "PDQ"}
_TRUE = {"true", "1", "yes", "y", "t"}


def _bool(value: Any) -> bool:
    return value is True or str(value).strip().lower() in _TRUE


def entry_from_tat(rec: dict[str, Any], *, source: str | None, where: str,
                   report: ReadReport | None) -> BankEntry | None:
    """One hash-list record as an entry (None, reported, for an algorithm Basira has no type for)."""
    alg = str(rec.get("algorithm") or rec.get("type") or "").strip()
    st = known_type(alg)
    if st is None:
        if report is not None:
            report.skip(where, f"unknown algorithm {alg[:40]!r}")
        return None
    labels: dict[str, Any] = {}
    for key, names in (("ideology", ("ideology",)), ("entity", ("entity", "group", "organisation")),
                       ("content_type", ("file_type", "content_type")), ("behaviour", ("behaviour", "behavior"))):
        v = next((rec[n] for n in names if rec.get(n) not in (None, "")), None)
        if v is not None:
            labels[key] = str(v)
    if rec.get("updated_on") not in (None, ""):
        labels["tat_updated_on"] = rec["updated_on"]
    ext = rec.get("id")
    try:
        return BankEntry.make(st, str(rec.get("hash_digest") or rec.get("hash") or ""), labels=labels,
                              source=rec.get("source") or source,
                              added_at=_parse_time(rec.get("created_on") or rec.get("added_at")),
                              external_id=None if ext in (None, "") else str(ext),
                              deleted=_bool(rec.get("deleted")))
    except (SignalError, ExchangeError) as exc:
        raise ExchangeError(f"{where}: {exc}") from None


def tat_record(e: BankEntry) -> dict[str, Any]:
    """An entry as a v2 record (Basira types TAT has no algorithm for keep Basira's name)."""
    return {"hash_digest": e.signal, "algorithm": TAT_ALGORITHMS.get(e.signal_type, e.signal_type),
            "ideology": e.labels.get("ideology", ""), "file_type": e.labels.get("content_type", ""),
            "deleted": bool(e.deleted), "updated_on": e.labels.get("tat_updated_on"),
            "created_on": _iso(e.added_at), "id": _int_or_str(e.external_id)}


def _int_or_str(v: str | None) -> int | str | None:
    return int(v) if v is not None and v.isdigit() else v


_CSV_COLUMNS = {
    "hash": ("hash_digest", "hash", "digest", "signal", "value"),
    "algorithm": ("algorithm", "type", "hash_type", "signal_type"),
    "ideology": ("ideology",),
    "entity": ("entity", "group", "organisation", "organization", "terrorist_entity"),
    "file_type": ("file_type", "content_type", "media_type"),
    "behaviour": ("behaviour", "behavior"),
    "source": ("source", "platform"),
    "created_on": ("created_on", "added_at", "created_at", "date", "added"),
    "updated_on": ("updated_on",),
    "deleted": ("deleted",),
    "id": ("id", "external_id", "hash_id"),
}
_CSV_HEADER = ["hash_digest", "algorithm", "ideology", "file_type", "deleted", "updated_on", "created_on", "id",
               "entity", "behaviour", "source"]


@register_format
class TatCsvFormat(BankFormat):
    name = "tat-csv"
    extensions = (".csv",)

    def __init__(self) -> None:
        self._last_header = ",".join(_CSV_HEADER)

    def header(self) -> str:
        return self._last_header + "\n"

    def read(self, text: str, *, source: str | None = None, report: ReadReport | None = None) -> Iterator[BankEntry]:
        reader = csv.reader(io.StringIO(text))
        header = next(reader, None)
        if header is None:
            return
        self._last_header = ",".join(header)
        cols = [h.strip().lower().replace(" ", "_") for h in header]
        where = {k: next((cols.index(n) for n in names if n in cols), None) for k, names in _CSV_COLUMNS.items()}
        if where["hash"] is None or where["algorithm"] is None:
            raise ExchangeError(f"line 1: CSV needs 'hash' and 'type' columns (or hash_digest and algorithm), "
                                f"has {header}")
        for row in reader:
            n = reader.line_num
            if not row or not any(c.strip() for c in row):
                continue
            rec = {k: row[i].strip() for k, i in where.items() if i is not None and i < len(row) and row[i].strip()}
            rec["hash_digest"] = rec.pop("hash", "")
            e = entry_from_tat(rec, source=source, where=f"line {n}", report=report)
            if e is not None:
                yield e

    def write(self, entries: Iterable[BankEntry], report: WriteReport | None = None) -> str:
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        w.writerow(_CSV_HEADER)
        for e in entries:
            r = tat_record(e)
            w.writerow([r["hash_digest"], r["algorithm"], r["ideology"], r["file_type"],
                        "true" if e.deleted else "false", "" if r["updated_on"] is None else r["updated_on"],
                        r["created_on"] or "", e.external_id or "", e.labels.get("entity", ""),
                        e.labels.get("behaviour", ""), e.source or ""])
            if report is not None:
                report.written += 1
                report.withdrawn += bool(e.deleted)
        return out.getvalue()


def page_records(doc: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, record) of a v2 page, a list of pages, or a bare list of records."""
    pages = doc if isinstance(doc, list) and doc and isinstance(doc[0], dict) and "results" in doc[0] else [doc]
    for p, page in enumerate(pages):
        results = page.get("results") if isinstance(page, dict) else page
        if not isinstance(results, list):
            raise ExchangeError.of(N_("page %(page)s: no 'results' list"), page=p + 1)
        for i, rec in enumerate(results):
            where = f"results[{i}]" if len(pages) == 1 else f"page {p + 1} results[{i}]"
            if not isinstance(rec, dict):
                raise ExchangeError.of(N_("%(where)s: not an object"), where=where)
            yield where, rec


@register_format
class TatJsonFormat(BankFormat):
    """TAT hash-list v2 JSON: one page (what the API returns), a list of pages, or a list of records."""

    name = "tat-json"
    extensions = (".json",)
    line_oriented = False

    def read(self, text: str, *, source: str | None = None, report: ReadReport | None = None) -> Iterator[BankEntry]:
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ExchangeError.of(N_("line %(line)s: not JSON (%(error)s)"), line=exc.lineno, error=exc.msg) from None
        for where, rec in page_records(doc):
            e = entry_from_tat(rec, source=source, where=where, report=report)
            if e is not None:
                yield e

    def write(self, entries: Iterable[BankEntry], report: WriteReport | None = None) -> str:
        results = []
        for e in entries:
            results.append(tat_record(e))
            if report is not None:
                report.written += 1
                report.withdrawn += bool(e.deleted)
        last = results[-1] if results else None
        checkpoint = f"{last['updated_on']},{last['id']}" if last and last["updated_on"] is not None else ""
        page = {"count": len(results), "next": None, "previous": None, "checkpoint": checkpoint, "results": results}
        return json.dumps(page, ensure_ascii=False, indent=1) + "\n"
