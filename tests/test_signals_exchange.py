"""Exchange formats (threatexchange, basira-jsonl, TAT CSV, STIX 2.1) and incremental sync from a file and HTTP."""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from basira.signals.exchange import (
    BankEntry,
    ExchangeError,
    detect_format,
    get_format,
    read_entries,
    sync_source,
    write_entries,
)

PDQ = "f" * 16 + "0" * 16 + "a5" * 16
MD5 = "d41d8cd98f00b204e9800998ecf8427e"
SHA = hashlib.sha256(b"x").hexdigest()


def entries() -> list[BankEntry]:
    t = datetime(2026, 10, 1, tzinfo=UTC)
    return [
        BankEntry.make("pdq", PDQ, labels={"entity": "IS", "ideology": "jihadist", "content_type": "image"},
                       source="tat", added_at=t),
        BankEntry.make("md5", MD5, labels={"entity": "AQ"}, source="gifct", added_at=t),
        BankEntry.make("sha256", SHA, source="own"),
        BankEntry.make("url", "https://www.example.org/a?utm_source=z", labels={"behaviour": "recruitment"}),
    ]


@pytest.mark.parametrize("fmt,ext", [("basira-jsonl", "jsonl"), ("tat-csv", "csv"), ("stix", "stix.json"),
                                     ("threatexchange", "txt")])
def test_round_trip(tmp_path, fmt, ext):
    p = tmp_path / f"bank.{ext}"
    n = write_entries(p, entries(), fmt).written
    back = read_entries(p)  # detected
    assert n == 4 and len(back) == 4
    assert [(e.signal_type, e.signal) for e in back] == [(e.signal_type, e.signal) for e in entries()]
    if fmt != "threatexchange":  # the plain signal file carries no labels
        assert back[0].labels["entity"] == "IS" and back[3].labels == {"behaviour": "recruitment"}
    if fmt in ("basira-jsonl", "tat-csv"):
        assert back[0].added_at == datetime(2026, 10, 1, tzinfo=UTC) and back[1].source == "gifct"


def test_threatexchange_file_names_and_errors(tmp_path):
    text = f"# HMA bank export\npdq {PDQ}\nvideo_md5 {MD5.upper()}\n\nurl example.com/x\n"
    got = list(get_format("threatexchange").read(text))
    assert [e.signal_type for e in got] == ["pdq", "md5", "url"] and got[1].signal == MD5
    with pytest.raises(ExchangeError, match="line 2"):
        list(get_format("threatexchange").read(f"pdq {PDQ}\npdq nothex\n"))


def test_tat_csv_with_its_column_names():
    text = f"hash_digest,algorithm,ideology,group,file_type\n{MD5},MD5,far-right,Atomwaffen,video\n"
    (e,) = get_format("tat-csv").read(text)
    assert e.signal_type == "md5" and e.labels == {"ideology": "far-right", "entity": "Atomwaffen",
                                                   "content_type": "video"}
    with pytest.raises(ExchangeError, match="needs 'hash' and 'type'"):
        list(get_format("tat-csv").read("a,b\n1,2\n"))
    assert detect_format("x.csv", text).name == "tat-csv"


def test_stix_reads_foreign_indicators_and_skips_others():
    import stix2

    ind = stix2.Indicator(pattern=f"[file:hashes.'SHA-256' = '{SHA}']", pattern_type="stix",
                          labels=["ideology:jihadist"])
    other = stix2.Indicator(pattern="[ipv4-addr:value = '1.2.3.4']", pattern_type="stix")
    text = stix2.Bundle(objects=[ind, other]).serialize()
    (e,) = get_format("stix").read(text)
    assert e.signal_type == "sha256" and e.labels == {"ideology": "jihadist"} and e.external_id == ind.id
    with pytest.raises(ExchangeError):
        list(get_format("stix").read('{"type": "nope"}'))


def test_sync_from_a_file_reads_only_what_was_appended(tmp_path):
    p = tmp_path / "feed.jsonl"
    fmt = get_format("basira-jsonl")
    es = entries()
    p.write_text(fmt.write(es[:2]))
    r1 = sync_source(str(p))
    assert r1.full and len(r1.entries) == 2
    with p.open("a") as f:
        f.write(fmt.write(es[2:3]))
        f.write(fmt.write(es[3:])[:30])  # a half-written line: not read yet
    r2 = sync_source(str(p), r1.checkpoint)
    assert not r2.full and [e.signal_type for e in r2.entries] == ["sha256"]
    with p.open("a") as f:
        f.write(fmt.write(es[3:])[30:])
    r3 = sync_source(str(p), r2.checkpoint)
    assert [e.signal_type for e in r3.entries] == ["url"]
    assert sync_source(str(p), r3.checkpoint).entries == []
    # Rewritten (not appended): read from the start again.
    p.write_text(fmt.write([es[1], es[0], es[2]]))
    r5 = sync_source(str(p), r3.checkpoint)
    assert r5.full and len(r5.entries) == 3


class _Feed(BaseHTTPRequestHandler):
    body = b""
    requests: list[dict] = []

    def do_GET(self):  # noqa: N802 - http.server's naming
        etag = '"' + hashlib.md5(self.body).hexdigest() + '"'
        rng = self.headers.get("Range")
        type(self).requests.append({"range": rng, "inm": self.headers.get("If-None-Match")})
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.end_headers()
            return
        data, status = self.body, 200
        if rng:
            start = int(rng.split("=")[1].rstrip("-"))
            if start >= len(self.body):
                self.send_response(416)
                self.end_headers()
                return
            data, status = self.body[start:], 206
        self.send_response(status)
        self.send_header("ETag", etag)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def feed():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Feed)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    _Feed.requests = []
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def test_sync_over_http_with_range_and_etag(feed):
    url = f"http://127.0.0.1:{feed.server_port}/hashes.csv"
    csv_fmt = get_format("tat-csv")
    es = entries()
    _Feed.body = csv_fmt.write(es[:2]).encode()
    r1 = sync_source(url)
    assert r1.full and len(r1.entries) == 2 and r1.checkpoint["format"] == "tat-csv"
    assert sync_source(url, r1.checkpoint).unchanged  # 304 by ETag
    _Feed.body += "".join(csv_fmt.write(es[2:]).splitlines(keepends=True)[1:]).encode()
    r2 = sync_source(url, r1.checkpoint)
    assert not r2.full and [e.signal_type for e in r2.entries] == ["sha256", "url"]
    assert _Feed.requests[-1]["range"] == f"bytes={r1.checkpoint['offset'] - 64}-"
    with pytest.raises(ExchangeError, match="HTTP 404|cannot|Connection|refused"):
        sync_source(f"http://127.0.0.1:{feed.server_port + 1 if feed.server_port < 65535 else 1}/x")
