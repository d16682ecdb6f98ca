"""One grouping pass logs the same review-group events whatever order the cases opened in (issue 12: `make demo`'s
count of group.lead_changed varied, 186-188, with the order its two scoring processes committed in). On SQLite and
PostgreSQL."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from groups_support import open_in_order

from basira.cases.groups import assign_groups
from basira.ingest.records import PostRecord
from basira.store.group_models import ReviewGroup
from basira.store.models import Case, Event

T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)
TOPICS = ("the harvest festival on Saturday, bring bread and a song", "the chess club meeting on Thursday evening",
          "painting the school fence next Sunday morning", "the choir rehearsal every Tuesday night at the hall",
          "the book swap in the park after the Friday market", "cleaning the river bank with the scouts on Monday")


def _posts(platform: str) -> list[PostRecord]:
    """Six families of copies (synthetic): originals, retweets, textual copies and bridges that repost one
    family with another's text, their creation times shuffled so that post ids and time disagree."""
    rng = random.Random(12)
    out, n = [], 0
    for f, topic in enumerate(TOPICS):
        text = f"Everyone is welcome to {topic} (synthetic, family {f})."
        if platform != "a":  # other words, so the two platforms' copies do not meet
            text = " ".join(reversed(text.split()))
        for k in range(5):
            n += 1
            kind = rng.choice(("copy", "rt", "rt", "bridge")) if k else "copy"
            repost = f"{f}00" if kind == "rt" else f"{(f + 1) % len(TOPICS)}00" if kind == "bridge" else None
            body = f"RT @u{f}: {text}" if kind == "rt" else text
            out.append(PostRecord(platform, f"{f}00" if k == 0 else f"{f}{k:02d}", f"u{n % 9}", body, lang="en",
                                  created_at=T0 + timedelta(minutes=rng.randrange(600)), repost_of=repost))
    return out


def _open(store, platform: str, order: list[str]) -> dict[int, str]:
    """Store the posts, open their cases one by one in `order`; returns case id -> external id."""
    return {cid: e for e, cid in open_in_order(store, platform, _posts(platform), range(9), order).items()}


def _group_events(store, cases: dict[int, str]) -> Counter:
    """The group events about these cases, with case ids named by their posts and group ids by their leads."""
    E, G, C = Event.__table__, ReviewGroup.__table__, Case.__table__
    with store.read() as conn:
        rows = conn.execute(sa.select(E.c.kind, E.c.subject, E.c.payload).where(E.c.kind.like("group.%"))
                            .order_by(E.c.id)).all()
        opened_lead = {f"group:{r.id}": r.lead_case_id for r in conn.execute(sa.select(G.c.id, G.c.lead_case_id))}
        assert conn.execute(sa.select(sa.func.count()).select_from(C)).scalar() >= len(cases)
    first_lead = {r.subject: r.payload["lead_case_id"] for r in rows if r.kind == "group.opened"}
    out: Counter = Counter()
    for r in rows:
        subj = r.subject if r.kind != "group.joined" else f"group:{r.payload['group_id']}"
        lead = first_lead.get(subj, opened_lead.get(subj))
        if lead not in cases:
            continue  # the other platform's group
        p = r.payload
        if r.kind == "group.joined":
            named: tuple = (cases[int(r.subject.split(":")[1])],)
        elif r.kind == "group.lead_changed":
            named = (cases.get(p["from"]), cases[p["to"]])
        elif r.kind == "group.merged":
            named = tuple(sorted(cases[c] for c in p["cases"]))
        else:
            named = ()
        out[(r.kind, cases[lead], named)] += 1
    return out


def test_a_grouping_pass_logs_the_same_events_whatever_order_the_cases_opened_in(store):
    exts = [p.external_id for p in _posts("a")]
    shuffled = exts[:]
    random.Random(3).shuffle(shuffled)
    forward = _open(store, "a", exts)  # the order of the posts
    backward = _open(store, "b", shuffled)  # another commit order
    got = assign_groups(store, datetime.now(UTC))
    assert got.groups_new >= 2 and got.joined >= 10
    a, b = _group_events(store, forward), _group_events(store, backward)
    assert sum(a.values()) > 10
    assert a == b
