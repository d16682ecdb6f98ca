"""Repository functions for hash-matching banks: the only code that reads or writes the bank tables.

Every change is logged in the hash-chained event log in the same transaction (`bank.created`,
`bank.items_added`, `bank.items_removed`, `bank.item_changed`, `bank.synced`, `bank.item_quarantined`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from basira.cases.intake import Finding, submit
from basira.cases.priority import SEVERITY, PrioritySignals
from basira.core.time import utc
from basira.signals.banks import (
    OPINIONS,
    Bank,
    BankItem,
    Matcher,
    MatchRateMonitor,
    MatchResult,
    PostContent,
    utcnow,
)
from basira.signals.exchange import BankEntry
from basira.store.bank_models import BankItemRow, BankMatchRow, BankRow, BankSyncCheckpoint
from basira.store.db import Tx
from basira.store.models import Case, Detection, Media, Post, now

if TYPE_CHECKING:
    from basira.store.store import Store

_CHUNK = 500
CONTENT_LABEL = "hma_content"  # the content id (HMA API) an item belongs to, when it is not the content's first


def signal_key(signal_type: str, signal: str) -> str:
    return hashlib.sha256(f"{signal_type}\x00{signal}".encode()).hexdigest()


def _bank(r: Any) -> Bank:
    return Bank(r.name, negative=bool(r.negative), enabled_ratio=float(r.enabled_ratio),
                thresholds=dict(r.thresholds or {}), description=r.description or "", id=r.id,
                pdq_decode=r.pdq_decode or "fast")


def create_bank(
    store: Store,
    name: str,
    *,
    negative: bool = False,
    enabled_ratio: float = 1.0,
    thresholds: dict[str, float] | None = None,
    description: str = "",
    pdq_decode: str | None = None,
    actor: str | None = None,
) -> Bank:
    """Create a bank; raise ValueError if the name is taken or a setting is invalid. `pdq_decode` None: fast
    until an exchange first feeds the bank (`sync_bank`), then full."""
    bank = Bank(name, negative=negative, enabled_ratio=enabled_ratio, thresholds=thresholds or {},
                description=description, pdq_decode=pdq_decode or "fast")
    t = BankRow.__table__
    with store.write() as conn:
        if conn.execute(sa.select(t.c.id).where(t.c.name == name)).first() is not None:
            raise ValueError(f"bank {name!r} already exists")
        bank.id = conn.execute(
            sa.insert(t).values(name=name, negative=negative, enabled_ratio=enabled_ratio,
                                thresholds=bank.thresholds, description=description, created_at=now(),
                                pdq_decode=pdq_decode)
            .returning(t.c.id)
        ).scalar_one()
        store._append_events(conn, [("bank.created", actor, f"bank:{bank.id}",
                                     {"name": name, "negative": negative, "enabled_ratio": enabled_ratio,
                                      "thresholds": bank.thresholds, "pdq_decode": pdq_decode})])
    return bank


def update_bank(
    store: Store, name: str, *, new_name: str | None = None, enabled_ratio: float | None = None,
    pdq_decode: str | None = None, actor: str | None = None,
) -> Bank:
    """Rename a bank or change its enabled ratio or PDQ decode; raise ValueError (no such bank, name taken,
    bad value)."""
    t = BankRow.__table__
    changes: dict[str, Any] = {}
    if new_name is not None and new_name != name:
        changes["name"] = new_name
    if enabled_ratio is not None:
        changes["enabled_ratio"] = float(enabled_ratio)
    if pdq_decode is not None:
        changes["pdq_decode"] = pdq_decode
    with store.write() as conn:
        r = conn.execute(sa.select(t).where(t.c.name == name)).first()
        if r is None:
            raise ValueError(f"no bank named {name!r}")
        merged = {**r._asdict(), **changes}
        Bank(merged["name"], enabled_ratio=merged["enabled_ratio"], pdq_decode=merged["pdq_decode"] or "fast")
        if "name" in changes and conn.execute(sa.select(t.c.id).where(t.c.name == new_name)).first():
            raise ValueError(f"bank {new_name!r} already exists")
        if changes:
            conn.execute(sa.update(t).where(t.c.id == r.id).values(**changes))
            store._append_events(conn, [("bank.changed", actor, f"bank:{r.id}", {"name": name, **changes})])
        out = conn.execute(sa.select(t).where(t.c.id == r.id)).first()
    return _bank(out)


def delete_bank(store: Store, name: str, *, actor: str | None = None) -> int:
    """Delete a bank and its items; return the number of items. Refused (ValueError) while any of its items
    has a recorded match: those records are evidence cases rest on. Deleting a missing bank does nothing."""
    t, it, m = BankRow.__table__, BankItemRow.__table__, BankMatchRow.__table__
    with store.write() as conn:
        bid = conn.execute(sa.select(t.c.id).where(t.c.name == name)).scalar()
        if bid is None:
            return 0
        if conn.execute(sa.select(m.c.id).join(it, it.c.id == m.c.item_id).where(it.c.bank_id == bid)
                        .limit(1)).first():
            raise ValueError(f"bank {name!r} has recorded matches (evidence for cases): not deleted")
        n = conn.execute(sa.delete(it).where(it.c.bank_id == bid)).rowcount
        conn.execute(sa.delete(BankSyncCheckpoint.__table__).where(BankSyncCheckpoint.__table__.c.bank_id == bid))
        conn.execute(sa.delete(t).where(t.c.id == bid))
        store._append_events(conn, [("bank.deleted", actor, f"bank:{bid}", {"name": name, "items": n})])
    return int(n)


def add_content(
    store: Store, bank: str, signals: dict[str, str], *, labels: dict[str, Any] | None = None,
    source: str | None = None, actor: str | None = None, note: str | None = None,
) -> tuple[int, dict[str, int]]:
    """Add one piece of content (its signals, one item each) to a bank; return (content id, item id by signal
    type). The content id is its first item's id; its other items carry it as label `hma_content`. A signal the
    bank already holds keeps its item, and the content takes the oldest such item's content id."""
    entries = [BankEntry.make(st, sig, labels=dict(labels or {}), source=source) for st, sig in signals.items()]
    t = BankItemRow.__table__
    with store.write() as conn:
        _add_entries(store, conn, bank, entries, actor=actor, note=note)
        bid = _require(conn, bank)
        rows = {e.signal_type: conn.execute(
            sa.select(t.c.id, t.c.labels).where(t.c.bank_id == bid, t.c.signal_type == e.signal_type,
                                                t.c.signal_key == signal_key(e.signal_type, e.signal))).first()
            for e in entries}
        ids = {st: int(r.id) for st, r in rows.items()}
        content = min(int((r.labels or {}).get(CONTENT_LABEL, r.id)) for r in rows.values())
        for r in rows.values():
            if r.id != content and (r.labels or {}).get(CONTENT_LABEL) is None:
                conn.execute(sa.update(t).where(t.c.id == r.id).values(labels={**(r.labels or {}),
                                                                                CONTENT_LABEL: content}))
    return content, ids


def content_items(store: Store, bank: str, content_id: int) -> list[BankItem]:
    """The items of one piece of content (see `add_content`) in a bank, by id; [] when there is none. Its items
    all have ids from the content id up (it is the smallest), so the search starts there."""
    t, b = BankItemRow.__table__, BankRow.__table__
    label = t.c.labels[CONTENT_LABEL].as_integer()
    q = (sa.select(t, b.c.name.label("bank_name")).join(b, b.c.id == t.c.bank_id)
         .where(b.c.name == bank, t.c.id >= content_id,
                sa.or_(label == content_id, sa.and_(t.c.id == content_id, label.is_(None))))
         .order_by(t.c.id))
    with store.read() as conn:
        return [_item(r, r.bank_name) for r in conn.execute(q)]


def content_id_of(item: BankItem) -> int:
    return int(item.labels.get(CONTENT_LABEL, item.id))


def get_bank(store: Store, name: str) -> Bank | None:
    t = BankRow.__table__
    with store.read() as conn:
        r = conn.execute(sa.select(t).where(t.c.name == name)).first()
    return _bank(r) if r else None


def list_banks(store: Store) -> list[tuple[Bank, int]]:
    """Every bank with its item count, by name."""
    b, i = BankRow.__table__, BankItemRow.__table__
    q = (sa.select(b, sa.func.count(i.c.id).label("items")).outerjoin(i, i.c.bank_id == b.c.id)
         .group_by(b.c.id).order_by(b.c.name))
    with store.read() as conn:
        return [(_bank(r), int(r.items)) for r in conn.execute(q)]


def _require(conn: Any, name: str) -> int:
    t = BankRow.__table__
    bid = conn.execute(sa.select(t.c.id).where(t.c.name == name)).scalar()
    if bid is None:
        raise ValueError(f"no bank named {name!r}")
    return int(bid)


def add_entries(
    store: Store, bank: str, entries: Iterable[BankEntry], *, actor: str | None = None, note: str | None = None,
    on_deleted: str = "remove",
) -> tuple[int, int]:
    """Add entries to a bank; return (added, removed or withdrawn). A `deleted` entry removes its item
    (`on_deleted="remove"`: a curator's delete) or, for what a partner's file or exchange marks deleted
    (`"withdraw"`: imports and syncs), withdraws it: kept, disabled, a match on it reported and never acted on.
    A withdrawn signal that comes back is live again. Known signals keep their item (an empty external id is
    filled in)."""
    if on_deleted not in ("remove", "withdraw"):
        raise ValueError(f"on_deleted must be 'remove' or 'withdraw', not {on_deleted!r}")
    with store.write() as conn:
        return _add_entries(store, conn, bank, entries, actor=actor, note=note, on_deleted=on_deleted)


def _add_entries(
    store: Store, conn: Any, bank: str, entries: Iterable[BankEntry], *, actor: str | None, note: str | None,
    on_deleted: str = "withdraw",
) -> tuple[int, int]:
    entries = list(entries)
    t = BankItemRow.__table__
    added_at = now()
    bid = _require(conn, bank)
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    gone: set[tuple[str, str]] = set()
    for e in entries:
        key = (e.signal_type, signal_key(e.signal_type, e.signal))
        if e.deleted:
            gone.add(key)
            rows.pop(key, None)
            continue
        if e.opinion not in OPINIONS:
            raise ValueError(f"opinion must be one of {OPINIONS}, not {e.opinion!r}")
        gone.discard(key)
        prev = rows.get(key)
        if prev is not None:  # the same signal twice in a batch: merge, later non-empty values win
            e = BankEntry(e.signal_type, e.signal, labels={**prev["labels"], **e.labels},
                          source=e.source or prev["source"], added_at=e.added_at or prev["added_at"],
                          opinion=e.opinion, external_id=e.external_id or prev["external_id"])
        rows[key] = {"bank_id": bid, "signal_type": e.signal_type, "signal": e.signal, "signal_key": key[1],
                     "labels": e.labels, "source": e.source, "external_id": e.external_id,
                     "added_at": utc(e.added_at) or added_at, "disabled_until": None,
                     "opinion": e.opinion, "quarantined": False}
    added = restored = 0
    values = list(rows.values())
    for i in range(0, len(values), _CHUNK):
        chunk = values[i : i + _CHUNK]
        stmt = store._insert(t).on_conflict_do_nothing(index_elements=["bank_id", "signal_type", "signal_key"])
        inserted = len(conn.execute(stmt.returning(t.c.id), chunk).all())
        added += inserted
        if inserted == len(chunk):
            continue  # all new: nothing to restore or fill in
        for st, keys in _keys_by_type((v["signal_type"], v["signal_key"]) for v in chunk):
            where = sa.and_(t.c.bank_id == bid, t.c.signal_type == st, t.c.signal_key.in_(keys))
            # Back from withdrawal (TAT un-deletes, a re-share): live again.
            restored += conn.execute(sa.update(t).where(where, t.c.withdrawn_at.is_not(None))
                                     .values(withdrawn_at=None)).rowcount
            with_ids = {v["signal_key"]: v["external_id"] for v in chunk
                        if v["external_id"] and v["signal_type"] == st}
            if with_ids:  # an item stored before its source's id was known gets it now (usually none)
                for r in conn.execute(sa.select(t.c.id, t.c.signal_key).where(where, t.c.external_id.is_(None))):
                    if with_ids.get(r.signal_key):
                        conn.execute(sa.update(t).where(t.c.id == r.id).values(external_id=with_ids[r.signal_key]))
    removed = 0
    at = now()
    tombstones = {(e.signal_type, signal_key(e.signal_type, e.signal)): e for e in entries if e.deleted}
    for st, keys in _keys_by_type(gone):
        where = sa.and_(t.c.bank_id == bid, t.c.signal_type == st, t.c.signal_key.in_(keys))
        if on_deleted == "remove":
            removed += conn.execute(sa.delete(t).where(where)).rowcount
        else:
            removed += conn.execute(sa.update(t).where(where, t.c.withdrawn_at.is_(None))
                                    .values(withdrawn_at=at)).rowcount
    if on_deleted != "remove" and gone:
        # First heard of as deleted: kept withdrawn, so its source's id and state go back out.
        new = [{"bank_id": bid, "signal_type": st, "signal": e.signal, "signal_key": key, "labels": e.labels,
                "source": e.source, "external_id": e.external_id, "added_at": utc(e.added_at) or added_at,
                "disabled_until": None, "opinion": e.opinion if e.opinion in OPINIONS else "positive",
                "quarantined": False, "withdrawn_at": at}
               for (st, key), e in tombstones.items() if (st, key) in gone]
        for i in range(0, len(new), _CHUNK):
            stmt = store._insert(t).on_conflict_do_nothing(index_elements=["bank_id", "signal_type", "signal_key"])
            removed += len(conn.execute(stmt.returning(t.c.id), new[i : i + _CHUNK]).all())
    if added or removed or restored:
        kind = "bank.items_added" if added or restored else "bank.items_removed"
        store._append_events(conn, [(kind, actor, f"bank:{bid}",
                                     {"bank": bank, "added": added, "removed": removed, "restored": restored,
                                      "withdrawn": on_deleted != "remove", "note": note})])
    return added, removed


def _keys_by_type(pairs: Iterable[tuple[str, str]]) -> Iterator[tuple[str, list[str]]]:
    """(signal type, up to _CHUNK signal keys): a WHERE on bank, type and keys uses the unique index whole
    (bank alone would scan the bank once per chunk)."""
    by: dict[str, list[str]] = {}
    for st, key in pairs:
        by.setdefault(st, []).append(key)
    for st, keys in by.items():
        for i in range(0, len(keys), _CHUNK):
            yield st, keys[i : i + _CHUNK]


def _item(r: Any, bank: str) -> BankItem:
    return BankItem(r.id, bank, r.signal_type, r.signal, labels=dict(r.labels or {}), source=r.source,
                    added_at=r.added_at, disabled_until=r.disabled_until, opinion=r.opinion,
                    quarantined=bool(r.quarantined), withdrawn=r.withdrawn_at is not None)


def iter_items(store: Store, bank: str | None = None, batch_size: int = 5000) -> Iterator[BankItem]:
    """Items of one bank (or all), in id order, in constant memory."""
    t, b = BankItemRow.__table__, BankRow.__table__
    last = 0
    while True:
        q = sa.select(t, b.c.name.label("bank_name")).join(b, b.c.id == t.c.bank_id).where(t.c.id > last)
        if bank is not None:
            q = q.where(b.c.name == bank)
        with store.read() as conn:
            rows = conn.execute(q.order_by(t.c.id).limit(batch_size)).all()
        if not rows:
            return
        for r in rows:
            yield _item(r, r.bank_name)
        last = rows[-1].id


def entries_of(store: Store, bank: str, *, withdrawn: bool = True) -> Iterator[BankEntry]:
    """A bank's items as exchange entries (for export), with their external ids; withdrawn items come as
    `deleted` entries (formats that can say so write them; the others leave them out)."""
    t, b = BankItemRow.__table__, BankRow.__table__
    last = 0
    while True:
        q = (sa.select(t).join(b, b.c.id == t.c.bank_id).where(b.c.name == bank, t.c.id > last)
             .order_by(t.c.id).limit(5000))
        if not withdrawn:
            q = q.where(t.c.withdrawn_at.is_(None))
        with store.read() as conn:
            rows = conn.execute(q).all()
        if not rows:
            return
        for r in rows:
            yield BankEntry(r.signal_type, r.signal, labels=dict(r.labels or {}), source=r.source,
                            added_at=r.added_at, opinion=r.opinion, external_id=r.external_id,
                            deleted=r.withdrawn_at is not None)
        last = rows[-1].id


def update_item(
    store: Store,
    item_id: int,
    *,
    opinion: str | None = None,
    disabled_until: datetime | None | bool = False,
    quarantined: bool | None = None,
    labels: dict[str, Any] | None = None,
    actor: str | None = None,
) -> None:
    """Change an item's opinion, disabled-until time (None clears it), quarantine flag or labels."""
    changes: dict[str, Any] = {}
    if opinion is not None:
        if opinion not in OPINIONS:
            raise ValueError(f"opinion must be one of {OPINIONS}, not {opinion!r}")
        changes["opinion"] = opinion
    if disabled_until is not False:
        changes["disabled_until"] = utc(disabled_until) if isinstance(disabled_until, datetime) else None
    if quarantined is not None:
        changes["quarantined"] = quarantined
    if labels is not None:
        changes["labels"] = labels
    if not changes:
        return
    t = BankItemRow.__table__
    with store.write() as conn:
        if conn.execute(sa.update(t).where(t.c.id == item_id).values(**changes)).rowcount == 0:
            raise ValueError(f"no bank item {item_id}")
        payload = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in changes.items()}
        store._append_events(conn, [("bank.item_changed", actor, f"bank_item:{item_id}", payload)])


def load_matcher(store: Store, *, clock: Any = utcnow, monitor: MatchRateMonitor | None = None) -> Matcher:
    """A Matcher over every bank and item in the store."""
    banks = [b for b, _ in list_banks(store)]
    return Matcher(banks, iter_items(store), clock=clock, monitor=monitor)


def record_matches(
    store: Store, subject: str, results: Sequence[MatchResult], *, monitor: MatchRateMonitor | None = None,
    actor: str | None = "basira",
) -> int:
    """Store the matches (and vetoed / quarantined ones) of a lookup on `subject` ("post:12", "file:x.jpg").
    New quarantines reported by `monitor` are saved on their items. Return the number of rows written."""
    t, it = BankMatchRow.__table__, BankItemRow.__table__
    at = now()
    rows = []
    for res in results:
        for status, ms in (("match", res.matches), ("vetoed", res.vetoed), ("quarantined", res.quarantined)):
            rows.extend({"item_id": m.item_id, "subject": subject, "signal_type": m.signal_type,
                         "distance": float(m.distance), "status": status, "matched_at": at} for m in ms)
    events = list(monitor.events) if monitor is not None else []
    if monitor is not None:
        monitor.events.clear()
    if not rows and not events:
        return 0
    with store.write() as conn:
        if rows:
            conn.execute(sa.insert(t), rows)
        for ev in events:
            conn.execute(sa.update(it).where(it.c.id == ev.item_id).values(quarantined=True))
        store._append_events(conn, [("bank.item_quarantined", actor, f"bank_item:{ev.item_id}",
                                     {"window_matches": ev.window_matches, "baseline": ev.baseline})
                                    for ev in events])
    return len(rows)


def matches_for(store: Store, subject: str) -> list[dict[str, Any]]:
    """Matches recorded on a subject with bank and item labels (for the case page)."""
    t, it, b = BankMatchRow.__table__, BankItemRow.__table__, BankRow.__table__
    q = (sa.select(t.c.signal_type, t.c.distance, t.c.status, t.c.matched_at, it.c.id.label("item_id"),
                   it.c.labels, it.c.source, it.c.opinion, b.c.name.label("bank"))
         .join(it, it.c.id == t.c.item_id).join(b, b.c.id == it.c.bank_id)
         .where(t.c.subject == subject).order_by(t.c.distance, t.c.id))
    with store.read() as conn:
        return [r._asdict() for r in conn.execute(q)]


def add_content_to_bank(
    store: Store, bank: str, signals: dict[str, str], *, labels: dict[str, Any] | None = None,
    source: str | None = None, actor: str | None = None,
) -> int:
    """A reviewer's "remove and bank it": add every signal of a piece of content to a bank; return the number new."""
    entries = [BankEntry.make(st, sig, labels=dict(labels or {}), source=source) for st, sig in signals.items()]
    return add_entries(store, bank, entries, actor=actor, note="added from review")[0]


def get_sync_checkpoint(store: Store, bank: str, source: str) -> dict[str, Any] | None:
    t, b = BankSyncCheckpoint.__table__, BankRow.__table__
    with store.read() as conn:
        return conn.execute(
            sa.select(t.c.checkpoint).join(b, b.c.id == t.c.bank_id).where(b.c.name == bank, t.c.source == source)
        ).scalar()


def sync_bank(
    store: Store, bank: str, source: str, fmt: str | None = None, *, actor: str | None = None,
    skipped: list[str] | None = None,
) -> tuple[int, int, bool]:
    """Pull what is new at `source` into a bank and move its checkpoint in the same transaction.
    Return (added, withdrawn, read in full); lines skipped (unknown signal types) are appended to `skipped`."""
    from basira.signals.exchange import sync_source

    cp = get_sync_checkpoint(store, bank, source)
    res = sync_source(source, cp, fmt)
    if skipped is not None:
        skipped.extend(res.skipped)
    if res.unchanged:
        return 0, 0, False
    added, removed = save_sync(store, bank, source, res.entries, res.checkpoint, full=res.full, actor=actor)
    return added, removed, res.full


def save_sync(
    store: Store, bank: str, source: str, entries: Sequence[BankEntry], checkpoint: dict[str, Any], *,
    full: bool, actor: str | None = None,
) -> tuple[int, int]:
    """Store a sync's entries and its new checkpoint in one transaction (a crash keeps both or neither);
    return (added, withdrawn)."""
    t = BankSyncCheckpoint.__table__
    with store.write() as conn:
        added, removed = _add_entries(store, conn, bank, entries, actor=actor, note=f"sync {source}",
                                      on_deleted="withdraw")
        bid = _require(conn, bank)
        mark_exchange_fed(conn, bid)
        stmt = store._insert(t).values(bank_id=bid, source=source, checkpoint=checkpoint, updated_at=now())
        conn.execute(stmt.on_conflict_do_update(index_elements=["bank_id", "source"],
                                                set_={"checkpoint": checkpoint, "updated_at": now()}))
        store._append_events(conn, [("bank.synced", actor, f"bank:{bid}",
                                     {"source": source, "entries": len(entries), "full": full,
                                      "offset": checkpoint.get("offset"), "added": added, "withdrawn": removed})])
    return added, removed


@dataclass
class ExchangeSync:
    """What a live exchange sync did: pages saved, entries read, items added / withdrawn, lines skipped."""

    source: str
    pages: int = 0
    entries: int = 0
    added: int = 0
    withdrawn: int = 0
    skipped: list[str] = field(default_factory=list)
    full: bool = False


def sync_exchange(store: Store, bank: str, exchange: Any, *, actor: str | None = None) -> ExchangeSync:
    """Pull what is new at a live exchange (basira.signals.partners.live) into a bank, page by page: each page's
    entries and the checkpoint after it are saved together, so an interrupted sync resumes where it stopped."""
    cp = get_sync_checkpoint(store, bank, exchange.name)
    if get_bank(store, bank) is None:
        raise ValueError(f"no bank named {bank!r}")
    out = ExchangeSync(exchange.name, full=cp is None)
    for batch in exchange.fetch(cp):
        added, withdrawn = save_sync(store, bank, exchange.name, batch.entries, batch.checkpoint, full=out.full,
                                     actor=actor)
        out.pages += 1
        out.entries += len(batch.entries)
        out.added += added
        out.withdrawn += withdrawn
        out.skipped += batch.skipped
    return out


def get_item(store: Store, item_id: int) -> BankItem | None:
    t, b = BankItemRow.__table__, BankRow.__table__
    with store.read() as conn:
        r = conn.execute(sa.select(t, b.c.name.label("bank_name")).join(b, b.c.id == t.c.bank_id)
                         .where(t.c.id == item_id)).first()
    return _item(r, r.bank_name) if r else None


def record_reaction(store: Store, item_id: int, reaction: str, exchange: str, answers: list[Any], *,
                    actor: str | None = None) -> None:
    """Log an opinion written back to an exchange (bank.item_reported)."""
    with store.write() as conn:
        store._append_events(conn, [("bank.item_reported", actor, f"bank_item:{item_id}",
                                     {"reaction": reaction, "exchange": exchange, "answers": answers})])


def exchange_fed_banks(store: Store) -> list[str]:
    """Names of the banks some exchange (a `sync_bank` source) feeds, by name."""
    t, b = BankSyncCheckpoint.__table__, BankRow.__table__
    with store.read() as conn:
        return list(conn.execute(sa.select(b.c.name).join(t, t.c.bank_id == b.c.id)
                                 .where(t.c.source != SCAN_SOURCE).distinct().order_by(b.c.name)).scalars())


def exchange_sources(store: Store, bank: str) -> list[dict[str, Any]]:
    """The exchange sources feeding a bank: {source, checkpoint, updated_at}, most recently synced first."""
    t, b = BankSyncCheckpoint.__table__, BankRow.__table__
    with store.read() as conn:
        rows = conn.execute(sa.select(t.c.source, t.c.checkpoint, t.c.updated_at).join(b, b.c.id == t.c.bank_id)
                            .where(b.c.name == bank, t.c.source != SCAN_SOURCE)
                            .order_by(t.c.updated_at.desc(), t.c.id.desc())).all()
    return [{"source": r.source, "checkpoint": dict(r.checkpoint or {}), "updated_at": utc(r.updated_at)}
            for r in rows]


def mark_exchange_fed(conn: Any, bank_id: int) -> None:
    """A bank an exchange feeds decodes PDQ at full resolution (the hashes partners compute), unless someone
    chose otherwise: call in the transaction that first adds exchanged items."""
    t = BankRow.__table__
    conn.execute(sa.update(t).where(t.c.id == bank_id, t.c.pdq_decode.is_(None)).values(pdq_decode="full"))


# --- matching ingested posts (basira scan) -----------------------------------------------------------------

SCAN_SOURCE = "basira:scan"  # the sync-checkpoint source under which each bank records how far posts were matched
_REASON_MATCHES = 3  # matches named in a case's reason; the details keep up to _DETAIL_MATCHES
_DETAIL_MATCHES = 20


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
            q = (sa.select(m.c.post_id, m.c.sha256, m.c.pdq).where(m.c.post_id.in_([r.id for r in rows]))
                 .order_by(m.c.post_id, m.c.position))
            for r in conn.execute(q):
                media.setdefault(r.post_id, []).append({"sha256": r.sha256, "pdq": r.pdq})
    return [PostContent(r.id, r.text, list(r.urls or []), media.get(r.id, [])) for r in rows]


def _describe(m: Any) -> str:
    return f"bank {m.bank!r} item {m.item_id} ({m.signal_type}, distance {m.distance:g})"


def _label_categories(matches: Sequence[Any]) -> list[str]:
    """Bank labels that name a detector category (behaviour: recruitment, ...) count towards the severity."""
    return sorted({str(v) for m in matches for v in m.labels.values() if isinstance(v, str) and v in SEVERITY})


def record_post_matches(
    store: Store,
    found: dict[int, list[tuple[str, MatchResult]]],
    *,
    last_post_id: int,
    bank_tops: dict[int, int],
    monitor: MatchRateMonitor | None = None,
    actor: str | None = "scan",
) -> tuple[int, int, int]:
    """Save a batch of post matches and their case effects in one transaction, and move every bank's scan
    checkpoint to `last_post_id`. A match already recorded on a post is skipped, so a re-run adds nothing.
    A new (acted-on) match opens a case on the post, or raises the open case's priority and names the match in
    its reason. Return (matches new, cases opened, cases raised)."""
    t, it, cpt = BankMatchRow.__table__, BankItemRow.__table__, BankSyncCheckpoint.__table__
    at = now()
    events = list(monitor.events) if monitor is not None else []
    if monitor is not None:
        monitor.events.clear()
    new_matches = opened_n = raised_n = 0
    with store.write() as conn:
        subjects = [f"post:{pid}" for pid in found]
        seen: set[tuple[str, int, str]] = set()
        for i in range(0, len(subjects), _CHUNK):
            seen.update((r.subject, r.item_id, r.status) for r in conn.execute(
                sa.select(t.c.subject, t.c.item_id, t.c.status).where(t.c.subject.in_(subjects[i : i + _CHUNK]))))
        rows, acted = [], {}
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
        if rows:
            conn.execute(sa.insert(t), rows)
        new_matches = sum(1 for r in rows if r["status"] == "match")
        if acted:
            opened_n, raised_n = _open_or_raise(store, conn, acted, actor)
        for ev in events:
            conn.execute(sa.update(it).where(it.c.id == ev.item_id).values(quarantined=True))
        store._append_events(conn, [("bank.item_quarantined", actor, f"bank_item:{ev.item_id}",
                                     {"window_matches": ev.window_matches, "baseline": ev.baseline})
                                    for ev in events])
        for bid, top in bank_tops.items():
            value = {"last_post_id": int(last_post_id), "max_item_id": int(top)}
            stmt = store._insert(cpt).values(bank_id=bid, source=SCAN_SOURCE, checkpoint=value, updated_at=at)
            conn.execute(stmt.on_conflict_do_update(index_elements=["bank_id", "source"],
                                                    set_={"checkpoint": value, "updated_at": at}))
    return new_matches, opened_n, raised_n


def _open_or_raise(store: Store, conn: Any, acted: dict[int, list[Any]], actor: str | None) -> tuple[int, int]:
    C, D, t = Case.__table__, Detection.__table__, BankMatchRow.__table__
    pids = list(acted)
    cases = {r.subject_id: r for r in conn.execute(
        sa.select(C.c.id, C.c.subject_id, C.c.reason, C.c.priority, C.c.details)
        .where(C.c.subject_kind == "post", C.c.subject_id.in_(pids), C.c.closed_at.is_(None)))}
    # Every acted-on item ever matched on the post counts towards the priority (capped in case_priority).
    counts = dict(conn.execute(
        sa.select(t.c.subject, sa.func.count(sa.distinct(t.c.item_id)))
        .where(t.c.subject.in_([f"post:{p}" for p in pids]), t.c.status == "match").group_by(t.c.subject)).all())
    latest = {}
    for r in conn.execute(sa.select(D.c.id, D.c.post_id, D.c.score, D.c.categories, D.c.model_version)
                          .where(D.c.post_id.in_(pids)).order_by(D.c.id)):
        latest[r.post_id] = r  # the last one wins
    findings = []
    for pid, ms in sorted(acted.items()):
        desc = [_describe(m) for m in ms]
        listed = [{"bank": m.bank, "item_id": m.item_id, "signal_type": m.signal_type, "distance": m.distance,
                   "labels": m.labels} for m in ms]
        n = int(counts.get(f"post:{pid}", len(ms)))
        reason = "hash match: " + "; ".join(desc[:_REASON_MATCHES]) + (
            f" and {len(desc) - _REASON_MATCHES} more" if len(desc) > _REASON_MATCHES else "")
        case = cases.get(pid)
        if case is None:
            d = latest.get(pid)
            cats = [*(d.categories or [] if d else []), *_label_categories(ms)]
            details = {"hash_matches": listed[:_DETAIL_MATCHES]}
            if d is not None:
                details |= {"model_version": d.model_version, "score": float(d.score),
                            "categories": list(d.categories or [])}
            findings.append(Finding(("post", pid), "hash", reason, details=details, detection_id=d.id if d else None,
                                    signals=PrioritySignals(model_score=float(d.score) if d else 0.0,
                                                            categories=tuple(cats), hash_matches=n)))
            continue
        det = dict(case.details or {})
        cats = [*(det.get("categories") or []), *_label_categories(ms)]

        def merge(old: Any, listed: list[dict[str, Any]] = listed) -> dict[str, Any]:
            return {**old, "hash_matches": [*(old.get("hash_matches") or []), *listed][:_DETAIL_MATCHES]}

        findings.append(Finding(("post", pid), "hash", reason, raises=True, merge=merge, evidence={"matches": listed},
                                signals=PrioritySignals(model_score=float(det.get("score") or 0.0),
                                                        categories=tuple(cats), hash_matches=n)))
    got = submit(Tx(store, conn), findings, actor)
    return len(got.opened), len(got.raised)


# --- a reviewer's "remove" adds the content to a bank ------------------------------------------------------

MIN_BANKED_TEXT = 20  # characters: shorter texts ("ok", "join us") would match far too much as near-duplicates


def require_positive_bank(store: Store, name: str) -> Bank:
    """The bank a reviewer may add removed content to; ValueError if there is none or it is an allow-list."""
    bank = get_bank(store, name)
    if bank is None:
        raise ValueError(f"no bank named {name!r}")
    if bank.negative:
        raise ValueError(f"bank {name!r} is an allow-list: removed content cannot go in it")
    return bank


def case_content_entries(store: Store, case_id: int) -> list[BankEntry]:
    """Bank entries for a case's post: its text as a near-duplicate MinHash (when long enough) and its media's
    SHA-256 and PDQ hashes, labelled with where they came from."""
    from basira.signals import SignalError, get_signal_type

    C, P, M = Case.__table__, Post.__table__, Media.__table__
    with store.read() as conn:
        c = conn.execute(sa.select(C.c.subject_kind, C.c.subject_id, C.c.details).where(C.c.id == case_id)).first()
        if c is None or c.subject_kind != "post":
            return []
        text = conn.execute(sa.select(P.c.text).where(P.c.id == c.subject_id)).scalar()
        media = conn.execute(sa.select(M.c.kind, M.c.sha256, M.c.pdq).where(M.c.post_id == c.subject_id)
                             .order_by(M.c.position)).all()
    source = f"review:case:{case_id}"
    cats = [x for x in (c.details or {}).get("categories") or [] if isinstance(x, str)]
    base = {"behaviour": cats[0]} if cats else {}
    out = []
    if text and len(text.strip()) >= MIN_BANKED_TEXT:
        try:
            sig = get_signal_type("text_minhash").hash_text(text)
            out.append(BankEntry.make("text_minhash", sig, labels={**base, "content_type": "text"}, source=source))
        except SignalError:
            pass
    for m in media:
        for st in ("sha256", "pdq"):
            value = getattr(m, st)
            if value:
                try:
                    out.append(BankEntry.make(st, value, labels={**base, "content_type": m.kind or "media"},
                                              source=source))
                except SignalError:
                    continue
    return out


def bank_case_content(store: Store, case_id: int, bank: str, *, actor: str, decision_id: int | None = None) -> dict:
    """Add a removed case's content to a bank (logged as bank.items_added with the case and decision)."""
    entries = case_content_entries(store, case_id)
    note = f"added from review: case {case_id}" + (f", decision {decision_id}" if decision_id else "")
    added, _ = add_entries(store, bank, entries, actor=actor, note=note) if entries else (0, 0)
    return {"bank": bank, "signals": sorted({e.signal_type for e in entries}), "added": added,
            "known": len(entries) - added}


def unbank_case_content(store: Store, case_id: int, *, actor: str, decision_id: int | None = None) -> int:
    """Take back out of every bank what `bank_case_content` added for this case (its undone removal no longer
    vouches for it); signals that another source had banked first keep their item. Return how many went."""
    from basira.signals.exchange import BankEntry

    entries = case_content_entries(store, case_id)
    if not entries:
        return 0
    t, b = BankItemRow.__table__, BankRow.__table__
    keys = sorted({signal_key(e.signal_type, e.signal) for e in entries})
    note = f"removal undone: case {case_id}" + (f", decision {decision_id}" if decision_id else "")
    removed = 0
    with store.write() as conn:
        rows = conn.execute(sa.select(b.c.name, t.c.signal_type, t.c.signal).join(b, b.c.id == t.c.bank_id)
                            .where(t.c.signal_key.in_(keys), t.c.source == f"review:case:{case_id}")).all()
        for name in sorted({r.name for r in rows}):
            gone = [BankEntry(r.signal_type, r.signal, deleted=True) for r in rows if r.name == name]
            removed += _add_entries(store, conn, name, gone, actor=actor, note=note, on_deleted="remove")[1]
    return removed


def bank_on_removal(tx: Tx, removal: Any) -> dict[str, Any]:
    """DecisionEffects listener: the reviewer asked for the removed content to go into a bank."""
    if not removal.add_to_bank:
        return {}
    return {"banked": bank_case_content(tx.store, removal.case_id, removal.add_to_bank, actor=removal.actor,
                                        decision_id=removal.decision_id)}


def unbank_on_undo(tx: Tx, undone: Any) -> dict[str, Any]:
    """DecisionEffects listener: an undone removal takes back what it added to a bank."""
    return {"unbanked": unbank_case_content(tx.store, undone.case_id, actor=undone.actor,
                                            decision_id=undone.decision_id)}


_BANK_EVENTS = ("bank.created", "bank.changed", "bank.deleted", "bank.items_added", "bank.items_removed",
                "bank.item_changed", "bank.synced", "bank.item_quarantined")


def bank_state(store: Store) -> tuple[int, int]:
    """Changes whenever banks or items do (every change is a bank.* event): (last bank event id, largest item
    id). Cheap on any bank size (no count); a cached Matcher is reloaded when it moves."""
    from basira.store.models import Event

    e, it = Event.__table__, BankItemRow.__table__
    with store.read() as conn:
        last = conn.execute(sa.select(sa.func.max(e.c.id)).where(e.c.kind.in_(_BANK_EVENTS))).scalar()
        top = conn.execute(sa.select(sa.func.max(it.c.id))).scalar()
    return int(last or 0), int(top or 0)
