"""The interaction graph: typed, timed edges between accounts, aggregated into a weighted graph.

Everything here is plain numpy: nodes are integers 0..n-1, edges are parallel arrays. The loader
(basira.network.load) maps stored accounts and posts to these arrays; the bench builds them directly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

# Directed kinds point from the acting account to the account acted upon (reposter → author,
# follower → followee). Co-sharing kinds are symmetric and stored once per pair and share.
EDGE_KINDS = ("mention", "reply", "repost", "quote", "forward", "follow", "co_url", "co_content", "co_thread")
KIND = {k: i for i, k in enumerate(EDGE_KINDS)}
SYMMETRIC = frozenset({KIND["co_url"], KIND["co_content"], KIND["co_thread"]})
AMPLIFYING = (KIND["repost"], KIND["quote"], KIND["forward"])
# Why these weights: a repost or forward spreads the author's material as is, a quote or reply engages
# with it, a mention only names; a follow is cheap and old; co-sharing is evidence of a shared source.
DEFAULT_WEIGHTS: dict[str, float] = {
    "mention": 1.0,
    "reply": 1.0,
    "repost": 2.0,
    "quote": 1.5,
    "forward": 2.0,
    "follow": 0.5,
    "co_url": 1.0,
    "co_content": 1.5,
    "co_thread": 0.5,
}
NO_TIME = -1  # follows (and anything undated) carry no time and survive every window


@dataclass
class Edges:
    """Raw edges: one row per interaction. `flagged` marks edges made by a post the detector flagged."""

    src: np.ndarray  # int64 node index
    dst: np.ndarray  # int64 node index
    kind: np.ndarray  # int8 code into EDGE_KINDS
    time: np.ndarray  # int64 Unix seconds, NO_TIME when unknown
    weight: np.ndarray = field(default=None)  # type: ignore[assignment]  # float32 multiplier, default 1
    flagged: np.ndarray = field(default=None)  # type: ignore[assignment]  # bool

    def __post_init__(self) -> None:
        self.src = np.asarray(self.src, dtype=np.int64)
        self.dst = np.asarray(self.dst, dtype=np.int64)
        self.kind = np.asarray(self.kind, dtype=np.int8)
        self.time = np.asarray(self.time, dtype=np.int64)
        n = len(self.src)
        self.weight = np.ones(n, np.float32) if self.weight is None else np.asarray(self.weight, np.float32)
        self.flagged = np.zeros(n, bool) if self.flagged is None else np.asarray(self.flagged, bool)
        if not (len(self.dst) == len(self.kind) == len(self.time) == len(self.weight) == len(self.flagged) == n):
            raise ValueError("edge arrays must have the same length")

    def __len__(self) -> int:
        return len(self.src)

    @classmethod
    def empty(cls) -> Edges:
        z = np.zeros(0, np.int64)
        return cls(z, z, z, z)

    @classmethod
    def from_rows(cls, rows: Sequence[tuple[int, int, str, int] | tuple[int, int, str, int, bool]]) -> Edges:
        """Edges from (src, dst, kind, time[, flagged]) tuples; handy in tests and small jobs."""
        if not rows:
            return cls.empty()
        src = [r[0] for r in rows]
        dst = [r[1] for r in rows]
        kind = [KIND[r[2]] for r in rows]
        time = [r[3] for r in rows]
        flagged = [bool(r[4]) if len(r) > 4 else False for r in rows]  # type: ignore[misc]
        return cls(src, dst, kind, time, flagged=flagged)

    @classmethod
    def concat(cls, parts: Sequence[Edges]) -> Edges:
        parts = [p for p in parts if len(p)]
        if not parts:
            return cls.empty()
        return cls(
            np.concatenate([p.src for p in parts]),
            np.concatenate([p.dst for p in parts]),
            np.concatenate([p.kind for p in parts]),
            np.concatenate([p.time for p in parts]),
            np.concatenate([p.weight for p in parts]),
            np.concatenate([p.flagged for p in parts]),
        )

    def select(self, mask: np.ndarray) -> Edges:
        return Edges(
            self.src[mask], self.dst[mask], self.kind[mask], self.time[mask], self.weight[mask], self.flagged[mask]
        )


@dataclass
class Graph:
    """A weighted, directed graph over n nodes (duplicates summed, self-loops dropped) and its raw edges."""

    n: int
    src: np.ndarray  # int32 (or int64 above 2**31 nodes)
    dst: np.ndarray
    weight: np.ndarray  # float64
    edges: Edges  # the raw edges inside the window, for explanations and per-kind counts
    since: int | None = None
    until: int | None = None

    @property
    def n_edges(self) -> int:
        return len(self.src)

    def undirected(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(u, v, w) with u < v and both directions' weights summed."""
        u = np.minimum(self.src, self.dst)
        v = np.maximum(self.src, self.dst)
        return _aggregate(u, v, self.weight, self.n)

    def strength(self) -> np.ndarray:
        """Total edge weight touching each node (in + out)."""
        return np.bincount(self.src, self.weight, self.n) + np.bincount(self.dst, self.weight, self.n)

    def csr(self, transpose: bool = False):
        """A scipy CSR adjacency matrix (rows = sources unless transposed)."""
        from scipy import sparse

        r, c = (self.dst, self.src) if transpose else (self.src, self.dst)
        return sparse.csr_matrix((self.weight, (r, c)), shape=(self.n, self.n))


def _aggregate(src: np.ndarray, dst: np.ndarray, w: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if len(src) == 0:
        idx = np.zeros(0, np.int32)
        return idx, idx, np.zeros(0, np.float64)
    key = src.astype(np.int64) * np.int64(n) + dst.astype(np.int64)
    uniq, inv = np.unique(key, return_inverse=True)
    weight = np.bincount(inv.ravel(), weights=w, minlength=len(uniq))
    idx_type = np.int32 if n < 2**31 else np.int64
    return (uniq // n).astype(idx_type), (uniq % n).astype(idx_type), weight


def build_graph(
    edges: Edges,
    n_nodes: int,
    *,
    since: int | None = None,
    until: int | None = None,
    weights: Mapping[str, float] | None = None,
    kinds: Sequence[str] | None = None,
) -> Graph:
    """Aggregate raw edges into a weighted graph, keeping edges in [since, until) (undated edges always)
    and of the given kinds (all by default); each edge weighs its kind's weight times its own weight."""
    mask = edges.src != edges.dst
    if since is not None:
        mask &= (edges.time >= since) | (edges.time == NO_TIME)
    if until is not None:
        mask &= edges.time < until
    if kinds is not None:
        mask &= np.isin(edges.kind, [KIND[k] for k in kinds])
    kept = edges if mask.all() else edges.select(mask)
    table = dict(DEFAULT_WEIGHTS)
    table.update(weights or {})
    per_kind = np.array([table[k] for k in EDGE_KINDS], np.float32)
    w = per_kind[kept.kind] * kept.weight
    src, dst, wsum = _aggregate(kept.src, kept.dst, w.astype(np.float64), n_nodes)
    return Graph(n_nodes, src, dst, wsum, kept, since, until)


def kind_counts(edges: Edges, n: int, kind: str, *, inbound: bool = True, flagged_only: bool = False) -> np.ndarray:
    """How many edges of one kind arrive at (or leave) each node."""
    mask = edges.kind == KIND[kind]
    if flagged_only:
        mask &= edges.flagged
    nodes = edges.dst[mask] if inbound else edges.src[mask]
    return np.bincount(nodes, minlength=n)
