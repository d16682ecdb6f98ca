"""A reviewer's "remove" adds the content to a bank, and an undone removal takes it back out: the
DecisionEffects listeners (basira.review.effects) and what they build on."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import sqlalchemy as sa

from basira.banks._items import BankError, _add_entries, get_bank, signal_key
from basira.core.i18n import N_
from basira.signals.banks import Bank
from basira.signals.base import SignalError, get_signal_type
from basira.signals.exchange import BankEntry
from basira.store.bank_models import BankItemRow, BankRow
from basira.store.db import Tx
from basira.store.models import Case, Media, Post

if TYPE_CHECKING:
    from basira.store.store import Store


class _Decided(Protocol):
    """What the listeners read of review's Removal / Undone (basira.review.effects; review is above banks, so
    it is not imported here)."""

    @property
    def case_id(self) -> int: ...
    @property
    def decision_id(self) -> int: ...
    @property
    def actor(self) -> str: ...


class _Removed(_Decided, Protocol):
    @property
    def add_to_bank(self) -> str | None: ...


MIN_BANKED_TEXT = 20  # characters: shorter texts ("ok", "join us") would match far too much as near-duplicates


def require_positive_bank(store: Store, name: str) -> Bank:
    """The bank a reviewer may add removed content to; BankError if there is none or it is an allow-list."""
    bank = get_bank(store, name)
    if bank is None:
        raise BankError("not_found", f"no bank named {name!r}").said(N_("no bank named %(bank)s"), bank=repr(name))
    if bank.negative:
        raise BankError("invalid", f"bank {name!r} is an allow-list: removed content cannot go in it").said(
            N_("bank %(bank)s is an allow-list: removed content cannot go in it"), bank=repr(name))
    return bank


def _case_content_entries(tx: Tx, case_id: int) -> list[BankEntry]:
    """Bank entries for a case's post: its text as a near-duplicate MinHash (when long enough) and its media's
    MD5, SHA-256 and PDQ hashes, labelled with where they came from (MD5 too, so a later byte-identical upload
    given only by its MD5, as partners and HMA exchange it, still matches)."""
    C, P, M = Case.__table__, Post.__table__, Media.__table__
    c = tx.execute(sa.select(C.c.subject_kind, C.c.subject_id, C.c.details).where(C.c.id == case_id)).first()
    if c is None or c.subject_kind != "post":
        return []
    text = tx.execute(sa.select(P.c.text).where(P.c.id == c.subject_id)).scalar()
    media = tx.execute(sa.select(M.c.kind, M.c.md5, M.c.sha256, M.c.pdq).where(M.c.post_id == c.subject_id)
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
        for st in ("md5", "sha256", "pdq"):
            value = getattr(m, st)
            if value:
                try:
                    out.append(BankEntry.make(st, value, labels={**base, "content_type": m.kind or "media"},
                                              source=source))
                except SignalError:
                    continue
    return out


def bank_case_content(tx: Tx, case_id: int, bank: str, *, actor: str,
                      decision_id: int | None = None) -> dict[str, Any]:
    """Add a removed case's content to a bank in the caller's transaction (logged as bank.items_added with the
    case and decision)."""
    entries = _case_content_entries(tx, case_id)
    note = f"added from review: case {case_id}" + (f", decision {decision_id}" if decision_id else "")
    added, _ = _add_entries(tx, bank, entries, actor=actor, note=note, on_deleted="remove") if entries else (0, 0)
    return {"bank": bank, "signals": sorted({e.signal_type for e in entries}), "added": added,
            "known": len(entries) - added}


def unbank_case_content(tx: Tx, case_id: int, *, actor: str, decision_id: int | None = None) -> int:
    """Take back out of every bank what `bank_case_content` added for this case (its undone removal no longer
    vouches for it); signals that another source had banked first keep their item. Return how many went."""
    entries = _case_content_entries(tx, case_id)
    if not entries:
        return 0
    t, b = BankItemRow.__table__, BankRow.__table__
    keys = sorted({signal_key(e.signal_type, e.signal) for e in entries})
    note = f"removal undone: case {case_id}" + (f", decision {decision_id}" if decision_id else "")
    rows = tx.execute(sa.select(b.c.name, t.c.signal_type, t.c.signal).join(b, b.c.id == t.c.bank_id)
                      .where(t.c.signal_key.in_(keys), t.c.source == f"review:case:{case_id}")).all()
    removed = 0
    for name in sorted({r.name for r in rows}):
        gone = [BankEntry(r.signal_type, r.signal, deleted=True) for r in rows if r.name == name]
        removed += _add_entries(tx, name, gone, actor=actor, note=note, on_deleted="remove")[1]
    return removed


def bank_on_removal(tx: Tx, removal: _Removed) -> dict[str, Any]:
    """DecisionEffects listener: the reviewer asked for the removed content to go into a bank."""
    if not removal.add_to_bank:
        return {}
    return {"banked": bank_case_content(tx, removal.case_id, removal.add_to_bank, actor=removal.actor,
                                        decision_id=removal.decision_id)}


def unbank_on_undo(tx: Tx, undone: _Decided) -> dict[str, Any]:
    """DecisionEffects listener: an undone removal takes back what it added to a bank."""
    return {"unbanked": unbank_case_content(tx, undone.case_id, actor=undone.actor, decision_id=undone.decision_id)}
