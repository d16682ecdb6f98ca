"""The bottom of the house: errors, settings, time, JSON lines and the background loop. Imports nothing above it."""

from basira.core.errors import BasiraError, InputError, http_detail, http_status
from basira.core.faces import lazy_face
from basira.core.jsonio import atomic_output, iter_jsonl
from basira.core.periodic import PeriodicLoop
from basira.core.settings import Settings, export_for_workers
from basira.core.time import iso, parse_time, utc, utcnow

__all__ = [
    "BasiraError",
    "InputError",
    "PeriodicLoop",
    "Settings",
    "atomic_output",
    "export_for_workers",
    "http_detail",
    "http_status",
    "iso",
    "iter_jsonl",
    "lazy_face",
    "parse_time",
    "utc",
    "utcnow",
]
