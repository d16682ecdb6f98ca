"""The scan's hash-matching pass: ingested posts' text, URLs and media hashes against every bank.

Runs after scoring, so a case a match raises already carries the detector's score. Resumable: each batch
commits its matches and case changes, and a match already recorded on a post is never recorded twice; the
banks' scan checkpoints move once the posts before them are all matched. A bank that gained items sends the
pass back over all posts (new hashes find old posts). With no bank items at all the pass costs one query.

The banks' Matcher is a BankSnapshot per process: loaded from the store once and reloaded when the banks
change (basira.banks.bank_state, checked on every use), so a Dask worker, a `basira worker` or the web app
matches against the current banks without reading every item for every batch.

The match-rate monitor (an item matching far more than usual is quarantined, basira.signals.banks) counts per
scan, not per process: the scan's snapshot matches without it, and one monitor per scan (ScanMonitor) goes over
the scan's matches in post order — on a cluster on the client, after the workers matched their windows, before
they record the held-back chunks at once (record_chunk) — so an item flooding 150 posts is held back after its
100th whether one process or two matched them.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from basira import banks as repo
from basira.core.time import utcnow
from basira.signals.banks import MatchRateMonitor, PostContent, match_posts

if TYPE_CHECKING:
    from basira.signals.banks import Matcher, MatchResult
    from basira.store import Store

Found = dict[int, list[tuple[str, "MatchResult"]]]  # post id -> (where, result), as match_posts returns

__all__ = ["BankSnapshot", "HashPlan", "HashScanResult", "ScanMonitor", "held_back", "mark_matched",
           "match_ingested_posts", "match_these", "match_window", "plan_hash_pass", "record_chunk", "record_found",
           "save_quarantines", "snapshot_for", "window_pass"]

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


class _StoredQuarantinesOnly(MatchRateMonitor):
    """The monitor of a scan's Matcher: it holds back the items quarantined in the store and counts nothing (the
    scan's ScanMonitor counts, over the whole scan)."""

    def observe(self, item_id: int, at: datetime) -> bool:
        return item_id in self.quarantined


class ScanMonitor(MatchRateMonitor):
    """One scan's match-rate monitor: `hold_back` goes over matches in post order and moves those of an item
    that floods (MatchRateMonitor.observe) to the quarantined ones; record_post_matches saves its events."""

    def hold_back(self, found: Found) -> Found:
        at = utcnow()
        for pid in sorted(found):
            for _where, res in found[pid]:
                keep: list[Any] = []
                for m in res.matches:  # only matches that would be acted on count towards a flood
                    (res.quarantined if self.observe(m.item_id, at) else keep).append(m)
                res.matches = keep
        return found


class BankSnapshot:
    """The banks' Matcher, reloaded when bank_state moves. One per process and database; thread-safe.
    `for_scans`: its Matcher counts no match rate (a ScanMonitor does, per scan)."""

    def __init__(self, for_scans: bool = False) -> None:
        self._lock = threading.Lock()
        self.state: tuple[int, int] | None = None
        self.matcher: Matcher | None = None
        self.loads = 0
        self.for_scans = for_scans

    def get(self, store: Store) -> Matcher:
        with self._lock:
            state = repo.bank_state(store)
            if state != self.state or self.matcher is None:
                monitor = _StoredQuarantinesOnly() if self.for_scans else None
                self.matcher, self.state = repo.load_matcher(store, monitor=monitor), state
                self.loads += 1
            return self.matcher


_snapshots: dict[tuple[str, bool], BankSnapshot] = {}
_snapshots_lock = threading.Lock()


def snapshot_for(store: Store, for_scans: bool = False) -> BankSnapshot:
    """This process's snapshot of the banks of `store`'s database (`for_scans`: the scans' one, whose match rate
    a ScanMonitor counts; the other, for content intake, counts its own)."""
    key = (store.engine.url.render_as_string(hide_password=False), for_scans)
    with _snapshots_lock:
        return _snapshots.setdefault(key, BankSnapshot(for_scans))


def plan_hash_pass(store: Store) -> HashPlan | None:
    """The pass to run, or None when no bank holds any item."""
    if not repo.has_items(store):
        return None
    after, tops = repo.scan_resume_point(store)  # before loading items: a later item means a re-match, not a miss
    return HashPlan(after, tops)


def match_window(store: Store, matcher: Matcher, lo: int, hi: int, batch_size: int = BATCH) -> tuple[int, Found]:
    """Match the posts with lo < id <= hi (a cluster's window, on a worker): (posts looked at, what they
    matched). Nothing is recorded: the scan's client holds back floods (ScanMonitor) and records
    (record_found), in post order."""
    looked, found = 0, {}
    after = lo
    while after < hi:
        batch = [p for p in repo.posts_to_match(store, after, min(batch_size, hi - after)) if p.id <= hi]
        if not batch:
            break
        found.update(match_posts(matcher, batch))
        looked += len(batch)
        after = batch[-1].id
    return looked, found


def record_found(store: Store, found: Found, monitor: ScanMonitor, batch_size: int = BATCH) -> HashScanResult:
    """Hold back the floods among a scan's matches (in post order) and record the rest, batch by batch."""
    out = HashScanResult()
    for chunk in held_back(found, monitor, batch_size):
        out.add(record_chunk(store, chunk))
    save_quarantines(store, monitor)
    return out


def held_back(found: Found, monitor: ScanMonitor, batch_size: int = BATCH) -> list[Found]:
    """A scan's matches with the floods held back (ScanMonitor, in post order), in chunks of `batch_size` posts
    that record_chunk can write in any order, or at once on several workers (each chunk its own posts)."""
    pids = sorted(found)
    return [monitor.hold_back({p: found[p] for p in pids[i:i + batch_size]}) for i in range(0, len(pids), batch_size)]


def record_chunk(store: Store, chunk: Found) -> HashScanResult:
    """Record one chunk of held-back matches with their case effects, in one transaction. Idempotent: a match
    already recorded on a post is skipped, so a chunk Dask runs again adds nothing."""
    if not chunk:
        return HashScanResult()
    with store.transaction() as tx:
        new, opened, raised = repo.record_post_matches(tx, chunk, last_post_id=max(chunk), bank_tops={})
    return HashScanResult(0, new, opened, raised)


def save_quarantines(store: Store, monitor: ScanMonitor) -> None:
    """The items the monitor quarantined, saved after the matches they held back were recorded: a scan killed
    in between finds them unquarantined, matches again and counts them again (recorded matches are skipped)."""
    if monitor.events:
        with store.transaction() as tx:
            repo.record_post_matches(tx, {}, last_post_id=0, bank_tops={}, monitor=monitor)


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
    matcher = snapshot_for(store, for_scans=True).get(store)
    monitor = ScanMonitor()  # this scan's: counts start at zero
    after = plan.after
    while batch := repo.posts_to_match(store, after, batch_size):
        found = monitor.hold_back(match_posts(matcher, batch))
        after = batch[-1].id
        with store.transaction() as tx:
            new, opened, raised = repo.record_post_matches(
                tx, found, last_post_id=after, bank_tops=plan.tops, monitor=monitor
            )
        out.add(HashScanResult(len(batch), new, opened, raised))
    return out


def window_pass(store: Store, plan: HashPlan | None, lo: int, hi: int) -> tuple[int, Found]:
    """A cluster window's share of the pass (the posts of (lo, hi] after the plan's start), matched, not
    recorded (match_window)."""
    if plan is None or hi <= plan.after:
        return 0, {}
    return match_window(store, snapshot_for(store, for_scans=True).get(store), max(lo, plan.after), hi)


