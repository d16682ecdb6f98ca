"""X (Twitter) API v2 responses: one response object per line, or a JSON array of them."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from typing import Any

import orjson

from basira.core.errors import InputError
from basira.ingest.base import IngestFormat, Item, first_line, register
from basira.ingest.jsonl import iter_json_lines
from basira.ingest.jsonstream import first_char, head_keys, stream_items
from basira.ingest.records import AccountRecord, MediaRecord, PostRecord, parse_time

PLATFORM = "x"
_RESPONSE_KEYS = {"data", "includes"}
_REFERENCE = {"replied_to": "reply_to", "quoted": "quote_of", "retweeted": "repost_of"}


def _time(value: Any, file: str, line: int | None, field: str):
    if value is None:
        return None
    try:
        return parse_time(value)
    except ValueError as exc:
        raise InputError(file, line, field, str(exc)) from None


_IMAGE_SIZE = re.compile(r"_(?:normal|bigger|mini|\d+x\d+)(\.\w+)$")


def image_identity(url: Any) -> str | None:
    """Without the picture's bytes, the image's URL (size suffix dropped) stands in for its hash."""
    if not isinstance(url, str) or not url:
        return None
    return "url:" + hashlib.sha1(_IMAGE_SIZE.sub(r"\1", url).encode()).hexdigest()


def _user(u: Any, file: str, line: int | None, where: str) -> AccountRecord:
    if not isinstance(u, dict):
        raise InputError(file, line, where, "must be an object")
    uid = u.get("id")
    if not isinstance(uid, str | int) or isinstance(uid, bool) or uid == "":
        raise InputError(file, line, f"{where}.id", "missing" if uid is None else "must be a string")
    return AccountRecord(
        platform=PLATFORM,
        external_id=str(uid),
        handle=u.get("username"),
        display_name=u.get("name"),
        bio=u.get("description"),
        created_at=_time(u.get("created_at"), file, line, f"{where}.created_at"),
        profile_image_hash=image_identity(u.get("profile_image_url")),
        source_file=file,
        source_line=line,
    )


def _tweet(
    t: Any, users: dict[str, AccountRecord], media: dict[str, dict], file: str, line: int | None, where: str
) -> PostRecord:
    if not isinstance(t, dict):
        raise InputError(file, line, where, "must be an object")
    tid = t.get("id")
    if not isinstance(tid, str | int) or isinstance(tid, bool) or tid == "":
        raise InputError(file, line, f"{where}.id", "missing" if tid is None else "must be a string")
    note = t.get("note_tweet") if isinstance(t.get("note_tweet"), dict) else None
    text = note.get("text") if note and isinstance(note.get("text"), str) else t.get("text")
    if not isinstance(text, str):
        raise InputError(file, line, f"{where}.text", "missing" if text is None else "must be a string")
    links: dict[str, str] = {}
    refs = t.get("referenced_tweets") or []
    if not isinstance(refs, list):
        raise InputError(file, line, f"{where}.referenced_tweets", "must be a list")
    for i, ref in enumerate(refs):
        if not isinstance(ref, dict) or "id" not in ref:
            raise InputError(
                file, line, f"{where}.referenced_tweets[{i}]", "must be an object with type and id"
            )
        kind = _REFERENCE.get(ref.get("type"))
        if kind:
            links[kind] = str(ref["id"])
    ents = (note.get("entities") if note and isinstance(note.get("entities"), dict) else None) or t.get(
        "entities"
    )
    ents = ents if isinstance(ents, dict) else {}
    mentions = [
        m["username"] for m in ents.get("mentions") or [] if isinstance(m, dict) and m.get("username")
    ]
    hashtags = [h["tag"] for h in ents.get("hashtags") or [] if isinstance(h, dict) and h.get("tag")]
    urls = [
        u.get("unwound_url") or u.get("expanded_url") or u.get("url")
        for u in ents.get("urls") or []
        if isinstance(u, dict) and not u.get("media_key") and (u.get("expanded_url") or u.get("url"))
    ]
    attachments = t.get("attachments") if isinstance(t.get("attachments"), dict) else {}
    items = []
    for key in attachments.get("media_keys") or []:
        m = media.get(key, {})
        items.append(MediaRecord(url=m.get("url") or m.get("preview_image_url"), kind=m.get("type")))
    author = t.get("author_id")
    lang = t.get("lang")
    return PostRecord(
        platform=PLATFORM,
        external_id=str(tid),
        account_external_id=str(author) if author is not None else None,
        handle=users[str(author)].handle if author is not None and str(author) in users else None,
        text=text,
        lang=None if lang in (None, "", "und") else lang,
        created_at=_time(t.get("created_at"), file, line, f"{where}.created_at"),
        reply_to=links.get("reply_to"),
        quote_of=links.get("quote_of"),
        repost_of=links.get("repost_of"),
        mentions=mentions,
        hashtags=hashtags,
        urls=urls,
        media=items,
        source_file=file,
        source_line=line,
    )


_BY_USERNAME = re.compile(r"(?:^|\.)usernames?$")


def _known_ids(resp: dict, users: dict[str, AccountRecord]) -> dict[str, str]:
    """username (lower-cased) → user id, from the response's users and its tweets' mention entities."""
    out = {u.handle.lower(): ext for ext, u in users.items() if u.handle}
    data = resp.get("data")
    includes = resp.get("includes") if isinstance(resp.get("includes"), dict) else {}
    tweets = (data if isinstance(data, list) else [data] if isinstance(data, dict) else []) + list(
        includes.get("tweets") or [])
    for t in tweets:
        ents = t.get("entities") if isinstance(t, dict) else None
        for m in (ents.get("mentions") or []) if isinstance(ents, dict) else []:
            if isinstance(m, dict) and isinstance(m.get("username"), str) and isinstance(m.get("id"), str | int):
                out.setdefault(m["username"].lower(), str(m["id"]))
    return out


def _suspensions(resp: dict, users: dict[str, AccountRecord], file: str, line: int | None) -> Iterator[Item]:
    """Suspended users, which lookups and expansions return as error objects (the one sign of a suspension
    the API gives), keyed by the user id: `resource_id` when the request named ids (`ids`, `id`,
    `author_id`, ...); when it named usernames (`usernames`, `entities.mentions.username`), the id the
    response itself gives for that username, else the account the store knows by that handle."""
    known: dict[str, str] | None = None
    for err in resp.get("errors") or []:
        if not (isinstance(err, dict) and err.get("resource_type") == "user"
                and "suspended" in str(err.get("detail", "")).lower()):
            continue
        rid = err.get("resource_id") or err.get("value")
        if not isinstance(rid, str | int) or isinstance(rid, bool) or str(rid) == "":
            continue
        rid = str(rid)
        param = str(err.get("parameter") or "")
        if not _BY_USERNAME.search(param) and rid.isdigit():
            yield line, AccountRecord(PLATFORM, rid, status="suspended", source_file=file, source_line=line)
            continue
        known = _known_ids(resp, users) if known is None else known
        handle = rid.lstrip("@")
        uid = known.get(handle.lower())
        if uid is not None:
            yield line, AccountRecord(PLATFORM, uid, handle=handle, status="suspended", source_file=file,
                                      source_line=line)
        else:
            yield line, AccountRecord(PLATFORM, "@" + handle, handle=handle, status="suspended", match_handle=True,
                                      source_file=file, source_line=line)


def records_from_response(resp: Any, file: str, line: int | None, where: str = "") -> Iterator[Item]:
    """Accounts (includes.users, suspended users in errors) first, then posts (data, includes.tweets)."""
    pre = f"{where}." if where else ""
    if not isinstance(resp, dict):
        yield line, InputError(file, line, where or None, "expected a response object")
        return
    if not _RESPONSE_KEYS & resp.keys() and "errors" not in resp and "meta" not in resp:
        yield line, InputError(file, line, where or None, "not an X API v2 response: no 'data' or 'includes'")
        return
    includes = resp.get("includes") if isinstance(resp.get("includes"), dict) else {}
    users: dict[str, AccountRecord] = {}
    for i, u in enumerate(includes.get("users") or []):
        try:
            rec = _user(u, file, line, f"{pre}includes.users[{i}]")
        except InputError as exc:
            yield line, exc
            continue
        users[rec.external_id] = rec
        yield line, rec
    yield from _suspensions(resp, users, file, line)
    media = {
        m["media_key"]: m for m in includes.get("media") or [] if isinstance(m, dict) and m.get("media_key")
    }
    data = resp.get("data")
    tweets = [] if data is None else data if isinstance(data, list) else [data]
    # A users lookup puts users, not tweets, in data.
    for i, t in enumerate(tweets):
        w = f"{pre}data[{i}]" if isinstance(data, list) else f"{pre}data"
        if isinstance(t, dict) and "text" not in t and "username" in t:
            try:
                yield line, _user(t, file, line, w)
            except InputError as exc:
                yield line, exc
            continue
        try:
            yield line, _tweet(t, users, media, file, line, w)
        except InputError as exc:
            yield line, exc
    for i, t in enumerate(includes.get("tweets") or []):
        try:
            yield line, _tweet(t, users, media, file, line, f"{pre}includes.tweets[{i}]")
        except InputError as exc:
            yield line, exc


def _only_user_errors(obj: dict) -> bool:
    """A users lookup where every user asked for was suspended: only `errors`, of X's problem shape."""
    errs = obj.get("errors")
    return (isinstance(errs, list) and bool(errs) and isinstance(errs[0], dict)
            and errs[0].get("resource_type") == "user" and "api.twitter.com/2/problems" in str(errs[0].get("type")))


@register
class XV2(IngestFormat):
    name = "x_v2"
    description = "X/Twitter API v2 responses (one per line, or a JSON array)"

    def sniff(self, path: str, head: bytes) -> bool:
        c = first_char(head)
        if c == b"[":
            return bool(_RESPONSE_KEYS & head_keys(head, "item"))
        if c != b"{":
            return False
        line = first_line(head)
        try:
            obj = orjson.loads(line)
            return isinstance(obj, dict) and (bool(_RESPONSE_KEYS & obj.keys()) or _only_user_errors(obj))
        except orjson.JSONDecodeError:
            return bool(_RESPONSE_KEYS & head_keys(head, ""))

    def iter_records(self, path: str) -> Iterator[Item]:
        with open(path, "rb") as fh:
            head = fh.read(1 << 16)
        if first_char(head) == b"[":
            for i, resp in enumerate(stream_items(path, "item"), start=1):
                yield from records_from_response(resp, path, None, where=f"[{i - 1}]")
            return
        line = first_line(head)
        try:
            orjson.loads(line)
            one_per_line = True
        except orjson.JSONDecodeError:
            one_per_line = False
        if one_per_line:
            for lineno, obj in iter_json_lines(path):
                if isinstance(obj, InputError):
                    yield lineno, obj
                else:
                    yield from records_from_response(obj, path, lineno)
        else:  # pretty-printed response objects, one after another
            for i, resp in enumerate(stream_items(path, "", multiple_values=True), start=1):
                yield from records_from_response(resp, path, None, where=f"response {i}")
