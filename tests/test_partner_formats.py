"""Round trips with the partners' own code: python-threatexchange's file reader and writer, its CLI's
`dataset --csv`, its TAT client's record type, and OASIS stix2-validator --strict."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from basira.signals.exchange import BankEntry, ReadReport, get_format, read_entries, write_entries
from basira.signals.text import TextMinHashSignal

te_signal = pytest.importorskip("threatexchange.signal_type.signal_base")
from threatexchange.exchanges.impl.file_api import (  # noqa: E402
    FileCollaborationConfig,
    LocalFileSignalExchangeAPI,
)
from threatexchange.extensions.vpdq.vpdq import VPDQSignal  # noqa: E402
from threatexchange.extensions.vpdq.vpdq_util import json_to_vpdq  # noqa: E402
from threatexchange.signal_type import md5, raw_text, sha256, url, url_md5  # noqa: E402
from threatexchange.signal_type.pdq.signal import PdqSignal  # noqa: E402

TE_TYPES = {c.get_name(): c for c in (PdqSignal, md5.VideoMD5Signal, sha256.VideoSHA256Signal,
                                       raw_text.RawTextSignal, url.URLSignal, url_md5.UrlMD5Signal, VPDQSignal)}
BIN = Path(sys.executable).parent


def te_read(path: Path) -> set[tuple[str, str]]:
    """What threatexchange's own local-file exchange reads from a file, each value validated by its type."""
    api = LocalFileSignalExchangeAPI(FileCollaborationConfig(name="t", filename=str(path)))
    got = set()
    for delta in api.fetch_iter([], None):
        for st, sig in delta.updates:
            got.add((st, TE_TYPES[st].validate_signal_str(sig) if st in TE_TYPES else sig))
    return got


def te_cli(home: Path, *args: str) -> str:
    """Run the threatexchange CLI with its state (~/.threatexchange) under `home`; its stdout."""
    env = {**os.environ, "HOME": str(home)}
    p = subprocess.run([str(BIN / "threatexchange"), *args], env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    return p.stdout


def te_home(tmp_path: Path, name: str) -> Path:
    home = tmp_path / name
    home.mkdir()
    te_cli(home, "config", "extensions", "add", "threatexchange.extensions.vpdq.manifest")
    return home


def te_rewrite(tmp_path: Path, path: Path) -> str:
    """threatexchange fetches a local signal file and writes its signals out (`dataset -P -S`: its own
    `<type> <signal>` writer; its LocalFileSignalExchangeAPI.report_opinion cannot write in 1.2.17: it opens
    the file with mode "wta")."""
    home = te_home(tmp_path, "te_" + path.stem)
    te_cli(home, "config", "collab", "edit", "local_file", "--create", "--filename", str(path), "partner")
    te_cli(home, "fetch")
    return te_cli(home, "dataset", "-P", "-S")


def _same(st: str, a: str, b: str) -> bool:
    if st == "vpdq":  # compare frames, as threatexchange parses them (its float formatting differs from ours)
        fa, fb = json_to_vpdq(a), json_to_vpdq(b)
        return [(f.pdq_hex, f.quality, round(f.timestamp, 2)) for f in fa] == \
               [(f.pdq_hex, f.quality, round(f.timestamp, 2)) for f in fb]
    return a == b


def basira_entries() -> list[BankEntry]:
    vpdq = VPDQSignal.get_examples()[0]
    return [
        BankEntry.make("pdq", PdqSignal.get_examples()[0]),
        BankEntry.make("md5", "cab08b36195edb1a1231d2d09fa450e0"),
        BankEntry.make("sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        BankEntry.make("vpdq", vpdq),
        BankEntry.make("url", "https://WWW.Example.org/Join?utm_source=x&b=2"),  # not canonical: kept as is
        BankEntry.make("url_md5", url_md5.UrlMD5Signal.hash_from_str("https://example.org/a")),
        BankEntry.make("raw_text", "synthetic test phrase, not real content"),
    ]


def test_basira_to_threatexchange_to_basira(tmp_path):
    es = basira_entries()
    extra = [BankEntry.make("text_minhash", TextMinHashSignal.hash_text("another synthetic test phrase")),
             BankEntry.make("sha512", "ab" * 64)]
    out = tmp_path / "bank.txt"
    rep = write_entries(out, [*es, *extra], "threatexchange")
    assert rep.written == 7 and dict(rep.skipped) == {"text_minhash": 1, "sha512": 1}  # counted, not hidden
    names = {"md5": "video_md5", "sha256": "video_sha256"}
    got = te_read(out)
    assert {st for st, _ in got} == {names.get(e.signal_type, e.signal_type) for e in es}
    for e in es:
        st = names.get(e.signal_type, e.signal_type)
        assert any(s == st and _same(st, v, e.signal) for s, v in got), e
    assert ("url", "https://WWW.Example.org/Join?utm_source=x&b=2") in got  # as received, not canonicalised
    # ... and back: threatexchange writes the file, Basira reads every item with its value.
    back_file = tmp_path / "back.txt"
    back_file.write_text(te_rewrite(tmp_path, out))
    back = read_entries(back_file, "threatexchange")
    assert sorted((e.signal_type, e.signal) for e in back) == sorted((e.signal_type, e.signal) for e in es)


def test_threatexchange_to_basira_to_threatexchange(tmp_path):
    # threatexchange's own sample data (every signal type it has), written by its CLI.
    home = te_home(tmp_path, "sample")
    src = tmp_path / "from_te.txt"
    src.write_text(te_cli(home, "dataset", "-P", "-S"))
    signals = te_read(src)
    lines = [ln for ln in src.read_text().splitlines() if ln.strip()]
    report = ReadReport()
    entries = read_entries(src, report=report)
    unknown = [ln for ln in lines if ln.split(" ", 1)[0] not in TE_TYPES]
    assert unknown and len(report.skipped) == len(unknown)  # trend_query: reported per line, the file imports
    assert "line" in report.skipped[0] and "'trend_query'" in report.skipped[0]
    assert len(entries) == len(lines) - len(unknown)
    assert {e.signal_type for e in entries} == {"pdq", "md5", "sha256", "raw_text", "url", "url_md5", "vpdq"}
    out = tmp_path / "to_te.te"
    assert write_entries(out, entries).written == len(entries)
    got = te_read(out)
    shared = [(st, sig) for st, sig in signals if st in TE_TYPES]
    assert len(got) == len(shared)
    for st, sig in shared:
        assert any(s == st and _same(st, v, sig) for s, v in got), (st, sig)


def test_threatexchange_cli_dataset_csv_imports(tmp_path):
    home = te_home(tmp_path, "csv")
    csv_out = tmp_path / "dataset.csv"
    csv_out.write_text(te_cli(home, "dataset", "-P", "--csv"))
    assert csv_out.read_text().startswith("signal_type,signal_str,collab,category,tags")
    rows = csv_out.read_text().splitlines()[1:]
    report = ReadReport()
    got = read_entries(csv_out, report=report)
    assert len(got) + len(report.skipped) == len(rows) and len(report.skipped) == 1  # trend_query
    sample = {(st, sig) for st, sig in te_read_text(te_cli(home, "dataset", "-P", "-S"), tmp_path)
              if st in TE_TYPES}
    names = {"md5": "video_md5", "sha256": "video_sha256"}
    for e in got:
        assert any(s == names.get(e.signal_type, e.signal_type) and _same(s, v, e.signal) for s, v in sample)
    assert all(e.labels["collab"] and e.labels["te_category"] for e in got)
    # Written back as threatexchange CSV: the same rows (category and collab kept).
    again = get_format("threatexchange-csv").write(got)
    assert sorted(again.splitlines()[1:]) == sorted(r for r in rows if not r.startswith("trend_query"))


def te_read_text(text: str, tmp_path: Path) -> set[tuple[str, str]]:
    p = tmp_path / "te_text.txt"
    p.write_text(text)
    return te_read(p)


# --- Tech Against Terrorism ---------------------------------------------------------------------------------

def tat_page() -> dict:
    # Synthetic hashes (digests of made-up strings), shaped as TAT's hash-list v2 documents its records.
    import hashlib

    def rec(i, alg, digest, deleted=False, ideology="islamist", ft="mp4"):
        return {"hash_digest": digest, "algorithm": alg, "ideology": ideology, "file_type": ft,
                "deleted": deleted, "updated_on": 1764547200.0 + i, "created_on": "2025-12-01T00:00:00Z",
                "id": 1000 + i}

    return {"count": 6, "next": None, "previous": None, "checkpoint": "1764547205.0,1005", "results": [
        rec(0, "MD5", hashlib.md5(b"synthetic-0").hexdigest()),
        rec(1, "SHA256", hashlib.sha256(b"synthetic-1").hexdigest(), ideology="far-right"),
        rec(2, "SHA512", hashlib.sha512(b"synthetic-2").hexdigest()),
        rec(3, "PDQ", PdqSignal.get_examples()[2], ft="jpg"),
        rec(4, "MD5", hashlib.md5(b"synthetic-4").hexdigest(), deleted=True),
        rec(5, "TLSH", "T1" + "A" * 70),  # an algorithm Basira has no type for: reported, skipped
    ]}


def test_tat_v2_page_imports_withdraws_and_exports_ids(store, tmp_path):
    from threatexchange.exchanges.clients.techagainstterrorism.api import TATHashListEntry

    from basira import banks as repo

    page = tat_page()
    p = tmp_path / "tat_page.json"
    p.write_text(json.dumps(page))
    report = ReadReport()
    entries = read_entries(p, report=report)
    assert [e.signal_type for e in entries] == ["md5", "sha256", "sha512", "pdq", "md5"]
    assert len(report.skipped) == 1 and "results[5]" in report.skipped[0] and "TLSH" in report.skipped[0]
    assert entries[4].deleted and entries[0].external_id == "1000" and entries[1].labels["ideology"] == "far-right"

    with store.transaction() as tx:
        repo.create_bank(tx, "tat")
        assert repo.add_entries(tx, "tat", entries, on_deleted="withdraw") == (4, 1)  # 4 live; the deleted one is stored withdrawn
    m = repo.load_matcher(store)
    assert m.match("sha512", page["results"][2]["hash_digest"]).matched
    withdrawn = m.match("md5", page["results"][4]["hash_digest"])
    assert not withdrawn.matched and withdrawn.disabled  # deleted=true: never a positive

    out = tmp_path / "out.json"
    assert write_entries(out, repo.entries_of(store, "tat"), "tat-json").written == 5
    back = json.loads(out.read_text())
    by_id = {r["id"]: r for r in back["results"]}
    for r in page["results"][:5]:
        assert by_id[r["id"]] == r  # every field, TAT's id and deleted included
        TATHashListEntry(**by_id[r["id"]])  # threatexchange's TAT client takes the record as it is
    assert back["count"] == 5


def test_tat_csv_with_sha512_and_deleted():
    import hashlib

    d512 = hashlib.sha512(b"synthetic").hexdigest()
    text = ("hash_digest,algorithm,ideology,file_type,deleted,updated_on,id\n"
            f"{d512},SHA512,islamist,pdf,false,1764547200.5,77\n"
            f"{hashlib.md5(b'x').hexdigest()},MD5,far-right,mp4,true,1764547201,78\n"
            "abc,SSDEEP,islamist,pdf,false,1,79\n")
    report = ReadReport()
    a, b = get_format("tat-csv").read(text, report=report)
    assert a.signal_type == "sha512" and a.signal == d512 and a.external_id == "77" and not a.deleted
    assert b.deleted and report.skipped == ["line 4: unknown algorithm 'SSDEEP', skipped"]
    again = list(get_format("tat-csv").read(get_format("tat-csv").write([a, b])))
    assert [(e.signal, e.external_id, e.deleted) for e in again] == [(a.signal, "77", False), (b.signal, "78", True)]


# --- STIX 2.1 -----------------------------------------------------------------------------------------------

def _validate_strict(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "stix2_validator"), "--strict", "--version", "2.1", str(path)],
                          capture_output=True, text=True, timeout=300)


def test_stix_export_is_strict_valid_deterministic_and_lossless(store, tmp_path):
    from basira import banks as repo

    with store.transaction() as tx:
        repo.create_bank(tx, "b")
    t = datetime(2026, 10, 1, tzinfo=UTC)
    es = [*basira_entries(),
          BankEntry.make("text_minhash", TextMinHashSignal.hash_text("another synthetic test phrase")),
          BankEntry.make("sha512", "ab" * 64)]
    for n, e in enumerate(es):
        e.added_at, e.labels, e.external_id = t, {"entity": "Synthetic Group", "n": str(n)}, f"x-{n}"
    es[1].opinion = "disputed"
    with store.transaction() as tx:
        repo.add_entries(tx, "b", es)
        repo.add_entries(tx, "b", [BankEntry.make("md5", es[1].signal, deleted=True)], on_deleted="withdraw")

    a, b = tmp_path / "a.stix.json", tmp_path / "b.stix.json"
    ra = write_entries(a, repo.entries_of(store, "b"))
    write_entries(b, repo.entries_of(store, "b"))
    assert ra.written == len(es) == 9 and ra.withdrawn == 1  # one indicator per item, no more, no fewer
    assert a.read_bytes() == b.read_bytes()  # same ids, same created: a consumer sees no change
    res = _validate_strict(a)
    assert res.returncode == 0, res.stdout + res.stderr
    doc = json.loads(a.read_text())
    inds = [o for o in doc["objects"] if o["type"] == "indicator"]
    assert len(inds) == 9 and all(o["name"] and not any(k.startswith("x_") for k in o) for o in inds)
    assert {o["type"] for o in doc["objects"]} == {"identity", "extension-definition", "indicator"}

    back = read_entries(a)
    assert [(e.signal_type, e.signal, e.labels, e.opinion, e.external_id, e.deleted) for e in back] == \
           [(e.signal_type, e.signal, e.labels, e.opinion, e.external_id, e.signal_type == "md5") for e in es]


def test_stix_reads_misp_compound_patterns_and_observed_data(tmp_path):
    import hashlib

    m = hashlib.md5(b"synthetic").hexdigest()
    s = hashlib.sha256(b"synthetic").hexdigest()
    bundle = {"type": "bundle", "id": "bundle--6d7c4e0a-4f1e-4c7e-9b55-0a1f2b3c4d5e", "objects": [
        {"type": "indicator", "spec_version": "2.1", "id": "indicator--1b2c3d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d",
         "created": "2025-01-01T00:00:00.000Z", "modified": "2025-01-01T00:00:00.000Z",
         "pattern": f"[file:name = 'synthetic.mp4' AND file:hashes.MD5 = '{m}']", "pattern_type": "stix",
         "valid_from": "2025-01-01T00:00:00Z",
         "labels": ['misp:type="filename|md5"', 'misp:category="Payload delivery"', 'misp:to_ids="True"']},
        {"type": "observed-data", "spec_version": "2.1", "id": "observed-data--2b3c4d5e-6f70-4b8c-9dae-1f2a3b4c5d6e",
         "created": "2025-01-01T00:00:00.000Z", "modified": "2025-01-01T00:00:00.000Z",
         "first_observed": "2025-01-01T00:00:00Z", "last_observed": "2025-01-01T00:00:00Z",
         "number_observed": 1, "object_refs": ["file--3c4d5e6f-7081-4c9d-8eaf-2a3b4c5d6e7f",
                                               "url--4d5e6f70-8192-4dae-9fb0-3b4c5d6e7f80"]},
        {"type": "file", "spec_version": "2.1", "id": "file--3c4d5e6f-7081-4c9d-8eaf-2a3b4c5d6e7f",
         "name": "synthetic.jpg", "hashes": {"SHA-256": s, "SHA-1": "0" * 40}},
        {"type": "url", "spec_version": "2.1", "id": "url--4d5e6f70-8192-4dae-9fb0-3b4c5d6e7f80",
         "value": "http://Example.org/x"},
        {"type": "indicator", "spec_version": "2.1", "id": "indicator--5e6f7081-92a3-4ebf-8c01-4c5d6e7f8091",
         "created": "2025-01-01T00:00:00.000Z", "modified": "2025-01-01T00:00:00.000Z",
         "pattern": "[ipv4-addr:value = '192.0.2.1']", "pattern_type": "stix", "valid_from": "2025-01-01T00:00:00Z"},
    ]}
    report = ReadReport()
    got = list(get_format("stix").read(json.dumps(bundle), report=report))
    assert [(e.signal_type, e.signal) for e in got] == [("md5", m), ("sha256", s), ("url", "http://Example.org/x")]
    assert got[0].labels == {"file_name": "synthetic.mp4", "misp:type": "filename|md5",
                             "misp:category": "Payload delivery", "misp:to_ids": "True"}
    assert got[1].labels == {"file_name": "synthetic.jpg"}
    assert len(report.skipped) == 2  # the SHA-1 (no such Basira type) and the IP indicator: said, not silent
    # Written out again, the MISP tags stay machine tags a MISP-reading consumer parses back apart.
    ind = next(o for o in json.loads(get_format("stix").write(got[:1]))["objects"] if o["type"] == "indicator")
    assert 'misp:category="Payload delivery"' in ind["labels"] and "file_name:synthetic.mp4" in ind["labels"]
    del ind["extensions"]
    (again,) = get_format("stix").read(json.dumps({"type": "bundle", "id": bundle["id"], "objects": [ind]}))
    assert again.labels == got[0].labels


def test_urls_kept_as_received_matched_canonically_and_url_md5_as_threatexchange_hashes():
    from basira.signals.banks import Bank, BankItem, Matcher, PostContent, match_posts
    from basira.signals.url import threatexchange_url_md5

    for u in ["https://developers.facebook.com/docs/threat-exchange/reference/apis/", "HTTP://Example.ORG/a?b=1#",
              "example.org/x", "https://t.me/SomeChannel/12?", "ftp://x.example/%20y"]:
        assert threatexchange_url_md5(u) == url_md5.UrlMD5Signal.hash_from_str(u), u
    raw = "https://WWW.Example.org/Join/?utm_source=x"
    m = Matcher([Bank("b")], [
        BankItem(1, "b", "url", raw),
        BankItem(2, "b", "url_md5", url_md5.UrlMD5Signal.hash_from_str("https://t.me/SomeChannel")),
        BankItem(3, "b", "raw_text", "synthetic phrase shared by a partner for this test"),
    ])
    assert m.items[1].signal == raw  # stored as received
    found = match_posts(m, [PostContent(7, "Synthetic phrase shared by a partner for this test!",
                                        ["http://example.org/Join", "https://t.me/SomeChannel"])])
    hits = {(where, r.matches[0].item_id) for where, r in found[7]}
    assert hits == {("url:0", 1), ("url:1", 2), ("text", 3)}


def test_cli_import_reports_skipped_lines_and_export_counts_what_it_left_out(tmp_path, db_url):
    from typer.testing import CliRunner

    from basira.cli import app

    r = CliRunner()
    src = tmp_path / "partner.txt"
    pdq = PdqSignal.get_examples()[3]
    src.write_text(f"pdq {pdq}\ntrend_query {{}}\nvideo_md5 cab08b36195edb1a1231d2d09fa450e0\n")
    assert r.invoke(app, ["banks", "create", "p", "--db", db_url]).exit_code == 0
    res = r.invoke(app, ["banks", "import", "p", str(src), "--db", db_url])
    assert res.exit_code == 0, res.output
    assert "line 2: unknown signal type 'trend_query', skipped" in res.output
    assert "3 read" not in res.output and "2 read, 2 added, 0 withdrawn, 1 skipped" in res.output
    tat = tmp_path / "tat.csv"
    tat.write_text("hash_digest,algorithm,deleted,id\n" + "ab" * 64 + ",SHA512,false,9\n"
                   "cab08b36195edb1a1231d2d09fa450e0,MD5,true,10\n")
    res = r.invoke(app, ["banks", "import", "p", str(tat), "--db", db_url])
    assert "2 read, 1 added, 1 withdrawn, 0 skipped" in res.output, res.output
    out = tmp_path / "out.txt"
    res = r.invoke(app, ["banks", "export", "p", str(out), "--db", db_url])
    assert res.exit_code == 0 and out.read_text() == f"pdq {pdq}\n"
    assert ("wrote 1 items; 1 withdrawn items left out (the format cannot mark them deleted); left out (no such "
            "signal type in this format): 1 sha512") in res.output
    bad = tmp_path / "bad.txt"
    bad.write_text(f"pdq {pdq}\npdq nothex\n")
    res = r.invoke(app, ["banks", "import", "p", str(bad), "--db", db_url])
    assert res.exit_code == 2 and "bad.txt:2: field 'signal': not a PDQ hash" in res.output and "Traceback" not in res.output
