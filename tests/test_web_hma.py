"""The HMA-compatible API (basira.web.hma_api) driven by a client written from HMA's published API and the calls
ROOST Coop makes (tests/hma_client.py): a Coop-shaped flow, every endpoint's shape, hashes checked against
python-threatexchange (the library HMA hashes and compares with), the fetch guard, tokens and roles."""

from __future__ import annotations

import io
import shutil
import subprocess
import threading
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image, ImageDraw, ImageEnhance

from basira import banks as repo
from basira.review.service import ReviewService, ReviewSettings
from basira.web.app import create_app
from basira.web.media_fetch import FetchError, FetchPolicy, check_url
from tests.hma_client import HmaClient

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PASSWORD = "a long enough password"
BANK = "COOP_ORG1_TERROR_IMAGES"


def drawing(size=(1000, 750)) -> Image.Image:
    """A synthetic picture (shapes and stripes; no real content)."""
    im = Image.new("RGB", size, (235, 230, 220))
    d = ImageDraw.Draw(im)
    w, h = size
    for i in range(0, w, w // 12):
        d.rectangle([i, 0, i + w // 30, h], fill=(40 + i % 120, 90, 160))
    d.ellipse([w * 0.2, h * 0.15, w * 0.6, h * 0.75], fill=(200, 40, 40), outline=(0, 0, 0), width=8)
    d.polygon([(w * 0.65, h * 0.9), (w * 0.95, h * 0.2), (w * 0.8, h * 0.95)], fill=(20, 160, 60))
    return im


def jpeg(im: Image.Image, quality: int = 92) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


ORIGINAL = jpeg(drawing())
NEAR = jpeg(ImageEnhance.Brightness(drawing().resize((900, 675))).enhance(1.06), quality=70)  # re-encoded copy
OTHER = jpeg(Image.effect_mandelbrot((640, 480), (-2, -1.2, 1, 1.2), 60).convert("RGB"))


class _Media(BaseHTTPRequestHandler):
    files = {"/orig.jpg": ("image/jpeg", ORIGINAL), "/near.jpg": ("image/jpeg", NEAR),
             "/other.jpg": ("image/jpeg", OTHER), "/note.txt": ("text/plain", b"just text")}

    def do_GET(self):  # noqa: N802 - http.server's name
        if self.path.startswith("/redirect"):
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.1:{self.server.server_port}/orig.jpg")
            self.end_headers()
            return
        if self.path == "/big.jpg":
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.end_headers()  # no content-length: the cap must stop the body itself
            for _ in range(64):
                self.wfile.write(b"\xff" * 65536)
            return
        ctype, body = self.files.get(self.path, ("text/plain", None))
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def media():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Media)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", f"http://localhost:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def hma(store, monkeypatch):
    monkeypatch.setenv("BASIRA_HMA_FETCH_ALLOW_PRIVATE", "1")  # the media server is local
    svc = ReviewService(store, ReviewSettings(secure_cookies=False))
    svc.add_user("coop", PASSWORD, "platform")
    svc.add_user("aud", PASSWORD, "auditor")
    app = create_app(svc)
    http = TestClient(app, follow_redirects=False)
    http.headers["Authorization"] = "Bearer " + svc.create_token("coop", "coop")
    auditor = TestClient(app, follow_redirects=False)
    auditor.headers["Authorization"] = "Bearer " + svc.create_token("aud", "t")
    return HmaClient(http), svc, TestClient(app, follow_redirects=False), auditor


def test_coop_flow_create_bank_add_by_url_lookup_near_duplicate_by_url(hma, media):
    from threatexchange.signal_type.md5 import VideoMD5Signal
    from threatexchange.signal_type.pdq.signal import PdqSignal

    client, svc, _, _ = hma
    base, _ = media
    assert client.banks() == []
    bank = client.create_bank(BANK, 1.0)
    assert bank.model_dump() == {"name": BANK, "matching_enabled_ratio": 1.0}
    assert client.bank(BANK) == bank and client.banks() == [bank]

    added = client.add_content_by_url(BANK, f"{base}/orig.jpg")
    # HMA hashes photos at full resolution with python-threatexchange; Basira's hash is bit-identical.
    assert added.signals["pdq"] == PdqSignal.hash_from_bytes(ORIGINAL)
    assert added.signals["video_md5"] == VideoMD5Signal.hash_from_bytes(ORIGINAL)
    assert set(added.signals) == {"pdq", "video_md5", "video_sha256"}

    near = client.hash_url(f"{base}/near.jpg")
    assert near["pdq"] == PdqSignal.hash_from_bytes(NEAR)
    dist = PdqSignal.compare_hash(near["pdq"], added.signals["pdq"]).distance.distance
    assert 0 < dist <= 31  # a near duplicate, not a copy

    found = client.lookup_url(f"{base}/near.jpg")
    assert set(found) == {"pdq", "video_md5", "video_sha256"}
    assert [m.model_dump() for m in found["pdq"][BANK]] == [{"bank_content_id": added.id,
                                                             "distance": str(dist)}]
    assert found["video_md5"] == {} and found["video_sha256"] == {}  # a different file: no exact match
    assert client.lookup_url(f"{base}/other.jpg", content_type="photo")["pdq"] == {}

    # Coop's checkImageMatch: lookup by signal, answer keyed by bank.
    by_signal = client.lookup_signal("pdq", near["pdq"])
    assert list(by_signal) == [BANK] and by_signal[BANK][0].bank_content_id == added.id
    exact = client.lookup_signal("video_md5", added.signals["video_md5"])
    assert [m.model_dump() for m in exact[BANK]] == [{"bank_content_id": added.id, "distance": "-"}]
    assert client.lookup_signal("pdq", "5" * 64) == {}
    # the lookup is recorded like /api/v1/match's
    assert [m.status for m in repo.matches_for(svc.store, "hma:coop")] == ["match"] * 3

    content = client.content(BANK, added.id, include_signals="true")
    assert content.model_dump(exclude_none=True) == {
        "id": added.id, "disable_until_ts": 1, "bank": bank.model_dump(), "signals": added.signals}


def test_curation_endpoints_shapes_and_errors(hma, media):
    client, svc, anonymous, auditor = hma
    base, _ = media
    http = client.http
    assert client.error(http.post("/c/banks", json={"name": "01_BANK"}), 400)
    assert client.error(http.post("/c/banks", json={"name": "lower_case"}), 400)
    client.create_bank("A_BANK")
    assert "already exists" in client.error(http.post("/c/banks", json={"name": "A_BANK"}), 403)
    assert client.error(http.get("/c/bank/NOPE"), 404) == "bank 'NOPE' not found"

    assert client.update_bank("A_BANK", enabled=False).matching_enabled_ratio == 0
    assert client.update_bank("A_BANK", enabled_ratio=0.5).matching_enabled_ratio == 0.5
    assert client.update_bank("A_BANK", name="B_BANK", enabled_ratio=0).model_dump() == {
        "name": "B_BANK", "matching_enabled_ratio": 0.0}
    assert client.error(http.put("/c/bank/B_BANK", json={"name": "1_bad"}), 400)
    # sampling: a bank at ratio 0 is never consulted, unless the caller bypasses the coin flip (HMA's flag)
    client.add_signals("B_BANK", {"pdq": "c3" * 32})
    assert client.lookup_signal("pdq", "c3" * 32) == {}
    assert list(client.lookup_signal("pdq", "c3" * 32, bypass_coinflip="true")) == ["B_BANK"]
    assert client.update_bank("B_BANK", enabled=True).matching_enabled_ratio == 1.0
    assert [b.name for b in client.banks()] == ["B_BANK"]

    pdq = "f" * 16 + "0" * 16 + "a5" * 16
    one = client.add_signals("B_BANK", {"pdq": pdq, "note": "from a partner"})
    assert one.model_dump() == {"id": one.id, "signals": {"pdq": pdq}}
    two = client.add_signals("B_BANK", {"video_md5": "D41D8CD98F00B204E9800998ECF8427E", "pdq": "0" * 64})
    assert two.signals == {"video_md5": "d41d8cd98f00b204e9800998ecf8427e", "pdq": "0" * 64}
    assert client.error(http.post("/c/bank/B_BANK/signal", json={"pdq": "xyz"}), 400).startswith("Invalid pdq")
    assert client.error(http.post("/c/bank/B_BANK/signal", json={"tmk": "1"}), 400) == "No such SignalType 'tmk'"
    assert client.error(http.post("/c/bank/B_BANK/signal", json={}), 400) == "No signals given"
    got = client.content("B_BANK", two.id, include_signals="true")
    assert got.signals == two.signals and got.disable_until_ts == 1
    assert client.content("B_BANK", one.id).note == "from a partner"

    # by upload, with HMA's metadata form field
    up = client.add_content_file("B_BANK", "photo", ORIGINAL,
                                 metadata='{"content_id": "post-17", "json": {"case": 3}}')
    shown = client.content("B_BANK", up.id)
    assert shown.metadata.model_dump(by_alias=True) == {"content_id": "post-17", "content_uri": None,
                                                        "json": {"case": 3}, "collab": None}
    assert shown.signals is None and client.content("B_BANK", up.id, include_metadata="false").metadata is None
    assert client.error(http.post("/c/bank/B_BANK/content", files={"photo": ("x", ORIGINAL)},
                                  data={"metadata": "{nope"}), 400) == "metadata form field must be valid JSON"
    assert client.error(http.post("/c/bank/B_BANK/content"), 400).startswith("Neither `url`")

    # disable until a time, then enabled again (1); lookups skip disabled content
    off = client.update_content("B_BANK", one.id, disable_until_ts=0)
    assert off.model_dump() == {"id": one.id, "disable_until_ts": 0, "collab_metadata": {},
                                "original_media_uri": None, "bank": {"name": "B_BANK", "matching_enabled_ratio": 1.0},
                                "user_metadata": None, "note": "from a partner"}
    assert client.lookup_signal("pdq", pdq) == {}
    assert client.update_content("B_BANK", one.id, disable_until_ts=1, note="").disable_until_ts == 1
    assert client.content("B_BANK", one.id).note is None
    assert client.lookup_signal("pdq", pdq)["B_BANK"][0].bank_content_id == one.id
    assert client.error(http.put(f"/c/bank/B_BANK/content/{one.id}", json={"disable_until_ts": -4}), 400)

    # a signal the bank already holds: the new upload joins that content (one content per signal, as items are)
    again = client.add_signals("B_BANK", {"pdq": "0" * 64, "video_sha256": "ab" * 32})
    assert again.id == two.id
    assert set(client.content("B_BANK", two.id, include_signals="true").signals) == {"video_md5", "pdq",
                                                                                     "video_sha256"}
    sha_item = next(i.id for i in repo.iter_items(svc.store, "B_BANK") if i.signal_type == "sha256")
    assert client.error(http.get(f"/c/bank/B_BANK/content/{sha_item}"), 404)  # an item, not a content
    assert http.delete(f"/c/bank/B_BANK/content/{two.id}").json() == {"deleted": 3}
    assert client.error(http.get(f"/c/bank/B_BANK/content/{two.id}"), 404)

    assert {t.name for t in client.signal_types()} >= {"pdq", "video_md5", "video_sha256", "vpdq", "url"}
    assert [c.model_dump() for c in client.content_types()][:2] == [{"name": "photo", "enabled": True},
                                                                   {"name": "video", "enabled": True}]
    assert client.exchanges() == []
    assert client.error(http.post("/c/exchanges", json={"bank": "X", "api": "fb_threatexchange"}), 400)

    # the bank has a recorded match now (the lookup above): deleting it would drop evidence
    assert client.error(http.delete("/c/bank/B_BANK"), 409)
    assert client.delete_bank("NEVER_EXISTED") == {"message": "Done"}
    client.create_bank("EMPTY")
    assert client.delete_bank("EMPTY") == {"message": "Done"} and client.error(http.get("/c/bank/EMPTY"), 404)

    # behind Basira's tokens and roles
    assert anonymous.get("/c/banks").status_code == 401 and anonymous.get("/c/banks").json() == {
        "message": "not authenticated"}
    assert auditor.get("/c/banks").status_code == 403 and "forbidden" in auditor.get("/c/banks").json()["message"]
    assert auditor.get("/m/lookup", params={"signal_type": "pdq", "signal": pdq}).status_code == 403


def test_matching_hashing_endpoints_against_threatexchange(hma, media):
    from threatexchange.signal_type.pdq.signal import PdqSignal

    client, _, anonymous, _ = hma
    base, _ = media
    http = client.http
    client.create_bank("BANK_A")
    client.create_bank("BANK_B")
    a = client.add_content_file("BANK_A", "photo", ORIGINAL)
    b = client.add_signals("BANK_B", {"pdq": a.signals["pdq"]})
    assert client.hash_file("photo", NEAR)["pdq"] == PdqSignal.hash_from_bytes(NEAR)
    assert client.error(http.post("/h/hash", files={"photo": ("a", ORIGINAL), "video": ("b", NEAR)}), 400)
    assert client.error(http.post("/h/hash", files={"audio": ("a", ORIGINAL)}), 400) == \
        "no such content_type: 'audio'"
    assert set(client.hash_url(f"{base}/orig.jpg", types="pdq")) == {"pdq"}
    assert "unsupported url ContentType" in client.error(http.get("/h/hash", params={"url": f"{base}/note.txt"}), 400)

    near_pdq = PdqSignal.hash_from_bytes(NEAR)
    d = PdqSignal.compare_hash(near_pdq, a.signals["pdq"]).distance.distance
    raw = client.raw_lookup("pdq", near_pdq)
    assert sorted(raw.matches) == sorted([a.id, b.id])
    with_d = client.raw_lookup("pdq", near_pdq, include_distance="true", banks="BANK_B")
    assert [m.model_dump() for m in with_d.matches] == [{"bank_content_id": b.id, "distance": str(d)}]
    assert client.lookup_signal("pdq", near_pdq, banks="BANK_A") == {
        "BANK_A": [client.lookup_signal("pdq", near_pdq)["BANK_A"][0]]}
    by_file = client.lookup_file("photo", NEAR)
    assert {k: [m.bank_content_id for m in v] for k, v in by_file["pdq"].items()} == {"BANK_A": [a.id],
                                                                                       "BANK_B": [b.id]}
    assert client.error(http.get("/m/lookup"), 400) == "Either url or both signal and signal_type are required"
    assert client.error(http.get("/m/lookup", params={"signal_type": "pdq", "signal": "zz"}), 400)

    # /m/compare answers what python-threatexchange's compare_hash answers
    other = PdqSignal.hash_from_bytes(OTHER)
    cmp = client.compare({"pdq": [near_pdq, a.signals["pdq"]], "video_md5": ["a" * 32, "a" * 32]})
    te = PdqSignal.compare_hash(near_pdq, a.signals["pdq"])
    assert cmp == {"pdq": [te.match, {"distance": te.distance.distance}], "video_md5": [True, {}]}
    far = PdqSignal.compare_hash(near_pdq, other)
    assert client.compare({"pdq": [near_pdq, other]}) == {"pdq": [far.match, {"distance": far.distance.distance}]}
    assert client.error(http.post("/m/compare", json={"pdq": [near_pdq]}), 400)
    assert client.error(http.post("/m/compare", json=[1]), 400) == "Request input was not a dict"

    status = client.index_status()
    assert status["pdq"].present and status["pdq"].size == 2 and status["pdq"].built_to > 0
    assert status["video_md5"].size == 1 and status["vpdq"].size == 0 and status["vpdq"].built_to == -1
    assert set(client.index_status(signal_type="pdq")) == {"pdq"}

    # health checks need no token
    assert anonymous.get("/livez").text == "I-AM-ALIVE" and anonymous.get("/readyz").status_code == 200
    assert anonymous.get("/status").text == "I-AM-ALIVE" and anonymous.get("/status/live").status_code == 200
    paths = anonymous.get("/api/v1/openapi.json").json()["paths"]
    for p in ("/c/banks", "/c/bank/{bank_name}/content", "/c/bank/{bank_name}/signal", "/h/hash", "/m/lookup",
              "/m/raw_lookup", "/m/compare", "/m/index/status", "/c/exchanges", "/livez", "/readyz"):
        assert p in paths, p


def test_fetch_guard_caps_and_redirects(hma, media, monkeypatch):
    client, _, _, _ = hma
    base, named = media
    http = client.http
    monkeypatch.setenv("BASIRA_HMA_FETCH_ALLOW_PRIVATE", "0")  # the safe default
    msg = client.error(http.get("/h/hash", params={"url": f"{base}/orig.jpg"}), 400)
    assert "non-public address" in msg
    for url in ("http://10.1.2.3/x.jpg", "http://169.254.169.254/latest", "http://[::1]/x",
                "http://[::ffff:127.0.0.1]/x", "http://0.0.0.0/x"):
        with pytest.raises(FetchError, match="non-public"):
            check_url(url, FetchPolicy())
    for url in ("file:///etc/passwd", "ftp://example.org/x", "http:///nohost"):
        with pytest.raises(FetchError, match="only http and https"):
            check_url(url, FetchPolicy())

    # a redirect is checked hop by hop: localhost is allowed here, the 127.0.0.1 it redirects to is not
    monkeypatch.setenv("BASIRA_HMA_FETCH_ALLOW_PRIVATE", "1")
    monkeypatch.setenv("BASIRA_HMA_FETCH_HOSTS", "localhost")
    assert "not an allowed media host" in client.error(http.get("/h/hash", params={"url": f"{named}/redirect"}), 400)
    monkeypatch.delenv("BASIRA_HMA_FETCH_HOSTS")
    assert "pdq" in client.hash_url(f"{named}/redirect")  # followed when every hop is allowed

    monkeypatch.setenv("BASIRA_HMA_FETCH_MAX_BYTES", str(1024 * 1024))
    assert client.error(http.get("/h/hash", params={"url": f"{base}/big.jpg"}), 413) == "Content too large"
    big = b"\xff" * (1024 * 1024 + 1)  # uploads are held to the same cap
    assert client.error(http.post("/h/hash", files={"photo": ("big.jpg", big)}), 413) == "Content too large"
    assert client.error(http.post("/m/lookup", files={"photo": ("big.jpg", big)}), 413) == "Content too large"
    assert "HTTP 404" in client.error(http.get("/h/hash", params={"url": f"{base}/missing.jpg"}), 400)


def test_exchanges_are_banks_fed_by_banks_sync(hma, tmp_path):
    client, svc, _, _ = hma
    http = client.http
    with svc.store.transaction() as tx:
        repo.create_bank(tx, "PARTNER_FEED")
    client.create_bank("LOCAL_ONLY")
    feed = tmp_path / "feed.jsonl"
    feed.write_text('{"signal_type": "pdq", "signal": "' + "ab" * 32 + '"}\n')
    repo.sync_bank(svc.store, "PARTNER_FEED", str(feed))
    assert client.exchanges() == ["PARTNER_FEED"]
    assert http.get("/c/exchange/PARTNER_FEED").json() == {"name": "PARTNER_FEED", "api": "basira_bank_file",
                                                           "source": str(feed), "enabled": True}
    status = http.get("/c/exchange/PARTNER_FEED/status").json()
    # HMA's FetchStatus, as Coop's getExchangeForBank reads it
    assert set(status) == {"checkpoint_ts", "running_fetch_start_ts", "last_fetch_complete_ts",
                           "last_fetch_succeeded", "up_to_date", "fetched_items"}
    assert status["last_fetch_succeeded"] is True and status["fetched_items"] == 1
    assert status["running_fetch_start_ts"] is None and status["last_fetch_complete_ts"] > 0
    assert client.error(http.get("/c/exchange/LOCAL_ONLY"), 404) == "Exchange 'LOCAL_ONLY' not found"
    assert repo.get_bank(svc.store, "PARTNER_FEED").pdq_decode == "full"  # fed by an exchange


class _Proxy(BaseHTTPRequestHandler):
    """A forward proxy for plain HTTP: answers every absolute-URL request with the original image."""

    seen: list[str] = []

    def do_GET(self):  # noqa: N802
        self.seen.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(ORIGINAL)))
        self.end_headers()
        self.wfile.write(ORIGINAL)

    def log_message(self, *args):
        pass


def test_fetches_go_through_the_configured_proxy(hma, monkeypatch):
    from threatexchange.signal_type.pdq.signal import PdqSignal

    client, _, _, _ = hma
    proxy = type("Proxy", (_Proxy,), {"seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), proxy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("BASIRA_HMA_FETCH_PROXY", f"http://127.0.0.1:{server.server_port}")
        client.create_bank("FULL_DECODE")  # an HMA-API bank: queries are hashed at full resolution
        got = client.hash_url("http://127.0.0.1:9/never-reached-directly.jpg")
        assert got["pdq"] == PdqSignal.hash_from_bytes(ORIGINAL)
        assert proxy.seen == ["http://127.0.0.1:9/never-reached-directly.jpg"]
        monkeypatch.setenv("BASIRA_HMA_FETCH_ALLOW_PRIVATE", "0")  # the address checks still apply
        assert "non-public" in client.error(client.http.get("/h/hash", params={"url": "http://10.0.0.8/x.jpg"}), 400)
    finally:
        server.shutdown()
        server.server_close()


def _video(path, seconds=4, crf=23):
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc=duration={seconds}:size=320x240:rate=10",
                    "-pix_fmt", "yuv420p", "-crf", str(crf), str(path)], check=True)
    return path.read_bytes()


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg not installed (scripts/system-deps.sh)")
def test_videos_hash_bank_and_match_by_vpdq_like_threatexchange(hma, tmp_path):
    from threatexchange.extensions.vpdq.vpdq import VPDQSignal

    client, _, _, _ = hma
    original = _video(tmp_path / "a.mp4")  # a synthetic test pattern
    copy = _video(tmp_path / "b.mp4", crf=35)  # the same video re-encoded: other bytes, same frames roughly
    client.create_bank("VIDEOS")
    added = client.add_content_file("VIDEOS", "video", original)
    assert set(added.signals) == {"video_md5", "video_sha256", "vpdq"}
    te = VPDQSignal.hash_from_file(tmp_path / "a.mp4")
    same = VPDQSignal.compare_hash(added.signals["vpdq"], te)  # threatexchange reads Basira's vPDQ
    assert same.match and same.distance.query_match_percent == 100.0

    found = client.lookup_file("video", copy)
    assert found["video_md5"] == {} and found["video_sha256"] == {}
    (m,) = found["vpdq"]["VIDEOS"]
    assert m.bank_content_id == added.id and m.distance.endswith("%]") and m.distance.startswith("100%")
    other = client.hash_file("video", copy)["vpdq"]
    got = client.compare({"vpdq": [other, added.signals["vpdq"]]})["vpdq"]
    want = VPDQSignal.compare_hash(other, added.signals["vpdq"])
    assert got[0] == want.match and round(got[1]["query_match_percent"]) == round(want.distance.query_match_percent)
    assert round(got[1]["compared_match_percent"]) == round(want.distance.compared_match_percent)
