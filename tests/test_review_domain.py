"""Pure review logic: priority, the decision state machine, policy catalogue, webhook signing, safe display."""

from datetime import UTC, datetime, timedelta

import pytest

from basira.cases.priority import PrioritySignals, account_risk, case_priority, combined_confidence
from basira.review import webhooks
from basira.review.auth import LoginLimiter, hash_password, token_digest, verify_password
from basira.review.content import highlight, strip_controls
from basira.review.decisions import (
    Actor,
    CaseState,
    DecisionError,
    DecisionRecord,
    plan_appeal,
    plan_decision,
    plan_undo,
)
from basira.review.policy import CatalogueError, load_catalogue, parse_catalogue
from basira.review.roles import UserError

T0 = datetime(2026, 1, 1, tzinfo=UTC)
ALICE = Actor(1, "alice", "reviewer")
BOB = Actor(2, "bob", "reviewer")
LEGAL = Actor(3, "lena", "legal")
REMOVE_REASON = ("remove", "refer")


def rec(id_, action, user, at=T0, stage="review", prev="open", undone=None):
    return DecisionRecord(id_, stage, action, "X", user, at, at + timedelta(seconds=60), prev, undone)


def test_priority_orders_by_confidence_severity_and_risk():
    low = case_priority(PrioritySignals(model_score=0.6, categories=("propaganda_brand",)))
    threat = case_priority(PrioritySignals(model_score=0.6, categories=("threat_incitement",)))
    matched = case_priority(PrioritySignals(model_score=0.6, categories=("propaganda_brand",), hash_matches=1))
    risky = case_priority(PrioritySignals(model_score=0.6, categories=("propaganda_brand",), account_risk=1.0))
    assert low < threat and low < matched and low < risky
    assert combined_confidence([0.5, 0.5]) == pytest.approx(0.75)
    assert account_risk(0) == 0 and account_risk(1) == 0.5 and account_risk(10) > 0.99
    assert account_risk(0, returning=True) == 0.6


def test_priority_formula_is_monotone_in_every_input_spread_and_tie_free():
    from dataclasses import replace

    from basira.cases.priority import components, tie_breaker

    base = PrioritySignals(model_score=0.9, categories=("propaganda_brand",), followers=50, age_hours=10.0)
    p0 = case_priority(base)
    for change in ({"model_score": 0.99}, {"hash_matches": 1}, {"categories": ("threat_incitement",)},
                   {"account_risk": 0.5}, {"community_risk": 0.5}, {"followers": 5000}, {"reposts": 40},
                   {"group_size": 20, "group_accounts": 20}, {"age_hours": 1.0}):
        assert case_priority(replace(base, **change)) > p0, change
    # Scores crowded near 1.000 still rank (the log-odds half of the evidence term).
    assert case_priority(replace(base, model_score=0.9999)) > case_priority(replace(base, model_score=0.999)) + 0.5
    # Many copies by one account weigh less than the same number by distinct accounts.
    assert (case_priority(replace(base, group_size=20, group_accounts=1))
            < case_priority(replace(base, group_size=20, group_accounts=20)))
    # The range: from nothing to everything, 0–100, every term in [0, 1].
    low, high = PrioritySignals(), PrioritySignals(1.0, (), 3, ("threat_incitement",), 1.0, 1.0, 10**7, 10**6,
                                                   5000, 5000, 0.0)
    assert case_priority(low) < 10 and case_priority(high) > 99.9 and case_priority(high) < 100.001
    assert all(0 <= v <= 1 for v in components(high).values())
    # Ties only for identical inputs; the tie-breaker depends on the inputs alone.
    assert case_priority(replace(base)) == p0 and tie_breaker(base) == tie_breaker(replace(base))
    many = {case_priority(replace(base, followers=f, age_hours=h)) for f in range(50) for h in (1.0, 2.0)}
    assert len(many) == 100


def test_decide_claim_and_stage_rules():
    s = CaseState(1, "open")
    t = plan_decision(s, ALICE, "remove", REMOVE_REASON, T0)
    assert (t.new_status, t.stage, t.platform_action, t.closes) == ("decided", "review", "remove", True)
    assert t.final_at == T0 + timedelta(seconds=60)
    esc = plan_decision(s, ALICE, "escalate", ("escalate",), T0)
    assert esc.new_status == "escalated" and esc.platform_action is None and not esc.closes
    with pytest.raises(DecisionError) as e:
        plan_decision(s, ALICE, "remove", ("keep",), T0)
    assert e.value.kind == "invalid"
    with pytest.raises(DecisionError):
        plan_decision(s, ALICE, "remove", None, T0)
    with pytest.raises(DecisionError) as e:
        plan_decision(s, LEGAL, "remove", REMOVE_REASON, T0)  # legal decides escalations, not first review
    assert e.value.kind == "forbidden"
    claimed = CaseState(1, "open", claimed_by=BOB.user_id, claim_expires=T0 + timedelta(minutes=5))
    with pytest.raises(DecisionError) as e:
        plan_decision(claimed, ALICE, "remove", REMOVE_REASON, T0)
    assert e.value.kind == "conflict"
    expired = CaseState(1, "open", claimed_by=BOB.user_id, claim_expires=T0 - timedelta(seconds=1))
    assert plan_decision(expired, ALICE, "remove", REMOVE_REASON, T0).new_status == "decided"
    escalated = CaseState(1, "escalated", decisions=(rec(1, "escalate", ALICE.user_id),))
    assert plan_decision(escalated, LEGAL, "refer", REMOVE_REASON, T0).platform_action == "refer"
    with pytest.raises(DecisionError):
        plan_decision(escalated, ALICE, "remove", REMOVE_REASON, T0)
    with pytest.raises(DecisionError):
        plan_decision(CaseState(1, "decided"), ALICE, "remove", REMOVE_REASON, T0)


def test_undo_window():
    s = CaseState(1, "decided", decisions=(rec(7, "remove", ALICE.user_id),))
    assert plan_undo(s, 7, ALICE, T0 + timedelta(seconds=59)).new_status == "open"
    for actor, at, kind in ((BOB, T0, "forbidden"), (ALICE, T0 + timedelta(seconds=60), "conflict")):
        with pytest.raises(DecisionError) as e:
            plan_undo(s, 7, actor, at)
        assert e.value.kind == kind
    with pytest.raises(DecisionError):
        plan_undo(s, 99, ALICE, T0)
    undone = CaseState(1, "open", decisions=(rec(7, "remove", ALICE.user_id, undone=T0),))
    with pytest.raises(DecisionError):
        plan_undo(undone, 7, ALICE, T0)


def test_appeal_rules():
    s = CaseState(1, "decided", decisions=(rec(7, "remove", ALICE.user_id),))
    with pytest.raises(DecisionError):
        plan_appeal(s, T0 + timedelta(seconds=30))  # not final yet
    assert plan_appeal(s, T0 + timedelta(seconds=61)).id == 7
    kept = CaseState(1, "decided", decisions=(rec(7, "keep", ALICE.user_id),))
    with pytest.raises(DecisionError):
        plan_appeal(kept, T0 + timedelta(hours=1))
    with pytest.raises(DecisionError):
        plan_appeal(CaseState(1, "decided", decisions=s.decisions, has_appeal=True), T0 + timedelta(hours=1))
    appealed = CaseState(1, "appealed", decisions=s.decisions)
    with pytest.raises(DecisionError) as e:
        plan_decision(appealed, ALICE, "overturn", ("overturn",), T0 + timedelta(hours=1))
    assert e.value.kind == "forbidden"
    t = plan_decision(appealed, BOB, "overturn", ("overturn",), T0 + timedelta(hours=1))
    assert (t.new_status, t.stage, t.platform_action) == ("closed", "appeal", "restore")


def test_policy_catalogue(tmp_path):
    cat = load_catalogue()
    assert cat.get("TVEC-1.1").actions == ("remove", "refer")
    assert {r.code for r in cat.for_action("keep")} >= {"OK-1"}
    with pytest.raises(CatalogueError, match="duplicate"):
        parse_catalogue('[[reason]]\ncode="A"\nactions=["remove"]\n[[reason]]\ncode="A"\nactions=["keep"]')
    with pytest.raises(CatalogueError, match="no reason backs"):
        parse_catalogue('[[reason]]\ncode="A"\nactions=["remove"]')
    with pytest.raises(CatalogueError, match="actions"):
        parse_catalogue('[[reason]]\ncode="A"\nactions=["delete_everything"]')
    custom = tmp_path / "p.toml"
    custom.write_text("".join(f'[[reason]]\ncode="C-{a}"\nactions=["{a}"]\n' for a in
                              ("remove", "keep", "escalate", "refer", "uphold", "overturn")))
    assert load_catalogue(custom).get("C-keep").actions == ("keep",)


def test_webhook_signature_and_backoff():
    body = webhooks.payload_bytes({"b": 1, "a": "نص"})
    header = webhooks.sign("s3cret", body, 1_700_000_000)
    assert webhooks.verify_signature("s3cret", body, header, 1_700_000_010)
    assert not webhooks.verify_signature("s3cret", body + b" ", header, 1_700_000_010)
    assert not webhooks.verify_signature("other", body, header, 1_700_000_010)
    assert not webhooks.verify_signature("s3cret", body, header, 1_700_001_000)  # replayed later
    assert not webhooks.verify_signature("s3cret", body, "garbage", 1_700_000_000)
    # A hostile header: a non-ASCII or surrogate MAC, a non-ASCII or huge timestamp — False, never a TypeError.
    for bad in ("t=1700000000,v1=é" + "0" * 63, "t=1700000000,v1=\udc80", "t=١٧٠٠٠٠٠٠٠٠,v1=00",
                "t=" + "9" * 5000 + ",v1=00", "t=1700000000,v1", ""):
        assert not webhooks.verify_signature("s3cret", body, bad, 1_700_000_010), bad
    assert [webhooks.backoff(i) for i in (1, 2, 3)] == [10, 30, 90] and webhooks.backoff(20) == 3600
    assert webhooks.idempotency_key(5, "remove") == webhooks.idempotency_key(5, "remove")
    assert webhooks.idempotency_key(5, "remove") != webhooks.idempotency_key(6, "remove")
    fail = webhooks.AttemptOutcome(False, 500, "HTTP 500")
    assert webhooks.next_state(1, fail, T0) == ("pending", T0 + timedelta(seconds=10))
    assert webhooks.next_state(webhooks.MAX_ATTEMPTS, fail, T0) == ("failed", None)
    assert webhooks.next_state(1, webhooks.AttemptOutcome(True, 200, None), T0) == ("delivered", None)


def test_highlight_and_controls():
    text = "abc \u202eevil\u202c def"
    segs, truncated = highlight(text, [{"start": 0, "end": 3, "why": "w"}, {"start": 1, "end": 2, "why": "v"},
                                       {"start": 50, "end": 60}, {"bad": 1}])
    assert not truncated
    assert segs[0].text == "abc" and segs[0].why == "w; v"
    assert any(s.control and s.text == "[RLO]" for s in segs)
    assert "".join(s.text for s in segs if not s.control) == text.replace("\u202e", "").replace("\u202c", "")
    segs, truncated = highlight("x" * 30_000)
    assert truncated and sum(len(s.text) for s in segs) == 20_000
    assert strip_controls("a\u2067b\nc") == "a[RLI]b c"


def test_passwords_tokens_and_login_limiter():
    h = hash_password("a long enough password")
    assert verify_password(h, "a long enough password") and not verify_password(h, "wrong")
    assert not verify_password(None, "anything at all")
    with pytest.raises(UserError):
        hash_password("short")
    assert len(token_digest("bsr_x")) == 64
    now = [0.0]
    lim = LoginLimiter(clock=lambda: now[0], max_failures=3, window=60)
    for _ in range(3):
        assert lim.blocked("u:a", "ip:1") == 0
        lim.failed("u:a", "ip:1")
    assert lim.blocked("u:a") > 0 and lim.blocked("ip:1") > 0 and lim.blocked("u:b") == 0
    now[0] = 61
    assert lim.blocked("u:a", "ip:1") == 0


def test_wording_uses_the_right_article():
    from basira.review.decisions import _a

    assert (_a("admin"), _a("appeal"), _a("reviewer"), _a("escalation")) == ("an", "an", "a", "an")
    with pytest.raises(DecisionError, match="^an analyst may not decide"):
        plan_decision(CaseState(1, "open"), Actor(9, "ann", "analyst"), "remove", ("remove",), T0)
