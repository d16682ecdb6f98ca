"""Banks and their items: create, change, delete, add entries, read back; the Matcher over all of them.

Writers take the caller's `Tx` and log every change in the hash-chained event log in it (`bank.created`,
`bank.changed`, `bank.deleted`, `bank.items_added`, `bank.items_removed`, `bank.item_changed`); reads take the Store.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from basira.core.errors import BasiraError
from basira.core.i18n import N_
from basira.core.time import utc, utcnow
from basira.signals.banks import OPINIONS, Bank, BankItem, Matcher, MatchRateMonitor
from basira.signals.exchange import BankEntry
from basira.store.bank_models import BankItemRow, BankMatchRow, BankRow, BankSyncCheckpoint
from basira.store.db import Tx
from basira.store.models import Event, now

if TYPE_CHECKING:
    from basira.store.store import Store

class BankError(BasiraError):
    """A bank change refused. `kind`: not_found (no such bank or item), conflict (a name taken, a bank whose
    matches are evidence), invalid (a bad value)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


_CHUNK = 500
CONTENT_LABEL = "hma_content"  # the content id (HMA API) an item belongs to, when it is not the content's first


def signal_key(signal_type: str, signal: str) -> str:
    return hashlib.sha256(f"{signal_type}\x00{signal}".encode()).hexdigest()


def _bank(r: Any) -> Bank:
    return Bank(r.name, negative=bool(r.negative), enabled_ratio=float(r.enabled_ratio),
                thresholds=dict(r.thresholds or {}), description=r.description or "", id=r.id,
                pdq_decode=r.pdq_decode or "fast")


def create_bank(
    tx: Tx,
    name: str,
    *,
    negative: bool = False,
    enabled_ratio: float = 1.0,
    thresholds: dict[str, float] | None = None,
    description: str = "",
    pdq_decode: str | None = None,
    actor: str | None = None,
) -> Bank:
    """Create a bank; raise BankError if the name is taken, SignalError if a setting is invalid (the Bank's own
    check). `pdq_decode` None: fast until an exchange first feeds the bank (`sync_bank`), then full."""
    bank = Bank(name, negative=negative, enabled_ratio=enabled_ratio, thresholds=thresholds or {},
                description=description, pdq_decode=pdq_decode or "fast")
    t = BankRow.__table__
    if tx.execute(sa.select(t.c.id).where(t.c.name == name)).first() is not None:
        raise BankError("conflict", f"bank {name!r} already exists").said(
            N_("bank %(bank)s already exists"), bank=repr(name))
    bank.id = tx.execute(
        sa.insert(t).values(name=name, negative=negative, enabled_ratio=enabled_ratio, thresholds=bank.thresholds,
                            description=description, created_at=now(), pdq_decode=pdq_decode)
        .returning(t.c.id)
    ).scalar_one()
    tx.append_events([("bank.created", actor, f"bank:{bank.id}",
                       {"name": name, "negative": negative, "enabled_ratio": enabled_ratio,
                        "thresholds": bank.thresholds, "pdq_decode": pdq_decode})])
    return bank


def update_bank(
    tx: Tx, name: str, *, new_name: str | None = None, enabled_ratio: float | None = None,
    pdq_decode: str | None = None, actor: str | None = None,
) -> Bank:
    """Rename a bank or change its enabled ratio or PDQ decode; raise BankError (no such bank, name taken) or
    SignalError (a bad value: the Bank's own check)."""
    t = BankRow.__table__
    changes: dict[str, Any] = {}
    if new_name is not None and new_name != name:
        changes["name"] = new_name
    if enabled_ratio is not None:
        changes["enabled_ratio"] = float(enabled_ratio)
    if pdq_decode is not None:
        changes["pdq_decode"] = pdq_decode
    r = tx.execute(sa.select(t).where(t.c.name == name)).first()
    if r is None:
        raise BankError("not_found", f"no bank named {name!r}").said(N_("no bank named %(bank)s"), bank=repr(name))
    merged = {**r._asdict(), **changes}
    Bank(merged["name"], enabled_ratio=merged["enabled_ratio"], pdq_decode=merged["pdq_decode"] or "fast")
    if "name" in changes and tx.execute(sa.select(t.c.id).where(t.c.name == new_name)).first():
        raise BankError("conflict", f"bank {new_name!r} already exists").said(
            N_("bank %(bank)s already exists"), bank=repr(new_name))
    if changes:
        tx.execute(sa.update(t).where(t.c.id == r.id).values(**changes))
        tx.append_events([("bank.changed", actor, f"bank:{r.id}", {"name": name, **changes})])
    return _bank(tx.execute(sa.select(t).where(t.c.id == r.id)).first())


def delete_bank(tx: Tx, name: str, *, actor: str | None = None) -> int:
    """Delete a bank and its items; return the number of items. Refused (BankError, conflict) while any of its items
    has a recorded match: those records are evidence cases rest on. Deleting a missing bank does nothing."""
    t, it, m = BankRow.__table__, BankItemRow.__table__, BankMatchRow.__table__
    bid = tx.execute(sa.select(t.c.id).where(t.c.name == name)).scalar()
    if bid is None:
        return 0
    if tx.execute(sa.select(m.c.id).join(it, it.c.id == m.c.item_id).where(it.c.bank_id == bid).limit(1)).first():
        raise BankError("conflict", f"bank {name!r} has recorded matches (evidence for cases): not deleted").said(
            N_("bank %(bank)s has recorded matches (evidence for cases): not deleted"), bank=repr(name))
    n = tx.execute(sa.delete(it).where(it.c.bank_id == bid)).rowcount
    tx.execute(sa.delete(BankSyncCheckpoint.__table__).where(BankSyncCheckpoint.__table__.c.bank_id == bid))
    tx.execute(sa.delete(t).where(t.c.id == bid))
    tx.append_events([("bank.deleted", actor, f"bank:{bid}", {"name": name, "items": n})])
    return int(n)


def add_content(
    tx: Tx, bank: str, signals: dict[str, str], *, labels: dict[str, Any] | None = None,
    source: str | None = None, actor: str | None = None, note: str | None = None,
) -> tuple[int, dict[str, int]]:
    """Add one piece of content (its signals, one item each) to a bank; return (content id, item id by signal
    type). The content id is its first item's id; its other items carry it as label `hma_content`. A signal the
    bank already holds keeps its item, and the content takes the oldest such item's content id."""
    entries = [BankEntry.make(st, sig, labels=dict(labels or {}), source=source) for st, sig in signals.items()]
    t = BankItemRow.__table__
    _add_entries(tx, bank, entries, actor=actor, note=note)
    bid = _require(tx, bank)
    rows = {e.signal_type: tx.execute(
        sa.select(t.c.id, t.c.labels).where(t.c.bank_id == bid, t.c.signal_type == e.signal_type,
                                            t.c.signal_key == signal_key(e.signal_type, e.signal))).first()
        for e in entries}
    ids = {st: int(r.id) for st, r in rows.items()}
    content = min(int((r.labels or {}).get(CONTENT_LABEL, r.id)) for r in rows.values())
    for r in rows.values():
        if r.id != content and (r.labels or {}).get(CONTENT_LABEL) is None:
            tx.execute(sa.update(t).where(t.c.id == r.id).values(labels={**(r.labels or {}), CONTENT_LABEL: content}))
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


def _require(tx: Tx, name: str) -> int:
    t = BankRow.__table__
    bid = tx.execute(sa.select(t.c.id).where(t.c.name == name)).scalar()
    if bid is None:
        raise BankError("not_found", f"no bank named {name!r}").said(N_("no bank named %(bank)s"), bank=repr(name))
    return int(bid)


def add_entries(
    tx: Tx, bank: str, entries: Iterable[BankEntry], *, actor: str | None = None, note: str | None = None,
    on_deleted: str = "remove",
) -> tuple[int, int]:
    """Add entries to a bank; return (added, removed or withdrawn). A `deleted` entry removes its item
    (`on_deleted="remove"`: a curator's delete) or, for what a partner's file or exchange marks deleted
    (`"withdraw"`: imports and syncs), withdraws it: kept, disabled, a match on it reported and never acted on.
    A withdrawn signal that comes back is live again. Known signals keep their item (an empty external id is
    filled in)."""
    if on_deleted not in ("remove", "withdraw"):
        raise BankError("invalid", f"on_deleted must be 'remove' or 'withdraw', not {on_deleted!r}")
    return _add_entries(tx, bank, entries, actor=actor, note=note, on_deleted=on_deleted)


def _add_entries(
    tx: Tx, bank: str, entries: Iterable[BankEntry], *, actor: str | None, note: str | None,
    on_deleted: str = "withdraw",
) -> tuple[int, int]:
    entries = list(entries)
    t = BankItemRow.__table__
    added_at = now()
    bid = _require(tx, bank)
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    gone: set[tuple[str, str]] = set()
    for e in entries:
        key = (e.signal_type, signal_key(e.signal_type, e.signal))
        if e.deleted:
            gone.add(key)
            rows.pop(key, None)
            continue
        if e.opinion not in OPINIONS:
            raise BankError("invalid", f"opinion must be one of {OPINIONS}, not {e.opinion!r}")
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
        stmt = tx.insert(t).on_conflict_do_nothing(index_elements=["bank_id", "signal_type", "signal_key"])
        inserted = len(tx.execute(stmt.returning(t.c.id), chunk).all())
        added += inserted
        if inserted == len(chunk):
            continue  # all new: nothing to restore or fill in
        for st, keys in _keys_by_type((v["signal_type"], v["signal_key"]) for v in chunk):
            where = sa.and_(t.c.bank_id == bid, t.c.signal_type == st, t.c.signal_key.in_(keys))
            # Back from withdrawal (TAT un-deletes, a re-share): live again.
            restored += tx.execute(sa.update(t).where(where, t.c.withdrawn_at.is_not(None))
                                     .values(withdrawn_at=None)).rowcount
            with_ids = {v["signal_key"]: v["external_id"] for v in chunk
                        if v["external_id"] and v["signal_type"] == st}
            if with_ids:  # an item stored before its source's id was known gets it now (usually none)
                for r in tx.execute(sa.select(t.c.id, t.c.signal_key).where(where, t.c.external_id.is_(None))):
                    if with_ids.get(r.signal_key):
                        tx.execute(sa.update(t).where(t.c.id == r.id).values(external_id=with_ids[r.signal_key]))
    removed = 0
    at = now()
    tombstones = {(e.signal_type, signal_key(e.signal_type, e.signal)): e for e in entries if e.deleted}
    for st, keys in _keys_by_type(gone):
        where = sa.and_(t.c.bank_id == bid, t.c.signal_type == st, t.c.signal_key.in_(keys))
        if on_deleted == "remove":
            removed += tx.execute(sa.delete(t).where(where)).rowcount
        else:
            removed += tx.execute(sa.update(t).where(where, t.c.withdrawn_at.is_(None))
                                    .values(withdrawn_at=at)).rowcount
    if on_deleted != "remove" and gone:
        # First heard of as deleted: kept withdrawn, so its source's id and state go back out.
        new = [{"bank_id": bid, "signal_type": st, "signal": e.signal, "signal_key": key, "labels": e.labels,
                "source": e.source, "external_id": e.external_id, "added_at": utc(e.added_at) or added_at,
                "disabled_until": None, "opinion": e.opinion if e.opinion in OPINIONS else "positive",
                "quarantined": False, "withdrawn_at": at}
               for (st, key), e in tombstones.items() if (st, key) in gone]
        for i in range(0, len(new), _CHUNK):
            stmt = tx.insert(t).on_conflict_do_nothing(index_elements=["bank_id", "signal_type", "signal_key"])
            removed += len(tx.execute(stmt.returning(t.c.id), new[i : i + _CHUNK]).all())
    if added or removed or restored:
        kind = "bank.items_added" if added or restored else "bank.items_removed"
        tx.append_events([(kind, actor, f"bank:{bid}",
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
    tx: Tx,
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
            raise BankError("invalid", f"opinion must be one of {OPINIONS}, not {opinion!r}")
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
    if tx.execute(sa.update(t).where(t.c.id == item_id).values(**changes)).rowcount == 0:
        raise BankError("not_found", f"no bank item {item_id}").said(N_("no bank item %(item)s"), item=item_id)
    payload = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in changes.items()}
    tx.append_events([("bank.item_changed", actor, f"bank_item:{item_id}", payload)])


def load_matcher(store: Store, *, clock: Any = utcnow, monitor: MatchRateMonitor | None = None) -> Matcher:
    """A Matcher over every bank and item in the store."""
    banks = [b for b, _ in list_banks(store)]
    return Matcher(banks, iter_items(store), clock=clock, monitor=monitor)


def get_item(store: Store, item_id: int) -> BankItem | None:
    t, b = BankItemRow.__table__, BankRow.__table__
    with store.read() as conn:
        r = conn.execute(sa.select(t, b.c.name.label("bank_name")).join(b, b.c.id == t.c.bank_id)
                         .where(t.c.id == item_id)).first()
    return _item(r, r.bank_name) if r else None


def record_reaction(tx: Tx, item_id: int, reaction: str, exchange: str, answers: list[Any], *,
                    actor: str | None = None) -> None:
    """Log an opinion written back to an exchange (bank.item_reported)."""
    tx.append_events([("bank.item_reported", actor, f"bank_item:{item_id}",
                       {"reaction": reaction, "exchange": exchange, "answers": answers})])



_BANK_EVENTS = ("bank.created", "bank.changed", "bank.deleted", "bank.items_added", "bank.items_removed",
                "bank.item_changed", "bank.synced", "bank.item_quarantined")


def bank_state(store: Store) -> tuple[int, int]:
    """Changes whenever banks or items do (every change is a bank.* event): (last bank event id, largest item
    id). Cheap on any bank size (no count); a cached Matcher is reloaded when it moves."""
    e, it = Event.__table__, BankItemRow.__table__
    with store.read() as conn:
        last = conn.execute(sa.select(sa.func.max(e.c.id)).where(e.c.kind.in_(_BANK_EVENTS))).scalar()
        top = conn.execute(sa.select(sa.func.max(it.c.id))).scalar()
    return int(last or 0), int(top or 0)
