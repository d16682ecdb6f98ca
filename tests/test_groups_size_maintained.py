"""A review group's `size` (what the queue shows and sorts by) is kept equal to its real member count through
every change of membership — copies joining at a scan, a copy linking two groups (merge), splits, a group decision
that a member cannot take (it leaves), escalations and undos — whatever the sequence (hypothesis draws it), on
SQLite and PostgreSQL. And the queue's group-size order is that of the plain ORDER BY over the groups."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from groups_support import open_in_order
from hypothesis import Phase, example, given, note, settings
from hypothesis import strategies as st

from basira.cases.groups import assign_groups
from basira.ingest.records import PostRecord
from basira.review.auth import hash_password
from basira.review.decisions import Actor
from basira.review.queue import QueueFilter
from basira.review.service import ReviewService, ReviewSettings
from basira.store import open_store
from basira.store.group_models import ReviewGroup, ReviewGroupMember
from basira.store.models import Case
from tests.conftest import fresh_db_url

G, GM, C = ReviewGroup.__table__, ReviewGroupMember.__table__, Case.__table__
T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)
TEXTS = ("Come to the harvest festival on Saturday, bring bread and a song for everyone (synthetic).",
         "The chess club meets again on Thursday evening in the library basement, all levels (synthetic).",
         "Volunteers needed to paint the school fence next Sunday morning, brushes provided (synthetic).")
HASH = hash_password("a long enough password")


def _check(store, svc: ReviewService) -> None:
    """Every open group's size is its member count; the queue shows each lead with it, in size order."""
    with store.read() as conn:
        sizes = dict(conn.execute(sa.select(G.c.id, G.c.size).where(G.c.status == "open")).all())
        real = dict(conn.execute(sa.select(GM.c.group_id, sa.func.count()).join(G, G.c.id == GM.c.group_id)
                                 .where(G.c.status == "open").group_by(GM.c.group_id)).all())
    assert sizes == {g: real.get(g, 0) for g in sizes}
    rows = svc.queue_page(QueueFilter(statuses=("open", "escalated", "appealed"), sort="group"), 500).rows
    shown = [r for r in rows if r.group_id is not None]
    assert {r.group_id: r.group_size for r in shown if r.group_id in sizes} == {
        r.group_id: sizes[r.group_id] for r in shown if r.group_id in sizes}
    assert [r.group_size for r in shown] == sorted((r.group_size for r in shown), reverse=True)
    assert all(r.group_id is not None for r in rows[:len(shown)])  # leads of groups first, then the rest


def _open_groups(store) -> list[tuple[int, int, list[int]]]:
    """(group id, lead case id, member case ids) of every open group, by id."""
    with store.read() as conn:
        groups = conn.execute(sa.select(G.c.id, G.c.lead_case_id).where(G.c.status == "open").order_by(G.c.id)).all()
        members = conn.execute(sa.select(GM.c.group_id, GM.c.case_id).where(GM.c.role == "member")
                               .order_by(GM.c.case_id)).all()
    return [(g.id, g.lead_case_id, [m.case_id for m in members if m.group_id == g.id]) for g in groups]


COPIES = ("scan", [(0, False, 0), (0, True, 0), (0, True, 0), (0, False, 0)])  # an original, 2 reposts, a copy
OPS = st.lists(st.one_of(
    st.tuples(st.just("scan"), st.lists(st.tuples(st.integers(0, 2), st.booleans(), st.integers(0, 30)),
                                        min_size=1, max_size=5)),
    st.tuples(st.just("split"), st.integers(0, 30), st.integers(1, 3)),
    st.tuples(st.just("decide"), st.integers(0, 30), st.sampled_from(["remove", "escalate"]), st.booleans(),
              st.booleans()),
), min_size=2, max_size=7)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
@settings(max_examples=6, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate])  # no shrinking:
@given(ops=OPS)  # each step is a transaction or more, and a fresh database per example keeps a failure reproducible
@example(ops=[COPIES, ("decide", 0, "escalate", True, False)])  # a member left, the escalated group still open
@example(ops=[COPIES, ("decide", 0, "remove", True, True), ("scan", [(0, True, 1)])])  # left, undone, grows again
@example(ops=[COPIES, ("scan", [(1, False, 0), (1, True, 3), (0, True, 3)]), ("split", 0, 1)])  # merged, split
def test_group_size_is_the_member_count_after_any_membership_change(kind, ops):
    with fresh_db_url(kind, Path(tempfile.mkdtemp())) as url:
        store = open_store(url)
        try:
            _run(store, ops)
        finally:
            store.close()


def _run(store, ops) -> None:
    platform = "x"
    svc = ReviewService(store, ReviewSettings())
    people = {}
    for name in ("alice", "bob"):
        uid = (svc.repo.user_by_name(name) or {}).get("id") or svc.repo.add_user(name, HASH, "reviewer")
        people[name] = Actor(uid, name, "reviewer")
    posts: list[PostRecord] = []  # this example's posts; a scan adds some (copies, reposts of earlier ones, bridges)
    for op in ops:
        note(repr(op))
        if op[0] == "scan":
            new = []
            for text_i, repost, of in op[1]:
                n = len(posts) + len(new)
                earlier = [p.external_id for p in posts]
                new.append(PostRecord(platform, str(1000 + n), f"u{n % 7}", TEXTS[text_i], lang="en",
                                      created_at=T0 + timedelta(minutes=n),
                                      repost_of=earlier[of % len(earlier)] if repost and earlier else None))
            open_in_order(store, platform, new, range(7), [p.external_id for p in new])
            posts += new
            assign_groups(store, datetime.now(UTC))
        elif op[0] == "split":
            groups = [g for g in _open_groups(store) if g[2]]
            if groups:
                gid, _, members = groups[op[1] % len(groups)]
                svc.split_group(gid, members[:op[2]], people["alice"])
        else:
            _, pick, action, other_claims, undo = op
            groups = [g for g in _open_groups(store) if g[2]]
            if not groups:
                continue
            gid, lead, members = groups[pick % len(groups)]
            with store.read() as conn:
                if conn.execute(sa.select(C.c.status).where(C.c.id == lead)).scalar() != "open":
                    continue
            if other_claims:  # bob holds a member: it cannot take alice's group decision and leaves the group
                svc.claim(members[0], people["bob"])
            d = svc.decide(lead, people["alice"], action, "TVEC-1.1" if action == "remove" else "ESC-1")
            if other_claims:
                svc.release(members[0], people["bob"])
            if undo:
                svc.undo(d.decision_id, people["alice"])
        _check(store, svc)
