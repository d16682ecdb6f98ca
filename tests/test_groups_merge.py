"""Review groups merge when a new copy links two of them, and a group's lead is picked by content, so groups and
leads do not depend on the order cases opened in (basira.cases.groups). On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from groups_support import open_in_order

from basira.cases.groups import assign_groups
from basira.ingest.records import PostRecord
from basira.review.groups import group_of_case
from basira.review.queue import QueueFilter
from basira.review.repository import ReviewRepo
from basira.store.group_models import ReviewGroup
from basira.store.models import Event

T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)
ONE = "Come to the harvest festival on Saturday, bring bread and a song for everyone (synthetic)."
TWO = "The chess club meets again on Thursday evening in the library basement, all levels (synthetic)."
OTHER = ("Volunteers needed to paint the school fence next Sunday morning, paint and brushes provided (synthetic).",
         "Our choir rehearses every Tuesday night at the community hall, new voices always welcome (synthetic).")


def _posts(platform: str, texts: tuple[str, str] = (ONE, TWO)) -> list[PostRecord]:
    """Two originals, a retweet of each, and a bridge: the first text, posted as a repost of the second original."""
    one, two = texts
    return [
        PostRecord(platform, "101", "u1", one, lang="en", created_at=T0),
        PostRecord(platform, "102", "u2", f"RT @u1: {one}", lang="en", created_at=T0 + timedelta(hours=1),
                   repost_of="101"),
        PostRecord(platform, "201", "u3", two, lang="en", created_at=T0 + timedelta(minutes=30)),
        PostRecord(platform, "202", "u4", f"RT @u3: {two}", lang="en", created_at=T0 + timedelta(hours=2),
                   repost_of="201"),
        PostRecord(platform, "301", "u5", one, lang="en", created_at=T0 + timedelta(hours=3), repost_of="201"),
    ]


def _open(store, platform: str, order: list[str], texts: tuple[str, str] = (ONE, TWO)) -> dict[str, int]:
    """Store the posts, then open their cases in `order` (external ids); returns external id -> case id."""
    return open_in_order(store, platform, _posts(platform, texts), range(1, 6), order)


def _groups(store, cases: dict[str, int]) -> set[tuple[str, frozenset[str]]]:
    """(lead's external id, members' external ids) of each group these cases are in."""
    ext = {c: e for e, c in cases.items()}
    out = set()
    for c in cases.values():
        g = group_of_case(store, c)
        if g is not None and g.status == "open":
            out.add((ext[g.lead_case_id], frozenset(ext[m.case_id] for m in g.members)))
    return out


def test_a_copy_linking_two_groups_merges_them_into_the_older(store):
    now = datetime.now(UTC)
    first = _open(store, "x", ["101", "102", "201", "202"])
    assert assign_groups(store, now).groups_new == 2
    older = group_of_case(store, first["101"]).id
    newer = group_of_case(store, first["201"]).id
    assert older < newer
    bridge = _open(store, "x", ["301"])["301"]
    assert assign_groups(store, now).to_dict() == {"seen": 1, "joined": 1, "groups_new": 0, "merged": 1}
    g = group_of_case(store, bridge)
    assert g.id == older and g.size == 5 and g.lead_case_id == first["101"]  # created first
    assert {m.case_id for m in g.members} == {*first.values(), bridge}
    G, E = ReviewGroup.__table__, Event.__table__
    with store.read() as conn:
        assert conn.execute(sa.select(G.c.status).where(G.c.id == newer)).scalar() == "merged"
        merged = conn.execute(sa.select(E.c.payload).where(E.c.kind == "group.merged")).scalars().all()
    assert merged == [{"merged": newer, "cases": sorted([first["201"], first["202"]]), "via": "repost"}]
    rows, total = ReviewRepo(store).queue(QueueFilter(), now)
    assert total == 1 and rows[0].id == first["101"] and rows[0].group_size == 5


def test_groups_and_leads_do_not_depend_on_the_order_cases_opened_in(store):
    now = datetime.now(UTC)
    # The same shape of content on two platforms (other texts, so they do not meet), cases opened in opposite
    # orders — as when a Dask worker dies and its window's cases open last.
    forward = _open(store, "a", ["101", "102", "201", "202", "301"])
    backward = _open(store, "b", ["301", "202", "201", "102", "101"], OTHER)
    assign_groups(store, now)
    want = {("101", frozenset({"101", "102", "201", "202", "301"}))}
    assert _groups(store, forward) == _groups(store, backward) == want
    # The lead is the content's first post from the start, although its case opened last: one pass takes the
    # cases in content order, so it logs the same events whatever the order (no lead_changed to correct it).
    with store.read() as conn:
        kinds = conn.execute(sa.select(Event.__table__.c.kind)).scalars().all()
    assert (kinds.count("group.opened"), kinds.count("group.merged")) == (4, 2)  # two groups on each, then one
    assert "group.lead_changed" not in kinds


def test_a_later_copy_posted_earlier_takes_the_lead_of_an_undecided_group(store):
    now = datetime.now(UTC)
    cases = _open(store, "x", ["301", "102"])  # the bridge and a retweet of ONE: one group (same text)
    assign_groups(store, now)
    assert group_of_case(store, cases["301"]).lead_case_id == cases["102"]  # posted two hours before 301
    original = _open(store, "x", ["101"])["101"]  # the original arrives later, posted before both
    assign_groups(store, now)
    g = group_of_case(store, original)
    assert g.lead_case_id == original and g.size == 3
    assert [m.case_id for m in g.members if m.role == "lead"] == [original]
    with store.read() as conn:  # a later pass moved the lead: logged
        moved = conn.execute(sa.select(Event.__table__.c.payload)
                             .where(Event.__table__.c.kind == "group.lead_changed")).scalars().all()
    assert moved == [{"from": cases["102"], "to": original}]
    assert ReviewRepo(store).queue(QueueFilter(), now)[0][0].id == original  # the queue shows the new lead
