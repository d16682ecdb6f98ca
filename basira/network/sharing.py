"""Shares of the same item (a URL, a reposted post, the same text) and the co-sharing edges they imply."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from basira.network.graph import KIND, Edges

SHARE_KINDS = ("url", "repost", "content", "thread")
SHARE_KIND = {k: i for i, k in enumerate(SHARE_KINDS)}
_RT_PREFIX = re.compile(r"^rt <user>:\s*")
_PLACEHOLDERS = re.compile(r"<url>|<user>")
_TOKENS = re.compile(r"[^\w]+")
MIN_CONTENT_CHARS = 24  # shorter texts ("amen", "thanks") are shared by chance, not by design


@dataclass
class Shares:
    """One row per (account, item) share. `key` indexes `labels` (what the item is, for evidence)."""

    account: np.ndarray  # int64 node index
    time: np.ndarray  # int64 Unix seconds
    key: np.ndarray  # int64 item id
    kind: np.ndarray  # int8 code into SHARE_KINDS
    post: np.ndarray  # int64 post id (the store's), for evidence
    labels: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.account = np.asarray(self.account, np.int64)
        self.time = np.asarray(self.time, np.int64)
        self.key = np.asarray(self.key, np.int64)
        self.kind = np.asarray(self.kind, np.int8)
        self.post = np.asarray(self.post, np.int64)

    def __len__(self) -> int:
        return len(self.account)

    @classmethod
    def empty(cls) -> Shares:
        z = np.zeros(0, np.int64)
        return cls(z, z, z, z, z, [])


class ShareBuilder:
    """Collects shares item by item, giving each distinct (kind, item) a dense key."""

    def __init__(self) -> None:
        self._keys: dict[tuple[int, str], int] = {}
        self.labels: list[str] = []
        self._rows: list[tuple[int, int, int, int, int]] = []

    def add(self, account: int, time: int, kind: str, item: str, post: int = -1, label: str | None = None) -> None:
        k = SHARE_KIND[kind]
        key = self._keys.get((k, item))
        if key is None:
            key = self._keys[(k, item)] = len(self.labels)
            self.labels.append(label or f"{kind}: {item}")
        self._rows.append((account, time, key, k, post))

    def build(self) -> Shares:
        if not self._rows:
            return Shares.empty()
        a = np.array(self._rows, np.int64)
        return Shares(a[:, 0], a[:, 1], a[:, 2], a[:, 3], a[:, 4], self.labels)


def content_key(normalized: str) -> str | None:
    """A fingerprint of a post's words (normalized text without RT prefix, links and mentions), or None
    when too short to say two accounts shared the same thing on purpose."""
    body = _PLACEHOLDERS.sub(" ", _RT_PREFIX.sub("", normalized))
    words = " ".join(w for w in _TOKENS.split(body) if w)
    if len(words) < MIN_CONTENT_CHARS:
        return None
    return hashlib.blake2b(words.encode(), digest_size=12).hexdigest()


def co_sharing_edges(shares: Shares, *, window: int = 3600, max_neighbours: int = 10) -> Edges:
    """Link each share to up to `max_neighbours` earlier shares of the same item by other accounts within
    `window` seconds (so a viral item costs linear, not quadratic, edges). Kind co_url for URLs, co_thread
    for posts in the same thread (co-activity), else co_content."""
    if len(shares) < 2:
        return Edges.empty()
    order = np.lexsort((shares.time, shares.key))
    acc, t, key, kind = shares.account[order], shares.time[order], shares.key[order], shares.kind[order]
    srcs, dsts, kinds, times = [], [], [], []
    for lag in range(1, max_neighbours + 1):
        if lag >= len(acc):
            break
        same = (key[lag:] == key[:-lag]) & (t[lag:] - t[:-lag] <= window) & (acc[lag:] != acc[:-lag])
        if not same.any():
            if not (key[lag:] == key[:-lag]).any():
                break
            continue
        idx = np.nonzero(same)[0]
        srcs.append(acc[idx])
        dsts.append(acc[idx + lag])
        k = kind[idx + lag]
        kinds.append(np.select([k == SHARE_KIND["url"], k == SHARE_KIND["thread"]],
                               [KIND["co_url"], KIND["co_thread"]], KIND["co_content"]))
        times.append(t[idx + lag])
    if not srcs:
        return Edges.empty()
    return Edges(np.concatenate(srcs), np.concatenate(dsts), np.concatenate(kinds), np.concatenate(times))


def shares_from_rows(rows: Sequence[tuple[int, int, str, str]]) -> Shares:
    """Shares from (account, time, kind, item) tuples; handy in tests."""
    b = ShareBuilder()
    for i, (a, t, kind, item) in enumerate(rows):
        b.add(a, t, kind, item, post=i)
    return b.build()
