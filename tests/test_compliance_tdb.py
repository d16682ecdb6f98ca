"""DSA statements of reasons against the Transparency Database's own rules (tests/tdb_rules.py; every statement
any test makes is checked there too, by tests/conftest.py), for every decision kind, platform, language and
media type; PUIDs unique per statement; and `basira report statements --submit` against a local fake of the
database's batch API."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from typer.testing import CliRunner

from basira.cases.manual import open_case_for
from basira.cli import app
from basira.compliance.report_data import statement_facts
from basira.compliance.statements import StatementFacts, content_language, statement_of_reasons
from basira.compliance.tdb_submit import SubmitError, submit_statements
from basira.ingest.records import AccountRecord, PostRecord
from basira.ingest.repository import upsert_accounts, upsert_posts
from basira.review.decisions import Actor
from basira.review.demo import seed_cases
from basira.review.policy import load_catalogue
from basira.review.service import ReviewService, ReviewSettings
from tests import tdb_rules

T = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
TOKEN = "tdb-test-token"


def facts(**kw) -> StatementFacts:
    base = dict(decision_id=7, case_id=3, stage="review", action="remove", reason_code="TVEC-1.1", decided_at=T,
                subject_kind="post", platform="telegram", puid="1487851422/46544", content_date=T - timedelta(days=2),
                lang="ar", media_kinds=(), detector=True)
    return StatementFacts(**{**base, **kw})


def test_the_checker_refuses_what_the_database_refuses():
    good = statement_of_reasons(facts(), load_catalogue())
    assert tdb_rules.check(good) == []
    broken = {  # what Basira used to send, one fault each
        "no content_date": {k: v for k, v in good.items() if k != "content_date"},
        "slash in puid": {**good, "puid": "1487851422/46544"},
        "X's in": {**good, "content_language": "IN"},
        "content before 2000": {**good, "content_date": "1999-12-31"},
        "no such content type": {**good, "content_type": ["CONTENT_TYPE_STICKER"]},
        "other without text": {**good, "content_type": ["CONTENT_TYPE_OTHER"]},
        "facts too long": {**good, "decision_facts": "x" * 5001},
        "no restriction": {k: v for k, v in good.items() if k != "decision_visibility"},
        "not a country": {**good, "territorial_scope": ["US"]},
        "no puid": {k: v for k, v in good.items() if k != "puid"},
        "bad date": {**good, "application_date": "20/11/2026"},
    }
    for why, s in broken.items():
        assert tdb_rules.check(s), why
    assert tdb_rules.check_batch([good, good])[0].startswith("puid: not unique")
    assert tdb_rules.check_batch([good] * 101)[0].startswith("statements: must have between 1 and 100")


MEDIA = ("photo", "video", "animated_gif", "voice_message", "video_message", "video_file", "audio_file", "sticker",
         "animation", "file", None)


@pytest.mark.parametrize("kind", ["post", "account", "community", "coordinated"])
def test_every_decision_kind_platform_language_and_media_type(kind):
    cat = load_catalogue()
    puids = set()
    n = 0
    for platform, ref in (("x", "1790000000000000001"), ("telegram", "1487851422/46544"), (None, None)):
        for lang in ("ar", "en", "ru", "in", "iw", "ji", "pt-BR", "zh-Hant", "fil", "und", "zxx", "qme", None):
            for stage in ("review", "escalation", "appeal", "order"):
                for when in (T - timedelta(hours=5), datetime(1970, 1, 1, tzinfo=UTC), None,
                             datetime(1999, 12, 31, 23, 0, tzinfo=UTC), T + timedelta(days=400)):
                    n += 1
                    f = facts(decision_id=n, subject_kind=kind, platform=platform, puid=ref, lang=lang, stage=stage,
                              content_date=when, media_kinds=MEDIA if kind == "post" else (),
                              order={"authority": "A" * 900, "order_ref": "R/" * 700, "legal_basis": "L" * 800}
                              if stage == "order" else None, network=kind in ("community", "coordinated"))
                    s = statement_of_reasons(f, cat)  # conftest checks it against the TDB rules
                    assert tdb_rules.check(s) == []
                    puids.add(s["puid"])
                    assert "2000-01-01" <= s["content_date"] <= s["application_date"]
    assert len(puids) == n  # one PUID per statement
    s = statement_of_reasons(facts(subject_kind=kind, media_kinds=MEDIA), cat)
    assert s["puid"] == f"telegram-{kind}-1487851422_46544-d7"
    if kind == "post":
        assert s["content_type"] == ["CONTENT_TYPE_AUDIO", "CONTENT_TYPE_IMAGE", "CONTENT_TYPE_OTHER",
                                     "CONTENT_TYPE_TEXT", "CONTENT_TYPE_VIDEO"]
        assert s["content_language"] == "AR"
    else:
        assert s["decision_account"] == "DECISION_ACCOUNT_SUSPENDED" and "content_language" not in s
    old = statement_of_reasons(facts(subject_kind=kind, content_date=datetime(1995, 3, 1, tzinfo=UTC)), cat)
    assert old["content_date"] == "2000-01-01"


def test_language_codes_as_the_database_wants_them():
    assert [content_language(x) for x in ("in", "iw", "ji", "IN", "pt-BR", "zh_Hant", "fil", "en", "und", "zxx",
                                          "", None, "xx")] == \
        ["ID", "HE", "YI", "ID", "PT", "ZH", "TL", "EN", None, None, None, None, None]


def flat(text: str) -> str:
    return " ".join(text.split())  # the console wraps long lines


def _remove(svc, case_id, actor):
    return svc.decide(case_id, actor, "remove", "TVEC-1.1").decision_id


def build_removals(store, n_posts=3):
    """Removals of posts, an account, a community and a coordinated group, and a post removed, undone and removed
    again. Returns (service, actor, {kind: decision ids})."""
    from basira.cases.network import open_network_case

    svc = ReviewService(store, ReviewSettings(secure_cookies=False, undo_seconds=3600), clock=lambda: T)
    uid = svc.add_user("rev", "a long enough password", "admin")
    actor = Actor(uid, "rev", "admin")
    post_cases = seed_cases(store, n_posts, now=T - timedelta(days=1))
    with store.transaction() as tx:
        upsert_accounts(tx, [AccountRecord("telegram", "channel1487851422", handle="chan",
                                             created_at=datetime(2019, 4, 2, tzinfo=UTC)),
                               AccountRecord("x", "42", handle="noone")])
    with store.transaction() as tx:
        upsert_posts(tx, [PostRecord("x", "9001", "42", "synthetic text", created_at=datetime(2021, 6, 1, tzinfo=UTC))])
    with store.read() as conn:
        import sqlalchemy as sa

        acc = dict(conn.execute(sa.text("SELECT external_id, id FROM accounts")).all())
    ids: dict[str, list[int]] = {"post": [], "account": [], "community": [], "coordinated": []}
    for cid in post_cases[:-1]:
        ids["post"].append(_remove(svc, cid, actor))
    again = post_cases[-1]
    first = _remove(svc, again, actor)
    svc.undo(first, actor)
    ids["post"].append(_remove(svc, again, actor))  # the re-removal after the undo
    with store.transaction() as tx:
        cid, _ = open_case_for(tx, "account", acc["channel1487851422"], "synthetic account case")
    ids["account"].append(_remove(svc, cid, actor))
    cid, _ = open_network_case(store, "community", acc["42"], "synthetic community case")
    ids["community"].append(_remove(svc, cid, actor))
    cid, _ = open_network_case(store, "coordinated", acc["channel1487851422"], "synthetic group case")
    ids["coordinated"].append(_remove(svc, cid, actor))
    return svc, actor, ids, first


def test_statements_from_the_store_for_every_kind_and_a_re_removal(store):
    svc, _, ids, undone = build_removals(store)
    cat = load_catalogue()
    found = statement_facts(store, start=T - timedelta(days=3), end=T + timedelta(days=1))
    assert sorted(f.decision_id for f in found) == sorted(i for v in ids.values() for i in v)
    statements = {f.decision_id: statement_of_reasons(f, cat) for f in found}
    assert tdb_rules.check_batch(list(statements.values())) == []
    (redo,) = [f for f in found if f.decision_id == ids["post"][-1]]
    (was,) = statement_facts(store, decision_id=undone)
    assert was.action == "undone" and was.puid == redo.puid  # the same post...
    assert statements[redo.decision_id]["puid"].endswith(f"-d{redo.decision_id}")  # ...a new PUID
    acc = statements[ids["account"][0]]
    assert acc["content_date"] == "2019-04-02" and acc["puid"].startswith("telegram-account-channel1487851422-d")
    com = statements[ids["community"][0]]  # no creation date: its earliest post
    assert com["content_date"] == "2021-06-01" and com["puid"].startswith("x-community-42-d")
    assert statements[ids["coordinated"][0]]["decision_account"] == "DECISION_ACCOUNT_SUSPENDED"


class FakeTDB(BaseHTTPRequestHandler):
    """The batch API as the Transparency Database answers it (StatementMultipleAPIController): a Bearer token,
    1-100 statements, every one valid or the call stores nothing, PUIDs unique within the call and the platform."""

    stored: dict[str, dict]
    calls: list[int]

    def do_POST(self):  # noqa: N802
        if self.path != "/api/v1/statements":
            return self._reply(404, {"message": "not found"})
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self._reply(401, {"message": "Unauthenticated."})
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        batch = body.get("statements")
        if not isinstance(batch, list) or not 1 <= len(batch) <= 100:
            return self._reply(422, {"message": "The statements field must have between 1 and 100 items.",
                                     "errors": {"statements": ["between 1 and 100"]}})
        self.calls.append(len(batch))
        errors = {}
        for i, s in enumerate(batch):
            problems = tdb_rules.check(s)
            if problems:
                errors[f"statement_{i}"] = {p.split(":", 1)[0]: [p] for p in problems}
        if errors:
            return self._reply(422, {"errors": errors})
        puids = [s["puid"] for s in batch]
        dups = sorted({p for p in puids if puids.count(p) > 1 or p in self.stored})
        if dups:
            msg = "The platform identifier(s) are not all unique within this call."
            return self._reply(422, {"message": msg, "errors": {"puid": [msg], "existing_puids": dups}})
        out = []
        for s in batch:
            self.stored[s["puid"]] = s
            out.append({**s, "uuid": str(uuid.uuid4())})
        return self._reply(201, {"statements": out})

    def _reply(self, status, body):
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args):
        pass


@pytest.fixture
def tdb():
    handler = type("Handler", (FakeTDB,), {"stored": {}, "calls": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/api/v1/statements", handler
    server.shutdown()
    server.server_close()


def test_cli_submits_in_batches_of_100_and_a_rerun_sends_nothing_twice(db_url, tdb, monkeypatch, tmp_path):
    from basira.store import open_store

    url, fake = tdb
    with open_store(db_url) as store:
        _, _, ids, _ = build_removals(store, n_posts=230)
    n = sum(len(v) for v in ids.values())
    args = ["report", "statements", "--from", "2026-11-15", "--to", "2026-11-21", "--db", db_url,
            "--out", str(tmp_path / "sor.jsonl"), "--submit", url, "--include-unconfirmed"]  # no action sink here
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 2 and "BASIRA_TDB_TOKEN" in flat(r.output)
    monkeypatch.setenv("BASIRA_TDB_TOKEN", TOKEN)
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    assert fake.calls == [100, 100, n - 200] and len(fake.stored) == n
    assert f"{n} accepted, 0 already there, 0 refused" in flat(r.output)
    r = CliRunner().invoke(app, args)  # the same period again: everything is already there
    assert r.exit_code == 0 and f"0 accepted, {n} already there" in flat(r.output) and len(fake.stored) == n
    monkeypatch.setenv("BASIRA_TDB_TOKEN", "wrong")
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 1 and "HTTP 401" in flat(r.output)


def test_a_refused_statement_is_reported_and_the_rest_of_its_batch_stored(tdb):
    url, fake = tdb
    cat = load_catalogue()
    good = [statement_of_reasons(facts(decision_id=i), cat) for i in range(1, 6)]
    bad = {**good[2], "puid": "bad/puid"}  # as Basira used to send Telegram posts
    res = submit_statements(url, TOKEN, [good[0], good[1], bad, good[3], good[4]], batch_size=3)
    assert res.accepted == 4 and res.already_submitted == 0 and [r["puid"] for r in res.rejected] == ["bad/puid"]
    assert "puid" in res.rejected[0]["errors"] and set(fake.stored) == {s["puid"] for s in good} - {good[2]["puid"]}
    assert set(res.uuids) == set(fake.stored)
    with pytest.raises(SubmitError, match="HTTP 404"):
        submit_statements(url.replace("statements", "nothing"), TOKEN, good)
    with pytest.raises(ValueError, match="batch size"):
        submit_statements(url, TOKEN, good, batch_size=101)
