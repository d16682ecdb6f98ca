"""Signals: media and text → hashes → bank matches. Pure: no database, web or CLI here.

One seam (SignalType + registry) with one file per type: pdq, vpdq, files (md5, sha256), text (MinHash), url.
"""

from basira.signals.base import SignalError, SignalType, get_signal_type, register, signal_types
from basira.signals.index import ExactIndex, HammingHit, HammingIndex, MinHashIndex, brute_force

__all__ = [
    "ExactIndex",
    "HammingHit",
    "HammingIndex",
    "MinHashIndex",
    "SignalError",
    "SignalType",
    "brute_force",
    "get_signal_type",
    "register",
    "signal_types",
]
