"""What a scan reads: the files named (folders searched), their formats, and the parts a cluster hands to its
workers (whole files, or line-aligned byte ranges of large JSON Lines files)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from basira.core.errors import InputError
from basira.ingest import detect_format, get_format
from basira.ingest.base import read_head
from basira.ingest.clean import ReadOptions
from basira.ingest.repository import get_checkpoint
from basira.ingest.runner import fingerprint

if TYPE_CHECKING:
    from basira.store import Store

__all__ = ["FORMAT_ALIASES", "SCAN_SUFFIXES", "Part", "ScanInput", "normalize_format", "resolve_inputs",
           "split_inputs", "unchanged_since_ingest"]

FORMAT_ALIASES = {"x-v2": "x_v2", "x": "x_v2", "twitter": "x_v2"}
SCAN_SUFFIXES = (".jsonl", ".ndjson", ".json", ".csv")
CHUNK_BYTES = 4 << 20  # JSON Lines files larger than this are split into byte ranges of about this size
LINE_FORMATS = ("jsonl", "x_v2", "follows")  # formats whose records never span lines


@dataclass(frozen=True)
class ScanInput:
    path: str
    format: str


@dataclass(frozen=True)
class Part:
    """One unit of ingest: a whole file, or the byte range [start, end) of one (`source` and `fingerprint` are
    the whole file's; `line_offset` the lines before the range, so records keep their file's line numbers)."""

    path: str
    format: str
    source: str | None = None
    fingerprint: str | None = None
    start: int | None = None
    end: int | None = None
    line_offset: int = 0

    @property
    def is_range(self) -> bool:
        return self.start is not None


def normalize_format(fmt: str) -> str:
    fmt = FORMAT_ALIASES.get(fmt.lower(), fmt.lower())
    if fmt != "auto":
        get_format(fmt)  # unknown names raise InputError
    return fmt


def resolve_inputs(paths: Iterable[str], fmt: str = "auto") -> tuple[list[ScanInput], list[dict[str, str]]]:
    """Files to scan with their formats, and the files skipped inside folders.

    A file named on the command line must exist and have a recognisable format (InputError otherwise). A
    folder is searched recursively for *.jsonl, *.ndjson, *.json and *.csv; files in it of no known format
    (say, a follow graph or a ground-truth file) are skipped and listed.
    """
    fmt = normalize_format(fmt)
    inputs: list[ScanInput] = []
    skipped: list[dict[str, str]] = []
    seen: set[str] = set()

    def add(path: str, name: str) -> None:
        key = str(Path(path).resolve())
        if key not in seen:
            seen.add(key)
            inputs.append(ScanInput(path, name))

    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            for f in sorted(x for x in p.rglob("*") if x.is_file() and x.suffix.lower() in SCAN_SUFFIXES):
                try:
                    if fmt == "auto":
                        add(str(f), detect_format(str(f)).name)
                    elif get_format(fmt).sniff(str(f), read_head(str(f))):
                        add(str(f), fmt)
                    else:
                        skipped.append({"file": str(f), "reason": f"not {fmt}"})
                except InputError as exc:
                    skipped.append({"file": str(f), "reason": exc.reason.split(";")[0]})
        elif p.exists():
            add(raw, detect_format(raw).name if fmt == "auto" else fmt)
        else:
            raise InputError(raw, None, None, "no such file or folder")
    return inputs, skipped


def split_inputs(inputs: Iterable[ScanInput], options: ReadOptions | None,
                 chunk_bytes: int = CHUNK_BYTES) -> list[Part]:
    """Whole files, and byte ranges of JSON Lines files larger than `chunk_bytes`, cut at line starts."""
    parts: list[Part] = []
    for inp in inputs:
        p = Path(inp.path)
        size = p.stat().st_size
        if inp.format not in LINE_FORMATS or size <= chunk_bytes or p.suffix.lower() not in (".jsonl", ".ndjson"):
            parts.append(Part(inp.path, inp.format))
            continue
        source, fp = str(p.resolve()), fingerprint(p, options)
        start, lines = 0, 0
        with open(p, "rb") as fh:
            while start < size:
                fh.seek(min(start + chunk_bytes, size))
                if fh.tell() < size:
                    fh.readline()  # to the next line start
                end = fh.tell()
                parts.append(Part(inp.path, inp.format, source, fp, start, end, lines))
                fh.seek(start)
                left = end - start
                while left > 0:
                    buf = fh.read(min(left, 1 << 20))
                    lines += buf.count(b"\n")
                    left -= len(buf)
                start = end
    return parts


def unchanged_since_ingest(store: Store, source: str, fmt: str, options: ReadOptions | None = None) -> bool:
    """True when the file was ingested to the end and has not changed since (same size and mtime, which is
    the ingest checkpoint's fingerprint): a re-scan then need not read it again."""
    cp = get_checkpoint(store, source)
    if cp is None or not cp.completed or cp.format != fmt:
        return False
    return cp.fingerprint == fingerprint(Path(source), options)
