"""Matches: recorded lookups, and the scan's pass over ingested posts (resume point, posts to match, a batch of
matches saved with its case effects and the banks' scan checkpoints in the caller's transaction)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from basira.banks._cases import open_or_raise_cases
from basira.banks._items import _CHUNK
from basira.banks._sync import SCAN_SOURCE
from basira.signals.banks import Match, MatchRateMonitor, MatchResult, PostContent, QuarantineEvent
from basira.store.bank_models import BankItemRow, BankMatchRow, BankRow, BankSyncCheckpoint
from basira.store.db import Tx
from basira.store.models import Media, Post, now

if TYPE_CHECKING:
    from basira.store.store import Store


def record_matches(
    tx: Tx, subject: str, results: Sequence[MatchResult], *, monitor: MatchRateMonitor | None = None,
    actor: str | None = "basira",
) -> int:
    """Store the matches (and vetoed / quarantined ones) of a lookup on `subject` ("post:12", "file:x.jpg").
    New quarantines reported by `monitor` are saved on their items. Return the number of rows written."""
    t = BankMatchRow.__table__
    at = now()
    rows: list[dict[str, Any]] = []
    for res in results:
        for status, ms in (("match", res.matches), ("vetoed", res.vetoed), ("quarantined", res.quarantined)):
            rows.extend({"item_id": m.item_id, "subject": subject, "signal_type": m.signal_type,
                         "distance": float(m.distance), "status": status, "matched_at": at} for m in ms)
    events = list(monitor.events) if monitor is not None else []
    if monitor is not None:
        monitor.events.clear()
    if not rows and not events:
        return 0
    tx.insert_rows(t, rows)  # one unnest statement on PostgreSQL, whatever the number of rows
    _save_quarantines(tx, events, actor)
    return len(rows)


def _save_quarantines(tx: Tx, events: Sequence[QuarantineEvent], actor: str | None) -> None:
    it = BankItemRow.__table__
    for ev in events:
        tx.execute(sa.update(it).where(it.c.id == ev.item_id).values(quarantined=True))
    tx.append_events([("bank.item_quarantined", actor, f"bank_item:{ev.item_id}",
                       {"window_matches": ev.window_matches, "baseline": ev.baseline}) for ev in events])


@dataclass(frozen=True)
class RecordedMatch:
    """A match recorded on a subject (`record_matches`, the scan's pass), with its bank and item as they are now."""

    bank: str
    item_id: int
    signal_type: str
    distance: float
    status: str  # match | vetoed | quarantined
    matched_at: datetime
    labels: dict[str, Any] = field(default_factory=dict)
    source: str | None = None
    opinion: str = "positive"


def matches_for(store: Store, subject: str) -> list[RecordedMatch]:
    """Matches recorded on a subject with bank and item labels (for the case page), nearest first."""
    t, it, b = BankMatchRow.__table__, BankItemRow.__table__, BankRow.__table__
    q = (sa.select(t.c.signal_type, t.c.distance, t.c.status, t.c.matched_at, it.c.id.label("item_id"),
                   it.c.labels, it.c.source, it.c.opinion, b.c.name.label("bank"))
         .join(it, it.c.id == t.c.item_id).join(b, b.c.id == it.c.bank_id)
         .where(t.c.subject == subject).order_by(t.c.distance, t.c.id))
    with store.read() as conn:
        return [RecordedMatch(r.bank, int(r.item_id), r.signal_type, float(r.distance), r.status, r.matched_at,
                              dict(r.labels or {}), r.source, r.opinion or "positive") for r in conn.execute(q)]



def has_items(store: Store) -> bool:
    """Whether any bank holds any item (a scan skips hash matching entirely when none does)."""
    t = BankItemRow.__table__
    with store.read() as conn:
        return conn.execute(sa.select(t.c.id).limit(1)).first() is not None


def scan_resume_point(store: Store) -> tuple[int, dict[int, int]]:
    """(post id to match after, {bank id: its largest item id now}). A bank that gained items since its
    checkpoint (or has none) sends the scan back to the first post: old posts are matched against new items.
    Posts matched before are not matched twice (record_post_matches skips matches already recorded)."""
    b, it, cp = BankRow.__table__, BankItemRow.__table__, BankSyncCheckpoint.__table__
    with store.read() as conn:
        tops = {r.id: int(r.top or 0) for r in conn.execute(
            sa.select(b.c.id, sa.func.max(it.c.id).label("top")).outerjoin(it, it.c.bank_id == b.c.id)
            .group_by(b.c.id))}
        cps = {r.bank_id: r.checkpoint or {} for r in conn.execute(
            sa.select(cp.c.bank_id, cp.c.checkpoint).where(cp.c.source == SCAN_SOURCE))}
    start = None
    for bid, top in tops.items():
        if not top:
            continue
        c = cps.get(bid) or {}
        after = int(c.get("last_post_id", 0)) if int(c.get("max_item_id", -1)) >= top else 0
        start = after if start is None else min(start, after)
    return start or 0, tops


def posts_to_match(store: Store, after_id: int, limit: int = 1000) -> list[PostContent]:
    """Posts after `after_id` in id order with their text, URLs and media hashes."""
    p, m = Post.__table__, Media.__table__
    with store.read() as conn:
        rows = conn.execute(sa.select(p.c.id, p.c.text, p.c.urls).where(p.c.id > after_id).order_by(p.c.id)
                            .limit(limit)).all()
        media: dict[int, list[dict[str, Any]]] = {}
        if rows:
            q = (sa.select(m.c.post_id, m.c.sha256, m.c.pdq, m.c.md5).where(m.c.post_id.in_([r.id for r in rows]))
                 .order_by(m.c.post_id, m.c.position))
            for r in conn.execute(q):
                media.setdefault(r.post_id, []).append({"sha256": r.sha256, "pdq": r.pdq, "md5": r.md5})
    return [PostContent(r.id, r.text, list(r.urls or []), media.get(r.id, [])) for r in rows]



def record_post_matches(
    tx: Tx,
    found: dict[int, list[tuple[str, MatchResult]]],
    *,
    last_post_id: int,
    bank_tops: dict[int, int],
    monitor: MatchRateMonitor | None = None,
    actor: str | None = "scan",
) -> tuple[int, int, int]:
    """Save a batch of post matches and their case effects in the caller's transaction, and move every bank's scan
    checkpoint to `last_post_id`. A match already recorded on a post is skipped, so a re-run adds nothing.
    A new (acted-on) match opens a case on the post, or raises the open case's priority and names the match in
    its reason. Return (matches new, cases opened, cases raised)."""
    t, cpt = BankMatchRow.__table__, BankSyncCheckpoint.__table__
    at = now()
    events = list(monitor.events) if monitor is not None else []
    if monitor is not None:
        monitor.events.clear()
    opened_n = raised_n = 0
    subjects = [f"post:{pid}" for pid in found]
    seen: set[tuple[str, int, str]] = set()
    # Set-based: one lookup and one INSERT per batch on PostgreSQL (an array, unnest), chunks of _CHUNK on SQLite.
    step = (len(subjects) or 1) if tx.dialect == "postgresql" else _CHUNK
    for i in range(0, len(subjects), step):
        seen.update((r.subject, r.item_id, r.status) for r in tx.execute(
            sa.select(t.c.subject, t.c.item_id, t.c.status).where(tx.in_(t.c.subject, subjects[i : i + step]))))
    rows: list[dict[str, Any]] = []
    acted: dict[int, list[Match]] = {}
    for pid, results in found.items():
        subject = f"post:{pid}"
        for _where, res in results:
            for status, ms in (("match", res.matches), ("vetoed", res.vetoed),
                               ("quarantined", res.quarantined)):
                for m in ms:
                    key = (subject, m.item_id, status)
                    if key in seen:
                        continue
                    seen.add(key)
                    rows.append({"item_id": m.item_id, "subject": subject, "signal_type": m.signal_type,
                                 "distance": float(m.distance), "status": status, "matched_at": at})
                    if status == "match":
                        acted.setdefault(pid, []).append(m)
    tx.insert_rows(t, rows)
    new_matches = sum(1 for r in rows if r["status"] == "match")
    if acted:
        opened_n, raised_n = open_or_raise_cases(tx, acted, actor)
    _save_quarantines(tx, events, actor)
    for bid, top in bank_tops.items():
        value = {"last_post_id": int(last_post_id), "max_item_id": int(top)}
        stmt = tx.insert(cpt).values(bank_id=bid, source=SCAN_SOURCE, checkpoint=value, updated_at=at)
        tx.execute(stmt.on_conflict_do_update(index_elements=["bank_id", "source"],
                                                set_={"checkpoint": value, "updated_at": at}))
    return new_matches, opened_n, raised_n

