"""What goes into an evidence package, read from the store: resolve CASE / ACCOUNT / COMMUNITY references to
sets of posts, accounts and cases, then gather every row about them (plain dicts, JSON-ready)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from basira.core.errors import BasiraError
from basira.store.bank_models import BankItemRow, BankMatchRow, BankRow
from basira.store.models import Account, Case, Detection, Event, Media, Platform, Post
from basira.store.network_models import NETWORK_SUBJECT_KINDS
from basira.store.review_models import Appeal, Decision, User

if TYPE_CHECKING:
    from basira.store import Store

C, P, A, PF, M, DT, E = (Case.__table__, Post.__table__, Account.__table__, Platform.__table__, Media.__table__,
                         Detection.__table__, Event.__table__)
D, AP, U = Decision.__table__, Appeal.__table__, User.__table__
BM, BI, B = BankMatchRow.__table__, BankItemRow.__table__, BankRow.__table__
_CHUNK = 500


class SubjectError(BasiraError):
    """A reference that names nothing in the store, or is malformed (the CLI exits 2)."""


@dataclass
class Subject:
    """What a package is about, and the rows that belong to it."""

    kind: str  # case, account, community
    ref: str  # as given, normalized: case:12, account:34, community:5
    case_ids: set[int] = field(default_factory=set)
    account_ids: set[int] = field(default_factory=set)
    post_ids: set[int] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


def _json_safe(v: Any) -> Any:
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return v


def _row(r: Any) -> dict[str, Any]:
    return {k: _json_safe(v) for k, v in r._asdict().items()}


def _account_id(conn: Any, spec: str) -> int:
    """account:N (internal id), account:@handle, account:PLATFORM/EXTERNAL_ID."""
    if spec.isdigit():
        q = sa.select(A.c.id).where(A.c.id == int(spec))
    elif spec.startswith("@"):
        ids = conn.execute(sa.select(A.c.id).where(A.c.handle == spec[1:]).order_by(A.c.id)).scalars().all()
        if len(ids) > 1:
            raise SubjectError(f"account:{spec}: {len(ids)} accounts have that handle; name one as "
                               "account:PLATFORM/EXTERNAL_ID or by its id")
        q = sa.select(A.c.id).where(A.c.handle == spec[1:])
    elif "/" in spec:
        platform, ext = spec.split("/", 1)
        q = sa.select(A.c.id).join(PF, PF.c.id == A.c.platform_id).where(PF.c.name == platform,
                                                                            A.c.external_id == ext)
    else:
        raise SubjectError(f"account:{spec}: give an id, @handle or PLATFORM/EXTERNAL_ID")
    aid = conn.execute(q).scalar()
    if aid is None:
        raise SubjectError(f"account:{spec}: no such account")
    return int(aid)


def _network_members(case: Any) -> tuple[set[int], list[str]]:
    details = case.details or {}
    rows = details.get("members") or details.get("accounts") or []
    members = {int(m["account_id"]) for m in rows if isinstance(m, dict) and "account_id" in m}
    notes = []
    if details.get("truncated"):
        notes.append(f"case {case.id} lists only the first {len(members)} of {details.get('size')} members "
                     "(the riskiest); the package holds those")
    return members | {int(case.subject_id)}, notes


def resolve(store: Store, ref: str) -> Subject:
    """Turn `case:N`, `account:N|@handle|PLATFORM/ID` or `community:N` into the rows a package holds.

    A community is its latest community case (opened by `basira network communities --open-cases`), whose
    details list the members; a case on a community or coordinated group is exported the same way."""
    kind, _, spec = ref.strip().partition(":")
    kind = kind.lower()
    if kind not in ("case", "account", "community") or not spec:
        raise SubjectError(f"{ref!r}: expected case:ID, account:ID|@HANDLE|PLATFORM/EXTERNAL_ID or community:N")
    with store.read() as conn:
        if kind == "case":
            if not spec.isdigit():
                raise SubjectError(f"{ref}: a case id is a number")
            case = conn.execute(sa.select(C).where(C.c.id == int(spec))).first()
            if case is None:
                raise SubjectError(f"{ref}: no such case")
            s = Subject("case", f"case:{case.id}", case_ids={case.id})
            wide = case.subject_kind != "post"
            if case.subject_kind == "post":
                post = conn.execute(sa.select(P.c.id, P.c.account_id).where(P.c.id == case.subject_id)).first()
                if post is not None:
                    s.post_ids.add(post.id)
                    if post.account_id is not None:
                        s.account_ids.add(post.account_id)
            elif case.subject_kind == "account":
                s.account_ids.add(case.subject_id)
            elif case.subject_kind in NETWORK_SUBJECT_KINDS:
                s.account_ids, s.notes = _network_members(case)
        elif kind == "account":
            aid = _account_id(conn, spec)
            s, wide = Subject("account", f"account:{aid}", account_ids={aid}), True
        else:
            if not spec.lstrip("-").isdigit():
                raise SubjectError(f"{ref}: a community is named by its number (see `basira network communities`)")
            found = None
            for case in conn.execute(sa.select(C).where(C.c.subject_kind == "community").order_by(C.c.id.desc())):
                if int((case.details or {}).get("community", -10**9)) == int(spec):
                    found = case
                    break
            if found is None:
                raise SubjectError(f"{ref}: no community case for community {spec}; open one with "
                                   "`basira network communities --open-cases RISK`")
            members, notes = _network_members(found)
            s = Subject("community", f"community:{spec}", case_ids={found.id}, account_ids=members, notes=notes)
            wide = True
        # Beyond a case on one post: every post of the accounts, every case on those posts and accounts.
        acc = sorted(s.account_ids)
        if wide:
            for ch in _chunks(acc):
                s.post_ids.update(conn.execute(sa.select(P.c.id).where(P.c.account_id.in_(ch))).scalars())
            for ch in _chunks(sorted(s.post_ids)):
                s.case_ids.update(conn.execute(sa.select(C.c.id).where(
                    C.c.subject_kind == "post", C.c.subject_id.in_(ch))).scalars())
            for ch in _chunks(acc):
                s.case_ids.update(conn.execute(sa.select(C.c.id).where(
                    C.c.subject_kind.in_(("account", *NETWORK_SUBJECT_KINDS)), C.c.subject_id.in_(ch))).scalars())
        else:  # earlier (closed) cases on the same post belong to its history
            s.case_ids.update(conn.execute(sa.select(C.c.id).where(
                C.c.subject_kind == "post", C.c.subject_id.in_(sorted(s.post_ids)))).scalars())
    return s


def _select_in(conn: Any, q: sa.Select, col: Any, ids: Iterable[Any], order: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for ch in _chunks(sorted(set(ids))):
        out.extend(_row(r) for r in conn.execute(q.where(col.in_(ch)).order_by(None)))
    out.sort(key=lambda r: r[order])
    return out


def gather(store: Store, s: Subject) -> dict[str, Any]:
    """Every row about the subject, JSON-ready: accounts, posts, media, detections, cases, decisions, appeals,
    bank matches, the log entries about them, and the chain's head at this moment."""
    with store.read() as conn:
        accounts = _select_in(conn, sa.select(A, PF.c.name.label("platform")).join(PF, PF.c.id == A.c.platform_id),
                              A.c.id, s.account_ids, "id")
        posts = _select_in(conn, sa.select(P, PF.c.name.label("platform")).join(PF, PF.c.id == P.c.platform_id),
                           P.c.id, s.post_ids, "id")
        media = _select_in(conn, sa.select(M), M.c.post_id, s.post_ids, "id")
        detections = _select_in(conn, sa.select(DT), DT.c.post_id, s.post_ids, "id")
        cases = _select_in(conn, sa.select(C), C.c.id, s.case_ids, "id")
        decisions = _select_in(conn, sa.select(D, U.c.username.label("decided_by")).outerjoin(U, U.c.id == D.c.user_id),
                               D.c.case_id, s.case_ids, "id")
        appeals = _select_in(conn, sa.select(AP), AP.c.case_id, s.case_ids, "id")
        matches = _select_in(
            conn,
            sa.select(BM.c.id, BM.c.subject, BM.c.signal_type, BM.c.distance, BM.c.status, BM.c.matched_at,
                      BI.c.id.label("item_id"), BI.c.signal_type.label("item_signal_type"), BI.c.signal,
                      BI.c.labels, BI.c.source, BI.c.external_id.label("item_external_id"), BI.c.opinion,
                      B.c.name.label("bank"))
            .join(BI, BI.c.id == BM.c.item_id).join(B, B.c.id == BI.c.bank_id),
            BM.c.subject, [f"post:{i}" for i in s.post_ids], "id")
        compliance = _compliance(conn, s)
        subjects = ([f"case:{i}" for i in s.case_ids] + [f"post:{i}" for i in s.post_ids]
                    + [f"account:{i}" for i in s.account_ids] + [s.ref]
                    + [f"order:{o['id']}" for o in compliance.get("removal_orders", [])]
                    + [f"complaint:{c['id']}" for c in compliance.get("complaints", [])]
                    + [f"preserved:{p['id']}" for p in compliance.get("preserved_items", [])])
        events = _select_in(conn, sa.select(E), E.c.subject, subjects, "id")
        head = conn.execute(sa.select(E.c.id, E.c.hash).order_by(E.c.id.desc()).limit(1)).first()
    return {
        "accounts": accounts, "posts": posts, "media": media, "detections": detections, "cases": cases,
        "decisions": decisions, "appeals": appeals, "bank_matches": matches, "compliance": compliance,
        "events": events,
        "chain_head": {"id": head.id, "hash": head.hash} if head else None,
    }


def _compliance(conn: Any, s: Subject) -> dict[str, list[dict[str, Any]]]:
    """Removal orders naming these posts or accounts (with those targets), notices to the content provider,
    complaints and preserved copies — when the compliance tables exist (migration 0005_compliance)."""
    try:
        from basira.store import compliance_models as cm
    except ImportError:
        return {}
    if not sa.inspect(conn).has_table(cm.RemovalOrderTarget.__table__.name):
        return {}
    t, o, n = cm.RemovalOrderTarget.__table__, cm.RemovalOrder.__table__, cm.ContentNotice.__table__
    cp, pi = cm.Complaint.__table__, cm.PreservedItem.__table__

    def about(table: sa.Table, *, case: bool = True) -> list[dict[str, Any]]:
        rows: dict[int, dict[str, Any]] = {}
        keys = [(table.c.post_id, s.post_ids), (table.c.account_id, s.account_ids)]
        if case and "case_id" in table.c:
            keys.append((table.c.case_id, s.case_ids))
        for col, ids in keys:
            for r in _select_in(conn, sa.select(table), col, ids, "id"):
                rows[r["id"]] = r
        return [rows[k] for k in sorted(rows)]

    targets = about(t)
    order_ids = {r["order_id"] for r in targets}
    orders = _select_in(conn, sa.select(o), o.c.id, order_ids, "id")
    complaints = about(cp)
    order_ids |= {c["order_id"] for c in complaints if c.get("order_id")}
    return {"removal_orders": _select_in(conn, sa.select(o), o.c.id, order_ids, "id") if order_ids else orders,
            "order_targets": targets, "content_notices": about(n, case=False), "complaints": complaints,
            "preserved_items": about(pi)}


def chain_hashes(store: Store, ids: Sequence[int]) -> dict[int, str]:
    """The stored hash of each event id (to check a package's audit excerpt against the live chain)."""
    out: dict[int, str] = {}
    with store.read() as conn:
        for ch in _chunks(sorted(set(ids))):
            out.update({r.id: r.hash for r in conn.execute(sa.select(E.c.id, E.c.hash).where(E.c.id.in_(ch)))})
    return out
