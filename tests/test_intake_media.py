"""Media on POST /api/v1/content: given by URL (fetched from a real local HTTP server, hashed, matched against a
real bank), uploaded as base64 (hashed at intake, the bytes not kept), a fetch that fails (404, too large,
not media, a private address) reported on that media item while the item is still scored; on SQLite and
PostgreSQL. The images are synthetic gradients drawn here."""

from __future__ import annotations

import base64
import io
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import orjson
import pytest

from tests.test_intake_api import item, make_app, texts  # noqa: F401 - `texts` is a fixture


def _image(seed: int, fmt: str = "PNG") -> bytes:
    """A 256×256 synthetic picture with structure (PDQ needs edges, a flat image hashes to nothing useful)."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (256, 256), (250, 250, 250))
    d = ImageDraw.Draw(img)
    for k in range(12):
        x, y = (seed * 37 + k * 53) % 200, (seed * 91 + k * 29) % 200
        d.rectangle([x, y, x + 20 + k * 3, y + 30 + k * 2], fill=((k * 40 + seed * 17) % 256, (k * 90) % 256, 60))
    d.ellipse([60, 60, 180, 200], outline=(0, 0, 0), width=6)
    out = io.BytesIO()
    img.save(out, fmt, **({"quality": 85} if fmt == "JPEG" else {}))
    return out.getvalue()


class MediaServer:
    """A local HTTP server with a known image, a near copy of it (re-encoded JPEG), an HTML page, a large file
    and a 404. It counts the requests for each path."""

    def __init__(self, files: dict[str, tuple[bytes, str]]):
        self.hits: dict[str, int] = {}
        outer = self

        class H(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                outer.hits[self.path] = outer.hits.get(self.path, 0) + 1
                got = files.get(self.path)
                if got is None:
                    self.send_response(404)
                    self.send_header("content-length", "0")
                    self.end_headers()
                    return
                body, ctype = got
                self.send_response(200)
                self.send_header("content-type", ctype)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def media(tmp_path, monkeypatch):
    """The server, the known image's hashes (by the signal types' own hashing) and the upload's image."""
    from basira.signals.banks import hash_file

    known, other = _image(1), _image(2)
    from PIL import Image

    near = io.BytesIO()
    Image.open(io.BytesIO(known)).convert("RGB").save(near, "JPEG", quality=70)
    server = MediaServer({"/known.png": (known, "image/png"), "/near.jpg": (near.getvalue(), "image/jpeg"),
                          "/other.png": (other, "image/png"), "/page.html": (b"<html>login</html>", "text/html"),
                          "/big.bin": (b"\0" * 300_000, "application/octet-stream")})
    path = tmp_path / "known.png"
    path.write_bytes(known)
    hashes = hash_file(str(path), ("md5", "sha256", "pdq"))
    assert set(hashes) == {"md5", "sha256", "pdq"}
    # 127.0.0.1 is refused unless allowed (the fetcher's rule); the tests that need it allow it.
    monkeypatch.setenv("BASIRA_HMA_FETCH_ALLOW_PRIVATE", "1")
    monkeypatch.setenv("BASIRA_HMA_FETCH_MAX_BYTES", "200000")
    monkeypatch.setenv("BASIRA_HMA_FETCH_TIMEOUT", "10")
    try:
        yield server, hashes, known, other
    finally:
        server.close()


def _bank(store, hashes: dict[str, str]) -> None:
    from basira import banks as repo
    from basira.signals.exchange import BankEntry

    with store.transaction() as tx:
        repo.create_bank(tx, "known")
        repo.add_entries(tx, "known", [BankEntry.make("pdq", hashes["pdq"], labels={"entity": "synthetic"}),
                                       BankEntry.make("md5", hashes["md5"], labels={"entity": "synthetic"})])


def _types(res: dict) -> list[tuple[str, str]]:
    return sorted((m["bank"], m["signal_type"]) for m in res["bank_matches"])


def test_url_media_is_fetched_hashed_and_matched(store, texts, media):  # noqa: F811
    server, hashes, _, _ = media
    _bank(store, hashes)
    c, _ = make_app(store)
    batch = [item(texts[0], media=[{"url": server.base + "/known.png", "kind": "photo"}]),
             item(texts[1], media=[{"url": server.base + "/near.jpg"}]),
             item(texts[2], media=[{"url": server.base + "/other.png"}])]
    r = c.post("/api/v1/content", json=batch)
    assert r.status_code == 200, r.text
    exact, near, miss = r.json()["results"]
    # The same bytes: MD5 and PDQ; a re-encoded copy: PDQ only (a near match); another picture: nothing.
    assert _types(exact) == [("known", "md5"), ("known", "pdq")] and exact["case_id"] is not None
    assert exact["media"] == [{"source": "url", "url": server.base + "/known.png", "status": "hashed",
                               "hashes": hashes}]
    assert _types(near) == [("known", "pdq")] and near["case_id"] is not None
    assert 0 < next(m["distance"] for m in near["bank_matches"]) <= 31
    assert near["media"][0]["hashes"]["md5"] != hashes["md5"]
    assert miss["bank_matches"] == [] and miss["media"][0]["status"] == "hashed"
    # The fetched hashes are stored with the post (a later bank scan matches them too).
    stored = store.get_post("x", texts[0]["id"])["media"]
    assert [(m["url"], m["sha256"], m["pdq"]) for m in stored] == \
        [(server.base + "/known.png", hashes["sha256"], hashes["pdq"])]
    # Idempotent: submitting again fetches nothing and answers what is stored.
    fetched = dict(server.hits)
    again = c.post("/api/v1/content", json=batch[:2]).json()["results"]
    assert server.hits == fetched
    assert [(a["case_id"], _types(a)) for a in again] == [(exact["case_id"], _types(exact)),
                                                          (near["case_id"], _types(near))]
    assert again[0]["media"][0]["hashes"]["pdq"] == hashes["pdq"]
    assert store.count_posts() == 3


def test_a_failed_fetch_is_reported_on_its_media_and_the_item_still_scores(store, texts, media, monkeypatch):  # noqa: F811
    server, hashes, _, _ = media
    _bank(store, hashes)
    c, _ = make_app(store)
    urls = ["/missing.png", "/big.bin", "/page.html"]
    r = c.post("/api/v1/content", json=[
        item(texts[3], media=[{"url": server.base + u} for u in urls] + [{"url": server.base + "/known.png"}])])
    res = r.json()["results"][0]
    assert res["status"] == "ok" and 0.0 <= res["score"] <= 1.0
    got = res["media"]
    assert [m["status"] for m in got] == ["error", "error", "error", "hashed"]
    assert "HTTP 404" in got[0]["reason"] and "too large" in got[1]["reason"] and "not media" in got[2]["reason"]
    assert all(m["hashes"] == {} for m in got[:3])
    assert _types(res) == [("known", "md5"), ("known", "pdq")]  # the fourth media still matched
    # A private address is refused unless allowed: the item is scored, the media says why.
    monkeypatch.delenv("BASIRA_HMA_FETCH_ALLOW_PRIVATE")
    res = c.post("/api/v1/content", json=item(texts[4], media=[{"url": server.base + "/known.png"}])).json()
    one = res["results"][0]
    assert one["status"] == "ok" and one["score"] is not None and one["bank_matches"] == []
    assert one["media"][0]["status"] == "error" and "non-public address" in one["media"][0]["reason"]
    assert server.hits.get("/known.png") == 1  # the refused URL was never requested


def test_uploaded_media_is_hashed_at_intake_and_matched(store, texts, media):  # noqa: F811
    _, hashes, known, other = media
    _bank(store, hashes)
    c, _ = make_app(store)
    up = {"data_base64": base64.b64encode(known).decode(), "mime": "image/png", "kind": "photo"}
    r = c.post("/api/v1/content", json=[
        item(texts[5], media=[up]),
        item(texts[6], media=[{"data_base64": base64.b64encode(other).decode()}]),
        item(texts[7], media=[{"data_base64": "not base64!"}]),
        item(texts[8], media=[{**up, "sha256": hashes["sha256"]}]),
        item(texts[9], media=[{"data_base64": base64.b64encode(b"<html></html>").decode(), "mime": "text/html"}])])
    hit, miss, bad, both, html = r.json()["results"]
    assert _types(hit) == [("known", "md5"), ("known", "pdq")] and hit["case_id"] is not None
    assert hit["media"] == [{"source": "upload", "status": "hashed", "hashes": hashes}]
    assert miss["bank_matches"] == [] and miss["media"][0]["source"] == "upload"
    assert (bad["status"], bad["field"]) == ("error", "media[0].data_base64") and "base64" in bad["reason"]
    assert (both["status"], both["field"]) == ("error", "media[0].data_base64")
    assert (html["status"], html["field"]) == ("error", "media[0].mime") and "not media" in html["reason"]
    assert [m["sha256"] for m in store.get_post("x", texts[5]["id"])["media"]] == [hashes["sha256"]]


def test_async_worker_fetches_url_media_and_the_queue_keeps_no_uploaded_bytes(store, texts, media):  # noqa: F811
    from basira.intake.queue import queued
    from basira.intake.worker import run_worker

    server, hashes, known, _ = media
    _bank(store, hashes)
    c, _ = make_app(store)
    up = {"data_base64": base64.b64encode(known).decode(), "mime": "image/png"}
    r = c.post("/api/v1/content?mode=async", json=[
        item(texts[10], media=[{"url": server.base + "/known.png"}]), item(texts[11], media=[up]),
        item(texts[12], media=[{"url": server.base + "/missing.png"}])])
    assert r.status_code == 202
    qids = [x["queue_id"] for x in r.json()["results"]]
    assert server.hits == {}  # fetched by the worker, not at intake
    rows = queued(store, qids)
    assert "data_base64" not in rows[1]["item"]["media"][0]
    assert rows[1]["item"]["media"][0]["sha256"] == hashes["sha256"]
    stats = run_worker(store, batch=10, until_empty=True)
    assert stats.items == 3
    url, upload, missing = (row["result"] for row in queued(store, qids))
    assert _types(url) == _types(upload) == [("known", "md5"), ("known", "pdq")]
    assert url["media"][0]["hashes"] == hashes and upload["media"][0]["source"] == "upload"
    assert missing["media"][0]["status"] == "error" and "404" in missing["media"][0]["reason"]
    assert missing["score"] is not None and missing["bank_matches"] == []


def test_a_url_is_fetched_once_per_batch(store, texts, media):  # noqa: F811
    """The same URL on several items of a batch (a photo reposted, a thread's shared image), or twice on one item,
    is requested once; every media item with it gets its hashes (or its one error) and matches."""
    server, hashes, _, _ = media
    _bank(store, hashes)
    c, _ = make_app(store)
    known, big = server.base + "/known.png", server.base + "/big.bin"
    batch = [item(texts[13], media=[{"url": known, "kind": "photo"}, {"url": known}]),
             item(texts[14], media=[{"url": known}, {"url": big}]),
             item(texts[15], media=[{"url": big}, {"url": server.base + "/other.png"}])]
    res = c.post("/api/v1/content", json=batch).json()["results"]
    assert server.hits == {"/known.png": 1, "/big.bin": 1, "/other.png": 1}
    got = [m for r in res for m in r["media"]]
    assert [m["status"] for m in got] == ["hashed", "hashed", "hashed", "error", "error", "hashed"]
    assert got[0]["hashes"] == got[1]["hashes"] == got[2]["hashes"] == hashes
    assert "too large" in got[3]["reason"] and got[3]["reason"] == got[4]["reason"]  # the size cap still holds
    assert _types(res[0]) == _types(res[1]) == [("known", "md5"), ("known", "pdq")]
    assert [m["sha256"] for m in store.get_post("x", texts[13]["id"])["media"]] == [hashes["sha256"]] * 2
    # A video's kind is hashed without PDQ: the same URL as a video and as a photo is one request, two answers.
    res = c.post("/api/v1/content", json=[item(texts[16], media=[{"url": server.base + "/near.jpg", "kind": "video"}]),
                                          item(texts[17], media=[{"url": server.base + "/near.jpg"}])]).json()
    video, photo = (r["media"][0] for r in res["results"])
    assert server.hits["/near.jpg"] == 1
    assert set(video["hashes"]) == {"md5", "sha256"} and set(photo["hashes"]) == {"md5", "sha256", "pdq"}
    assert video["hashes"]["sha256"] == photo["hashes"]["sha256"]


def test_the_worker_fetches_a_url_once_per_claimed_batch(store, texts, media):  # noqa: F811
    from basira.intake.queue import queued
    from basira.intake.worker import run_worker

    server, hashes, _, _ = media
    c, _ = make_app(store)
    r = c.post("/api/v1/content?mode=async",
               json=[item(t, media=[{"url": server.base + "/known.png"}]) for t in texts[18:24]])
    qids = [x["queue_id"] for x in r.json()["results"]]
    assert run_worker(store, batch=3, until_empty=True).batches == 2
    assert server.hits == {"/known.png": 2}  # once per batch of 3 items, not once per item
    assert all(row["result"]["media"][0]["hashes"] == hashes for row in queued(store, qids))


def test_md5_of_intake_media_is_stored_for_later_bank_scans_and_evidence(store, texts, media):  # noqa: F811
    """MD5 of fetched and uploaded media is stored with the post, like SHA-256 and PDQ: a bank that learns the
    MD5 only later (a sync) matches the stored post on the next bank scan, a resubmission answers it again,
    and the evidence package lists it."""
    from basira.compliance.evidence import build_files
    from basira.compliance.evidence_data import gather, resolve
    from basira.scan.hashes import match_ingested_posts

    server, hashes, _, other = media
    c, _ = make_app(store)
    up = {"data_base64": base64.b64encode(other).decode(), "mime": "image/png"}
    r = c.post("/api/v1/content", json=[item(texts[24], media=[{"url": server.base + "/known.png"}]),
                                        item(texts[25], media=[up]),
                                        item(texts[26], media=[{"md5": "AB" * 16, "kind": "video"}])]).json()
    assert all(x["bank_matches"] == [] for x in r["results"])  # no bank yet
    other_md5 = r["results"][1]["media"][0]["hashes"]["md5"]
    assert [[m["md5"] for m in store.get_post("x", t["id"])["media"]] for t in texts[24:27]] == \
        [[hashes["md5"]], [other_md5], ["ab" * 16]]
    # The bank gets the MD5s only now; the bank scan matches the stored posts on them.
    from basira import banks as repo
    from basira.signals.exchange import BankEntry

    with store.transaction() as tx:
        repo.create_bank(tx, "later")
        repo.add_entries(tx, "later", [BankEntry.make("md5", h, labels={"entity": "synthetic"})
                                       for h in (hashes["md5"], other_md5, "ab" * 16)])
    got = match_ingested_posts(store)
    assert got.matches_new == 3 and got.cases_new + got.cases_raised == 3
    pids = [x["post"] for x in r["results"]]
    assert [[m.signal_type for m in repo.matches_for(store, f"post:{p}")] for p in pids] == [["md5"]] * 3
    # Submitted again: nothing fetched, the stored MD5 answers (and matches).
    hits = dict(server.hits)
    again = c.post("/api/v1/content", json=[item(texts[24], media=[{"url": server.base + "/known.png"}])]).json()
    assert server.hits == hits and again["results"][0]["media"][0]["hashes"] == hashes
    assert [m["signal_type"] for m in again["results"][0]["bank_matches"]] == ["md5"]
    # The evidence package of the case lists the MD5 beside SHA-256 and PDQ.
    case = again["results"][0]["case_id"]
    files = build_files(gather(store, subj := resolve(store, f"case:{case}")), {"ref": subj.ref})
    assert [(m["md5"], m["sha256"], m["pdq"]) for m in orjson.loads(files["content/media.json"])] == \
        [(hashes["md5"], hashes["sha256"], hashes["pdq"])]
