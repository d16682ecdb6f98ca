from datetime import UTC, datetime
from pathlib import Path

import pytest

from basira.core.errors import InputError
from basira.ingest import AccountRecord, PostRecord, detect_format, get_format, ingest_file

FIX = Path(__file__).parent / "fixtures"


def records(name: str):
    path = str(FIX / name)
    return [r for _, r in detect_format(path).iter_records(path)]


def posts(name: str) -> dict[str, PostRecord]:
    return {r.external_id: r for r in records(name) if isinstance(r, PostRecord)}


def accounts(name: str) -> dict[str, AccountRecord]:
    return {r.external_id: r for r in records(name) if isinstance(r, AccountRecord)}


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("generic.jsonl", "jsonl"),
        ("generic.csv", "csv"),
        ("x_v2.jsonl", "x_v2"),
        ("x_v2_array.json", "x_v2"),
        ("telegram_channel/result.json", "telegram"),
        ("telegram_full/result.json", "telegram"),
    ],
)
def test_detect_format(name, fmt):
    assert detect_format(str(FIX / name)).name == fmt


def test_detect_format_names_candidates_when_it_cannot_tell(tmp_path):
    odd = tmp_path / "odd.jsonl"
    odd.write_text('{"hello": "world"}\n')
    with pytest.raises(InputError) as exc:
        detect_format(str(odd))
    assert "candidates: csv, follows, jsonl, telegram, x_v2" in str(exc.value)
    empty = tmp_path / "empty.json"
    empty.write_text("  \n")
    with pytest.raises(InputError, match="empty file"):
        detect_format(str(empty))
    with pytest.raises(InputError, match="unknown format"):
        get_format("myspace")


def test_generic_jsonl_mapping():
    p = posts("generic.jsonl")
    assert set(p) == {"p1", "2"}
    p1 = p["p1"]
    assert (p1.platform, p1.account_external_id, p1.handle, p1.lang) == ("forum", "a1", "alice", "en")
    assert p1.created_at == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert (p1.mentions, p1.hashtags, p1.urls) == (["bob"], ["greeting"], ["https://example.org/x"])
    assert p1.media[0].kind == "photo" and p1.media[0].sha256 == "a" * 64 and p1.media[0].pdq == "b" * 64
    assert p1.source_line == 2
    p2 = p["2"]  # numeric id, offset time converted to UTC, links
    assert p2.created_at == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert (p2.reply_to, p2.quote_of, p2.repost_of, p2.forwarded_from) == ("p1", "p0", None, "chan9")
    a = accounts("generic.jsonl")
    assert a["a1"].bio == "hello world" and a["a1"].profile_image_hash == "0f0f"
    assert a["b2"].status == "suspended" and a["b2"].suspended_at == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_generic_csv_mapping():
    p = posts("generic.csv")
    assert p["p1"].text == 'hello world, "quoted"\nsecond line'
    assert p["p1"].mentions == ["bob", "carol"]
    assert p["p1"].urls == ["https://example.org/x", "https://example.org/y"]
    assert p["p1"].media[0].url == "https://example.org/cat.jpg"
    assert p["p2"].reply_to == "p1" and p["p2"].source_line == 5  # after the two-line quoted field
    assert accounts("generic.csv")["a1"].bio == "hello, world"


@pytest.mark.parametrize("name", ["x_v2.jsonl", "x_v2_array.json"])
def test_x_v2_mapping(name):
    p = posts(name)
    assert set(p) == {
        "1700000000000000001",
        "1700000000000000002",
        "1699999999999999999",
        "1700000000000000003",
    }
    t1 = p["1700000000000000001"]
    assert (t1.platform, t1.account_external_id, t1.handle, t1.lang) == ("x", "111", "alice", "en")
    assert t1.created_at == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert t1.mentions == ["bob"] and t1.hashtags == ["greeting"]
    assert t1.urls == ["https://example.org/page"]  # the media's t.co link is not a URL of the post
    assert [(m.url, m.kind) for m in t1.media] == [("https://pbs.twimg.com/media/abc.jpg", "photo")]
    t2 = p["1700000000000000002"]
    assert (t2.reply_to, t2.quote_of, t2.lang) == ("1700000000000000001", "1699999999999999999", None)
    t3 = p["1700000000000000003"]
    assert t3.repost_of == "1700000000000000001" and t3.text.endswith("(long form)")  # note_tweet wins
    a = accounts(name)
    assert (a["111"].handle, a["111"].display_name, a["111"].bio) == ("alice", "Alice", "hello world bio")
    assert a["111"].created_at == datetime(2020, 1, 1, tzinfo=UTC)
    assert a["444"].status == "suspended"


def test_telegram_channel_mapping():
    p = posts("telegram_channel/result.json")
    assert set(p) == {"1234567890/2", "1234567890/3"}  # the service message is not a post
    m2 = p["1234567890/2"]
    assert m2.text == "hello world #greeting see https://example.org/page and this @friend_channel"
    assert m2.account_external_id == "channel1234567890"
    assert m2.created_at == datetime.fromtimestamp(1704164645, UTC)
    assert m2.hashtags == ["greeting"] and m2.mentions == ["friend_channel"]
    assert m2.urls == ["https://example.org/page", "https://example.org/other"]
    import hashlib

    photo = FIX / "telegram_channel/photos/photo_1@02-01-2024_03-04-05.jpg"
    assert (
        m2.media[0].kind == "photo" and m2.media[0].sha256 == hashlib.sha256(photo.read_bytes()).hexdigest()
    )
    m3 = p["1234567890/3"]
    assert (m3.reply_to, m3.forwarded_from) == ("1234567890/2", "Other Channel")
    assert [(m.url, m.kind, m.sha256) for m in m3.media] == [(None, "video_file", None)]
    assert accounts("telegram_channel/result.json")["channel1234567890"].display_name == "Hello Channel"


def test_telegram_full_export_mapping():
    p = posts("telegram_full/result.json")
    assert set(p) == {"555/10", "555/11", "111/5", "777/1"}
    assert p["555/11"].reply_to == "555/10" and p["555/11"].mentions == ["user111"]
    assert p["555/11"].text == "Alice hi there"
    assert p["777/1"].account_external_id == "channel777"
    a = accounts("telegram_full/result.json")
    assert set(a) == {"user111", "user222", "channel777"}


def test_every_fixture_ingests_idempotently(store):
    for name in [
        "generic.jsonl",
        "generic.csv",
        "x_v2.jsonl",
        "x_v2_array.json",
        "telegram_channel/result.json",
        "telegram_full/result.json",
    ]:
        first = ingest_file(store, str(FIX / name))
        assert first.errors == [] and first.completed
    counts = store.counts()
    assert counts["posts"] == 2 + 1 + 4 + 2 + 4  # forum p1,2,p2; x (array repeats jsonl); telegram
    for name in ["generic.jsonl", "x_v2_array.json", "telegram_full/result.json"]:
        again = ingest_file(store, str(FIX / name))
        assert again.posts_new == 0 and again.accounts_new == 0
    before = {k: v for k, v in counts.items() if k != "events"}
    assert {k: v for k, v in store.counts().items() if k != "events"} == before
    t = store.get_post("telegram", "1234567890/2")
    assert t["media"][0]["sha256"] and t["account_external_id"] == "channel1234567890"
    x = store.get_account("x", "444")
    assert x["status"] == "suspended"
    assert store.get_account("forum", "b2")["status"] == "suspended"


def test_generic_media_md5_is_read_and_checked(tmp_path):
    good = tmp_path / "md5.jsonl"
    good.write_text('{"type": "post", "platform": "forum", "id": "m1", "text": "synthetic", '
                    '"media": [{"url": "https://example.org/v.mp4", "kind": "video", "md5": "' + "AB" * 16 + '"}]}\n')
    got = [r for _, r in detect_format(str(good)).iter_records(str(good))]
    assert [(m.kind, m.md5, m.sha256) for m in got[0].media] == [("video", "ab" * 16, None)]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"type": "post", "platform": "forum", "id": "m2", "text": "x", "media": [{"md5": "abc"}]}\n')
    [(_, err)] = list(detect_format(str(bad)).iter_records(str(bad)))  # the record's error, the file goes on
    assert isinstance(err, InputError)
    assert (err.field, err.line) == ("media[0].md5", 1) and "32 hex digits" in err.reason
