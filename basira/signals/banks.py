"""Banks and the match policy, pure: no database here (basira.banks loads and saves these).

A lookup goes: signal → index candidates (at the loosest threshold any bank uses) → per bank and signal type
threshold → bank sampled in or out for this content → item disabled until a time? → item's opinion (negative:
dismissed; disputed: kept but flagged) → quarantined item? → any match in a negative (allow-list) bank vetoes
every positive match.
"""

from __future__ import annotations

import hashlib
import os
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from basira.core.i18n import N_
from basira.core.time import utcnow
from basira.signals.base import (
    SignalError,
    SignalIndex,
    SignalType,
    builtin_rank,
    get_signal_type,
    signal_types,
)
from basira.signals.content import CONTENT_TYPES
from basira.signals.content import PostContent as PostContent  # re-exported: where callers have found it

OPINIONS = ("positive", "negative", "disputed")
#: How a bank's images are decoded for PDQ: `full` resolution (the hash HMA, python-threatexchange and pdqhash
#: compute, so partners' hashes match to the bit) or `fast` (JPEG decoded at reduced scale: ~4x faster on large
#: photos, 2-10 bits off the full-resolution hash). See docs/hash-matching.md.
PDQ_DECODES = ("full", "fast")
LABEL_KEYS = ("entity", "ideology", "content_type", "behaviour")
Clock = Callable[[], datetime]




@dataclass
class Bank:
    """A named set of items. `negative` banks are allow-lists: their matches veto positive ones."""

    name: str
    negative: bool = False
    enabled_ratio: float = 1.0  # share of lookups that consult this bank (1.0 = all, 0.0 = off)
    thresholds: dict[str, float] = field(default_factory=dict)  # signal type name -> max distance
    description: str = ""
    id: int | None = None
    pdq_decode: str = "fast"  # PDQ_DECODES: used when media is hashed to be added to or matched against it

    def __post_init__(self) -> None:
        if self.pdq_decode not in PDQ_DECODES:
            raise SignalError.of(N_("pdq_decode must be one of %(known)s, not %(value)s"), known=", ".join(PDQ_DECODES),
                                 value=repr(self.pdq_decode))
        if not 0.0 <= self.enabled_ratio <= 1.0:
            raise SignalError.of(N_("enabled_ratio must be within 0..1, not %(value)s"), value=self.enabled_ratio)
        self.thresholds = {get_signal_type(k).name: float(v) for k, v in self.thresholds.items()}

    def threshold(self, signal_type: str) -> float:
        st = get_signal_type(signal_type)
        return self.thresholds.get(st.name, float(st.default_threshold))


@dataclass
class BankItem:
    """One hash in a bank, with what is known about the content it stands for."""

    id: int
    bank: str
    signal_type: str
    signal: str
    labels: dict[str, Any] = field(default_factory=dict)  # entity, ideology, content_type, behaviour, ...
    source: str | None = None
    added_at: datetime | None = None
    disabled_until: datetime | None = None
    opinion: str = "positive"
    quarantined: bool = False
    withdrawn: bool = False  # its source deleted it (an exchange's `deleted`): reported as disabled, never acted on

    def __post_init__(self) -> None:
        st = get_signal_type(self.signal_type)
        self.signal_type = st.name
        self.signal = st.validate(self.signal)
        if self.opinion not in OPINIONS:
            raise SignalError.of(N_("opinion must be one of %(known)s, not %(value)s"), known=OPINIONS, value=repr(self.opinion))


@dataclass(frozen=True)
class Match:
    bank: str
    item_id: int
    signal_type: str
    distance: float
    signal: str
    labels: dict[str, Any]
    opinion: str
    source: str | None
    negative_bank: bool

    @property
    def disputed(self) -> bool:
        return self.opinion == "disputed"

    def as_dict(self) -> dict[str, Any]:
        return {
            "bank": self.bank,
            "item_id": self.item_id,
            "signal_type": self.signal_type,
            "distance": self.distance,
            "labels": self.labels,
            "opinion": self.opinion,
            "source": self.source,
        }


@dataclass
class MatchResult:
    """What one lookup found. `matches` are the ones to act on; the rest say why others were not."""

    signal_type: str
    signal: str
    matches: list[Match] = field(default_factory=list)
    vetoed: list[Match] = field(default_factory=list)  # positive matches vetoed by a negative bank
    allowed_by: list[Match] = field(default_factory=list)  # the negative-bank matches that vetoed them
    dismissed: list[Match] = field(default_factory=list)  # items with a negative opinion
    quarantined: list[Match] = field(default_factory=list)  # items held back for matching too much
    disabled: list[Match] = field(default_factory=list)  # items disabled until a later time
    sampled_out: list[str] = field(default_factory=list)  # banks not consulted for this lookup

    @property
    def matched(self) -> bool:
        return bool(self.matches)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"signal_type": self.signal_type, "matched": self.matched}
        for name in ("matches", "vetoed", "allowed_by", "dismissed", "quarantined", "disabled"):
            out[name] = [m.as_dict() for m in getattr(self, name)]
        out["sampled_out"] = list(self.sampled_out)
        return out


@dataclass(frozen=True)
class QuarantineEvent:
    item_id: int
    at: datetime
    window_matches: int
    baseline: float


class MatchRateMonitor:
    """Quarantine an item whose matches in the last `window` jump far above its usual rate.

    An item is quarantined when its matches within the sliding window exceed both `min_matches` and
    `spike_factor` times its baseline (an exponentially weighted mean of its earlier per-window counts).
    That catches a hash that suddenly floods matches (a near-blank image, a logo, a poisoned bank entry)
    before it opens thousands of cases. A reviewer releases it with `release`.
    """

    def __init__(
        self,
        window: timedelta = timedelta(hours=1),
        min_matches: int = 100,
        spike_factor: float = 10.0,
        alpha: float = 0.3,
    ) -> None:
        self.window = window
        self.min_matches = min_matches
        self.spike_factor = spike_factor
        self.alpha = alpha
        self._hits: dict[int, deque[datetime]] = defaultdict(deque)
        self._baseline: dict[int, float] = {}
        self._window_start: dict[int, datetime] = {}
        self._window_count: dict[int, int] = defaultdict(int)
        self.quarantined: set[int] = set()
        self.events: list[QuarantineEvent] = []

    def observe(self, item_id: int, at: datetime) -> bool:
        """Count one match of an item; return True if the item is (now) quarantined."""
        if item_id in self.quarantined:
            return True
        start = self._window_start.setdefault(item_id, at)
        while at - start >= self.window:  # roll fixed windows into the baseline
            count = self._window_count.pop(item_id, 0)
            prev = self._baseline.get(item_id)
            self._baseline[item_id] = count if prev is None else self.alpha * count + (1 - self.alpha) * prev
            start += self.window
            if count == 0 and at - start >= self.window * 50:  # long idle: jump ahead
                start = at
        self._window_start[item_id] = start
        self._window_count[item_id] += 1
        hits = self._hits[item_id]
        hits.append(at)
        while hits and at - hits[0] > self.window:
            hits.popleft()
        baseline = self._baseline.get(item_id, 0.0)
        if len(hits) > self.min_matches and len(hits) > self.spike_factor * baseline:
            self.quarantined.add(item_id)
            self.events.append(QuarantineEvent(item_id, at, len(hits), baseline))
            return True
        return False

    def release(self, item_id: int) -> None:
        """Lift a quarantine; the burst so far becomes part of the item's baseline."""
        self.quarantined.discard(item_id)
        hits = self._hits.get(item_id)
        if hits:
            prev = self._baseline.get(item_id, 0.0)
            self._baseline[item_id] = max(prev, float(len(hits)))
            hits.clear()


def _sample_point(bank: str, key: str) -> float:
    """A stable number in [0, 1) for (bank, content): the same content is always in or out of a sampled bank."""
    h = hashlib.blake2b(f"{bank}\x00{key}".encode(), digest_size=8).digest()
    return int.from_bytes(h, "big") / 2**64


class Matcher:
    """Banks and their items, indexed per signal type; `match` applies the whole policy."""

    def __init__(
        self,
        banks: Iterable[Bank] = (),
        items: Iterable[BankItem] = (),
        *,
        clock: Clock = utcnow,
        monitor: MatchRateMonitor | None = None,
    ) -> None:
        self.clock = clock
        self.monitor = monitor if monitor is not None else MatchRateMonitor()
        self.banks: dict[str, Bank] = {}
        self.items: dict[int, BankItem] = {}
        self._indexes: dict[str, SignalIndex] = {}  # signal type name -> its index (SignalType.get_index_cls)
        self.indexed_types: set[str] = set()
        for b in banks:
            self.add_bank(b)
        self.add_items(items)

    # --- contents -------------------------------------------------------------------------------------------

    def add_bank(self, bank: Bank) -> None:
        self.banks[bank.name] = bank

    @property
    def pdq_decode(self) -> str:
        """`full` when any bank asks for full-resolution PDQ: a query hashed fast could miss its hashes."""
        return "full" if any(b.pdq_decode == "full" for b in self.banks.values()) else "fast"

    def add_items(self, items: Iterable[BankItem]) -> int:
        """Index items (their banks must be known); an item id seen before is replaced. Return the count."""
        by_type: dict[str, list[BankItem]] = defaultdict(list)
        replaced = []
        for it in items:
            if it.bank not in self.banks:
                raise ValueError(f"item {it.id}: unknown bank {it.bank!r}")
            if it.id in self.items:
                replaced.append(it.id)
            self.items[it.id] = it
            by_type[it.signal_type].append(it)
            if it.quarantined:
                self.monitor.quarantined.add(it.id)
        if replaced:
            self._unindex(replaced)
        for st_name, group in by_type.items():
            self.indexed_types.add(st_name)
            idx = self._indexes.get(st_name)
            if idx is None:
                idx = self._indexes[st_name] = get_signal_type(st_name).new_index()
            idx.add([it.signal for it in group], [it.id for it in group])
        return sum(len(g) for g in by_type.values())

    def remove_items(self, ids: Iterable[int]) -> None:
        ids = [i for i in ids if i in self.items]
        self._unindex(ids)
        for i in ids:
            self.items.pop(i, None)

    def _unindex(self, ids: Sequence[int]) -> None:
        for idx in self._indexes.values():
            idx.remove(ids)

    def update_item(self, item_id: int, **changes: Any) -> BankItem:
        """Change an item's opinion, labels, disabled_until or quarantine flag (not its signal)."""
        it = self.items[item_id]
        new = replace(it, **changes)
        self.items[item_id] = new
        if "quarantined" in changes:
            if changes["quarantined"]:
                self.monitor.quarantined.add(item_id)
            else:
                self.monitor.release(item_id)
        return new

    # --- lookups --------------------------------------------------------------------------------------------

    def _loosest(self, signal_type: str) -> float:
        return max((b.threshold(signal_type) for b in self.banks.values()), default=0.0)

    def candidates(self, signal_type: str, signal: str) -> list[tuple[int, float]]:
        """(item id, distance) of items within the loosest threshold any bank uses for this type."""
        return self.candidates_many(signal_type, [signal])[0]

    def candidates_many(self, signal_type: str, signals: Sequence[str]) -> list[list[tuple[int, float]]]:
        st = get_signal_type(signal_type)
        idx = self._indexes.get(st.name)
        if idx is None or not signals:
            return [[] for _ in signals]
        return idx.query_many(signals, self._loosest(st.name))

    def match(self, signal_type: str, signal: str, *, key: str | None = None, sample: bool = True) -> MatchResult:
        """Match one signal against every bank under the full policy. `key` identifies the content for
        sampling (defaults to the signal itself); `sample=False` consults every bank whatever its ratio."""
        return self.match_many(signal_type, [signal], keys=[key] if key is not None else None, sample=sample)[0]

    def match_many(
        self, signal_type: str, signals: Sequence[str], *, keys: Sequence[str] | None = None, sample: bool = True
    ) -> list[MatchResult]:
        """Batched `match` for signals of one type (one index pass for PDQ)."""
        st = get_signal_type(signal_type)
        canon = [st.validate(s) for s in signals]
        now = self.clock()
        results = []
        for n, cands in enumerate(self.candidates_many(st.name, canon)):
            key = keys[n] if keys is not None else canon[n]
            results.append(self._apply_policy(st.name, canon[n], key, cands, now, sample))
        return results

    def _apply_policy(
        self, st_name: str, signal: str, key: str, cands: list[tuple[int, float]], now: datetime,
        sample: bool = True,
    ) -> MatchResult:
        res = MatchResult(st_name, signal)
        sampled: dict[str, bool] = {}
        positives: list[Match] = []
        for item_id, dist in sorted(cands, key=lambda c: (c[1], c[0])):
            it = self.items.get(item_id)
            if it is None:
                continue
            bank = self.banks[it.bank]
            if dist > bank.threshold(st_name) + 1e-12:
                continue
            if bank.name not in sampled:
                sampled[bank.name] = (not sample or bank.enabled_ratio >= 1.0
                                      or _sample_point(bank.name, key) < bank.enabled_ratio)
                if not sampled[bank.name]:
                    res.sampled_out.append(bank.name)
            if not sampled[bank.name]:
                continue
            m = Match(bank.name, it.id, st_name, dist, it.signal, dict(it.labels), it.opinion, it.source,
                      bank.negative)
            if it.withdrawn or (it.disabled_until is not None and now < it.disabled_until):
                res.disabled.append(m)
            elif it.opinion == "negative":
                res.dismissed.append(m)
            elif bank.negative:
                res.allowed_by.append(m)
            else:
                positives.append(m)
        if res.allowed_by:
            res.vetoed = positives
            return res
        for m in positives:
            # Only matches that would be acted on count towards a flood.
            if self.monitor.observe(m.item_id, now):
                res.quarantined.append(m)
            else:
                res.matches.append(m)
        return res


def hash_file(
    path: str, signal_types: Sequence[str] = ("md5", "sha256", "pdq"), *, pdq_decode: str = "fast"
) -> dict[str, str]:
    """Every listed signal the file yields; types that do not apply to it (a video for PDQ) are skipped.
    `pdq_decode` (PDQ_DECODES) says how images are decoded for PDQ."""
    from basira.signals.pdq import PdqSignal

    out = {}
    for name in signal_types:
        st = get_signal_type(name)
        try:
            out[st.name] = (PdqSignal.hash_file(path, full=pdq_decode == "full") if st is PdqSignal
                            else st.hash_file(path))
        except SignalError:
            continue
    return out


def match_file(matcher: Matcher, path: str, signal_types: Sequence[str] | None = None) -> list[MatchResult]:
    """Hash a file every way that applies (md5, sha256, pdq for images, vpdq for videos) and match each."""
    names = signal_types or _types_for(path)
    return [matcher.match(st, sig) for st, sig in hash_file(path, names, pdq_decode=matcher.pdq_decode).items()]


def hash_files(
    paths: Sequence[str], signal_types: Sequence[str] | None = None, workers: int | None = None, *,
    pdq_decode: str = "fast",
) -> list[dict[str, str]]:
    """`hash_file` for many files, in order, on a thread pool: JPEG decoding (Pillow), PDQ (C++) and hashlib
    release the GIL, so two threads hash about twice as many images per second as one."""
    from concurrent.futures import ThreadPoolExecutor

    def one(path: str) -> dict[str, str]:
        return hash_file(str(path), signal_types or _types_for(str(path)), pdq_decode=pdq_decode)

    workers = workers or min(4, os.cpu_count() or 1)
    if workers <= 1 or len(paths) < 2:
        return [one(p) for p in paths]
    with ThreadPoolExecutor(workers, thread_name_prefix="basira-hash") as ex:
        return list(ex.map(one, paths))


def match_files(matcher: Matcher, paths: Sequence[str], workers: int | None = None) -> list[list[MatchResult]]:
    """`match_file` for many files: hashed in parallel (`hash_files`), matched in one thread."""
    return [[matcher.match(st, sig) for st, sig in sigs.items()]
            for sigs in hash_files(paths, workers=workers, pdq_decode=matcher.pdq_decode)]


_VIDEO_EXT = {".mp4", ".mov", ".webm", ".mkv", ".avi", ".m4v", ".gif", ".3gp"}
_TEXT_EXT = {".txt", ".md"}


def _types_for(path: str) -> tuple[str, ...]:
    ext = "." + path.rsplit(".", 1)[-1].lower() if "." in path else ""
    if ext in _VIDEO_EXT:
        return ("md5", "sha256", "vpdq")
    if ext in _TEXT_EXT:
        return ("md5", "sha256", "text_minhash")
    return ("md5", "sha256", "pdq")


def match_post_media_and_text(
    matcher: Matcher,
    *,
    text: str | None = None,
    urls: Sequence[str] = (),
    media: Sequence[Any] = (),
    key: str | None = None,
) -> list[tuple[str, MatchResult]]:
    """Match one post: what each signal type some bank holds reads of it (`SignalType.post_content`: the
    MinHash of its text, its URLs, its media hashes).

    `media` items are MediaRecord-like (attributes or dict keys `sha256`, `pdq`, `md5`, `vpdq`, `path`): hashes
    already known are used as they are; a `path` is hashed. Returns (where, result) pairs for results with any
    match, veto or quarantine, `where` being "text", "url:<n>" or "media:<n>:<signal type>". `key` (e.g. the
    post's id) makes bank sampling stable per post; without it, each signal samples on itself.
    """
    hashed: list[dict[str, Any]] = []
    for m in media:
        def get(k: str, _m: Any = m) -> Any:  # a dict or a MediaRecord
            return _m.get(k) if isinstance(_m, dict) else getattr(_m, k, None)

        signals: dict[str, Any] = {k: get(k) for k in ("md5", "sha256", "pdq", "vpdq") if get(k)}
        path: Any = get("path")
        if path:
            for name, sig in hash_file(path, _types_for(str(path)), pdq_decode=matcher.pdq_decode).items():
                signals.setdefault(name, sig)
        hashed.append(signals)
    post = PostContent(0, text, urls, hashed)
    out: list[tuple[str, MatchResult]] = []
    for st in _post_readers(matcher):
        for where, sig in st.signals_of(post):
            try:
                res = matcher.match(st.name, sig, key=key or sig)
            except SignalError:  # a malformed hash matches nothing
                continue
            if res.matches or res.vetoed or res.quarantined:
                out.append((where, res))
    return out


def _post_readers(matcher: Matcher) -> list[type[SignalType]]:
    """The signal types some bank holds items of that read posts: by content (text, URLs, media, as in
    CONTENT_TYPES), then built-ins in module order, each module's types as defined, then plugins as registered.
    The order a post's matches are listed in (and a case's reason names them in) does not depend on which module
    happened to be imported first."""
    types = matcher.indexed_types
    content = list(CONTENT_TYPES.values())
    readers = [st for name, st in signal_types().items() if name in types and st.post_content is not None]

    def rank(st: type[SignalType]) -> tuple[int, int]:
        c = st.post_content
        return (content.index(c) if c in content else len(content), builtin_rank(st))

    return sorted(readers, key=rank)  # stable: registration order within a module


def match_posts(
    matcher: Matcher, posts: Sequence[PostContent], *, sample_by_post: bool = True
) -> dict[int, list[tuple[str, MatchResult]]]:
    """Batched `match_post_media_and_text` for many posts: one index pass per signal type, and only the
    signal types some bank holds are hashed or looked up, each on what it reads of a post (its
    `post_content`). Returns post id -> (where, result) for posts with any match, veto or quarantine. Sampling
    is keyed on `post:<id>`, or on the signal itself when `sample_by_post` is false (content from outside the
    store, e.g. an API call)."""
    out: dict[int, list[tuple[str, MatchResult]]] = {}
    for st in _post_readers(matcher):
        valid = []
        for p in posts:
            for where, sig in st.signals_of(p):
                try:
                    valid.append((p.id, where, st.validate(sig)))
                except SignalError:  # a malformed stored hash matches nothing
                    continue
        if not valid:
            continue
        keys = [f"post:{i}" for i, _, _ in valid] if sample_by_post else None
        results = matcher.match_many(st.name, [s for _, _, s in valid], keys=keys)
        for (post_id, where, _), res in zip(valid, results, strict=True):
            if res.matches or res.vetoed or res.quarantined:
                out.setdefault(post_id, []).append((where, res))
    return out
