"""Plain rows (accounts, posts, follows, as the store returns them) → the arrays the algorithms take.

Pure: no database here. basira.network.load fetches the rows; tests and other callers can pass their own.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from basira.network.graph import KIND, NO_TIME, Edges
from basira.network.returning import Profile, style_vector
from basira.network.risk import ActivityStats
from basira.network.sharing import ShareBuilder, Shares, content_key
from basira.text import normalize_text

DAY = 86_400
_STYLE_POSTS = 50  # posts per account kept for the writing-style vector


def ts(value: datetime | int | float | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return int(value.timestamp())
    return int(value)


@dataclass
class AccountNode:
    id: int  # the store's account id
    platform: str
    external_id: str
    handle: str | None = None
    display_name: str | None = None
    bio: str | None = None
    created_at: int | None = None
    status: str = "active"
    suspended_at: int | None = None
    removed_at: int | None = None
    image: str | None = None

    @property
    def label(self) -> str:
        return f"@{self.handle}" if self.handle else f"{self.platform}:{self.external_id}"

    @property
    def gone(self) -> bool:
        return self.status in ("suspended", "removed") or self.suspended_at is not None or self.removed_at is not None

    @property
    def gone_at(self) -> int | None:
        times = [t for t in (self.suspended_at, self.removed_at) if t is not None]
        return min(times) if times else None


@dataclass
class Activity:
    """Co-activity of one account, for returning-account matching: accounts it replied to, links, domains,
    hashtags, threads (pages, channels, conversations) and media it posted."""

    replied: set[int] = field(default_factory=set)
    urls: set[str] = field(default_factory=set)
    domains: set[str] = field(default_factory=set)
    hashtags: set[str] = field(default_factory=set)
    threads: set[str] = field(default_factory=set)
    media: set[str] = field(default_factory=set)


_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.I)
# Links to posts on the platform itself are quotes and replies by another name, not material shared.
_SELF_HOSTS = frozenset({"twitter.com", "x.com", "t.co", "mobile.twitter.com", "t.me"})
_MAX_ITEMS = 200  # per account and kind: enough to match on, bounded memory


def canonical_url(url: str) -> tuple[str, str] | None:
    """(url without scheme, www, fragment or trailing slash, host lower-cased; host) or None for a self link."""
    u = _SCHEME.sub("", url.strip()).split("#", 1)[0]
    host, _, path = u.partition("/")
    host = host.lower().removeprefix("www.")
    if not host or host in _SELF_HOSTS:
        return None
    return (host + ("/" + path if path else "")).rstrip("/"), host


@dataclass
class NetworkData:
    """Everything the network algorithms need, indexed by node (0..n-1)."""

    accounts: list[AccountNode]
    edges: Edges
    shares: Shares
    stats: ActivityStats
    followers: list[set[int]]  # node → nodes following it
    followees: list[set[int]]
    mentioned: list[set[int]]
    texts: list[list[str]]  # a sample of each node's original posts, for writing style
    post_external: dict[int, str] = field(default_factory=dict)  # post id → external id, for evidence
    activity: list[Activity] = field(default_factory=list)  # what each node shared and where it acted
    threads: Shares = field(default_factory=Shares.empty)  # posts by thread (co-activity), kept out of `shares`
    first_post: list[int | None] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.accounts)

    def index_of(self) -> dict[int, int]:
        return {a.id: i for i, a in enumerate(self.accounts)}

    def profile(self, i: int) -> Profile:
        a = self.accounts[i]
        act = self.activity[i] if self.activity else Activity()
        return Profile(
            id=i, handle=a.handle, display_name=a.display_name, bio=a.bio, created_at=a.created_at,
            suspended_at=a.gone_at, image=a.image, followers=frozenset(self.followers[i]),
            followees=frozenset(self.followees[i]), mentioned=frozenset(self.mentioned[i]),
            style=style_vector(self.texts[i]), replied=frozenset(act.replied), urls=frozenset(act.urls),
            domains=frozenset(act.domains), hashtags=frozenset(act.hashtags), threads=frozenset(act.threads),
            media=frozenset(act.media), first_seen=self.first_post[i] if self.first_post else None,
        )


def build_network_data(
    accounts: Iterable[Mapping[str, Any]],
    posts: Iterable[Mapping[str, Any]],
    follows: Iterable[tuple[int, int]] = (),
    *,
    flag_threshold: float = 0.5,
    co_share_urls: bool = True,
) -> NetworkData:
    """accounts: {id, platform, external_id, handle, display_name, bio, created_at, status, suspended_at,
    removed_at, profile_image_hash}; posts: {id, platform, external_id, account_id, created_at, text,
    reply_to, quote_of, repost_of, forwarded_from, mentions, urls, score (None if not scored), flagged
    (optional; else score >= flag_threshold); optional: hashtags, thread, media (hashes or URLs)};
    follows: (follower account id, followee account id)."""
    nodes: list[AccountNode] = []
    index: dict[int, int] = {}
    by_handle: dict[tuple[str, str], int] = {}
    by_external: dict[tuple[str, str], int] = {}
    for a in accounts:
        node = AccountNode(
            id=int(a["id"]), platform=a["platform"], external_id=str(a["external_id"]), handle=a.get("handle"),
            display_name=a.get("display_name"), bio=a.get("bio"), created_at=ts(a.get("created_at")),
            status=a.get("status") or "active", suspended_at=ts(a.get("suspended_at")),
            removed_at=ts(a.get("removed_at")), image=a.get("profile_image_hash"),
        )
        index[node.id] = len(nodes)
        nodes.append(node)
        by_external[(node.platform, node.external_id)] = index[node.id]
        if node.handle:
            by_handle.setdefault((node.platform, node.handle.lower()), index[node.id])
    post_list = list(posts)
    n = len(nodes)
    author_of: dict[tuple[str, str], int] = {}
    flagged_post: dict[tuple[str, str], bool] = {}
    for p in post_list:
        if p.get("account_id") is not None and p["account_id"] in index:
            author_of[(p["platform"], str(p["external_id"]))] = index[p["account_id"]]

    def flagged(p: Mapping[str, Any]) -> bool:
        if p.get("flagged") is not None:
            return bool(p["flagged"])
        return p.get("score") is not None and float(p["score"]) >= flag_threshold

    src: list[int] = []
    dst: list[int] = []
    kind: list[int] = []
    when: list[int] = []
    flag: list[bool] = []
    posts_n = np.zeros(n)
    fl_orig = np.zeros(n)
    fl_rep = np.zeros(n)
    first = np.full(n, np.iinfo(np.int64).max, np.int64)
    last = np.full(n, np.iinfo(np.int64).min, np.int64)
    mentioned: list[set[int]] = [set() for _ in range(n)]
    texts: list[list[str]] = [[] for _ in range(n)]
    activity = [Activity() for _ in range(n)]
    shares = ShareBuilder()
    thread_shares = ShareBuilder()
    post_external: dict[int, str] = {}

    def add(s: int, d: int, k: str, t: int, f: bool) -> None:
        src.append(s)
        dst.append(d)
        kind.append(KIND[k])
        when.append(t)
        flag.append(f)

    for p in post_list:
        aid = p.get("account_id")
        if aid is None or aid not in index:
            continue
        me = index[aid]
        plat = p["platform"]
        t = ts(p.get("created_at"))
        t = NO_TIME if t is None else t
        f = flagged(p)
        post_external[int(p["id"])] = str(p["external_id"])
        flagged_post[(plat, str(p["external_id"]))] = f
        posts_n[me] += 1
        if t != NO_TIME:
            first[me] = min(first[me], t)
            last[me] = max(last[me], t)
        repost = p.get("repost_of")
        if f:
            if repost:
                fl_rep[me] += 1
            else:
                fl_orig[me] += 1
        act = activity[me]
        for field_name, k in (("reply_to", "reply"), ("quote_of", "quote"), ("repost_of", "repost")):
            ref = p.get(field_name)
            if ref:
                other = author_of.get((plat, str(ref)))
                if other is not None:
                    add(me, other, k, t, f)
                    if k == "reply" and other != me:
                        act.replied.add(other)
        thread = p.get("thread")
        if thread:
            if len(act.threads) < _MAX_ITEMS:
                act.threads.add(str(thread))
            if t != NO_TIME:
                thread_shares.add(me, t, "thread", f"{plat}:{thread}", int(p["id"]), f"thread {thread}")
        if not repost:
            for tag in p.get("hashtags") or ():
                if len(act.hashtags) < _MAX_ITEMS:
                    act.hashtags.add(normalize_text(str(tag)).lstrip("#"))
            for u in p.get("urls") or ():
                c = canonical_url(str(u))
                if c is not None and len(act.urls) < _MAX_ITEMS:
                    act.urls.add(c[0])
                    act.domains.add(c[1])
            for m in p.get("media") or ():
                if m and len(act.media) < _MAX_ITEMS:
                    act.media.add(str(m))
        fwd = p.get("forwarded_from")
        if fwd:
            other = by_external.get((plat, str(fwd)))
            if other is None:
                other = by_handle.get((plat, str(fwd).lower().lstrip("@")))
            if other is not None:
                add(me, other, "forward", t, f)
            else:
                shares.add(me, t, "content", f"forward:{fwd}", int(p["id"]), f"forwards from {fwd}")
        seen_mentions: set[int] = set()
        for h in p.get("mentions") or ():
            other = by_handle.get((plat, str(h).lower().lstrip("@")))
            if other is not None and other != me and other not in seen_mentions:
                seen_mentions.add(other)
                mentioned[me].add(other)
                if not repost:  # a repost repeats the original's mentions: not the reposter's own
                    add(me, other, "mention", t, f)
        if t == NO_TIME:
            continue
        if repost:
            shares.add(me, t, "repost", f"{plat}:{repost}", int(p["id"]), f"repost of {plat}:{repost}")
            continue
        if len(texts[me]) < _STYLE_POSTS:
            texts[me].append(p.get("text") or "")
        if co_share_urls:
            for u in dict.fromkeys(p.get("urls") or ()):
                shares.add(me, t, "url", str(u), int(p["id"]), f"link {u}")
        key = content_key(normalize_text(p.get("text") or ""))
        if key is not None:
            text = (p.get("text") or "").replace("\n", " ")
            shares.add(me, t, "content", key, int(p["id"]), f"text “{text[:80]}”")
    followers: list[set[int]] = [set() for _ in range(n)]
    followees: list[set[int]] = [set() for _ in range(n)]
    for a, b in follows:
        if a in index and b in index and a != b:
            i, j = index[a], index[b]
            followees[i].add(j)
            followers[j].add(i)
            add(i, j, "follow", NO_TIME, False)
    active = np.where(last >= first, (last - first) / DAY, 0.0)
    stats = ActivityStats(posts_n, fl_orig, fl_rep, np.maximum(active, 1.0))
    edges = Edges(np.array(src, np.int64), np.array(dst, np.int64), np.array(kind, np.int8),
                  np.array(when, np.int64), flagged=np.array(flag, bool))
    first_post = [int(first[i]) if last[i] >= first[i] else None for i in range(n)]
    return NetworkData(nodes, edges, shares.build(), stats, followers, followees, mentioned, texts, post_external,
                       activity=activity, first_post=first_post, threads=thread_shares.build())


def group_by(values: Iterable[tuple[int, Any]]) -> dict[int, list[Any]]:
    out: dict[int, list[Any]] = defaultdict(list)
    for k, v in values:
        out[k].append(v)
    return out
