"""Property-based fuzzing of every ingest format (issue 13): wrong types, out-of-range numbers and times, NUL
and other control characters, huge values, truncated and undecodable lines.

Invariant, per generated file, on SQLite and PostgreSQL at once: ingest never raises anything but a file-level
InputError (and only for the one-JSON-value formats' truncation); every record is stored or reported, each
report naming its line and field (or a whole-line reason); every unmutated record is stored with its text;
both databases store the same rows.

Hypothesis draws a seed and a list of hostile values per file; the file's 400 records are built from them
(many records per file, few files: the suite stays fast). Counts are printed with `-s`.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import random
from collections import Counter
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from basira.core.errors import InputError
from basira.ingest import ingest_file
from basira.ingest.clean import clean_text

RECORDS_PER_FILE = 400
EXAMPLES = 6  # x 400 records = 2,400 per format per database
MUTATED_SHARE = 0.6
COUNTS: Counter = Counter()
_EXAMPLE = itertools.count(1)  # ids unique per example: the stores live for the module

DEEP: list = [1]
for _ in range(30):
    DEEP = [DEEP]
# Hostile values: wrong types, out-of-range numbers and times, control characters, huge and deep values.
FIXED_HOSTILE: list[Any] = [
    None, True, False, 0, -1, 1.5, 10**30, -(10**30), 1e308, -1e308, [], [1], ["en"], [None], {}, {"a": 1},
    {"username": {}}, "", " ", "\x00", "a\x00b", "\x1b[31m", "\u202e", "\u2028", "\x7f\x85", "\ufeff",
    1e20, "99999999999999999999", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-05:00", "2024-13-45",
    -62135596801, "nan", "1e400", "x" * 129, "y" * 300, "z" * 5000, ["m"] * 1100, DEEP,
]
hostile_values = st.lists(
    st.one_of(
        st.text(st.characters(codec="utf-8", categories=["Cc", "Cf", "Zs", "L", "Nd", "P"]), max_size=40),
        st.integers(min_value=-(10**25), max_value=10**25),
        st.floats(allow_nan=False, allow_infinity=False),
        st.lists(st.text(max_size=5), max_size=4),
        st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
        st.booleans(),
        st.none(),
    ),
    min_size=10,
    max_size=30,
)


@pytest.fixture(scope="module")
def two_stores(tmp_path_factory):
    """One SQLite and one PostgreSQL store for the whole module (each example uses its own ids)."""
    from contextlib import ExitStack

    from conftest import fresh_db_url

    from basira.store import open_store

    with ExitStack() as stack:
        stores = []
        for kind in ("sqlite", "postgresql"):
            url = stack.enter_context(fresh_db_url(kind, tmp_path_factory.mktemp(kind)))
            s = open_store(url)
            stack.callback(s.close)
            stores.append(s)
        yield stores


def _hostile(rng: random.Random, drawn: list[Any]) -> Any:
    return rng.choice(drawn) if drawn and rng.random() < 0.4 else rng.choice(FIXED_HOSTILE)


def _ids(stores, platform: str, ids: list[str]) -> list[dict[str, str]]:
    """external_id -> stored text, per store, for this example's ids (one query per store)."""
    import sqlalchemy as sa

    from basira.store.models import Platform, Post

    out = []
    for s in stores:
        with s.read() as conn:
            q = (
                sa.select(Post.external_id, Post.text)
                .join(Platform, Platform.id == Post.platform_id)
                .where(Platform.name == platform, Post.external_id.in_(ids))
            )
            out.append({r.external_id: r.text for r in conn.execute(q)})
    return out


def _ingest_reporting_every_error(store, path: str, fmt: str):
    """ingest_file with the report's cap (1,000 errors) lifted: one fuzzed file can hold more bad records than
    that, and the invariant needs to find each of them in the report."""
    from basira.ingest import runner

    kept = runner.MAX_ERRORS_KEPT
    runner.MAX_ERRORS_KEPT = 10**6
    try:
        return ingest_file(store, path, fmt=fmt)
    finally:
        runner.MAX_ERRORS_KEPT = kept


def _check(stores, path: str, fmt: str, platform: str, good: dict[str, str], mutated: dict[str, int],
           lines_of: dict[str, int | None]) -> None:
    """Ingest `path` into both stores and check the invariant. good: id -> text of unmutated records;
    mutated: id -> line (None for formats without lines)."""
    results = []
    for s in stores:
        try:
            results.append(_ingest_reporting_every_error(s, path, fmt))
        except InputError as exc:  # only the one-JSON-value formats stop a file, and only on broken JSON
            assert fmt in ("telegram",) and "invalid JSON" in exc.reason, exc
            raise
    stored = _ids(stores, platform, list(good) + list(mutated))
    assert stored[0] == stored[1], "SQLite and PostgreSQL store different rows"
    r = results[0]
    assert (r.posts_seen, r.error_count) == (results[1].posts_seen, results[1].error_count)
    assert r.error_count == len(r.errors)
    for ext, text in good.items():  # every good record stored, its text as cleaned
        assert stored[0].get(ext) == clean_text(text), f"good record {ext} lost or changed"
    error_lines = Counter(e["line"] for e in r.errors)
    for e in r.errors:
        assert e["file"] == path
        if fmt != "telegram":
            assert e["line"] is not None, e
        whole_line = any(k in e["reason"] for k in ("invalid JSON", "invalid UTF-8", "record too long", "bad CSV",
                                                     "unterminated", "quoted field", "expected a JSON object",
                                                     "columns, found", "expected a response object"))
        assert e["field"] is not None or whole_line, e
    for ext, line in mutated.items():  # every mutated record stored or reported
        if ext in stored[0]:
            continue
        if fmt == "telegram":
            assert any(f"message #{line}" in (e["field"] or "") for e in r.errors), (ext, r.errors[:5])
        else:
            assert error_lines[lines_of[ext]] > 0, (ext, lines_of[ext], r.errors[:5])
    COUNTS[(fmt, "records")] += len(good) + len(mutated)
    COUNTS[(fmt, "mutated")] += len(mutated)
    COUNTS[(fmt, "errors")] += r.error_count


def _mutate_obj(obj: dict, rng: random.Random, drawn: list[Any], fields: list[str]) -> None:
    op = rng.random()
    key = rng.choice(fields)
    if op < 0.6:
        target, _, sub = key.partition(".")
        if sub and isinstance(obj.get(target), dict):
            obj[target][sub] = _hostile(rng, drawn)
        else:
            obj[key] = _hostile(rng, drawn)
    elif op < 0.8:
        obj.pop(key.partition(".")[0], None)
    else:
        obj[rng.choice(["extra\x00", "page", "thread", "weird", "x" * 300])] = _hostile(rng, drawn)


def dumps(obj: Any) -> bytes:
    """JSON as an exporter may write it (big integers and all; orjson refuses integers beyond 64 bits)."""
    return json.dumps(obj, ensure_ascii=False).encode("utf-8", "surrogatepass")


def _restore(obj: dict, key: str, value: str) -> None:
    """Keep a record's identity unless the mutation made it invalid (a valid but different id would be a
    different record, not a bad one)."""
    v = obj.get(key)
    if isinstance(v, str | int) and not isinstance(v, bool):
        obj[key] = value


def _line_damage(raw: bytes, rng: random.Random) -> bytes:
    op = rng.random()
    if op < 0.4:
        return raw[: rng.randrange(1, max(2, len(raw) - 1))]  # truncated
    if op < 0.7:
        i = rng.randrange(len(raw))
        return raw[:i] + rng.choice([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x00"]) + raw[i:]  # undecodable
    return raw + rng.choice([b" trailing", b"}", b","])


settings_ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # no shrinking: a 400-record file shrinks for minutes
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)


def _generic_post(n: str, rng: random.Random) -> dict:
    return {
        "platform": "fuzz", "id": n, "account_id": f"a{rng.randrange(50)}", "handle": f"h{rng.randrange(50)}",
        "text": rng.choice(["hello world", "مرحبا بالعالم", "ok \x00 nul", "tab\there", "Привет"]) + f" {n}",
        "lang": rng.choice(["en", "ar", "ru", None]), "created_at": rng.choice(["2024-01-02T03:04:05Z", 1704164645]),
        "reply_to": None, "mentions": ["bob"], "hashtags": ["tag"], "urls": ["https://example.org"],
        "thread": f"t{rng.randrange(5)}",
    }


@settings_
@given(seed=st.integers(0, 2**32 - 1), drawn=hostile_values)
def test_fuzz_generic_jsonl(two_stores, tmp_path_factory, seed, drawn):
    rng = random.Random(seed)
    n = next(_EXAMPLE)
    path = tmp_path_factory.mktemp("jsonl") / "f.jsonl"
    fields = ["platform", "id", "account_id", "handle", "text", "lang", "created_at", "reply_to", "mentions",
              "hashtags", "urls", "media", "thread", "type", "quote_of", "forwarded_from"]
    good, mutated, lines = {}, {}, {}
    out = []
    for i in range(RECORDS_PER_FILE):
        ext = f"j{n}-{i}"
        obj = _generic_post(ext, rng)
        if rng.random() < MUTATED_SHARE:
            damaged = rng.random() < 0.15
            if not damaged:
                _mutate_obj(obj, rng, drawn, fields)
                _restore(obj, "id", ext)
                _restore(obj, "platform", "fuzz")
                if obj.get("type") == "account":
                    obj["type"] = "post"
            raw = dumps(obj) if not damaged else _line_damage(dumps(obj), rng)
            mutated[ext] = i + 1
        else:
            good[ext] = obj["text"]
            raw = orjson.dumps(obj)
        lines[ext] = i + 1
        out.append(raw.replace(b"\n", b" ") + b"\n")
    path.write_bytes(b"".join(out))
    _check(two_stores, str(path), "jsonl", "fuzz", good, mutated, lines)


@settings_
@given(seed=st.integers(0, 2**32 - 1), drawn=hostile_values)
def test_fuzz_generic_csv(two_stores, tmp_path_factory, seed, drawn):
    rng = random.Random(seed)
    n = next(_EXAMPLE)
    path = tmp_path_factory.mktemp("csv") / "f.csv"
    header = ["platform", "id", "account_id", "handle", "text", "lang", "created_at", "reply_to", "hashtags",
              "urls", "thread"]
    good, mutated, lines = {}, {}, {}
    chunks = [(",".join(header) + "\r\n").encode()]
    line = 2
    for i in range(RECORDS_PER_FILE):
        ext = f"c{n}-{i}"
        p = _generic_post(ext, rng)
        row = {k: p.get(k) for k in header}
        row["hashtags"], row["urls"] = "tag other", "https://example.org"
        mut = rng.random() < MUTATED_SHARE
        if mut:
            col = rng.choice(header[2:])
            v = _hostile(rng, drawn)
            row[col] = v if isinstance(v, str) else json.dumps(v)
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\r\n").writerow(["" if row[k] is None else str(row[k]) for k in header])
        raw = buf.getvalue().encode("utf-8", "surrogatepass")
        if mut and rng.random() < 0.15:
            raw = _line_damage(raw.rstrip(b"\r\n"), rng).replace(b"\n", b" ").replace(b'"', b"'") + b"\r\n"
        if mut:
            mutated[ext] = line
        else:
            good[ext] = p["text"]
        lines[ext] = line
        line += raw.count(b"\n")
        chunks.append(raw)
    path.write_bytes(b"".join(chunks))
    _check(two_stores, str(path), "csv", "fuzz", good, mutated, lines)


def _tweet(ext: str, rng: random.Random) -> tuple[dict, dict]:
    uid = f"u{rng.randrange(30)}"
    t = {"id": ext, "text": rng.choice(["hello", "مرحبا", "x\x00y"]) + f" {ext}", "author_id": uid, "lang": "en",
         "created_at": "2024-01-02T03:04:05.000Z",
         "entities": {"mentions": [{"username": "bob"}], "hashtags": [{"tag": "t"}], "urls": [{"url": "https://t.co/x"}]},
         "referenced_tweets": [{"type": "replied_to", "id": "1"}], "attachments": {"media_keys": ["3_1"]},
         "edit_history_tweet_ids": [ext], "community_id": "c1"}
    u = {"id": uid, "username": f"user{uid}", "name": "N", "description": "d", "created_at": "2020-01-01T00:00:00Z"}
    return t, u


@settings_
@given(seed=st.integers(0, 2**32 - 1), drawn=hostile_values)
def test_fuzz_x_v2(two_stores, tmp_path_factory, seed, drawn):
    rng = random.Random(seed)
    n = next(_EXAMPLE)
    path = tmp_path_factory.mktemp("x") / "f.jsonl"
    tfields = ["text", "author_id", "lang", "created_at", "entities", "entities.mentions", "entities.hashtags",
               "entities.urls", "referenced_tweets", "attachments", "attachments.media_keys", "note_tweet",
               "edit_history_tweet_ids", "community_id", "withheld"]
    ufields = ["id", "username", "name", "description", "created_at", "profile_image_url", "withheld"]
    good, mutated, lines = {}, {}, {}
    out = []
    for i in range(RECORDS_PER_FILE):
        ext = f"{n}{i:04d}"
        t, u = _tweet(ext, rng)
        resp: dict[str, Any] = {"data": [t], "includes": {"users": [u], "media": [{"media_key": "3_1", "type": "photo"}]}}
        mut = rng.random() < MUTATED_SHARE
        if mut:
            where = rng.random()
            if where < 0.6:
                _mutate_obj(t, rng, drawn, tfields)
            elif where < 0.85:
                _mutate_obj(u, rng, drawn, ufields)
            else:
                resp[rng.choice(["includes", "errors", "data"])] = _hostile(rng, drawn)
            _restore(t, "id", ext)
            raw = dumps(resp)
            if rng.random() < 0.1:
                raw = _line_damage(raw, rng)
            if resp.get("data") in (None, []) and raw.endswith(b"}"):
                pass  # a response without tweets: nothing to store, nothing wrong
            else:
                mutated[ext] = i + 1
        else:
            raw = orjson.dumps(resp)
            good[ext] = t["text"]
        lines[ext] = i + 1
        out.append(raw.replace(b"\n", b" ") + b"\n")
    path.write_bytes(b"".join(out))
    _check(two_stores, str(path), "x_v2", "x", good, mutated, lines)


@settings_
@given(seed=st.integers(0, 2**32 - 1), drawn=hostile_values)
def test_fuzz_telegram(two_stores, tmp_path_factory, seed, drawn):
    rng = random.Random(seed)
    folder = tmp_path_factory.mktemp("tg")
    chat_id = 10_000 + next(_EXAMPLE)
    fields = ["id", "type", "date", "date_unixtime", "edited", "edited_unixtime", "from", "from_id", "text",
              "text_entities", "reply_to_message_id", "reply_to_peer_id", "forwarded_from", "forwarded_from_id",
              "media_type", "file", "photo", "thumbnail", "author", "via_bot", "saved_from"]
    good, mutated, lines = {}, {}, {}
    msgs = []
    for i in range(RECORDS_PER_FILE):
        ext = f"{chat_id}/{i + 1}"
        m = {"id": i + 1, "type": "message", "date": "2024-01-02T03:04:05", "date_unixtime": "1704164645",
             "from": "Ann", "from_id": f"user{rng.randrange(20)}", "text": ["hi ", {"type": "hashtag", "text": "#t"}],
             "text_entities": [{"type": "plain", "text": "hi "}, {"type": "hashtag", "text": "#t"}],
             "file": "(File not included. Change data exporting settings to download.)", "media_type": "video_file"}
        if rng.random() < MUTATED_SHARE:
            _mutate_obj(m, rng, drawn, [f for f in fields if f != "id"])
            if isinstance(m.get("type"), str) and m["type"] != "message":
                m["type"] = "message"  # a service message is skipped by design, not a record
            mutated[ext] = i + 1
        else:
            good[ext] = "hi #t"
        lines[ext] = None
        msgs.append(m)
    path = folder / "result.json"
    path.write_bytes(dumps({"name": "Fuzz", "type": "public_channel", "id": chat_id, "messages": msgs}))
    _check(two_stores, str(path), "telegram", "telegram", good, mutated, lines)


@settings_
@given(seed=st.integers(0, 2**32 - 1), drawn=hostile_values)
def test_fuzz_follows(two_stores, tmp_path_factory, seed, drawn):
    from basira.network.repository import count_follows

    rng = random.Random(seed)
    n = next(_EXAMPLE)
    path = tmp_path_factory.mktemp("follows") / "f.jsonl"
    out, n_good, n_bad_lines = [], 0, set()
    for i in range(RECORDS_PER_FILE):
        e = {"platform": "fz", "source_id": f"s{n}-{i}", "target_id": f"t{n}-{i}"}
        if rng.random() < MUTATED_SHARE:
            _mutate_obj(e, rng, drawn, ["platform", "source_id", "target_id"])
            _restore(e, "source_id", f"s{n}-{i}")
            _restore(e, "target_id", f"t{n}-{i}")
            n_bad_lines.add(i + 1)
        else:
            n_good += 1
        out.append(dumps(e) + b"\n")
    path.write_bytes(b"".join(out))
    before = [count_follows(s) for s in two_stores]
    res = [ingest_file(s, str(path), fmt="follows") for s in two_stores]
    added = [count_follows(s) - b for s, b in zip(two_stores, before, strict=True)]
    assert added[0] == added[1] >= n_good
    assert res[0].error_count == res[1].error_count
    assert added[0] + res[0].error_count == RECORDS_PER_FILE
    assert all(e["line"] in n_bad_lines and e["field"] for e in res[0].errors)
    COUNTS[("follows", "records")] += RECORDS_PER_FILE
    COUNTS[("follows", "mutated")] += len(n_bad_lines)
    COUNTS[("follows", "errors")] += res[0].error_count


def test_zz_fuzz_counts():
    """Print what the fuzz tests covered (run with -s); each format saw >= 2,000 records per database."""
    print("\nfuzz records per format (each stored into SQLite and PostgreSQL):", dict(sorted(COUNTS.items())))
    for fmt in ("jsonl", "csv", "x_v2", "telegram", "follows"):
        if COUNTS[(fmt, "records")]:
            assert COUNTS[(fmt, "records")] >= EXAMPLES * RECORDS_PER_FILE * 0.8
