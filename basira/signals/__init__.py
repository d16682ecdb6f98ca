"""Signals: media and text → hashes → bank matches. Pure: no database, web or CLI here.

One seam (SignalType + registry) with one file per type, each bringing its index (`SignalType.get_index_cls`):
files (md5, sha256: exact lookup), pdq (multi-index Hamming search), vpdq (per-frame Hamming search), text
(MinHash LSH), url (canonical URLs, exact).
"""

from basira.signals.base import (
    Candidates,
    ExactIndex,
    ExactSignalIndex,
    SignalError,
    SignalIndex,
    SignalType,
    get_signal_type,
    register,
    signal_types,
)
from basira.signals.index import HammingHit, HammingIndex, brute_force
from basira.signals.text import MinHashIndex

__all__ = [
    "Candidates",
    "ExactIndex",
    "ExactSignalIndex",
    "HammingHit",
    "HammingIndex",
    "MinHashIndex",
    "SignalError",
    "SignalIndex",
    "SignalType",
    "brute_force",
    "get_signal_type",
    "register",
    "signal_types",
]
