"""Real export shapes (issue 14 item 5): X edit history and withholding kept, twarc's flattened output
recognised, old Telegram ids unified, Telegram edits, signatures, bots, saved-from and cross-chat replies.
The fixtures are written here, small and synthetic, after the shapes of X API v2, `twarc2 flatten` and
Telegram Desktop's result.json."""

from __future__ import annotations

import orjson

from basira.ingest import ingest_file
from basira.ingest.base import detect_format


def write(path, obj=None, lines=None) -> str:
    if lines is not None:
        path.write_bytes(b"".join(orjson.dumps(x) + b"\n" for x in lines))
    else:
        path.write_bytes(orjson.dumps(obj, option=orjson.OPT_INDENT_2))
    return str(path)


def test_x_edit_history_withheld_and_community_kept(store, tmp_path):
    resp = {
        "data": [
            {
                "id": "20",
                "text": "edited version",
                "author_id": "7",
                "edit_history_tweet_ids": ["19", "20"],
                "edit_controls": {"editable_until": "2024-01-01T00:30:00.000Z", "edits_remaining": 4,
                                  "is_edit_eligible": True},
                "withheld": {"copyright": False, "country_codes": ["DE", "FR"]},
                "conversation_id": "19",
                "community_id": "1500",
            },
            {"id": "19", "text": "first version", "author_id": "7", "edit_history_tweet_ids": ["19"]},
        ],
        "includes": {"users": [{"id": "7", "username": "poster", "withheld": {"country_codes": ["TR"]}}]},
    }
    res = ingest_file(store, write(tmp_path / "x.jsonl", lines=[resp]))
    assert res.errors == []
    p = store.get_post("x", "20")
    assert p["extra"]["edit_history_tweet_ids"] == ["19", "20"] and p["extra"]["edit_of"] == "19"
    assert p["extra"]["edit_controls"]["edits_remaining"] == 4
    assert p["extra"]["withheld"]["country_codes"] == ["DE", "FR"]
    assert p["extra"]["conversation_id"] == "19" and p["thread"] == "1500"
    assert "edit_of" not in store.get_post("x", "19")["extra"]
    assert store.get_account("x", "7")["extra"] == {"withheld": {"country_codes": ["TR"]}}


def test_twarc_flattened_output_is_recognised_and_mapped(store, tmp_path):
    author = {"id": "7", "username": "poster", "name": "Poster", "created_at": "2020-01-01T00:00:00.000Z"}
    quoted = {"id": "5", "text": "the quoted one", "author_id": "8", "author": {"id": "8", "username": "other"}}
    flat = {
        "id": "10",
        "text": "look at this #tag",
        "author_id": "7",
        "author": author,
        "created_at": "2024-01-01T00:00:00.000Z",
        "edit_history_tweet_ids": ["10"],
        "entities": {"hashtags": [{"start": 13, "end": 17, "tag": "tag"}],
                     "mentions": [{"username": "other", "id": "8", "name": "Other"}]},
        "referenced_tweets": [{"type": "quoted", "id": "5", **quoted}],
        "attachments": {"media_keys": ["3_1"], "media": [{"media_key": "3_1", "type": "photo",
                                                          "url": "https://pbs.example/p.jpg"}]},
        "__twarc": {"url": "https://api.x.com/2/tweets/search/all?...", "version": "2.14.0",
                    "retrieved_at": "2024-01-02T00:00:00+00:00"},
    }
    f = write(tmp_path / "flat.jsonl", lines=[flat, {**flat, "id": "11", "__twarc": flat["__twarc"]}])
    assert detect_format(f).name == "x_v2"
    res = ingest_file(store, f)
    assert res.errors == []
    p = store.get_post("x", "10")
    assert (p["account_external_id"], p["handle"], p["quote_of"], p["hashtags"]) == ("7", "poster", "5", ["tag"])
    assert p["media"][0]["url"] == "https://pbs.example/p.jpg"
    assert store.get_post("x", "5")["text"] == "the quoted one"  # the inlined tweet is a post too
    assert store.get_account("x", "7")["display_name"] == "Poster"
    assert store.get_account("x", "8")["handle"] == "other"


def test_old_telegram_export_ids_are_unified_with_new_ones(store, tmp_path):
    # Before 2021 Telegram Desktop wrote bare numbers: the channel's own posts carry the chat id.
    old = {"name": "Chan", "type": "public_channel", "id": 10083966286, "messages": [
        {"id": 1, "type": "message", "date": "2020-05-01T10:00:00", "from": "Chan", "from_id": 10083966286,
         "text": "old format post"},
    ]}
    new = {"name": "Chan", "type": "public_channel", "id": 10083966286, "messages": [
        {"id": 2, "type": "message", "date": "2024-05-01T10:00:00", "date_unixtime": "1714557600",
         "from": "Chan", "from_id": "channel10083966286", "text": "new format post"},
    ]}
    (tmp_path / "old").mkdir()
    (tmp_path / "new").mkdir()
    ingest_file(store, write(tmp_path / "old" / "result.json", old))
    ingest_file(store, write(tmp_path / "new" / "result.json", new))
    a, b = store.get_post("telegram", "10083966286/1"), store.get_post("telegram", "10083966286/2")
    assert a["account_external_id"] == b["account_external_id"] == "channel10083966286"
    assert store.get_account("telegram", "10083966286") is None
    group = {"name": "G", "type": "private_supergroup", "id": 44, "messages": [
        {"id": 3, "type": "message", "date": "2020-05-01T10:00:00", "from": "Ann", "from_id": 555, "text": "hi"},
    ]}
    (tmp_path / "g").mkdir()
    ingest_file(store, write(tmp_path / "g" / "result.json", group))
    assert store.get_post("telegram", "44/3")["account_external_id"] == "user555"


def test_telegram_edits_signatures_bots_saved_from_and_cross_chat_replies(store, tmp_path):
    chat = {"name": "News", "type": "public_channel", "id": 900, "messages": [
        {"id": 1, "type": "message", "date": "2024-01-01T10:00:00", "date_unixtime": "1704103200",
         "edited": "2024-01-01T10:05:00", "edited_unixtime": "1704103500", "from": "News",
         "from_id": "channel900", "author": "Desk editor", "text": "signed and edited"},
        {"id": 2, "type": "message", "date_unixtime": "1704103300", "from": "News", "from_id": "channel900",
         "via_bot": "@somebot", "text": "sent through a bot"},
        {"id": 3, "type": "message", "date_unixtime": "1704103400", "from": "News", "from_id": "channel900",
         "saved_from": "Other Chat", "forwarded_from": "Other Chat", "forwarded_from_id": "channel777",
         "text": "forwarded"},
        {"id": 4, "type": "message", "date_unixtime": "1704103500", "from": "News", "from_id": "channel900",
         "reply_to_message_id": 55, "reply_to_peer_id": "channel777", "text": "a reply across chats"},
        {"id": 5, "type": "message", "date_unixtime": "1704103600", "from": "News", "from_id": "channel900",
         "reply_to_message_id": 1, "text": "a reply here"},
    ]}
    res = ingest_file(store, write(tmp_path / "result.json", chat))
    assert res.errors == []
    p1 = store.get_post("telegram", "900/1")
    assert p1["extra"] == {"edited_at": "2024-01-01T10:05:00+00:00", "author_signature": "Desk editor"}
    assert p1["thread"] == "900"
    assert store.get_post("telegram", "900/2")["extra"] == {"via_bot": "@somebot"}
    p3 = store.get_post("telegram", "900/3")
    assert p3["forwarded_from"] == "channel777"
    assert p3["extra"] == {"saved_from": "Other Chat", "forwarded_from_name": "Other Chat"}
    p4 = store.get_post("telegram", "900/4")
    assert p4["reply_to"] == "777/55"  # the other chat's post id, not this chat's message 55
    assert p4["extra"] == {"reply_to_peer": "channel777", "reply_external": True}
    assert store.get_post("telegram", "900/5")["reply_to"] == "900/1"
