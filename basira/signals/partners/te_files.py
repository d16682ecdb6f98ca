"""python-threatexchange's files: its local signal files (`<signal_type> <signal>` lines, as its
LocalFileSignalExchangeAPI reads and HMA exports) and its `threatexchange dataset -P --csv` output.

Signal type names are threatexchange's (`video_md5`, `video_sha256`: its file hashes are named after videos, the
values are plain MD5 / SHA-256 of the bytes). Types Basira has and threatexchange does not (`sha512`,
`text_minhash`) cannot be written there: they are counted as left out, never silently dropped.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from basira.signals.base import SignalError
from basira.signals.exchange import (
    BankEntry,
    BankFileError,
    BankFormat,
    ExchangeError,
    ReadReport,
    WriteReport,
    known_type,
    register_format,
)

#: Basira's name -> threatexchange's name, for the types both have.
TE_NAMES = {"pdq": "pdq", "md5": "video_md5", "sha256": "video_sha256", "vpdq": "vpdq", "url": "url",
            "url_md5": "url_md5", "raw_text": "raw_text"}
#: threatexchange's opinion categories <-> Basira's opinions. A local file's signals come out of threatexchange
#: as INVESTIGATION_SEED (no opinion given): taken as positive, the category kept in the labels for the way back.
_CATEGORY_TO_OPINION = {"POSITIVE_CLASS": "positive", "NEGATIVE_CLASS": "negative",
                        "INVESTIGATION_SEED": "positive"}
_OPINION_TO_CATEGORY = {"positive": "POSITIVE_CLASS", "negative": "NEGATIVE_CLASS", "disputed": "INVESTIGATION_SEED"}


def te_line_value(e: BankEntry) -> str | None:
    """The entry's `<type> <signal>` line body for threatexchange, or None when it cannot be one."""
    name = TE_NAMES.get(e.signal_type)
    if name is None or "\n" in e.signal or "\r" in e.signal:
        return None
    return f"{name} {e.signal}"


@register_format
class ThreatExchangeFormat(BankFormat):
    name = "threatexchange"
    extensions = (".txt", ".te")

    def read(self, text: str, *, source: str | None = None, report: ReadReport | None = None) -> Iterator[BankEntry]:
        for n, line in enumerate(text.splitlines(), 1):
            s = line.strip()
            if not s or s.startswith("#"):
                continue
            st, _, signal = s.partition(" ")
            if not signal.strip():
                raise BankFileError(None, n, None, f"expected '<signal_type> <signal>', got {s[:80]!r}")
            if known_type(st) is None:
                if report is not None:
                    report.skip(f"line {n}", f"unknown signal type {st[:40]!r}")
                continue
            try:
                yield BankEntry.make(st, signal.strip(), source=source)
            except SignalError as exc:
                raise BankFileError(None, n, "signal", str(exc)) from None

    def write(self, entries: Iterable[BankEntry], report: WriteReport | None = None) -> str:
        out = []
        for e in entries:
            if e.deleted:  # a plain signal file has no way to say "withdrawn": leave it out, counted
                if report is not None:
                    report.withdrawn_left_out += 1
                continue
            line = te_line_value(e)
            if line is None:
                if report is not None:
                    report.skipped[e.signal_type if e.signal_type not in TE_NAMES else "raw_text (multi-line)"] += 1
                continue
            out.append(line + "\n")
            if report is not None:
                report.written += 1
        return "".join(out)


_CSV_HEADER = ["signal_type", "signal_str", "collab", "category", "tags"]


@register_format
class ThreatExchangeCsvFormat(BankFormat):
    """`threatexchange dataset -P --csv`: one row per signal and collaboration."""

    name = "threatexchange-csv"
    extensions = (".te.csv",)

    def header(self) -> str:
        return ",".join(_CSV_HEADER) + "\n"

    def read(self, text: str, *, source: str | None = None, report: ReadReport | None = None) -> Iterator[BankEntry]:
        reader = csv.DictReader(io.StringIO(text))
        missing = {"signal_type", "signal_str"} - set(reader.fieldnames or [])
        if missing:
            raise ExchangeError(f"line 1: threatexchange CSV needs columns {sorted(missing)}")
        for row in reader:
            n = reader.line_num
            st = (row.get("signal_type") or "").strip()
            if known_type(st) is None:
                if report is not None:
                    report.skip(f"line {n}", f"unknown signal type {st[:40]!r}")
                continue
            category = (row.get("category") or "").strip().upper()
            labels = {}
            if row.get("collab"):
                labels["collab"] = row["collab"]
            if category:
                labels["te_category"] = category
            if (row.get("tags") or "").strip():
                labels["tags"] = row["tags"].strip()
            try:
                yield BankEntry.make(st, row.get("signal_str") or "", labels=labels,
                                     source=row.get("collab") or source,
                                     opinion=_CATEGORY_TO_OPINION.get(category, "positive"))
            except SignalError as exc:
                raise BankFileError(None, n, "signal_str", str(exc)) from None

    def write(self, entries: Iterable[BankEntry], report: WriteReport | None = None) -> str:
        out = io.StringIO()
        w = csv.DictWriter(out, _CSV_HEADER, lineterminator="\n")
        w.writeheader()
        for e in entries:
            if e.deleted:
                if report is not None:
                    report.withdrawn_left_out += 1
                continue
            name = TE_NAMES.get(e.signal_type)
            if name is None:
                if report is not None:
                    report.skipped[e.signal_type] += 1
                continue
            category = e.labels.get("te_category") or _OPINION_TO_CATEGORY.get(e.opinion, "POSITIVE_CLASS")
            w.writerow({"signal_type": name, "signal_str": e.signal, "collab": e.labels.get("collab") or e.source or "",
                        "category": category, "tags": e.labels.get("tags") or ""})
            if report is not None:
                report.written += 1
        return out.getvalue()
