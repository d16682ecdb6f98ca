"""Evidence packages: export, signature and hash verification, tampering, chain of custody (SQLite + PostgreSQL)."""

from __future__ import annotations

import hashlib
import os
import stat
from datetime import UTC, datetime

import orjson
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from basira.cases.network import open_network_case
from basira.cli import app
from basira.compliance import evidence, signing
from basira.compliance.demo import seed_decisions
from basira.compliance.evidence_data import SubjectError
from basira.review.demo import seed_cases

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def seeded(store):
    """Demo cases (some posts carry an embedded image) with decisions and appeals."""
    seed_cases(store, n=24, seed=5, accounts=4, now=T0)
    seed_decisions(store, seed=5, share=1.0, appeal_share=0.5, start=T0)
    return store


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    d = tmp_path_factory.mktemp("keys")
    paths = signing.generate_keypair(d)
    other = signing.generate_keypair(d / "other")
    return paths, other


def _case_with_media_and_decisions(store) -> int:
    with store.read() as conn:
        return conn.execute(sa.text(
            "SELECT c.id FROM cases c JOIN media m ON m.post_id = c.subject_id JOIN decisions d ON d.case_id = c.id "
            "JOIN appeals a ON a.case_id = c.id WHERE c.subject_kind = 'post' ORDER BY c.id LIMIT 1")).scalar_one()


def test_exported_case_package_verifies_and_holds_the_case(seeded, keys, tmp_path):
    store = seeded
    cid = _case_with_media_and_decisions(store)
    key = signing.load_private_key(keys[0].private)
    out = tmp_path / "case.zip"
    r = evidence.export_package(store, f"case:{cid}", out, key, exporter="inspector")
    entries = evidence.read_package(out)
    v = evidence.verify_entries(entries, signing.load_public_key(keys[0].public))
    assert v.ok and v.problems == [] and v.warnings == [] and v.key_source == "given"

    comp = orjson.loads(entries.get("compliance.json", b"{}"))
    with store.read() as conn:
        post = conn.execute(sa.text("SELECT p.id, p.text, p.account_id FROM posts p JOIN cases c "
                                    "ON c.subject_id = p.id WHERE c.id = :c"), {"c": cid}).one()
        n_dec = conn.execute(sa.text("SELECT count(*) FROM decisions WHERE case_id = :c"), {"c": cid}).scalar_one()
        subjects = {f"case:{cid}", f"post:{post.id}", f"account:{post.account_id}",
                    *(f"preserved:{x['id']}" for x in comp.get("preserved_items", [])),
                    *(f"order:{x['id']}" for x in comp.get("removal_orders", [])),
                    *(f"complaint:{x['id']}" for x in comp.get("complaints", []))}
        n_ev = conn.execute(sa.text("SELECT count(*) FROM events WHERE subject IN :s AND kind <> 'evidence.exported'")
                            .bindparams(sa.bindparam("s", expanding=True)), {"s": sorted(subjects)}).scalar_one()
    posts = orjson.loads(entries["content/posts.json"])
    assert [(p["id"], p["text"]) for p in posts] == [(post.id, post.text)]
    media = orjson.loads(entries["content/media.json"])
    assert media and media[0]["file"] in entries  # the demo's data: URL image travels inside the package
    assert hashlib.sha256(entries[media[0]["file"]]).hexdigest() == media[0]["file_sha256"]
    dec = orjson.loads(entries["decisions.json"])
    assert len(dec["decisions"]) == n_dec >= 2 and len(dec["appeals"]) == 1
    assert [c["id"] for c in dec["cases"]] == [cid]
    assert set(dec["policy_reasons"]) == {d["reason_code"] for d in dec["decisions"]}
    assert all(r and r["title"] for r in dec["policy_reasons"].values())
    audit = [orjson.loads(x) for x in entries["audit/events.jsonl"].splitlines()]
    assert len(audit) == n_ev and all(e["subject"] in subjects for e in audit)
    assert {"case.opened", "review.decided", "review.appeal_filed"} <= {e["kind"] for e in audit}
    # Every excerpt entry carries the hash the live chain has for it.
    assert evidence.check_against_chain(entries, {e["id"]: e["hash"] for e in store.iter_events()}) == []

    # Chain of custody: the export is logged, naming the manifest's hash, and the chain stays intact.
    manifest = orjson.loads(entries["manifest.json"])
    assert manifest["subject"]["ref"] == f"case:{cid}" and manifest["exporter"] == "inspector"
    assert {f["path"] for f in manifest["files"]} == set(entries) - {"manifest.json", "manifest.sig"}
    logged = [e for e in store.iter_events() if e["kind"] == "evidence.exported"]
    assert len(logged) == 1 and logged[0]["id"] == r.event_id
    assert logged[0]["actor"] == "inspector" and logged[0]["subject"] == f"case:{cid}"
    assert logged[0]["payload"]["manifest_sha256"] == hashlib.sha256(entries["manifest.json"]).hexdigest()
    assert store.verify_events() == (True, None)


def test_every_changed_byte_added_or_removed_file_is_named(seeded, keys, tmp_path):
    store = seeded
    key = signing.load_private_key(keys[0].private)
    pub = signing.load_public_key(keys[0].public)
    evidence.export_package(store, "account:1", tmp_path / "acc.zip", key, exporter="t")
    entries = evidence.read_package(tmp_path / "acc.zip")
    assert evidence.verify_entries(entries, pub).ok
    for name, data in entries.items():
        i = len(data) // 2
        changed = {**entries, name: data[:i] + bytes([data[i] ^ 0x01]) + data[i + 1:]}
        v = evidence.verify_entries(changed, pub)
        assert not v.ok, name
        if name in ("manifest.json", "manifest.sig"):
            assert any(p.file == "manifest.sig" and p.what == "signature" for p in v.problems), name
        else:
            assert [(p.file, p.what) for p in v.problems] == [(name, "modified")], name
    v = evidence.verify_entries({**entries, "content/extra.txt": b"planted"}, pub)
    assert [(p.file, p.what) for p in v.problems] == [("content/extra.txt", "added")]
    gone = dict(entries)
    del gone["detections.json"]
    v = evidence.verify_entries(gone, pub)
    assert [(p.file, p.what) for p in v.problems] == [("detections.json", "missing")]
    nosig = dict(entries)
    del nosig["manifest.sig"]
    assert [(p.file, p.what) for p in evidence.verify_entries(nosig, pub).problems] == [("manifest.sig", "missing")]


def test_swapped_key_and_re_signed_package_are_rejected(seeded, keys, tmp_path):
    store = seeded
    key = signing.load_private_key(keys[0].private)
    pub = signing.load_public_key(keys[0].public)
    evidence.export_package(store, "account:2", tmp_path / "p.zip", key, exporter="t")
    entries = evidence.read_package(tmp_path / "p.zip")
    other_pub = signing.load_public_key(keys[1].public)
    v = evidence.verify_entries(entries, other_pub)
    assert [(p.file, p.what) for p in v.problems] == [("manifest.sig", "signature")]

    # A forger edits a post, rewrites the manifest with fresh hashes and their own key, and re-signs it.
    forged = dict(entries)
    forged["content/posts.json"] = entries["content/posts.json"].replace(b"Join", b"Jain", 1)
    m = orjson.loads(entries["manifest.json"])
    forger = signing.load_private_key(keys[1].private)
    m["public_key"] = signing.public_pem(forger.public_key()).decode()
    m["public_key_sha256"] = signing.fingerprint(forger.public_key())
    for f in m["files"]:
        f["sha256"] = hashlib.sha256(forged[f["path"]]).hexdigest()
        f["size"] = len(forged[f["path"]])
    forged["manifest.json"] = orjson.dumps(m)
    forged["manifest.sig"] = signing.sign(forger, forged["manifest.json"])
    alone = evidence.verify_entries(forged)  # integrity only: consistent with itself, so it passes...
    assert alone.ok and alone.key_source == "embedded" and "origin" in alone.warnings[0]
    v = evidence.verify_entries(forged, pub)  # ...but not with the exporter's real key
    assert [(p.file, p.what) for p in v.problems] == [("manifest.sig", "signature")]


def test_audit_excerpt_entries_are_self_checking(seeded, keys, tmp_path):
    key = signing.load_private_key(keys[0].private)
    evidence.export_package(seeded, "account:1", tmp_path / "a", key, exporter="t")  # a directory package
    entries = evidence.read_package(tmp_path / "a")
    lines = entries["audit/events.jsonl"].splitlines()
    e = orjson.loads(lines[0])
    e["actor"] = "someone-else"
    bad = b"\n".join([orjson.dumps(e, option=orjson.OPT_SORT_KEYS), *lines[1:]]) + b"\n"
    probs = evidence.audit_problems(bad)
    assert len(probs) == 1 and f"entry {e['id']}" in probs[0].detail
    assert evidence.audit_problems(entries["audit/events.jsonl"]) == []


def test_account_and_community_packages_hold_every_post_and_case(seeded, keys, tmp_path):
    store = seeded
    key = signing.load_private_key(keys[0].private)
    with store.read() as conn:
        accs = conn.execute(sa.text("SELECT id FROM accounts ORDER BY id")).scalars().all()
        handle = conn.execute(sa.text("SELECT handle FROM accounts WHERE id = :a"), {"a": accs[0]}).scalar_one()
    cid, _ = open_network_case(store, "community", accs[0], "community 3: test", details={
        "community": 3, "size": 2, "members": [{"account_id": accs[0]}, {"account_id": accs[1]}]})
    for ref, members in ((f"account:@{handle}", accs[:1]), ("community:3", accs[:2]), (f"case:{cid}", accs[:2])):
        out = tmp_path / f"{ref.replace(':', '_').replace('@', '')}.zip"
        evidence.export_package(store, ref, out, key, exporter="t")
        entries = evidence.read_package(out)
        with store.read() as conn:
            want_posts = set(conn.execute(sa.select(sa.text("id")).select_from(sa.text("posts")).where(
                sa.text("account_id IN :a").bindparams(sa.bindparam("a", expanding=True))), {"a": members}).scalars())
            want_cases = set(conn.execute(sa.text(
                "SELECT id FROM cases WHERE subject_kind = 'post' AND subject_id IN "
                "(SELECT id FROM posts WHERE account_id IN :a)").bindparams(sa.bindparam("a", expanding=True)),
                {"a": members}).scalars())
        want_cases.add(cid)  # the community case is anchored on accs[0]: part of its history too
        assert {p["id"] for p in orjson.loads(entries["content/posts.json"])} == want_posts, ref
        assert {c["id"] for c in orjson.loads(entries["decisions.json"])["cases"]} == want_cases, ref
        assert {a["id"] for a in orjson.loads(entries["metadata.json"])["accounts"]} == set(members), ref
        assert evidence.verify_entries(entries).ok
    for bad in ("case:999999", "account:@nobody", "community:77", "post:1", "case:x"):
        with pytest.raises(SubjectError):
            evidence.export_package(store, bad, tmp_path / "never.zip", key, exporter="t")
    assert not (tmp_path / "never.zip").exists()


def test_cli_keygen_export_verify_exit_codes(db_url, tmp_path):
    from basira.store import open_store

    with open_store(db_url) as store:
        seed_cases(store, n=6, seed=9, now=T0)
    runner = CliRunner()
    r = runner.invoke(app, ["evidence", "keygen", "--out", str(tmp_path / "k")])
    assert r.exit_code == 0, r.output
    priv, pub = tmp_path / "k" / signing.PRIVATE_NAME, tmp_path / "k" / signing.PUBLIC_NAME
    assert stat.S_IMODE(os.stat(priv).st_mode) == 0o600
    assert runner.invoke(app, ["evidence", "keygen", "--out", str(tmp_path / "k")]).exit_code == 2  # no overwrite
    pkg = tmp_path / "case1.zip"
    r = runner.invoke(app, ["evidence", "export", "case:1", "--db", db_url, "--out", str(pkg), "--json"],
                      env={"BASIRA_SIGNING_KEY": str(priv)})
    assert r.exit_code == 0, r.output
    assert orjson.loads(r.stdout)["subject"] == "case:1"
    r = runner.invoke(app, ["evidence", "verify", str(pkg), "--public-key", str(pub), "--db", db_url,
                            "--verifier", "judge"])
    assert r.exit_code == 0 and "package intact" in r.stdout, r.output
    # Same package again: refused (evidence is never overwritten); no key; unknown case: all bad input.
    assert runner.invoke(app, ["evidence", "export", "case:1", "--db", db_url, "--out", str(pkg), "--key",
                               str(priv)]).exit_code == 2
    assert runner.invoke(app, ["evidence", "export", "case:1", "--db", db_url, "--out", str(tmp_path / "x.zip")],
                         env={"BASIRA_SIGNING_KEY": ""}).exit_code == 2
    r = runner.invoke(app, ["evidence", "export", "case:4242", "--db", db_url, "--out", str(tmp_path / "y.zip"),
                            "--key", str(priv)])
    assert r.exit_code == 2 and "no such case" in r.output
    assert runner.invoke(app, ["evidence", "verify", str(tmp_path / "missing.zip")]).exit_code == 2
    (tmp_path / "junk.zip").write_bytes(b"not a zip")
    assert runner.invoke(app, ["evidence", "verify", str(tmp_path / "junk.zip")]).exit_code == 2
    # Tamper with one file inside the zip: exit 1, the file named.
    import zipfile

    entries = evidence.read_package(pkg)
    entries["detections.json"] = entries["detections.json"].replace(b"0.", b"1.", 1)
    with zipfile.ZipFile(tmp_path / "tampered.zip", "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)
    r = runner.invoke(app, ["evidence", "verify", str(tmp_path / "tampered.zip"), "--public-key", str(pub),
                            "--db", db_url])
    assert r.exit_code == 1 and "detections.json: modified" in r.stdout, r.output
    with open_store(db_url) as store:
        kinds = [(e["kind"], e["actor"], e["payload"].get("ok")) for e in store.iter_events()
                 if e["kind"].startswith("evidence.")]
        assert store.verify_events() == (True, None)
    assert kinds == [("evidence.exported", kinds[0][1], None), ("evidence.verified", "judge", True),
                     ("evidence.verified", kinds[2][1], False)]


def test_package_carries_the_orders_complaints_and_preserved_copies_about_it(seeded, keys, tmp_path):
    from basira.compliance.service import ComplianceService

    store = seeded
    with store.read() as conn:
        post_id, ext, account_id = conn.execute(sa.text(
            "SELECT p.id, p.external_id, p.account_id FROM cases c JOIN posts p ON p.id = c.subject_id "
            "JOIN decisions d ON d.case_id = c.id WHERE c.subject_kind = 'post' AND d.action = 'keep' "
            "ORDER BY c.id LIMIT 1")).one()  # a post a reviewer kept, which an authority then orders removed
    t = [datetime(2026, 3, 5, 10, 0, tzinfo=UTC)]
    svc = ComplianceService(store, clock=lambda: t[0])
    oid = svc.receive({"authority": "Test Authority", "order_ref": "RO-1", "reasons": "terrorist content",
                       "targets": [f"post:demo:{ext}"]}, "api", "intake")
    t[0] = t[0].replace(minute=20)
    svc.execute(oid, "demo-legal")
    t[0] = t[0].replace(hour=14)
    complaint = svc.file_complaint(complainant="owner", grounds="satire", order_id=oid, post_id=post_id)
    key = signing.load_private_key(keys[0].private)
    evidence.export_package(store, f"account:{account_id}", tmp_path / "acc.zip", key, exporter="t")
    entries = evidence.read_package(tmp_path / "acc.zip")
    assert evidence.verify_entries(entries, signing.load_public_key(keys[0].public)).ok
    comp = orjson.loads(entries["compliance.json"])
    assert [o["order_ref"] for o in comp["removal_orders"]] == ["RO-1"]
    # No action sink is configured here, so the target is only recorded, never claimed removed.
    assert [(x["order_id"], x["post_id"], x["outcome"]) for x in comp["order_targets"]] == [(oid, post_id, "recorded")]
    assert [c["id"] for c in comp["complaints"]] == [complaint]
    assert any(p["post_id"] == post_id and p["order_id"] == oid for p in comp["preserved_items"])
    assert any(n["order_id"] == oid for n in comp["content_notices"])
    kinds = {(e["subject"], e["kind"]) for e in map(orjson.loads, entries["audit/events.jsonl"].splitlines())}
    assert (f"order:{oid}", "order.executed") in kinds
    dec = orjson.loads(entries["decisions.json"])
    assert any(d["stage"] == "order" and d["action"] == "remove" for d in dec["decisions"])
