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
    min_repeats: int = 3,
    min_accounts: int = 2,
    max_burst_accounts: int = 50,
) -> list[CoordinatedGroup]:
    """Pairs of accounts that share the same item within `window` seconds on at least `min_repeats`
    distinct items are linked; groups are the connected parts of those links. Returned most suspicious first."""
    bursts = find_bursts(shares, window=window, max_accounts=max_burst_accounts)
    pair_items: dict[tuple[int, int], set[int]] = defaultdict(set)
    for b in bursts:
        members = sorted(set(b.accounts))
        for x in range(len(members)):
            for y in range(x + 1, len(members)):
                pair_items[(members[x], members[y])].add(b.key)
    parent: dict[int, int] = {}

    def root(a: int) -> int:
        parent.setdefault(a, a)
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for (a, b), items in pair_items.items():
        if len(items) >= min_repeats:
            ra, rb = root(a), root(b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    groups: dict[int, list[int]] = defaultdict(list)
    for a in list(parent):
        groups[root(a)].append(a)
    out = []
    for members in groups.values():
        if len(members) < min_accounts:
            continue
        mset = set(members)
        evidence = [b for b in bursts if len(mset.intersection(b.accounts)) >= 2]
        out.append(CoordinatedGroup(sorted(members), evidence))
    out.sort(key=lambda g: (-g.score, g.accounts[0]))
    return out
