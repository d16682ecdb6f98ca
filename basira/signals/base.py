"""The signal-type seam: one small abstract class, one registry, one file per signal type.

A signal type turns content (a file's bytes, an image, a text, a URL) into a signal string, says how far apart
two signals are, and how its signals are searched: `exact` (a dict lookup), `hamming` (256-bit PDQ-style bit
strings, searched by `HammingIndex`) or `similarity` (its own index, e.g. MinHash LSH for text).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar

from basira.core.errors import BasiraError


class SignalError(BasiraError, ValueError):
    """A signal string that is not valid for its type, or content that cannot be hashed."""


class SignalType(ABC):
    """One kind of signal. Subclasses are stateless; register them with `@register`."""

    name: ClassVar[str]
    #: Other names the type goes by in exchange files (python-threatexchange, STIX, Tech Against Terrorism).
    aliases: ClassVar[tuple[str, ...]] = ()
    #: exact | hamming | similarity
    index_kind: ClassVar[str] = "exact"
    #: Content this type hashes: file, image, video, text, url.
    content: ClassVar[str] = "file"
    #: Largest distance counted as a match unless a bank says otherwise.
    default_threshold: ClassVar[float] = 0

    @classmethod
    @abstractmethod
    def validate(cls, signal: str) -> str:
        """Return the canonical form of a signal string; raise SignalError if it is not one."""

    @classmethod
    def distance(cls, a: str, b: str) -> float:
        """Distance between two canonical signals (0 = identical)."""
        return 0 if a == b else 1

    @classmethod
    def match_key(cls, signal: str) -> str:
        """What an `exact` index compares: the signal itself, or a normalized form of it (a URL is stored as
        received, so it goes back to partners unchanged, and matched on its canonical form)."""
        return signal

    @classmethod
    def similarity_values(cls, signal: str) -> Any:
        """For `similarity` types: the MinHash values (uint32 array) a MinHashIndex stores and searches."""
        raise SignalError(f"signal type {cls.name} has no similarity values")

    @classmethod
    def hash_file(cls, path: str | Path) -> str:
        """Hash a file's content; types that do not hash files raise SignalError."""
        raise SignalError(f"signal type {cls.name} does not hash files")

    @classmethod
    def hash_text(cls, text: str) -> str:
        """Hash a text (a post's text, a URL); types that do not hash text raise SignalError."""
        raise SignalError(f"signal type {cls.name} does not hash text")

    @classmethod
    def matches(cls, a: str, b: str, threshold: float | None = None) -> bool:
        t = cls.default_threshold if threshold is None else threshold
        return cls.distance(a, b) <= t


_REGISTRY: dict[str, type[SignalType]] = {}
_ALIASES: dict[str, str] = {}


def register(cls: type[SignalType]) -> type[SignalType]:
    """Class decorator: make a signal type known by its name and aliases."""
    _REGISTRY[cls.name] = cls
    for alias in (cls.name, *cls.aliases):
        _ALIASES[alias.lower()] = cls.name
    return cls


def get_signal_type(name: str) -> type[SignalType]:
    """The signal type called `name` (or one of its aliases, case-insensitive)."""
    _load_builtin()
    key = _ALIASES.get(name.strip().lower())
    if key is None:
        known = ", ".join(sorted(_REGISTRY))
        raise SignalError(f"unknown signal type {name!r} (known: {known})")
    return _REGISTRY[key]


def signal_types() -> dict[str, type[SignalType]]:
    """All registered signal types by name."""
    _load_builtin()
    return dict(_REGISTRY)


def _load_builtin() -> None:
    # Importing the modules registers them; vpdq only when its native library is installed.
    from basira.signals import files, pdq, text, url, vpdq  # noqa: F401
