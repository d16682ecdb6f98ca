"""Synthetic, harmless review data (accounts, posts, detections, cases) for demos, tests and benchmarks."""

from __future__ import annotations

import base64
import random
from datetime import datetime, timedelta

from basira.cases.manual import open_cases_for
from basira.cases.priority import PrioritySignals, account_risk, case_priority
from basira.core.time import utcnow
from basira.ingest.records import AccountRecord, MediaRecord, PostRecord
from basira.ingest.repository import upsert_accounts, upsert_posts
from basira.store import Store
from basira.store.detections import add_detections, detection_id

MODEL_VERSION = "demo-0"
# Harmless stand-ins: the word in brackets plays the part of an evidence span.
TEXTS = [
    ("en", "Join the [marching band] this weekend, everyone welcome at the park.", ["recruitment"]),
    ("en", "They praise the [champions] of last night's match like heroes.", ["glorification"]),
    ("ar", "انضموا إلى [نادي القراءة] في المكتبة يوم الجمعة", ["recruitment"]),
    ("ar", "بيان من [إذاعة الحي] عن مواعيد السوق الأسبوعي", ["propaganda_brand"]),
    ("ru", "Присоединяйтесь к [хору] в субботу вечером", ["recruitment"]),
    ("en", "We will [storm the stage] at the talent show, watch out!", ["threat_incitement"]),
    ("en", "I [pledge] to water the office plants every Monday.", ["pledge"]),
    ("ar", "نبايع [فريق الكرة] على الفوز في البطولة", ["pledge"]),
]
_SVG = (
    "<svg xmlns='http://www.w3.org/2000/svg' width='320' height='180'><rect width='320' height='180' fill='#2d6a4f'/>"
    "<circle cx='90' cy='90' r='60' fill='#f4a261'/><rect x='170' y='40' width='120' height='100' fill='#e76f51'/></svg>"
)
DEMO_IMAGE = "data:image/svg+xml;base64," + base64.b64encode(_SVG.encode()).decode()


def _evidence(text: str) -> tuple[str, list[dict]]:
    s = text.index("[")
    t = text.index("]") - 1
    clean = text.replace("[", "").replace("]", "")
    return clean, [{"start": s, "end": t, "text": clean[s:t], "why": "lexicon match (synthetic)"}]


def seed_cases(store: Store, n: int = 30, seed: int = 7, platform: str = "demo", accounts: int | None = None,
               now: datetime | None = None) -> list[int]:
    """Create n posts by a handful of accounts, each with a detection and an open case; return case ids."""
    rng = random.Random(seed)
    now = now or utcnow()
    n_acc = accounts or max(3, n // 4)
    accs = [AccountRecord(platform, f"acc{seed}-{i}", handle=f"user_{seed}_{i}", display_name=f"Demo user {i}",
                          status="suspended" if i % 7 == 6 else "active") for i in range(n_acc)]
    with store.transaction() as tx:
        upsert_accounts(tx, accs)
    posts, dets = [], []
    for i in range(n):
        lang, raw, cats = TEXTS[i % len(TEXTS)]
        text, ev = _evidence(raw)
        media = [MediaRecord(url=DEMO_IMAGE, kind="photo")] if i % 3 == 0 else []
        posts.append(PostRecord(platform, f"p{seed}-{i}", accs[i % n_acc].external_id, text, lang=lang,
                                created_at=now - timedelta(minutes=rng.randint(1, 4000)), media=media))
        dets.append((f"p{seed}-{i}", round(rng.uniform(0.55, 0.99), 3), cats, ev))
    with store.transaction() as tx:
        upsert_posts(tx, posts)
    ids = store.post_ids(platform, [p.external_id for p in posts])
    with store.transaction() as tx:
        add_detections(tx, [{"post_id": ids[e], "model_version": MODEL_VERSION, "score": s, "categories": c,
                               "evidence": {"spans": ev}} for e, s, c, ev in dets])
    cases = []
    for (ext, score, cats, _), post in zip(dets, posts, strict=True):
        acc_i = int(post.account_external_id.rsplit("-", 1)[1])
        risk = account_risk(prior_removals=acc_i % 3, suspended=accs[acc_i].status == "suspended")
        prio = case_priority(PrioritySignals(model_score=score, categories=tuple(cats), account_risk=risk,
                                             hash_matches=1 if rng.random() < 0.1 else 0))
        cases.append({"subject_kind": "post", "subject_id": ids[ext], "reason": "detector flagged (synthetic)",
                      "priority": prio, "detection_id": detection_id(store, ids[ext], MODEL_VERSION),
                      "details": {"model_score": score}})
    with store.transaction() as tx:
        return open_cases_for(tx, cases, actor="demo")


def seed_copies(store: Store, reposts: int = 5, copies: int = 3, seed: int = 11, platform: str = "demo",
                now: datetime | None = None) -> dict[str, list[int]]:
    """One harmless original post with `reposts` retweets ("RT @…: " + its text, repost_of set) and `copies`
    copy-pasted duplicates, each by its own account, each with a detection and an open case, plus one unrelated
    post. Returns case ids: {"original", "reposts", "copies", "other"}."""
    now = now or utcnow()
    n = 2 + reposts + copies
    accs = [AccountRecord(platform, f"cp{seed}-{i}", handle=f"copier_{seed}_{i}") for i in range(n)]
    with store.transaction() as tx:
        upsert_accounts(tx, accs)
    text = "Join the marching band this weekend, everyone is welcome at the park by the river (synthetic)."
    posts = [PostRecord(platform, f"o{seed}", accs[0].external_id, text, lang="en", created_at=now - timedelta(hours=5))]
    for i in range(reposts):
        posts.append(PostRecord(platform, f"rt{seed}-{i}", accs[1 + i].external_id, f"RT @{accs[0].handle}: {text}",
                                lang="en", created_at=now - timedelta(hours=4, minutes=i), repost_of=f"o{seed}"))
    for i in range(copies):
        posts.append(PostRecord(platform, f"cp{seed}-{i}", accs[1 + reposts + i].external_id, text.replace("!", ""),
                                lang="en", created_at=now - timedelta(hours=3, minutes=i)))
    posts.append(PostRecord(platform, f"x{seed}", accs[-1].external_id,
                            "Присоединяйтесь к хору в субботу вечером, ждём всех (synthetic)", lang="ru",
                            created_at=now - timedelta(hours=2)))
    with store.transaction() as tx:
        upsert_posts(tx, posts)
    ids = store.post_ids(platform, [p.external_id for p in posts])
    with store.transaction() as tx:
        add_detections(tx, [{"post_id": ids[p.external_id], "model_version": MODEL_VERSION, "score": 0.9,
                               "categories": ["recruitment"], "evidence": {"spans": []}} for p in posts])
    with store.transaction() as tx:
        cids = open_cases_for(tx, [{"subject_kind": "post", "subject_id": ids[p.external_id],
                                      "reason": "detector flagged (synthetic)", "priority": 50.0,
                                      "detection_id": detection_id(store, ids[p.external_id], MODEL_VERSION)}
                                     for p in posts], actor="demo")
    return {"original": cids[:1], "reposts": cids[1:1 + reposts], "copies": cids[1 + reposts:1 + reposts + copies],
            "other": cids[-1:]}
