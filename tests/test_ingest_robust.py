"""Malformed and hostile input: each bad record is reported as file:line: field: reason and skipped, the good
records of the same batch are stored, and SQLite and PostgreSQL store the same thing (issue 13 items 2, 6, 10;
issue 16 item 4: the `thread` field and `extra`)."""

from __future__ import annotations

import orjson
import pytest

from basira.core.errors import InputError
from basira.ingest import ingest_file
from basira.ingest.base import detect_format
from basira.ingest.clean import ReadOptions

BAD_TIMES = [1e20, "99999999999999999999", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", -1e300]


def jsonl(path, rows) -> str:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    return str(path)


def post(i, **kw):
    return {"platform": "forum", "id": f"p{i}", "account_id": "a1", "text": f"hello {i}", **kw}


def errors(res):
    return [(e["line"], e["field"]) for e in res.errors]


@pytest.mark.parametrize("bad", BAD_TIMES)
def test_out_of_range_times_are_errors_in_generic_jsonl(store, tmp_path, bad):
    f = jsonl(tmp_path / "t.jsonl", [post(1), post(2, created_at=bad), post(3)])
    res = ingest_file(store, f)
    assert errors(res) == [(2, "created_at")]
    assert "out of range" in res.errors[0]["reason"]
    assert store.count_posts() == 2


def test_out_of_range_times_in_csv_x_and_telegram(store, tmp_path):
    csv = tmp_path / "t.csv"
    csv.write_text("platform,id,text,created_at\nforum,c1,ok,2024-01-01\nforum,c2,bad,99999999999999999999\n")
    res = ingest_file(store, str(csv))
    assert errors(res) == [(3, "created_at")]
    x = jsonl(
        tmp_path / "x.jsonl",
        [
            {
                "data": [
                    {"id": "1", "text": "good", "created_at": "2024-01-01T00:00:00Z"},
                    {"id": "2", "text": "bad", "created_at": "0001-01-01T00:00:00+01:00"},
                ],
                "includes": {"users": [{"id": "9", "username": "u", "created_at": 1e20}]},
            }
        ],
    )
    res = ingest_file(store, x)
    assert errors(res) == [(1, "includes.users[0].created_at"), (1, "data[1].created_at")]
    tg = tmp_path / "result.json"
    tg.write_bytes(
        orjson.dumps(
            {
                "name": "c",
                "type": "public_channel",
                "id": 5,
                "messages": [
                    {"id": 1, "type": "message", "date_unixtime": "99999999999999999999", "text": "x"},
                    {"id": 2, "type": "message", "date": "0001-01-01T00:00:00+01:00", "text": "x"},
                    {"id": 3, "type": "message", "date_unixtime": "1704164645", "text": "good"},
                ],
            }
        )
    )
    res = ingest_file(store, str(tg))
    assert [e["field"] for e in res.errors] == ["chat 5 message #1.date_unixtime", "chat 5 message #2.date"]
    assert store.get_post("telegram", "5/3")["text"] == "good"
    assert store.count_posts() == 1 + 1 + 1


X_WRONG_TYPES = [
    ({"lang": ["en"]}, "data[0].lang"),
    ({"entities": {"mentions": 5}}, "data[0].entities.mentions"),
    ({"entities": {"mentions": [5]}}, "data[0].entities.mentions[0]"),
    ({"entities": {"mentions": [{"username": {}}]}}, "data[0].entities.mentions[0].username"),
    ({"entities": {"hashtags": "x"}}, "data[0].entities.hashtags"),
    ({"entities": {"urls": [{"url": 7}]}}, "data[0].entities.urls[0].url"),
    ({"entities": 5}, "data[0].entities"),
    ({"attachments": {"media_keys": 5}}, "data[0].attachments.media_keys"),
    ({"attachments": {"media_keys": [{}]}}, "data[0].attachments.media_keys[0]"),
    ({"referenced_tweets": [{"type": "quoted", "id": {}}]}, "data[0].referenced_tweets[0].id"),
    ({"author_id": [1]}, "data[0].author_id"),
    ({"community_id": {}}, "data[0].community_id"),
    ({"text": 5}, "data[0].text"),
]


@pytest.mark.parametrize(("patch", "field"), X_WRONG_TYPES)
def test_x_fields_of_the_wrong_type_are_errors(store, tmp_path, patch, field):
    bad = {"id": "2", "text": "bad", **patch}
    f = jsonl(tmp_path / "x.jsonl", [{"data": [bad, {"id": "3", "text": "good"}]}])
    res = ingest_file(store, f)
    assert errors(res) == [(1, field)]
    assert store.count_posts() == 1 and store.get_post("x", "3")


@pytest.mark.parametrize(
    ("resp", "field"),
    [
        ({"data": [], "includes": {"users": 5}}, "includes.users"),
        ({"data": [], "includes": 5}, "response.includes"),
        ({"data": [], "includes": {"media": "x"}}, "includes.media"),
        ({"data": [], "includes": {"users": [{"id": "1", "username": {}}]}}, "includes.users[0].username"),
        ({"data": [], "includes": {"users": [{"id": "1", "name": 5}]}}, "includes.users[0].name"),
        ({"data": [{"id": "1", "username": ["u"]}]}, "data[0].username"),
    ],
)
def test_x_responses_of_the_wrong_shape_are_errors(store, tmp_path, resp, field):
    f = jsonl(tmp_path / "x.jsonl", [resp, {"data": [{"id": "3", "text": "good"}]}])
    res = ingest_file(store, f)
    assert errors(res) == [(1, field)]
    assert store.get_post("x", "3")


def test_telegram_wrong_types_and_messages_object(store, tmp_path):
    tg = tmp_path / "result.json"
    msgs = [
        {"id": 1, "type": "message", "text": "a", "file": "f.mp4", "media_type": {}},
        {"id": 2, "type": "message", "text": "b", "text_entities": [{"type": "mention_name", "user_id": {}}]},
        {"id": 3, "type": "message", "text": "c", "from_id": ["x"]},
        {"id": 4, "type": "message", "text": "good"},
        "not an object",
    ]
    tg.write_bytes(orjson.dumps({"name": "g", "type": "private_group", "id": 7, "messages": msgs}))
    res = ingest_file(store, str(tg))
    assert [e["field"] for e in res.errors] == [
        "chat 7 message #1.media_type",
        "chat 7 message #2.text_entities[0].user_id",
        "chat 7 message #3.from_id",
        "chat 7 message #5",
    ]
    assert store.count_posts() == 1
    obj = tmp_path / "obj" / "result.json"
    obj.parent.mkdir()
    obj.write_bytes(orjson.dumps({"name": "g", "type": "private_group", "id": 7, "messages": {"1": msgs[3]}}))
    with pytest.raises(InputError, match="must be a list, not an object") as exc:
        ingest_file(store, str(obj))
    assert exc.value.field == "chat 7.messages"


def test_nul_and_control_characters_store_the_same_on_both_databases(store, tmp_path):
    nasty = "a\x00b\x01c\x1b[31md\x7f\u0085e\ttab\nnl"
    rows = [
        post(1, text=nasty, handle="h\x00x", hashtags=["t\x00g"], lang="en", thread="th\x00read",
             extra_field={"k\x00": "v\x00", "n": [1, "\x00"]}),
        {"type": "account", "platform": "forum", "id": "a1", "display_name": "A\x00", "bio": "b\x00", "handle": "h\x00x"},
        post(2, id="bad\x00id"),
        post(3),
    ]
    res = ingest_file(store, jsonl(tmp_path / "n.jsonl", rows))
    assert errors(res) == [(3, "id")] and "control character" in res.errors[0]["reason"]
    p = store.get_post("forum", "p1")
    assert p["text"] == "a\ufffdb\ufffdc\ufffd[31md\ufffd\ufffde\ttab\nnl"
    assert len(p["text"]) == len(nasty)  # one for one: evidence offsets do not move
    assert p["hashtags"] == ["t\ufffdg"] and p["thread"] == "th\ufffdread"
    assert p["extra"] == {"extra_field": {"k\ufffd": "v\ufffd", "n": [1, "\ufffd"]}}
    a = store.get_account("forum", "a1")
    assert (a["display_name"], a["bio"], a["handle"]) == ("A\ufffd", "b\ufffd", "h\ufffdx")
    assert store.count_posts() == 2


def test_values_longer_than_their_columns_are_errors(store, tmp_path):
    rows = [
        post(1, id="x" * 129),
        post(2, handle="h" * 257),
        post(3, lang="e" * 17),
        post(4, reply_to="r" * 129),
        {"platform": "p" * 65, "id": "1", "text": "t"},
        post(6, text="t" * 101),
        post(7, mentions=["m"] * 1001),
        post(8),
    ]
    opts = ReadOptions(max_text_chars=100)
    res = ingest_file(store, jsonl(tmp_path / "l.jsonl", rows), options=opts)
    assert errors(res) == [
        (1, "id"),
        (2, "handle"),
        (3, "lang"),
        (4, "reply_to"),
        (5, "platform"),
        (6, "text"),
        (7, "mentions"),
    ]
    assert "BASIRA_MAX_TEXT_CHARS" in res.errors[5]["reason"]
    assert store.count_posts() == 1


def test_csv_unterminated_quote_is_an_error_and_reading_resumes(store, tmp_path):
    f = tmp_path / "q.csv"
    f.write_text('platform,id,text\nforum,1,ok\nforum,2,"never closed\nforum,3,after\nforum,4,"fine, ""quoted"""\n')
    res = ingest_file(store, str(f))
    assert errors(res) == [(3, None)] and "quoted field opened here" in res.errors[0]["reason"]
    assert sorted(p for p in ("1", "2", "3", "4") if store.get_post("forum", p)) == ["1", "3", "4"]
    assert store.get_post("forum", "4")["text"] == 'fine, "quoted"'
    eof = tmp_path / "eof.csv"  # the quote is still open at the end of the file
    eof.write_text('platform,id,text\nforum,5,"never closed\nforum,6,after\nforum,7,last\n')
    res = ingest_file(store, str(eof))
    assert errors(res) == [(2, None)] and "unterminated quoted field" in res.errors[0]["reason"]
    assert store.get_post("forum", "6") and store.get_post("forum", "7") and not store.get_post("forum", "5")


def test_csv_invalid_utf8_is_reported_on_its_line_and_neighbours_kept(store, tmp_path):
    f = tmp_path / "u.csv"
    f.write_bytes(b"platform,id,text\nforum,1,good\nforum,2,bad \xff\xfe here\nforum,3,\"two\nlines\"\nforum,4,x\n")
    res = ingest_file(store, str(f))
    assert errors(res) == [(3, None)] and "invalid UTF-8" in res.errors[0]["reason"]
    assert [bool(store.get_post("forum", p)) for p in "1234"] == [True, False, True, True]
    assert store.get_post("forum", "3")["text"] == "two\nlines"


def test_csv_header_problems(store, tmp_path):
    dup = tmp_path / "d.csv"
    dup.write_text("platform,id,text,text\nforum,1,a,b\n")
    with pytest.raises(InputError, match="duplicate column") as exc:
        ingest_file(store, str(dup), fmt="csv")
    assert (exc.value.line, exc.value.field) == (1, "text")
    empty = tmp_path / "e.csv"
    empty.write_text("platform,id,,text\nforum,1,,a\n")
    with pytest.raises(InputError, match="empty column name"):
        ingest_file(store, str(empty), fmt="csv")


def test_thread_field_aliases_and_extra_are_kept(store, tmp_path):
    rows = [
        post(1, thread="t1"),
        post(2, page="pg"),
        post(3, channel=42, mood="happy", score=3),
        post(4, thread="a", page="b"),
        {"type": "account", "platform": "forum", "id": "a1", "location": "Tunis"},
        {"type": "account", "platform": "forum", "id": "a1", "verified": True},
    ]
    res = ingest_file(store, jsonl(tmp_path / "t.jsonl", rows))
    assert errors(res) == [(4, "page")]
    assert [store.get_post("forum", f"p{i}")["thread"] for i in (1, 2, 3)] == ["t1", "pg", "42"]
    assert store.get_post("forum", "p3")["extra"] == {"mood": "happy", "score": 3}
    assert store.get_post("forum", "p1")["extra"] is None
    assert store.get_account("forum", "a1")["extra"] == {"location": "Tunis", "verified": True}
    csv = tmp_path / "t.csv"
    csv.write_text("platform,id,text,page,colour\nforum,c1,hi,front,blue\nforum,c2,hi,,\n")
    res = ingest_file(store, str(csv))
    assert res.errors == []
    c1, c2 = store.get_post("forum", "c1"), store.get_post("forum", "c2")
    assert (c1["thread"], c1["extra"], c2["thread"], c2["extra"]) == ("front", {"colour": "blue"}, None, None)
    from basira.network.repository import iter_network_posts

    threads = {r["external_id"]: r["thread"] for b in iter_network_posts(store) for r in b}
    assert threads["p1"] == "t1" and threads["c1"] == "front"


def test_oversized_extra_is_dropped_by_name(store, tmp_path):
    deep: list = []
    cur = deep
    for _ in range(40):
        cur.append([])
        cur = cur[0]
    rows = [post(1, deep=deep, big="x" * 70_000, small=1)]
    res = ingest_file(store, jsonl(tmp_path / "e.jsonl", rows))
    assert res.errors == []
    assert store.get_post("forum", "p1")["extra"] == {"small": 1, "_dropped": ["deep", "big"]}


def test_minimal_id_text_lines_take_a_default_platform(store, tmp_path):
    f = jsonl(tmp_path / "m.jsonl", [{"id": 1, "text": "hello"}, {"id": 2, "text": "again", "platform": "x"}])
    assert detect_format(f).name == "jsonl"
    res = ingest_file(store, f)
    assert errors(res) == [(1, "platform")] and "--platform" in res.errors[0]["reason"]
    res = ingest_file(store, f, options=ReadOptions(default_platform="forum"))
    assert res.errors == [] and store.get_post("forum", "1")["text"] == "hello"
    assert store.get_post("x", "2")
    csv = tmp_path / "m.csv"
    csv.write_text("id,text\n9,hi\n")
    assert detect_format(str(csv)).name == "csv"
    ingest_file(store, str(csv), options=ReadOptions(default_platform="forum"))
    assert store.get_post("forum", "9")


@pytest.mark.parametrize("bad", ["0001-01-01T00:00:00+01:00", "99999999999999999999", 1e20])
def test_orders_import_out_of_range_times_name_line_and_field(store, tmp_path, bad):
    from datetime import UTC, datetime

    from basira.compliance.order_file import read_orders

    good = {"authority": "EU-X", "order_ref": "o1", "reasons": "r", "targets": ["https://example.org/a"]}
    f = tmp_path / "orders.jsonl"
    f.write_bytes(orjson.dumps(good) + b"\n" + orjson.dumps({**good, "order_ref": "o2", "received_at": bad}))
    with pytest.raises(InputError) as exc:
        read_orders(str(f), datetime(2026, 12, 1, tzinfo=UTC))
    assert (exc.value.line, exc.value.field) == (2, "received_at")


def test_scan_cli_platform_default_and_malformed_records_exit_2(db_url, tmp_path):
    from typer.testing import CliRunner

    from basira.cli import app
    from basira.store import open_store

    f = jsonl(
        tmp_path / "m.jsonl",
        [{"id": 1, "text": "hello"}, {"id": 2, "text": "bad", "created_at": 1e20}, {"id": 3, "text": "x\x00"}],
    )
    r = CliRunner().invoke(app, ["scan", f, "--db", db_url, "--platform", "forum", "--json"])
    # the good records are scanned and stored, the bad one skipped and named (file:line: field), and the exit is 2
    assert r.exit_code == 2, r.output
    summary = orjson.loads(r.stdout)
    assert summary["posts_new"] == 2 and summary["error_count"] == 1
    assert summary["errors"][0]["line"] == 2 and "created_at" in summary["errors"][0]["reason"]
    assert f"malformed: {f}:2: field 'created_at'" in r.stderr and "1 malformed records skipped" in r.stderr
    with open_store(db_url) as s:
        assert s.get_post("forum", "3")["text"] == "x\ufffd"
    r = CliRunner().invoke(app, ["scan", f, "--db", db_url, "--json"], env={"BASIRA_MAX_TEXT_CHARS": "many"})
    assert r.exit_code == 2 and "BASIRA_MAX_TEXT_CHARS" in r.output and "Traceback" not in r.output
