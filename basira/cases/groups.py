"""Forming review groups: near-duplicate cases reviewed as one (tables in basira.store.group_models; keys from
basira.cases.grouping; reading them: basira.review.groups).

`assign_groups` runs where cases are opened — at the end of every scan — and puts each new open post case into the
open group of a copy it shares a key with (or starts a group with that copy); groups keep growing as later scans
bring more copies. A decision on the group's lead applies to every member (basira.review.repository); `split` takes
members out again."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from basira.cases.grouping import PostForGrouping, group_keys, strongest
from basira.cases.records import GroupingCounts
from basira.core.errors import BasiraError
from basira.store import bulk, events
from basira.store.group_models import ReviewGroup, ReviewGroupKey, ReviewGroupMember
from basira.store.models import Case, Detection, Media, Post
from basira.store.network_models import Follow

if TYPE_CHECKING:
    from basira.store.store import Store

__all__ = ["GroupError", "assign_groups", "group_inputs", "refresh_groups", "split"]

G, GM, GK = ReviewGroup.__table__, ReviewGroupMember.__table__, ReviewGroupKey.__table__
C, P, M, F = Case.__table__, Post.__table__, Media.__table__, Follow.__table__
OPEN = ("open", "escalated", "appealed")
CHUNK = 900
_T = TypeVar("_T")
_EPOCH = datetime.min.replace(tzinfo=UTC)
GROUPING_LOCK = 0x6261736972612D67  # pg_advisory_xact_lock key of assign_groups' batches ("basira-g")
_NEW = 1 << 62  # placeholder ids of a batch's new groups: above every stored id, so "oldest" still sorts first


class GroupError(BasiraError):
    """A group change refused: no such group (not_found) or not open (conflict)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def _chunks(xs: Sequence[_T], n: int = CHUNK) -> Iterator[Sequence[_T]]:
    for i in range(0, len(xs), n):
        yield xs[i:i + n]


def _where_in(conn: Connection, column: Any, values: Sequence[Any]) -> Iterator[Any]:
    """`column IN values` in as few statements as the database allows: one on PostgreSQL (an array), chunks
    of CHUNK on SQLite (its bound-parameter limit)."""
    if not values:
        return
    dialect = conn.dialect.name
    for chunk in ([values] if dialect == "postgresql" else _chunks(values)):
        yield bulk.in_values(dialect, column, chunk)


def _content_key(created_at: datetime | None, platform_id: int | None, external_id: str | None,
                 case_id: int) -> tuple[Any, ...]:
    """A case's place in content order: its post's creation time (ties: the platform, then the lowest post id on
    it, numerically when ids are numbers). Leads, and the order cases are grouped in, follow it."""
    ext = external_id or ""
    return (created_at is None, created_at or _EPOCH, platform_id or 0, len(ext), ext, case_id)


def assign_groups(store: Store, now: datetime, batch: int = 5000) -> GroupingCounts:
    """Group every open post case the grouper has not seen yet; return counts (seen, joined, groups_new, merged).

    The groups are the connected copies whatever order the cases opened in: a new case joins the open group of
    any copy it shares a key with, brings along copies in no group yet, and merges every other group it links
    into the oldest one. The new cases are taken in content order (_content_key), and a group's lead is picked
    by content (_lead_of), so a scan whose cases opened in another order (two scoring processes committing in
    turn, a Dask worker killed mid-scan) ends with the same groups, leads and group events (issue 12).

    A flagged post's text keys come with its detection (computed where it was scored, basira.scan.score); the
    others' are computed here."""
    counts = GroupingCounts()
    seen = sa.select(GK.c.id).where(GK.c.case_id == C.c.id).exists()
    with store.read() as conn:
        todo = sorted(conn.execute(
            sa.select(C.c.id, P.c.created_at, P.c.platform_id, P.c.external_id)
            .join(P, P.c.id == C.c.subject_id)
            .where(C.c.subject_kind == "post", C.c.status == "open", ~seen)).all(),
            key=lambda r: _content_key(r.created_at, r.platform_id, r.external_id, r.id))
    for at in range(0, len(todo), batch):
        with store.write() as conn:
            _assign_batch(conn, [r.id for r in todo[at:at + batch]], now, counts)
    return counts


def _assign_batch(conn: Connection, case_ids: list[int], now: datetime, counts: GroupingCounts) -> None:
    """Group these cases (in this order), in one transaction. One grouper at a time: two scans ending together
    both read the same ungrouped cases, and the second wrote their memberships again ("UNIQUE constraint failed:
    review_group_members.case_id"). The batch holds the grouping lock (PostgreSQL; a SQLite writer holds the
    database) and leaves out the cases another grouper took meanwhile."""
    DT = Detection.__table__
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": GROUPING_LOCK})
    taken: set[int] = set()
    for where in _where_in(conn, GK.c.case_id, case_ids):
        taken.update(conn.execute(sa.select(GK.c.case_id).where(where).distinct()).scalars())
    case_ids = [c for c in case_ids if c not in taken]
    order = {c: n for n, c in enumerate(case_ids)}
    found: list[Any] = []
    for where in _where_in(conn, C.c.id, case_ids):
        found += conn.execute(
            sa.select(C.c.id, P.c.platform_id, P.c.external_id, P.c.text, P.c.repost_of, P.c.created_at,
                      DT.c.text_keys)
            .join(P, P.c.id == C.c.subject_id).outerjoin(DT, DT.c.id == C.c.detection_id).where(where)).all()
    rows = sorted(found, key=lambda r: order[r.id])
    if not rows:
        return
    media: dict[int, list[str]] = defaultdict(list)
    for where in _where_in(conn, C.c.id, case_ids):
        for cid, h in conn.execute(sa.select(C.c.id, M.c.sha256).join(M, M.c.post_id == C.c.subject_id)
                                   .where(where, M.c.sha256.is_not(None)).order_by(C.c.id, M.c.position)):
            media[cid].append(h)
    keys_of = {r.id: group_keys(PostForGrouping(r.platform_id, r.external_id, r.text or "", r.repost_of,
                                                tuple(media.get(r.id, ()))), r.text_keys) for r in rows}
    ck = {r.id: _content_key(r.created_at, r.platform_id, r.external_id, r.id) for r in rows}
    all_keys = sorted({k for ks in keys_of.values() for k in ks})
    holders: dict[str, list[int]] = defaultdict(list)  # key -> earlier open cases holding it
    for where in _where_in(conn, GK.c.key, all_keys):
        for k, cid in conn.execute(sa.select(GK.c.key, GK.c.case_id).join(C, C.c.id == GK.c.case_id)
                                   .where(where, C.c.status.in_(OPEN))):
            holders[k].append(cid)
    held = sorted({c for cs in holders.values() for c in cs})
    group_of: dict[int, int] = {}
    closed: set[int] = set()
    for where in _where_in(conn, GM.c.case_id, held):
        for cid, in_group, status in conn.execute(sa.select(GM.c.case_id, GM.c.group_id, G.c.status)
                                                  .join(G, G.c.id == GM.c.group_id).where(where)):
            if status == "open":
                group_of[cid] = in_group
            else:  # an open case still in a decided group (appealed on its own, its own decision undone): it
                # stays where its decision was made, reviewed on its own — not a copy free to join another
                # group (taking it for one inserted its second membership)
                closed.add(cid)
    if closed:
        holders = defaultdict(list, {k: [c for c in cs if c not in closed] for k, cs in holders.items()})
    for where in _where_in(conn, C.c.id, [c for c in held if c not in ck]):
        for r in conn.execute(sa.select(C.c.id, P.c.created_at, P.c.platform_id, P.c.external_id)
                              .join(P, P.c.id == C.c.subject_id).where(where)):
            ck[r.id] = _content_key(r.created_at, r.platform_id, r.external_id, r.id)
    touched: set[int] = set()
    new_groups: list[dict[str, Any]] = []  # the batch's new groups, known by placeholder ids _NEW + n until stored
    # Written once per batch, in this order (one statement each, not one per case: at 1,155 cases a
    # scan's tail spent 10 s here, most of it in per-case event appends and inserts).
    log: list[tuple[str, str | None, str | None, Any]] = []
    members: list[dict[str, Any]] = []
    key_rows: list[dict[str, Any]] = []
    for r in rows:
        keys = keys_of[r.id]
        hits = [(k, c) for k in keys for c in holders.get(k, ()) if c != r.id]
        hit_cases = sorted({c for _, c in hits}, key=ck.__getitem__)
        groups = sorted({group_of[c] for c in hit_cases if c in group_of})
        via = strongest({k for k, _ in hits}) if hits else "text"
        gid: int | None = None
        if groups:
            gid = groups[0]  # the oldest group survives; a copy that links others merges them into it
            for other in groups[1:]:
                for c in _merge(conn, gid, other, via, now, members, new_groups, log):
                    group_of[c] = gid
                touched.discard(other)
                counts.merged += 1
        elif hit_cases:
            first = min([*hit_cases, r.id], key=ck.__getitem__)  # the lead by content, from the start
            gid = _NEW + len(new_groups)  # its id once the batch's new groups are inserted, in this order
            new_groups.append({"lead_case_id": first, "kind": via, "size": 1, "accounts": 1, "followers": 0,
                               "reposts": 0, "status": "open", "opened_at": now, "updated_at": now})
            members.append({"case_id": first, "group_id": gid, "role": "lead", "via": via, "joined_at": now})
            group_of[first] = gid
            counts.groups_new += 1
            log.append(("group.opened", "basira", f"group:{gid}", {"lead_case_id": first, "kind": via}))
        if gid is not None:
            # Every copy it links that is in no group yet joins too (its connected copies, in any order).
            for c in [c for c in [*hit_cases, r.id] if c not in group_of]:
                members.append({"case_id": c, "group_id": gid, "role": "member", "via": via, "joined_at": now})
                group_of[c] = gid
                counts.joined += 1
                log.append(("group.joined", "basira", f"case:{c}", {"group_id": gid, "via": via}))
            touched.add(gid)
        key_rows.extend([{"key": k, "case_id": r.id} for k in keys] or [{"key": f"none:{r.id}", "case_id": r.id}])
        for k in keys:
            holders[k].append(r.id)
        counts.seen += 1
    # The new groups in one statement (one INSERT … RETURNING per group cost the tail a round trip each), then
    # their placeholder ids replaced by the stored ones; a group's lead names it (a case leads one new group).
    real: dict[int, int] = {}
    if new_groups:
        stored = {lead: gid for gid, lead in bulk.insert_rows(conn, G, new_groups, returning=("id", "lead_case_id"))}
        real = {_NEW + n: stored[g["lead_case_id"]] for n, g in enumerate(new_groups)}
        for m in members:
            m["group_id"] = real.get(m["group_id"], m["group_id"])
        log = [_resolved(e, real) for e in log]
    bulk.insert_rows(conn, GM, members)  # one unnest statement on PostgreSQL, not one executemany row each
    bulk.insert_rows(conn, GK, key_rows)
    events.append(conn, log)
    _refresh(conn, sorted(real.get(g, g) for g in touched), now)


def _resolved(entry: tuple[str, str | None, str | None, Any], real: dict[int, int]) -> tuple[str, str | None,
                                                                                           str | None, Any]:
    """A batch's event with its new groups' placeholder ids replaced by their stored ids."""
    kind, actor, subject, payload = entry
    if subject and subject.startswith("group:"):
        gid = int(subject.split(":", 1)[1])
        subject = f"group:{real.get(gid, gid)}"
    payload = {k: real.get(v, v) if k in ("group_id", "merged") else v for k, v in payload.items()}
    return kind, actor, subject, payload


def _merge(conn: Connection, keep: int, other: int, via: str, now: datetime, pending: list[dict[str, Any]],
           new_groups: list[dict[str, Any]], log: list[tuple[str, str | None, str | None, Any]]) -> list[int]:
    """Move every member of group `other` into `keep` (its lead becomes a member) and close `other` as merged —
    stored members and those of this batch not written yet (`pending`; `other` may be one of the batch's
    `new_groups`, not stored yet either); returns the cases moved. Logged (in `log`) as group.merged on the
    surviving group."""
    moved: list[int] = []
    if other < _NEW:
        moved = list(conn.execute(sa.select(GM.c.case_id).where(GM.c.group_id == other)).scalars())
        conn.execute(sa.update(GM).where(GM.c.group_id == other).values(group_id=keep, role="member"))
    for m in pending:
        if m["group_id"] == other:
            m.update(group_id=keep, role="member")
            moved.append(m["case_id"])
    if other < _NEW:
        conn.execute(sa.update(G).where(G.c.id == other).values(status="merged", size=0, updated_at=now))
    else:
        new_groups[other - _NEW].update(status="merged", size=0, updated_at=now)
    log.append(("group.merged", "basira", f"group:{keep}", {"merged": other, "cases": sorted(moved), "via": via}))
    return moved


def _lead_of(members: Sequence[Any]) -> int:
    """The lead by content (_content_key: the member whose post was created first), so it does not depend on the
    order the cases opened in."""
    return int(min(members, key=lambda m: _content_key(m.created_at, m.platform_id, m.external_id,
                                                       m.case_id)).case_id)


def _relead(gid: int, members: Sequence[Any], now: datetime,
            log: list[tuple[str, str | None, str | None, Any]]) -> int | None:
    """The lead its content names for an undecided group (every member open), if that is another case than its
    lead (logged as group.lead_changed); None to keep the lead."""
    if not members or any(m.status != "open" for m in members):
        return None  # decided, escalated or appealed parts keep the lead they were decided under
    lead = next((m.case_id for m in members if m.role == "lead"), None)
    best = _lead_of(members)
    if best == lead:
        return None
    log.append(("group.lead_changed", "basira", f"group:{gid}", {"from": lead, "to": best}))
    return best


def _refresh(conn: Connection, group_ids: list[int], now: datetime) -> None:
    """Recompute each group's lead (by content) and its aggregates from its members: size, distinct accounts,
    their followers, the reposts of the members' posts, the newest post. Set-based: a few statements for all the
    groups (one per group and aggregate cost a 19,000-post scan's tail 3,000 round trips)."""
    if not group_ids:
        return
    of: dict[int, list[Any]] = defaultdict(list)
    for where in _where_in(conn, GM.c.group_id, group_ids):
        for m in conn.execute(
                sa.select(GM.c.group_id, GM.c.case_id, GM.c.role, C.c.status, C.c.subject_kind, P.c.created_at,
                          P.c.platform_id, P.c.external_id, P.c.account_id)
                .select_from(GM).join(C, C.c.id == GM.c.case_id)
                .outerjoin(P, sa.and_(C.c.subject_kind == "post", P.c.id == C.c.subject_id)).where(where)):
            of[m.group_id].append(m)
    log: list[tuple[str, str | None, str | None, Any]] = []
    leads = []
    for gid in group_ids:
        best = _relead(gid, of.get(gid, []), now, log)
        if best is not None:
            leads.append({"id": gid, "lead_case_id": best, "updated_at": now})
    for x in leads:
        conn.execute(sa.update(GM).where(GM.c.group_id == x["id"]).values(
            role=sa.case((GM.c.case_id == x["lead_case_id"], "lead"), else_="member")))
    bulk.update_rows(conn, G, ["id"], leads)
    events.append(conn, log)
    posts = {gid: [m for m in of.get(gid, []) if m.subject_kind == "post" and m.external_id is not None]
             for gid in group_ids}
    accounts_of = {gid: sorted({m.account_id for m in ms if m.account_id is not None}) for gid, ms in posts.items()}
    every_account = sorted({a for accts in accounts_of.values() for a in accts})
    follower_count: dict[int, int] = {}
    for where in _where_in(conn, F.c.target_id, every_account):
        follower_count.update(conn.execute(sa.select(F.c.target_id, sa.func.count()).where(where)
                                           .group_by(F.c.target_id)).all())
    exts_of = {gid: sorted({(m.platform_id, m.external_id) for m in ms}) for gid, ms in posts.items()}
    repost_count: dict[tuple[int, str], int] = {}
    every_ext = sorted({e for exts in exts_of.values() for _, e in exts})
    for where in _where_in(conn, P.c.repost_of, every_ext):
        for pf, ext, n in conn.execute(sa.select(P.c.platform_id, P.c.repost_of, sa.func.count()).where(where)
                                       .group_by(P.c.platform_id, P.c.repost_of)):
            repost_count[(pf, ext)] = int(n)
    updates = []
    for gid in group_ids:
        ms = posts[gid]
        newest = max((m.created_at for m in ms if m.created_at is not None), default=None)
        updates.append({"id": gid, "size": len(ms), "accounts": max(len(accounts_of[gid]), 1),
                        "followers": sum(follower_count.get(a, 0) for a in accounts_of[gid]),
                        "reposts": sum(repost_count.get(e, 0) for e in exts_of[gid]), "newest_at": newest,
                        "updated_at": now})
    bulk.update_rows(conn, G, ["id"], updates)


def refresh_groups(conn: Connection, group_ids: Sequence[int], now: datetime) -> None:
    """Recompute these groups' aggregates (size, accounts, reach) and leads from their members, in the caller's
    transaction: what a change of membership made elsewhere (a member leaving at a group decision) calls."""
    _refresh(conn, sorted(set(group_ids)), now)


def group_inputs(conn: Connection, case_ids: list[int]) -> dict[int, dict[str, Any]]:
    """{lead case id: size, accounts, followers, reposts, newest} of open groups led by these cases."""
    out = {}
    for where in _where_in(conn, G.c.lead_case_id, sorted(set(case_ids))):
        for g in conn.execute(sa.select(G).where(where, G.c.status == "open")):
            out[g.lead_case_id] = {"size": g.size, "accounts": g.accounts, "followers": g.followers,
                                   "reposts": g.reposts, "newest": g.newest_at, "group_id": g.id}
    return out


def split(store: Store, group_id: int, case_ids: list[int], actor: str, now: datetime) -> list[int]:
    """Take members (not the lead) out of an open group: each becomes a case of its own in the queue and is not
    grouped again. Splitting every member dissolves the group. Returns the cases split off."""
    with store.write() as conn:
        g = conn.execute(sa.select(G.c.lead_case_id, G.c.status).where(G.c.id == group_id)).first()
        if g is None or g.status != "open":
            raise GroupError("not_found" if g is None else "conflict", f"no open group {group_id}")
        ids = [c for c in conn.execute(sa.select(GM.c.case_id).where(
            GM.c.group_id == group_id, GM.c.role == "member", GM.c.case_id.in_(case_ids))).scalars()]
        if not ids:
            return []
        conn.execute(sa.delete(GM).where(GM.c.case_id.in_(ids)))
        conn.execute(sa.delete(GK).where(GK.c.case_id.in_(ids)))
        conn.execute(sa.insert(GK), [{"key": f"split:{c}", "case_id": c} for c in ids])
        left = conn.execute(sa.select(sa.func.count()).where(GM.c.group_id == group_id,
                                                             GM.c.role == "member")).scalar_one()
        if left == 0:
            conn.execute(sa.delete(GM).where(GM.c.group_id == group_id))
            conn.execute(sa.update(G).where(G.c.id == group_id).values(status="split", size=1, updated_at=now))
        else:
            _refresh(conn, [group_id], now)
        events.append(conn, [("group.split", actor, f"group:{group_id}",
                                     {"cases": ids, "dissolved": left == 0})])
    return ids
