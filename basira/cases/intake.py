"""The only writer of cases: findings in, cases opened (or open ones raised) out, in the caller's transaction.

A finding is one piece of evidence about one subject — a detector's flag, a hash-bank match, a network
pattern, a removal order, or a person opening a case by hand. At most one case is open per subject (a
partial unique index); a finding on a subject with an open case either leaves it alone or, when it says
`raises=True`, raises it: priority up to the higher of the two, its reason appended, its details merged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from basira.cases import events
from basira.cases.priority import PrioritySignals, case_priority
from basira.core.errors import BasiraError
from basira.core.i18n import N_
from basira.core.time import utcnow
from basira.store.db import Tx
from basira.store.models import Account, Case, Post
from basira.store.network_models import NETWORK_SUBJECT_KINDS

__all__ = ["SOURCES", "SUBJECT_KINDS", "Finding", "Intake", "SubjectError", "check_subject", "submit"]

# Which subjects each source may open a case on. A community or coordinated group is named by its anchor
# account (basira.network.cases); cases.subject_kind holds up to 16 characters.
SUBJECT_KINDS: dict[str, tuple[str, ...]] = {
    "detector": ("post",),
    "hash": ("post",),
    "network": NETWORK_SUBJECT_KINDS,
    "order": ("post", "account"),
    "manual": ("post", "account"),
}
SOURCES = tuple(SUBJECT_KINDS)
RAISED_EVENT = {"hash": "case.hash_matched"}  # the event a raise writes, by source (else case.raised)
_CHUNK = 500


class SubjectError(BasiraError):
    """A subject kind the finding's source may not open a case on."""


def check_subject(source: str, kind: str) -> None:
    """The one subject check: raise SubjectError unless `source` may open a case on a `kind`."""
    if source not in SUBJECT_KINDS:
        raise SubjectError.of(N_("source must be one of %(known)s, not %(value)s"), known=SOURCES, value=repr(source))
    allowed = SUBJECT_KINDS[source]
    if kind not in allowed:
        names = " or ".join(repr(k) for k in allowed)
        raise SubjectError.of(N_("subject_kind must be %(kinds)s for a %(source)s finding, not %(value)s"), kinds=names,
                               source=source, value=repr(kind))


@dataclass(frozen=True)
class Finding:
    """Evidence about one subject. Priority comes from `signals` (the one rule, basira.cases.priority);
    `priority` is for evidence already ranked on that scale (a network risk, a seeded case, an order)."""

    subject: tuple[str, int]
    source: str
    reason: str
    signals: PrioritySignals | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    priority: float | None = None
    detection_id: int | None = None
    ref: str | None = None  # the row the finding came from, logged with the case ("order:5", "detection:9")
    raises: bool = False  # raise the subject's open case (else leave it as it is)
    append_reason: bool = True  # when raising: add this reason to the case's
    raise_priority: bool = True  # when raising: lift the case's priority to this finding's (if higher)
    merge: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None  # when raising: old details -> new
    evidence: Mapping[str, Any] = field(default_factory=dict)  # when raising: what the raise event records

    @property
    def rank(self) -> float | None:
        if self.signals is not None:
            return case_priority(self.signals)
        return None if self.priority is None else float(self.priority)

    @property
    def subject_ref(self) -> str:
        return f"{self.subject[0]}:{self.subject[1]}"


@dataclass
class Intake:
    opened: list[int] = field(default_factory=list)  # cases opened, in the order of the findings
    raised: list[int] = field(default_factory=list)  # open cases a finding raised
    cases: dict[tuple[str, int], int] = field(default_factory=dict)  # subject -> its open case (when looked up)


def submit(tx: Tx, findings: Sequence[Finding], actor: str | None = "basira", *, at: datetime | None = None,
           lookup: bool = False) -> Intake:
    """Open a case per finding's subject unless one is open (the first finding of a subject wins); raise the
    open ones findings ask to raise. Each opening is logged as `case.opened` in the same transaction.
    `lookup=True` also returns every subject's open case id in `Intake.cases`."""
    out = Intake()
    if not findings:
        return out
    first: dict[tuple[str, int], Finding] = {}
    for f in findings:
        check_subject(f.source, f.subject[0])
        first.setdefault((f.subject[0], int(f.subject[1])), f)
    existing = _open_cases(tx, list(first)) if lookup or any(f.raises for f in first.values()) else {}
    when = at or utcnow()
    fresh = [key for key in first if key not in existing]
    platforms = _platforms(tx, fresh)
    rows = [{"subject_kind": k, "subject_id": i, "reason": f.reason, "status": "open",
             "priority": float(f.rank or 0.0), "detection_id": f.detection_id, "details": dict(f.details),
             "opened_at": when, "closed_at": None, "platform_id": platforms.get((k, i))}
            for (k, i), f in ((key, first[key]) for key in fresh)]
    new = tx.insert_rows(Case.__table__, rows, ("subject_kind", "subject_id"),
                         ("id", "subject_kind", "subject_id", "priority"), where="closed_at IS NULL")
    entries = []
    for r in new:
        f = first[(r.subject_kind, int(r.subject_id))]
        out.opened.append(r.id)
        out.cases[(r.subject_kind, int(r.subject_id))] = r.id
        entries.append(events.opened(r.id, f.subject_ref, f.source, f.reason, float(r.priority), actor, f.ref))
    for key, case in existing.items():
        out.cases[key] = case["id"]
        f = first[key]
        if f.raises:
            entry = _raise(tx, case, f, actor)
            if entry is not None:
                out.raised.append(case["id"])
                entries.append(entry)
    tx.append_events(entries)
    if lookup:  # a subject whose case another writer opened between our look-up and our insert
        missing = [k for k in first if k not in out.cases]
        out.cases.update({k: c["id"] for k, c in _open_cases(tx, missing).items()})
    return out


def _platforms(tx: Tx, subjects: list[tuple[str, int]]) -> dict[tuple[str, int], int]:
    """The platform of each post or account subject (a post's own, else its account's), which the case keeps
    (`cases.platform_id`: the queue sorts and filters by source from its index). A network-level subject (a
    community, a coordinated group) has none, as the queue showed before."""
    P, A = Post.__table__, Account.__table__
    posts = [i for k, i in subjects if k == "post"]
    accounts = [i for k, i in subjects if k == "account"]
    out: dict[tuple[str, int], int] = {}
    for n in range(0, len(posts), _CHUNK):
        q = (sa.select(P.c.id, sa.func.coalesce(P.c.platform_id, A.c.platform_id))
             .select_from(P.outerjoin(A, A.c.id == P.c.account_id)).where(tx.in_(P.c.id, posts[n:n + _CHUNK])))
        out.update({("post", int(i)): int(pf) for i, pf in tx.execute(q) if pf is not None})
    for n in range(0, len(accounts), _CHUNK):
        q = sa.select(A.c.id, A.c.platform_id).where(tx.in_(A.c.id, accounts[n:n + _CHUNK]))
        out.update({("account", int(i)): int(pf) for i, pf in tx.execute(q) if pf is not None})
    return out


def _open_cases(tx: Tx, subjects: list[tuple[str, int]]) -> dict[tuple[str, int], dict[str, Any]]:
    C = Case.__table__
    found: dict[tuple[str, int], dict[str, Any]] = {}
    by_kind: dict[str, list[int]] = {}
    for k, i in subjects:
        by_kind.setdefault(k, []).append(i)
    for kind, ids in by_kind.items():
        for n in range(0, len(ids), _CHUNK):
            q = sa.select(C.c.id, C.c.subject_kind, C.c.subject_id, C.c.reason, C.c.priority, C.c.details,
                          C.c.status).where(C.c.subject_kind == kind, C.c.subject_id.in_(ids[n:n + _CHUNK]),
                                            C.c.closed_at.is_(None))
            found.update({(r.subject_kind, int(r.subject_id)): r._asdict() for r in tx.execute(q)})
    return found


def _raise(tx: Tx, case: dict[str, Any], f: Finding, actor: str | None) -> events.Entry | None:
    """Raise an open case with a finding; the event to log, or None when nothing the queue shows changed."""
    C = Case.__table__
    before = float(case["priority"] or 0.0)
    rank = f.rank
    after = before if rank is None or not f.raise_priority else max(before, rank)
    values: dict[str, Any] = {}
    if f.merge is not None:
        values["details"] = f.merge(dict(case["details"] or {}))
    if f.append_reason:
        values["reason"] = f"{case['reason']}; {f.reason}"
    if after != before:
        values["priority"] = after
    if values:
        tx.execute(sa.update(C).where(C.c.id == case["id"]).values(**values))
    if not f.append_reason and after == before:
        return None  # details only (an order noted on a case already open): nothing to log
    return events.raised(RAISED_EVENT.get(f.source, "case.raised"), case["id"], f.subject_ref, f.source, f.reason,
                         before, after, actor, dict(f.evidence))
