"""The scan's hash-matching pass: ingested posts' text, URLs and media hashes against every bank.

Runs after scoring, so a case a match raises already carries the detector's score. Resumable: each batch
commits its matches and case changes, and a match already recorded on a post is never recorded twice; the
banks' scan checkpoints move once the posts before them are all matched. A bank that gained items sends the
pass back over all posts (new hashes find old posts). With no bank items at all the pass costs one query.

The banks' Matcher is a BankSnapshot per process: loaded from the store once and reloaded when the banks
change (basira.banks.bank_state, checked on every use), so a Dask worker, a `basira worker` or the web app
matches against the current banks without reading every item for every batch.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from basira import banks as repo
from basira.signals.banks import PostContent, match_posts

if TYPE_CHECKING:
    from basira.signals.banks import Matcher
    from basira.store import Store

__all__ = ["BankSnapshot", "HashPlan", "HashScanResult", "mark_matched", "match_ingested_posts", "match_these", "match_window",
           "plan_hash_pass", "snapshot_for", "window_pass"]

BATCH = 1000


@dataclass
class HashScanResult:
    posts_matched: int = 0  # posts looked at
    matches_new: int = 0  # new acted-on matches (vetoed and quarantined ones are recorded but not counted)
    cases_new: int = 0
    cases_raised: int = 0

    def add(self, other: HashScanResult) -> HashScanResult:
        for k, v in asdict(other).items():
            setattr(self, k, getattr(self, k) + v)
        return self


@dataclass(frozen=True)
class HashPlan:
    """Where a pass starts (posts after `after`) and every bank's largest item id when it was planned."""

    after: int
    tops: dict[int, int]


class BankSnapshot:
    """The banks' Matcher, reloaded when bank_state moves. One per process and database; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.state: tuple[int, int] | None = None
        self.matcher: Matcher | None = None
        self.loads = 0

    def get(self, store: Store) -> Matcher:
        with self._lock:
            state = repo.bank_state(store)
            if state != self.state or self.matcher is None:
                self.matcher, self.state = repo.load_matcher(store), state
                self.loads += 1
            return self.matcher


_snapshots: dict[str, BankSnapshot] = {}
_snapshots_lock = threading.Lock()


def snapshot_for(store: Store) -> BankSnapshot:
    """This process's snapshot of the banks of `store`'s database."""
    key = store.engine.url.render_as_string(hide_password=False)
    with _snapshots_lock:
        return _snapshots.setdefault(key, BankSnapshot())


def plan_hash_pass(store: Store) -> HashPlan | None:
    """The pass to run, or None when no bank holds any item."""
    if not repo.has_items(store):
        return None
    after, tops = repo.scan_resume_point(store)  # before loading items: a later item means a re-match, not a miss
    return HashPlan(after, tops)


def match_window(store: Store, matcher: Matcher, lo: int, hi: int, batch_size: int = BATCH) -> HashScanResult:
    """Match the posts with lo < id <= hi; record their matches and case effects batch by batch. The banks'
    checkpoints stay (windows finish in any order): the caller moves them with mark_matched."""
    out = HashScanResult()
    after = lo
    while after < hi:
        batch = [p for p in repo.posts_to_match(store, after, min(batch_size, hi - after)) if p.id <= hi]
        if not batch:
            break
        found = match_posts(matcher, batch)
        after = batch[-1].id
        with store.transaction() as tx:
            new, opened, raised = repo.record_post_matches(tx, found, last_post_id=after, bank_tops={},
                                                           monitor=matcher.monitor)
        out.add(HashScanResult(len(batch), new, opened, raised))
    return out


def match_these(store: Store, posts: list[PostContent]) -> HashScanResult:
    """Match just these stored posts (a content intake batch) and record what they match; the banks' scan
    checkpoints stay (a later scan's pass skips what is recorded). Two `basira worker`s hold disjoint posts, so
    neither records the other's matches: a shared pass over "every post after the checkpoint" would."""
    if not posts or not repo.has_items(store):
        return HashScanResult()
    matcher = snapshot_for(store).get(store)
    found = match_posts(matcher, posts)
    with store.transaction() as tx:
        new, opened, raised = repo.record_post_matches(tx, found, last_post_id=max(p.id for p in posts),
                                                       bank_tops={}, monitor=matcher.monitor)
    return HashScanResult(len(posts), new, opened, raised)


def mark_matched(store: Store, plan: HashPlan, through: int) -> None:
    """Every post up to `through` is matched against the items the plan saw: move the banks' checkpoints."""
    with store.transaction() as tx:
        repo.record_post_matches(tx, {}, last_post_id=through, bank_tops=plan.tops)


def match_ingested_posts(store: Store, batch_size: int = BATCH) -> HashScanResult:
    """Match every post not yet matched against the current banks; open or raise cases for new matches."""
    out = HashScanResult()
    plan = plan_hash_pass(store)
    if plan is None:
        return out
    matcher = snapshot_for(store).get(store)
    after = plan.after
    while batch := repo.posts_to_match(store, after, batch_size):
        found = match_posts(matcher, batch)
        after = batch[-1].id
        with store.transaction() as tx:
            new, opened, raised = repo.record_post_matches(
                tx, found, last_post_id=after, bank_tops=plan.tops, monitor=matcher.monitor
            )
        out.add(HashScanResult(len(batch), new, opened, raised))
    return out


def window_pass(store: Store, plan: HashPlan | None, lo: int, hi: int) -> HashScanResult:
    """A cluster window's share of the pass (the posts of (lo, hi] after the plan's start)."""
    if plan is None or hi <= plan.after:
        return HashScanResult()
    return match_window(store, snapshot_for(store).get(store), max(lo, plan.after), hi)


