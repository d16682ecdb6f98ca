"""assign_groups never writes a second membership for a case (the once-seen "UNIQUE constraint failed:
review_group_members.case_id"). Two paths led there (basira.cases.groups):

- a copy of an open case that is still a member of a *closed* group — a member appealed on its own after its
  group's removal, or a member's own decision undone after the group was decided — was taken for a copy in no
  group, and inserted as a member of the new group;
- two groupers at once (two scans ending together): both read the same ungrouped cases, and the second
  inserted their memberships again (or a copy's, which the first had just grouped).

On SQLite and PostgreSQL; the second path also with two threads on PostgreSQL, each on its own engine."""

from __future__ import annotations

import random
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from groups_support import open_in_order

from basira.cases.groups import assign_groups
from basira.ingest.records import PostRecord
from basira.review.decisions import Actor
from basira.review.groups import group_of_case
from basira.review.queue import QueueFilter
from basira.review.repository import ReviewRepo
from basira.store import open_store
from basira.store.group_models import ReviewGroupMember

T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)
TEXT = "Come to the harvest festival on Saturday, bring bread and a song for everyone (synthetic)."


def _retweets(platform: str, ids: range) -> list[PostRecord]:
    return [PostRecord(platform, str(i), f"u{i}", f"RT @u100: {TEXT}", lang="en",
                       created_at=T0 + timedelta(hours=i - 100), repost_of="100") for i in ids]


def _members(store) -> Counter[int]:
    """How many memberships each case has (at most one: the table's primary key would refuse a second)."""
    with store.read() as conn:
        return Counter(conn.execute(sa.select(ReviewGroupMember.__table__.c.case_id)).scalars())


def _a_decided_group(store) -> tuple[dict[str, int], ReviewRepo, Actor, int]:
    """An original and two retweets grouped, the group removed by a decision on its lead (undo window: 60 s)."""
    cases = open_in_order(store, "x", [PostRecord("x", "100", "u100", TEXT, lang="en", created_at=T0),
                                       *_retweets("x", range(101, 103))], range(100, 103), ["100", "101", "102"])
    now = datetime.now(UTC)
    assert assign_groups(store, now).groups_new == 1
    repo = ReviewRepo(store)
    actor = Actor(repo.add_user("rev", "x", "reviewer"), "rev", "reviewer")
    out = repo.decide(cases["100"], actor, "remove", "TVEC-1.1", ("remove",), None, now, 60, timedelta(minutes=15))
    assert len(out.members) == 2  # the group's decision went to both retweets
    return cases, repo, actor, out.members[0].decision_id


@pytest.mark.parametrize("how", ["appealed", "undone"])
def test_a_copy_of_an_open_member_of_a_closed_group_does_not_regroup_it(store, how):
    cases, repo, actor, member_decision = _a_decided_group(store)
    member = cases["101"]
    now = datetime.now(UTC)
    if how == "appealed":  # after the undo window: the owner appeals the removal of one retweet
        repo.file_appeal(member, "my post was a joke (synthetic)", "owner", now + timedelta(minutes=5))
    else:  # within it: the reviewer undoes the decision the group's made on one retweet
        repo.undo(member_decision, actor, now + timedelta(seconds=5))
    with store.read() as conn:
        assert conn.execute(sa.text("SELECT status FROM cases WHERE id = :c"), {"c": member}).scalar() in (
            "appealed", "open")
    # A later scan brings another retweet: it shares its keys with the open member, whose group is closed.
    later = open_in_order(store, "x", _retweets("x", range(103, 104)), range(103, 104), ["103"])
    assign_groups(store, datetime.now(UTC))  # raised IntegrityError (UNIQUE … review_group_members.case_id)
    assert max(_members(store).values()) == 1
    g = group_of_case(store, member)
    if how == "appealed":
        assert g is not None and g.status == "closed"  # the appeal is judged where its decision was made
        assert group_of_case(store, later["103"]) is None  # no open copy is free to group with it
    else:  # open again on its own: it left the decided group, and now leads a group with the later copy
        assert g is not None and g.status == "open" and {m.case_id for m in g.members} == {member, later["103"]}
    # Either way the queue shows it (an open member of a closed group was hidden behind a lead never shown again).
    shown = {r.id for r in repo.queue(QueueFilter(), datetime.now(UTC), limit=50)[0]}
    assert member in shown or (g is not None and g.lead_case_id in shown)
    assert g is None or g.status != "open" or g.lead_case_id in shown


def test_a_members_own_undo_puts_it_back_in_the_queue(store):
    cases, repo, actor, member_decision = _a_decided_group(store)
    now = datetime.now(UTC)
    assert cases["101"] not in {r.id for r in repo.queue(QueueFilter(), now)[0]}  # decided with its group
    repo.undo(member_decision, actor, now + timedelta(seconds=5))
    assert cases["101"] in {r.id for r in repo.queue(QueueFilter(), now)[0]}  # hidden for good before
    assert group_of_case(store, cases["101"]) is None
    g = group_of_case(store, cases["100"])
    assert g is not None and g.status == "closed" and g.size == 2  # the lead and the other retweet


def test_two_groupers_reading_the_same_cases_group_each_once(store, db_url):
    """A second grouper runs between the first one's reading of the ungrouped cases and its first batch (two
    scans ending together): the first must not group those cases again."""
    cases = open_in_order(store, "x", [PostRecord("x", "100", "u100", TEXT, lang="en", created_at=T0),
                                       *_retweets("x", range(101, 106))], range(100, 106),
                          ["100", "101", "102", "103", "104", "105"])
    other, ran = open_store(db_url, migrate_schema=False), []
    write = store.write

    def other_grouper_first():  # the first batch's transaction opens once the other grouper has committed
        if not ran:
            ran.append(assign_groups(other, datetime.now(UTC)))
        return write()

    store.write = other_grouper_first
    try:
        mine = assign_groups(store, datetime.now(UTC))  # raised IntegrityError
    finally:
        del store.write
        other.close()
    assert ran[0].seen == 6 and ran[0].groups_new == 1
    assert mine.to_dict() == {"seen": 0, "joined": 0, "groups_new": 0, "merged": 0}
    assert _members(store) == Counter({c: 1 for c in cases.values()})


def test_two_groupers_at_once_on_postgresql(db_url):
    """Two threads, each with its own engine, grouping the same copies at the same time (PostgreSQL: the
    second waits for the first's lock, then finds the cases grouped)."""
    if not db_url.startswith("postgresql"):
        pytest.skip("two connections writing at once: PostgreSQL (SQLite writers are serial)")
    a, b = open_store(db_url), open_store(db_url, migrate_schema=False)
    try:
        for n in range(3):  # a few rounds: each a fresh family of copies, both groupers started together
            base = 100 * (n + 2)
            spell = random.Random(n)  # made-up words: no two rounds' texts share a MinHash band
            text = " ".join("".join(spell.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(7)) for _ in range(9))
            posts = [PostRecord("x", str(base), f"u{base}", f"{text} (synthetic)", lang="en", created_at=T0),
                     *[PostRecord("x", str(base + i), f"u{base + i}", f"RT @u{base}: {text} (synthetic)", lang="en",
                                  created_at=T0 + timedelta(hours=i), repost_of=str(base)) for i in range(1, 40)]]
            open_in_order(a, "x", posts, range(base, base + 40), [p.external_id for p in posts])
            go, errors, results = threading.Barrier(2), [], []

            def run(s, go=go, results=results, errors=errors):
                try:
                    go.wait()
                    results.append(assign_groups(s, datetime.now(UTC), batch=7))
                except Exception as exc:  # noqa: BLE001 - the test reports what a grouper raised
                    errors.append(exc)

            threads = [threading.Thread(target=run, args=(s,)) for s in (a, b)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert errors == []
            assert sum(r.seen for r in results) == 40 and sum(r.groups_new for r in results) == 1
            assert max(_members(a).values()) == 1
    finally:
        a.close()
        b.close()
