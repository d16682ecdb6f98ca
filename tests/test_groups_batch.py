"""A grouping batch inserts its new groups in one statement, under placeholder ids until they are stored
(basira.cases.groups): the groups, leads, aggregates and group events are those of grouping one case at a time
(every group stored before the next case looks), and every event names the group stored under its id. Copies
whose bridges merge groups formed in the same batch, and groups of an earlier pass. On SQLite and PostgreSQL."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from groups_support import open_in_order

from basira.cases.groups import assign_groups
from basira.ingest.records import PostRecord
from basira.store.group_models import ReviewGroup, ReviewGroupMember
from basira.store.models import Case, Event, Post

T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)


def _posts(platform: str, families: int = 14, seed: int = 4) -> list[PostRecord]:
    """Families of copies (synthetic): an original, retweets, textual copies, unrelated posts, and bridges (one
    family's text reposting the next family's original) that merge two families' groups."""
    rng = random.Random(seed)
    out, n = [], 0
    for f in range(families):
        # made-up words, so that no two families' texts (nor the two platforms') share a MinHash band
        spell = random.Random(f"{platform}{f}")
        words = " ".join("".join(spell.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(7)) for _ in range(8))
        text = f"Everyone is welcome to the {words} meeting (synthetic, family {f})."
        for k in range(rng.randrange(2, 6)):
            n += 1
            kind = rng.choice(("copy", "rt", "rt", "bridge", "alone")) if k else "copy"
            if kind == "bridge" and f % 3 == 2:
                kind = "copy"  # bridges chain three families at most: several groups, not one
            repost = f"{f}00" if kind == "rt" else f"{f + 1}00" if kind == "bridge" else None
            body = (f"RT @u{f}: {text}" if kind == "rt" else
                    f"Something else entirely, number {n}, {spell.random()} (synthetic)." if kind == "alone"
                    else text)
            out.append(PostRecord(platform, f"{f}00" if k == 0 else f"{f}{k:02d}", f"u{n % 7}", body, lang="en",
                                  created_at=T0 + timedelta(minutes=rng.randrange(900)), repost_of=repost))
    return out


def _state(store, platform: str) -> tuple:
    """The open groups (lead, kind, aggregates, members with their roles, named by external ids) and the group
    events (kind, lead's external id, what it names). Checks on the way that every event names the group
    stored under its id: the leads its events give each group are the stored ones."""
    G, GM, C, P, E = (ReviewGroup.__table__, ReviewGroupMember.__table__, Case.__table__, Post.__table__,
                      Event.__table__)
    with store.read() as conn:
        pf = conn.execute(sa.text("SELECT id FROM platforms WHERE name = :n"), {"n": platform}).scalar_one()
        ext = dict(conn.execute(sa.select(C.c.id, P.c.external_id).join(P, P.c.id == C.c.subject_id)
                                .where(C.c.subject_kind == "post", P.c.platform_id == pf)).all())
        groups = {g.id: g for g in conn.execute(sa.select(G))}
        members: dict[int, set[str]] = {}
        for m in conn.execute(sa.select(GM)):
            if m.case_id in ext:
                members.setdefault(m.group_id, set()).add(f"{ext[m.case_id]}:{m.role}")
        mine = {gid for gid, g in groups.items() if g.lead_case_id in ext}
        rows = sorted((ext[g.lead_case_id], g.kind, g.size, g.accounts, g.reposts, tuple(sorted(members[gid])))
                      for gid, g in groups.items() if gid in mine and g.status == "open")
        events: Counter = Counter()
        lead: dict[int, int] = {}  # a group's lead as its events tell it
        for e in conn.execute(sa.select(E.c.kind, E.c.subject, E.c.payload).where(E.c.kind.like("group.%"))
                              .order_by(E.c.id)):
            p = e.payload
            if e.kind == "group.joined":
                gid, case = p["group_id"], int(e.subject.split(":")[1])
                named: tuple = (ext.get(case),)
            else:
                gid = int(e.subject.split(":")[1])
                if e.kind == "group.opened":
                    lead[gid] = p["lead_case_id"]
                    named = (ext.get(p["lead_case_id"]), p["kind"])
                elif e.kind == "group.merged":
                    assert groups[p["merged"]].status == "merged" and p["merged"] != gid
                    named = (ext.get(groups[p["merged"]].lead_case_id),
                             tuple(sorted(str(ext.get(c)) for c in p["cases"])))
                else:
                    assert lead[gid] == p["from"], e
                    lead[gid] = p["to"]
                    named = (ext.get(p.get("from")), ext.get(p.get("to")))
            assert gid in groups, e  # every event names a stored group
            if gid in mine:
                events[(e.kind, ext[groups[gid].lead_case_id], named)] += 1
    # The events opened, then re-led, each group under the id it is stored under.
    assert all(lead[gid] == g.lead_case_id for gid, g in groups.items()), (lead, groups)
    return rows, events


def test_a_batch_of_new_groups_equals_grouping_case_by_case(store):
    G = ReviewGroup.__table__
    now = datetime.now(UTC)
    order = [p.external_id for p in _posts("a")]
    random.Random(9).shuffle(order)
    # An earlier pass over the first five families: stored groups, which a bridge of the later batch links to
    # the batch's new ones; the later batch's other families form new groups, some linked by bridges.
    early = [e for e in order if int(e[:-2]) < 5]
    late = [e for e in order if e not in early]
    # "a": the rest in one batch (its new groups under placeholder ids); "b": case by case (each stored first).
    for platform, batch in (("a", 10_000), ("b", 1)):
        open_in_order(store, platform, _posts(platform), range(7), early)
        assign_groups(store, now)
        with store.read() as conn:
            before = conn.execute(sa.select(sa.func.max(G.c.id))).scalar_one()
        open_in_order(store, platform, _posts(platform), range(7), late)
        assign_groups(store, now, batch=batch)
        if platform == "a":
            with store.read() as conn:
                made = conn.execute(sa.select(G.c.status).where(G.c.id > before)).scalars().all()
            # the batch opened groups, and merged some of them (not stored yet) into others
            assert made.count("open") >= 2 and "merged" in made, made
    (groups_a, events_a), (groups_b, _) = _state(store, "a"), _state(store, "b")
    # The same groups, leads and aggregates (the events differ: case by case re-leads after every case).
    assert groups_a == groups_b and len(groups_a) >= 3
    assert sum(len(g[-1]) for g in groups_a) >= 20
    kinds = Counter(k for k, _, _ in events_a.elements())
    assert kinds["group.opened"] >= 4 and kinds["group.merged"] >= 2 and kinds["group.joined"] >= 10, kinds
