"""The signal-type seam: one small abstract class, one registry, one file per signal type.

A signal type turns content (a file's bytes, an image, a text, a URL) into a signal string, says how far apart
two signals are, and brings the index its signals are searched with (`get_index_cls`, as python-threatexchange's
SignalType does): a dict lookup by default (`ExactSignalIndex`), PDQ's multi-index Hamming search, vPDQ's
per-frame search, MinHash LSH for text. It also says what of a stored post it reads (`post_content`, a
basira.signals.content ContentType, as python-threatexchange's get_content_types) and how a piece of that content
becomes its query signal (`signal_from`). Adding a signal type is adding one file: the type, its index if the
default does not fit, and its name in `_load_builtin`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import ClassVar

from basira.core.errors import BasiraError
from basira.core.i18n import N_
from basira.signals.content import ContentType, PostContent


class SignalError(BasiraError):
    """A signal string that is not valid for its type, or content that cannot be hashed."""


class SignalType(ABC):
    """One kind of signal. Subclasses are stateless; register them with `@register`."""

    name: ClassVar[str]
    #: Other names the type goes by in exchange files (python-threatexchange, STIX, Tech Against Terrorism).
    aliases: ClassVar[tuple[str, ...]] = ()
    #: How its distances read (the HMA API prints them so): exact | hamming | vpdq | similarity
    index_kind: ClassVar[str] = "exact"
    #: Content this type hashes: file, image, video, text, url.
    content: ClassVar[str] = "file"
    #: Largest distance counted as a match unless a bank says otherwise.
    default_threshold: ClassVar[float] = 0
    #: What of a stored post it reads (basira.signals.content: TextContent, UrlContent, MediaContent); None:
    #: nothing (a type only for files or exchanged hashes).
    post_content: ClassVar[type[ContentType] | None] = None

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
    def get_index_cls(cls) -> type[SignalIndex]:
        """The index this type's signals are searched with; exact lookup of `match_key` unless overridden."""
        return ExactSignalIndex

    @classmethod
    def new_index(cls) -> SignalIndex:
        """An empty index for this type's signals."""
        return cls.get_index_cls()(cls)

    @classmethod
    def hash_file(cls, path: str | Path) -> str:
        """Hash a file's content; types that do not hash files raise SignalError."""
        raise SignalError.of(N_("signal type %(type)s does not hash files"), type=cls.name)

    @classmethod
    def hash_text(cls, text: str) -> str:
        """Hash a text (a post's text, a URL); types that do not hash text raise SignalError."""
        raise SignalError.of(N_("signal type %(type)s does not hash text"), type=cls.name)

    @classmethod
    def signal_from(cls, value: str) -> str:
        """Its query signal for one piece of its post content (a text, a URL, a media hash stored under its
        name): the value itself unless the type hashes it. Raise SignalError when the piece yields none."""
        return value

    @classmethod
    def signals_of(cls, post: PostContent) -> Iterator[tuple[str, str]]:
        """(where, query signal) for each piece of `post` it reads: "text", "url:<n>", "media:<n>:<type>". A
        piece that yields no signal is left out (it matches nothing)."""
        if cls.post_content is None:
            return
        for where, value in cls.post_content.pieces(post, cls.name):
            try:
                yield where, cls.signal_from(value)
            except SignalError:
                continue

    @classmethod
    def matches(cls, a: str, b: str, threshold: float | None = None) -> bool:
        t = cls.default_threshold if threshold is None else threshold
        return cls.distance(a, b) <= t


#: (item id, distance) of the indexed signals near one query
Candidates = list[tuple[int, float]]


class SignalIndex(ABC):
    """The searchable items of one signal type (a Matcher holds one per type it has items of).

    `add` takes canonical signals (`validate`d) and item ids; `query_many` returns, per query, every item within
    `max_distance` (the loosest threshold any bank uses: a bank's own threshold is applied after). An index may
    be approximate only where its type says so (MinHash LSH); the others are exact, checked against brute force.
    """

    def __init__(self, signal_type: type[SignalType]) -> None:
        self.signal_type = signal_type

    @abstractmethod
    def __len__(self) -> int:
        """How many signals it holds."""

    @abstractmethod
    def add(self, signals: Sequence[str], ids: Sequence[int]) -> None:
        """Index signals under their item ids (an id removed before is live again)."""

    @abstractmethod
    def remove(self, ids: Iterable[int]) -> None:
        """Stop finding these item ids."""

    @abstractmethod
    def query_many(self, signals: Sequence[str], max_distance: float) -> list[Candidates]:
        """For each canonical query signal, (item id, distance) of the items within `max_distance`."""


class ExactIndex:
    """Exact lookup of canonical signal strings (MD5, SHA-256, URLs)."""

    def __init__(self) -> None:
        self._map: dict[str, list[int]] = {}
        self._removed: set[int] = set()

    def __len__(self) -> int:
        return sum(len(v) for v in self._map.values())

    def add(self, signals: Iterable[str], ids: Iterable[int]) -> None:
        for s, i in zip(signals, ids, strict=True):
            self._map.setdefault(s, []).append(int(i))
            self._removed.discard(int(i))

    def remove(self, ids: Iterable[int]) -> None:
        self._removed.update(int(i) for i in ids)

    def lookup(self, signal: str) -> list[int]:
        return [i for i in self._map.get(signal, ()) if i not in self._removed]


class ExactSignalIndex(SignalIndex):
    """The default index: items whose `match_key` equals the query's, at distance 0."""

    def __init__(self, signal_type: type[SignalType]) -> None:
        super().__init__(signal_type)
        self._index = ExactIndex()

    def __len__(self) -> int:
        return len(self._index)

    def add(self, signals: Sequence[str], ids: Sequence[int]) -> None:
        key = self.signal_type.match_key
        self._index.add([key(s) for s in signals], ids)

    def remove(self, ids: Iterable[int]) -> None:
        self._index.remove(ids)

    def query_many(self, signals: Sequence[str], max_distance: float) -> list[Candidates]:
        key = self.signal_type.match_key
        return [[(i, 0.0) for i in self._index.lookup(key(s))] for s in signals]


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
        raise SignalError.of(N_("unknown signal type %(name)s (known: %(known)s)"), name=repr(name), known=known)
    return _REGISTRY[key]


def signal_types() -> dict[str, type[SignalType]]:
    """All registered signal types by name."""
    _load_builtin()
    return dict(_REGISTRY)


#: The built-in signal types' modules, in the order their types are listed where order shows (a post's matches).
BUILTIN_MODULES = ("files", "pdq", "text", "url", "vpdq")


def builtin_rank(st: type[SignalType]) -> int:
    """Where a type comes among the built-in ones (its module's place in BUILTIN_MODULES); others come after."""
    module = st.__module__.rpartition(".")[2]
    return BUILTIN_MODULES.index(module) if st.__module__.startswith("basira.signals.") and module in BUILTIN_MODULES \
        else len(BUILTIN_MODULES)


def _load_builtin() -> None:
    # Importing the modules registers them (BUILTIN_MODULES); vpdq only when its native library is installed.
    from basira.signals import files, pdq, text, url, vpdq  # noqa: F401
