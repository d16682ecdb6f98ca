"""Coordinated sharing: groups of accounts that repeatedly share the same item within a short window."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from basira.network.sharing import SHARE_KINDS, Shares


@dataclass
class Burst:
    """Several accounts sharing one item within the window: the evidence of coordination."""

    key: int
    item: str
    kind: str
    start: int
    end: int
    accounts: list[int]
    posts: list[int]
    times: list[int]


@dataclass
class CoordinatedGroup:
    accounts: list[int]
    bursts: list[Burst] = field(default_factory=list)  # bursts in which 2+ members took part

    @property
    def items(self) -> int:
        return len({b.key for b in self.bursts})

    @property
    def score(self) -> float:
        """Distinct items shared in lockstep, times log of the group's size: bigger and more often is worse."""
        return self.items * float(np.log2(1 + len(self.accounts)))


def find_bursts(shares: Shares, *, window: int = 600, max_accounts: int = 50) -> list[Burst]:
    """Runs of shares of one item by 2+ distinct accounts, each run lasting at most `window` seconds.
    Bursts bigger than `max_accounts` are left out: that is virality, not a squad."""
    if len(shares) < 2:
        return []
    order = np.lexsort((shares.time, shares.key))
    key, t = shares.key[order], shares.time[order]
    # Only keys shared at least twice can burst.
    multi = np.zeros(len(key), bool)
    same_next = key[1:] == key[:-1]
    multi[1:] |= same_next
    multi[:-1] |= same_next
    idx = order[multi]
    key, t = shares.key[idx], shares.time[idx]
    acc, post, kind = shares.account[idx], shares.post[idx], shares.kind[idx]
    bursts: list[Burst] = []
    i, n = 0, len(idx)
    while i < n:
        j = i + 1
        while j < n and key[j] == key[i] and t[j] - t[i] <= window:
            j += 1
        accounts = acc[i:j]
        distinct = np.unique(accounts)
        if 2 <= len(distinct) <= max_accounts:
            k = int(key[i])
            label = shares.labels[k] if k < len(shares.labels) else str(k)
            bursts.append(Burst(k, label, SHARE_KINDS[int(kind[i])], int(t[i]), int(t[j - 1]),
                                [int(a) for a in accounts], [int(p) for p in post[i:j]], [int(x) for x in t[i:j]]))
            i = j
        elif len(distinct) < 2:
            i += 1
        else:
            i = j
    return bursts


def find_coordinated_groups(
    shares: Shares,
    *,
    window: int = 600,
    min_repeats: int = 2,
    min_items: int = 3,
    min_accounts: int = 2,
    max_burst_accounts: int = 50,
    min_burst_overlap: float = 0.5,
) -> list[CoordinatedGroup]:
    """Groups of accounts that share the same items within `window` seconds again and again.

    1. A pair of accounts is suspicious when it shares at least `min_repeats` distinct items in bursts.
    2. Bursts are reduced to their suspicious accounts, and bursts whose account sets overlap (Jaccard >=
       `min_burst_overlap`) are chained together: a squad's bursts look alike even when two squads share a
       member, so overlapping squads stay apart (an account may belong to more than one group).
    3. A group is the accounts that appear in at least two of a chain's bursts, when the chain covers at
       least `min_items` items. Returned most suspicious first. (Defaults chosen on tuning seeds.)"""
    bursts = find_bursts(shares, window=window, max_accounts=max_burst_accounts)
    pair_items: dict[tuple[int, int], set[int]] = defaultdict(set)
    for b in bursts:
        members = sorted(set(b.accounts))
        for x in range(len(members)):
            for y in range(x + 1, len(members)):
                pair_items[(members[x], members[y])].add(b.key)
    partners: dict[int, set[int]] = defaultdict(set)
    for (a, c), items in pair_items.items():
        if len(items) >= min_repeats:
            partners[a].add(c)
            partners[c].add(a)
    kept: list[tuple[Burst, frozenset[int]]] = []
    for b in bursts:
        members = set(b.accounts)
        core = frozenset(a for a in members if partners.get(a, set()) & members)
        if len(core) >= 2:
            kept.append((b, core))
    # Chain bursts with similar account sets; only bursts that share an account are compared.
    parent = list(range(len(kept)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    by_account: dict[int, list[int]] = defaultdict(list)
    for i, (_, core) in enumerate(kept):
        for a in core:
            by_account[a].append(i)
    for i, (_, core) in enumerate(kept):
        others = {j for a in core for j in by_account[a] if j > i}
        for j in others:
            other = kept[j][1]
            if len(core & other) / len(core | other) >= min_burst_overlap:
                ri, rj = root(i), root(j)
                if ri != rj:
                    parent[max(ri, rj)] = min(ri, rj)
    chains: dict[int, list[int]] = defaultdict(list)
    for i in range(len(kept)):
        chains[root(i)].append(i)
    out = []
    for idx in chains.values():
        counts: dict[int, int] = defaultdict(int)
        for i in idx:
            for a in kept[i][1]:
                counts[a] += 1
        members = sorted(a for a, c in counts.items() if c >= 2)
        items = {kept[i][0].key for i in idx}
        if len(members) < min_accounts or len(items) < min_items:
            continue
        evidence = sorted((kept[i][0] for i in idx), key=lambda b: (b.start, b.key))
        out.append(CoordinatedGroup(members, evidence))
    out.sort(key=lambda g: (-g.score, g.accounts[0]))
    return out
