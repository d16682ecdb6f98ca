"""Ingest: stream posts and accounts from files (generic JSONL/CSV, X API v2, Telegram exports) into the store."""

from basira.ingest.base import FORMATS, IngestFormat, detect_format, get_format, register
from basira.ingest.records import AccountRecord, MediaRecord, PostRecord
from basira.ingest.runner import IngestResult, ingest_file

__all__ = [
    "FORMATS",
    "AccountRecord",
    "IngestFormat",
    "IngestResult",
    "MediaRecord",
    "PostRecord",
    "detect_format",
    "get_format",
    "ingest_file",
    "register",
]
