"""What a scan reports: ScanSummary, filled the same way by the local scan and a cluster scan."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from basira.scan.ingest import PartResult

__all__ = ["MAX_ERRORS_KEPT", "ScanSummary", "error_row"]

MAX_ERRORS_KEPT = 1000


@dataclass
class ScanSummary:
    posts_total: int = 0
    posts_new: int = 0
    accounts_total: int = 0
    accounts_new: int = 0
    flagged_total: int = 0
    flagged_new: int = 0
    cases_open: int = 0
    cases_new: int = 0
    detections_new: int = 0
    texts_scored: int = 0  # distinct texts the detector ran on: copies of a text reuse its result
    hash_matches: int = 0  # new bank matches acted on (cases opened or raised); see basira.scan.hashes
    hash_cases_raised: int = 0  # open cases whose priority a new match raised
    groups_new: int = 0  # review groups of copies formed
    cases_grouped: int = 0  # new cases that joined a group
    errors: list[dict[str, Any]] = field(default_factory=list)  # {file, line, reason}; the first 1,000
    error_count: int = 0
    files: list[dict[str, Any]] = field(default_factory=list)  # per file: file, format, posts_new, ...
    skipped_files: list[dict[str, str]] = field(default_factory=list)  # in folders: files of no known format
    by_language: dict[str, dict[str, int]] = field(default_factory=dict)  # lang -> {posts, flagged}
    by_category: dict[str, int] = field(default_factory=dict)  # flagged posts per category
    model_version: str = ""
    threshold: float = 0.0
    workers: int = 1
    seconds: float = 0.0
    stopped: bool = False  # on_error="stop" hit a malformed record

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def add_error(self, file: str, line: int | None, field_: str | None, reason: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append(error_row(file, line, field_, reason))

    def add_part(self, r: PartResult, files: dict[str, dict[str, Any]]) -> None:
        """Count one ingested part into its file's row (`files`: path -> row, kept by the caller)."""
        f = files.setdefault(r.file, {"file": r.file, "format": r.format, "posts_new": 0, "posts_seen": 0,
                                      "accounts_new": 0, "records_skipped": 0, "errors": 0, "completed": True})
        if r.failure is not None:
            f["completed"] = False
            exc = r.failure
            self.add_error(exc.file, exc.line, exc.field, exc.reason)
            return
        f["format"] = r.format
        for k in ("posts_new", "posts_seen", "accounts_new", "records_skipped"):
            f[k] += getattr(r, k)
        f["errors"] += r.error_count
        f["completed"] = f["completed"] and r.completed
        self.error_count += r.error_count
        for e in r.errors:
            if len(self.errors) < MAX_ERRORS_KEPT:
                self.errors.append(error_row(e["file"], e["line"], e["field"], e["reason"]))

    def event_payload(self) -> dict[str, Any]:
        """The summary without its long lists, for the scan.completed event."""
        return {k: v for k, v in self.to_dict().items()
                if k not in ("errors", "files", "skipped_files", "by_language", "by_category")}


def error_row(file: str, line: int | None, field_: str | None, reason: str) -> dict[str, Any]:
    return {"file": file, "line": line, "reason": f"field '{field_}': {reason}" if field_ else reason}
