"""Review workflow over a real database (SQLite and PostgreSQL): claims, decisions, undo, appeals, audit, webhooks."""

import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa

from basira.review import webhooks
from basira.review.auth import hash_password
from basira.review.decisions import Actor, DecisionError
from basira.review.demo import seed_cases
from basira.review.queue import QueueFilter
from basira.review.records import DeliveryCounts
from basira.review.service import ReviewService, ReviewSettings
from basira.store import open_store
from basira.store.models import Event

HASH = hash_password("a long enough password")  # once: argon2 is deliberately slow


class Clock:
    def __init__(self) -> None:
        self.t = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += timedelta(seconds=seconds)


def make(store, **settings):
    clock = Clock()
    svc = ReviewService(store, ReviewSettings(**settings), clock=clock)
    people = {}
    for name, role in (("alice", "reviewer"), ("bob", "reviewer"), ("lena", "legal"), ("owner", "platform")):
        people[name] = Actor(svc.repo.add_user(name, HASH, role), name, role)
    return svc, clock, people


def test_full_lifecycle_and_audit(store):
    ids = seed_cases(store, 6)
    svc, clock, p = make(store)
    rows, total = svc.queue(QueueFilter())
    assert total == 6 and [r.priority for r in rows] == sorted((r.priority for r in rows), reverse=True)
    cid = svc.claim_next(p["alice"], QueueFilter())
    assert cid == rows[0].id
    with pytest.raises(DecisionError, match="claimed by another"):
        svc.decide(cid, p["bob"], "remove", "TVEC-1.1")
    d = svc.decide(cid, p["alice"], "remove", "TVEC-1.1", "clear recruitment")
    assert d.status == "decided"
    with pytest.raises(DecisionError):
        svc.decide(cid, p["alice"], "keep", "OK-1")
    # undo inside the window, decide again
    clock.advance(30)
    svc.undo(d.decision_id, p["alice"])
    assert svc.case(cid).case["status"] == "open"
    d2 = svc.decide(cid, p["alice"], "remove", "TVEC-1.1")
    clock.advance(61)
    with pytest.raises(DecisionError, match="final"):
        svc.undo(d2.decision_id, p["alice"])
    # appeal by the owner's platform; alice may not decide it, bob may
    svc.file_appeal(cid, "this was a quote from the news", "owner")
    assert svc.case(cid).case["status"] == "appealed"
    assert svc.claim_next(p["alice"], QueueFilter(statuses=("appealed",))) is None
    with pytest.raises(DecisionError, match="did not decide"):
        svc.decide(cid, p["alice"], "overturn", "APP-OVERTURN")
    assert svc.claim_next(p["bob"], QueueFilter(statuses=("appealed",))) == cid
    svc.decide(cid, p["bob"], "overturn", "APP-OVERTURN")
    assert svc.case(cid).case["status"] == "closed"
    # the view is read by attribute only: a dict-style read (the old shape) fails loudly, not quietly
    view = svc.case(cid)
    with pytest.raises(TypeError):
        view["case"]  # noqa: B018
    assert not hasattr(view, "get") and view.to_dict()["case"]["status"] == "closed"
    account = svc.repo.account_detail(view.account["id"])
    with pytest.raises(TypeError):
        account["posts"]  # noqa: B018
    # escalation goes to legal
    other = next(i for i in ids if i != cid)
    svc.decide(other, p["bob"], "escalate", "ESC-1")
    with pytest.raises(DecisionError):
        svc.decide(other, p["alice"], "remove", "TVEC-1.1")
    assert svc.claim_next(p["lena"], QueueFilter(statuses=("escalated",))) == other
    svc.decide(other, p["lena"], "refer", "LAW-1")
    kinds = [e["kind"] for e in store.iter_events()]
    for k in ("review.claimed", "review.decided", "review.undone", "review.appeal_filed", "user.added"):
        assert k in kinds
    assert store.verify_events() == (True, None)
    with store.write() as conn:  # edit one entry: verify finds it
        conn.execute(sa.update(Event.__table__).where(Event.__table__.c.kind == "review.undone")
                     .values(payload={"decision_id": 0}))
    ok, bad = store.verify_events()
    assert not ok and bad is not None


def test_audit_verify_cli_detects_deleted_entry(db_url):
    from typer.testing import CliRunner

    from basira.cli import app

    s = open_store(db_url)
    seed_cases(s, 3)
    s.close()
    runner = CliRunner()
    r = runner.invoke(app, ["users", "add", "admin1", "--role", "admin", "--db", db_url, "--password-stdin"],
                      input="a long enough password\n")
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["audit", "verify", "--db", db_url])
    assert r.exit_code == 0 and "intact" in r.output
    head = r.output.strip().split()[-1]
    s = open_store(db_url)
    with s.write() as conn:
        conn.execute(sa.delete(Event.__table__).where(Event.__table__.c.id == 2))
    s.close()
    r = runner.invoke(app, ["audit", "verify", "--db", db_url])
    assert r.exit_code == 1 and "broken at entry 3" in r.output
    r = runner.invoke(app, ["users", "disable", "admin1", "--db", db_url])
    assert r.exit_code == 1 and "last active admin" in r.output  # nobody could manage users afterwards
    r = runner.invoke(app, ["users", "add", "admin2", "--role", "admin", "--db", db_url, "--password-stdin"],
                      input="a long enough password\n")
    assert r.exit_code == 0
    s = open_store(db_url)
    with s.write() as conn:  # delete the newest entry: only --head catches a shortened tail
        conn.execute(sa.delete(Event.__table__).where(Event.__table__.c.id >= 2))
    s.close()
    r = runner.invoke(app, ["audit", "verify", "--db", db_url, "--head", head])
    assert r.exit_code == 1 and "shortened or replaced" in r.output


def test_audit_verify_head_tells_growth_from_truncation(db_url):
    from typer.testing import CliRunner

    from basira.cli import app

    s = open_store(db_url)
    seed_cases(s, 2)
    s.close()
    runner = CliRunner()
    head = runner.invoke(app, ["audit", "verify", "--db", db_url]).output.strip().split()[-1]
    r = runner.invoke(app, ["audit", "verify", "--db", db_url, "--head", head])
    assert r.exit_code == 0 and "still the head" in r.output
    for name in ("ann", "ben"):  # legitimate growth: two more entries
        assert runner.invoke(app, ["users", "add", name, "--role", "admin", "--db", db_url, "--password-stdin"],
                             input="a long enough password\n").exit_code == 0
    r = runner.invoke(app, ["audit", "verify", "--db", db_url, "--head", head])
    assert r.exit_code == 0 and "2 entries appended since" in r.output, r.output
    grown = r.output.split("head ")[1].split(";")[0]
    s = open_store(db_url)
    with s.write() as conn:  # the tail deleted, then a new entry appended: the chain is intact but not ours
        conn.execute(sa.delete(Event.__table__).where(Event.__table__.c.hash == grown))
    s.close()
    assert runner.invoke(app, ["users", "add", "cat", "--role", "admin", "--db", db_url, "--password-stdin"],
                         input="a long enough password\n").exit_code == 0
    assert runner.invoke(app, ["audit", "verify", "--db", db_url]).exit_code == 0
    r = runner.invoke(app, ["audit", "verify", "--db", db_url, "--head", grown])
    assert r.exit_code == 1 and "shortened or replaced" in r.output
    assert runner.invoke(app, ["audit", "verify", "--db", db_url, "--head", head]).exit_code == 0
    assert runner.invoke(app, ["audit", "verify", "--db", db_url, "--head", "x\x00"]).exit_code == 2


def test_users_enable_and_disable_cli(db_url):
    from typer.testing import CliRunner

    from basira.cli import app

    runner = CliRunner()
    for name in ("root", "alice"):
        role = "admin" if name == "root" else "reviewer"
        assert runner.invoke(app, ["users", "add", name, "--role", role, "--db", db_url, "--password-stdin"],
                             input="a long enough password\n").exit_code == 0
    assert runner.invoke(app, ["users", "disable", "alice", "--db", db_url]).exit_code == 0
    assert "alice\treviewer\tdisabled" in runner.invoke(app, ["users", "list", "--db", db_url]).output
    r = runner.invoke(app, ["users", "enable", "alice", "--db", db_url])
    assert r.exit_code == 0 and "enabled alice" in r.output
    assert "alice\treviewer\tactive" in runner.invoke(app, ["users", "list", "--db", db_url]).output
    assert runner.invoke(app, ["users", "enable", "nobody", "--db", db_url]).exit_code == 2
    assert runner.invoke(app, ["users", "disable", "root", "--db", db_url]).exit_code == 1


def test_concurrent_claims_never_share_a_case(db_url):
    store = open_store(db_url)
    seed_cases(store, 24)
    svc, _, _ = make(store)
    actors = [Actor(svc.repo.add_user(f"r{i}", HASH, "reviewer"), f"r{i}", "reviewer") for i in range(6)]
    claimed: list[tuple[str, int]] = []
    decided: list[int] = []
    lock = threading.Lock()

    def work(a):
        s = ReviewService(open_store(db_url, migrate_schema=False))
        while True:
            cid = s.claim_next(a, QueueFilter())
            if cid is None:
                break
            with lock:
                claimed.append((a.username, cid))
            s.decide(cid, a, "keep", "OK-3")
            with lock:
                decided.append(cid)
        s.store.close()

    threads = [threading.Thread(target=work, args=(a,)) for a in actors]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(decided) == sorted({c for _, c in claimed}) and len(decided) == 24
    with store.read() as conn:
        n = conn.execute(sa.text("SELECT count(*) FROM decisions WHERE undone_at IS NULL")).scalar()
    assert n == 24
    assert store.verify_events() == (True, None)
    store.close()


class Receiver:
    """A local webhook receiver on 127.0.0.1 that fails the first `fail` requests."""

    def __init__(self, secret: str, fail: int = 0):
        self.secret, self.fail, self.got, self.seen_keys = secret, fail, [], set()
        outer = self

        class H(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                ok = webhooks.verify_signature(outer.secret, body, self.headers["X-Basira-Signature"],
                                               int(datetime.now(UTC).timestamp()), tolerance=10**9)
                if outer.fail > 0:
                    outer.fail -= 1
                    self.send_response(503)
                elif not ok:
                    self.send_response(401)
                else:
                    outer.got.append((self.headers["Idempotency-Key"], json.loads(body)))
                    self.send_response(200)
                self.end_headers()

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


def test_webhooks_signed_retried_and_cancelled_by_undo(store):
    rx = Receiver("whsec", fail=2)
    try:
        seed_cases(store, 3)
        svc, clock, p = make(store, webhook_url=rx.url, webhook_secret="whsec")
        a = p["alice"]
        c1 = svc.claim_next(a, QueueFilter())
        d1 = svc.decide(c1, a, "remove", "TVEC-1.2")
        c2 = svc.claim_next(a, QueueFilter())
        d2 = svc.decide(c2, a, "keep", "OK-1")
        assert svc.deliver_due() == DeliveryCounts(0, 0, 0)  # undo window still open
        svc.undo(d2.decision_id, a)
        clock.advance(61)
        assert svc.deliver_due().pending == 1  # 503
        clock.advance(5)
        assert svc.deliver_due().pending == 0  # not due again yet (backoff 10 s)
        clock.advance(10)
        svc.deliver_due()  # second 503
        clock.advance(30)
        assert svc.deliver_due().delivered == 1
        assert len(rx.got) == 1
        key, payload = rx.got[0]
        assert key == webhooks.idempotency_key(d1.decision_id, "remove") == payload["idempotency_key"]
        assert payload["action"] == "remove" and payload["case_id"] == c1 and payload["platform"] == "demo"
        deliveries = svc.case(c1).deliveries
        assert deliveries[0]["status"] == "delivered" and deliveries[0]["attempts"] == 3
        assert [w["status"] for w in svc.case(c2).deliveries] == ["cancelled"]
        clock.advance(3600)
        assert svc.deliver_due().delivered == 0  # delivered once
        assert store.verify_events() == (True, None)
    finally:
        rx.close()


def test_webhook_gives_up_then_admin_retries(store):
    seed_cases(store, 1)
    svc, clock, p = make(store, webhook_url="http://127.0.0.1:9/unreachable", webhook_secret="k")
    cid = svc.claim_next(p["alice"], QueueFilter())
    svc.decide(cid, p["alice"], "remove", "TVEC-1.1")
    clock.advance(61)
    for _ in range(webhooks.MAX_ATTEMPTS):
        svc.deliver_due()
        clock.advance(webhooks.BACKOFF_CAP + 1)
    w = svc.case(cid).deliveries[0]
    assert w["status"] == "failed" and w["attempts"] == webhooks.MAX_ATTEMPTS and w["last_error"]
    assert svc.repo.retry_delivery(w["id"], "admin", clock())
    assert svc.case(cid).deliveries[0]["status"] == "pending"


def test_review_tables_restored_on_a_database_migrated_without_them(db_url):
    from basira.review.repository import REVIEW_TABLES, ensure_review_tables

    store = open_store(db_url)
    with store.write() as conn:
        for t in reversed(REVIEW_TABLES):
            t.drop(conn)
    svc = ReviewService(store)  # recreates them
    assert svc.repo.list_users() == [] and ensure_review_tables(store) == []
    store.close()


def test_reprioritize_uses_reach_risk_and_hash_matches_and_leaves_no_ties(store):
    from basira.cases.prioritize import explain, reprioritize
    from basira.store.models import Account, Case, Post
    from basira.store.network_models import Follow

    ids = seed_cases(store, 8)
    with store.write() as conn:  # the same score on every case: only the other inputs can rank them
        conn.execute(sa.update(Case).values(priority=90.0))
        accounts = list(conn.execute(sa.select(Account.id, Account.platform_id).order_by(Account.id)))
        rich = conn.execute(sa.select(Post.account_id).where(Post.id == sa.select(Case.subject_id).where(
            Case.id == ids[-1]).scalar_subquery())).scalar()
        for a in accounts:
            if a.id != rich:
                conn.execute(sa.insert(Follow).values(platform_id=a.platform_id, source_id=a.id, target_id=rich))
    before = {r.id: r for r in ReviewService(store).queue(QueueFilter(), 50)[0]}
    assert len({r.priority for r in before.values()}) == 1
    assert reprioritize(store) == 8 and reprioritize(store) == 0  # a second run changes nothing
    rows = {r.id: r for r in ReviewService(store).queue(QueueFilter(), 50)[0]}
    assert len({r.priority for r in rows.values()}) == 8  # no ties
    x = explain(store, ids[-1])
    assert x.inputs["followers"] == len(accounts) - 1 and x.terms["reach"] > 0
    assert abs(x.priority - rows[ids[-1]].priority) < 1e-9
    assert all(0 <= r.priority <= 100.001 for r in rows.values())


def test_copies_form_one_group_decided_together_undone_together_and_split(store):
    import sqlalchemy as sa

    from basira.cases.groups import assign_groups
    from basira.cases.prioritize import reprioritize
    from basira.review.demo import seed_copies
    from basira.review.groups import group_of_case
    from basira.store.models import Case
    from basira.store.review_models import WebhookDelivery

    ids = seed_copies(store, reposts=5, copies=3)
    svc, clock, p = make(store, webhook_url="http://127.0.0.1:9/hook", webhook_secret="s")
    out = assign_groups(store, clock())
    assert out.to_dict() == {"seen": 10, "joined": 8, "groups_new": 1, "merged": 0}  # original + 5 retweets + 3 copies; the other alone
    assert assign_groups(store, clock()).seen == 0  # nothing new: nothing done
    reprioritize(store)
    rows, total = svc.queue(QueueFilter())
    assert total == 2  # the group's lead and the unrelated post
    lead = next(r for r in rows if r.id == ids["original"][0])
    assert (lead.group_size, lead.group_accounts) == (9, 9)
    assert lead.priority > next(r for r in rows if r.id == ids["other"][0]).priority
    g = group_of_case(store, ids["reposts"][0])
    assert g.lead_case_id == ids["original"][0] and g.kind == "repost" and g.reposts == 5

    # The groups keep growing: later copies (same text, new accounts) join at the next assignment, and the
    # second unrelated post meets the first one (same text): a second group.
    more = seed_copies(store, reposts=0, copies=1, seed=12)
    assert assign_groups(store, clock()).to_dict() == {"seen": 3, "joined": 3, "groups_new": 1, "merged": 0}
    assert group_of_case(store, more["copies"][0]).id == g.id
    assert group_of_case(store, more["original"][0]).id == g.id
    assert group_of_case(store, more["other"][0]).lead_case_id == ids["other"][0]
    assert svc.queue(QueueFilter())[1] == 2

    # Split one member off (the lead cannot be): it is a case of its own again; splitting is logged.
    assert svc.split_group(g.id, [ids["copies"][2], ids["original"][0]], p["alice"]) == [ids["copies"][2]]
    assert svc.queue(QueueFilter())[1] == 3
    assert assign_groups(store, clock()).seen == 0  # a split case is not grouped again
    # A decision on the lead applies to every member: own decision, audit entry and webhook each.
    d = svc.decide(ids["original"][0], p["alice"], "remove", "TVEC-1.1")
    members = {m.case_id for m in d.members}
    assert members == {*ids["reposts"], *ids["copies"][:2], more["copies"][0], more["original"][0]}
    with store.read() as conn:
        st = dict(conn.execute(sa.select(Case.id, Case.status).where(Case.id.in_([*members, ids["copies"][2]]))).all())
        hooks = conn.execute(sa.select(WebhookDelivery.case_id).where(WebhookDelivery.status == "pending")).scalars().all()
    assert all(st[m] == "decided" for m in members) and st[ids["copies"][2]] == "open"
    assert set(hooks) == members | {ids["original"][0]}
    decided = [e for e in store.iter_events() if e["kind"] == "review.decided"]
    assert {int(e["subject"].split(":")[1]) for e in decided} == members | {ids["original"][0]}
    # Undoing the group decision undoes every member's.
    clock.advance(10)
    svc.undo(d.decision_id, p["alice"])
    with store.read() as conn:
        st = dict(conn.execute(sa.select(Case.id, Case.status).where(Case.id.in_(members))).all())
        live = conn.execute(sa.select(sa.func.count()).where(WebhookDelivery.status == "pending")).scalar()
    assert set(st.values()) == {"open"} and live == 0
    assert group_of_case(store, ids["original"][0]).status == "open"
    assert store.verify_events() == (True, None)
