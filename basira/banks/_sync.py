"""Feeding banks from exchanges: files, URLs and live exchanges pulled into a bank with a checkpoint per source,
entries and checkpoint saved in one transaction (`bank.synced`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from basira.banks._items import BankError, _add_entries, _require, get_bank
from basira.core.i18n import N_
from basira.core.time import utc
from basira.signals.exchange import BankEntry, sync_source
from basira.store.bank_models import BankRow, BankSyncCheckpoint
from basira.store.db import Tx
from basira.store.models import now

if TYPE_CHECKING:
    from basira.store.store import Store

SCAN_SOURCE = "basira:scan"  # the sync-checkpoint source under which each bank records how far posts were matched


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

    cp = get_sync_checkpoint(store, bank, source)
    res = sync_source(source, cp, fmt)
    if skipped is not None:
        skipped.extend(res.skipped)
    if res.unchanged:
        return 0, 0, False
    with store.transaction() as tx:
        added, removed = save_sync(tx, bank, source, res.entries, res.checkpoint, full=res.full, actor=actor)
    return added, removed, res.full


def save_sync(
    tx: Tx, bank: str, source: str, entries: Sequence[BankEntry], checkpoint: dict[str, Any], *,
    full: bool, actor: str | None = None,
) -> tuple[int, int]:
    """Store a sync's entries and its new checkpoint in the caller's transaction (a crash keeps both or
    neither); return (added, withdrawn)."""
    t = BankSyncCheckpoint.__table__
    added, removed = _add_entries(tx, bank, entries, actor=actor, note=f"sync {source}", on_deleted="withdraw")
    bid = _require(tx, bank)
    _mark_exchange_fed(tx, bid)
    stmt = tx.insert(t).values(bank_id=bid, source=source, checkpoint=checkpoint, updated_at=now())
    tx.execute(stmt.on_conflict_do_update(index_elements=["bank_id", "source"],
                                          set_={"checkpoint": checkpoint, "updated_at": now()}))
    tx.append_events([("bank.synced", actor, f"bank:{bid}",
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
        raise BankError("not_found", f"no bank named {bank!r}").said(N_("no bank named %(bank)s"), bank=repr(bank))
    out = ExchangeSync(exchange.name, full=cp is None)
    for batch in exchange.fetch(cp):
        with store.transaction() as tx:  # one unit of work per page: an interrupted sync keeps what it saved
            added, withdrawn = save_sync(tx, bank, exchange.name, batch.entries, batch.checkpoint, full=out.full,
                                         actor=actor)
        out.pages += 1
        out.entries += len(batch.entries)
        out.added += added
        out.withdrawn += withdrawn
        out.skipped += batch.skipped
    return out


def exchange_fed_banks(store: Store) -> list[str]:
    """Names of the banks some exchange (a `sync_bank` source) feeds, by name."""
    t, b = BankSyncCheckpoint.__table__, BankRow.__table__
    with store.read() as conn:
        return list(conn.execute(sa.select(b.c.name).join(t, t.c.bank_id == b.c.id)
                                 .where(t.c.source != SCAN_SOURCE).distinct().order_by(b.c.name)).scalars())


@dataclass(frozen=True)
class ExchangeSource:
    """An exchange source feeding a bank (a `sync_bank` / `sync_exchange` source) and its checkpoint."""

    source: str
    checkpoint: dict[str, Any]
    updated_at: datetime | None


def exchange_sources(store: Store, bank: str) -> list[ExchangeSource]:
    """The exchange sources feeding a bank, most recently synced first."""
    t, b = BankSyncCheckpoint.__table__, BankRow.__table__
    with store.read() as conn:
        rows = conn.execute(sa.select(t.c.source, t.c.checkpoint, t.c.updated_at).join(b, b.c.id == t.c.bank_id)
                            .where(b.c.name == bank, t.c.source != SCAN_SOURCE)
                            .order_by(t.c.updated_at.desc(), t.c.id.desc())).all()
    return [ExchangeSource(r.source, dict(r.checkpoint or {}), utc(r.updated_at)) for r in rows]


def _mark_exchange_fed(tx: Tx, bank_id: int) -> None:
    """A bank an exchange feeds decodes PDQ at full resolution (the hashes partners compute), unless someone
    chose otherwise: call in the transaction that first adds exchanged items."""
    t = BankRow.__table__
    tx.execute(sa.update(t).where(t.c.id == bank_id, t.c.pdq_decode.is_(None)).values(pdq_decode="full"))

