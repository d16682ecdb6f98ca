"""X (Twitter) API v2 responses: one response object per line, or a JSON array of them."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from typing import Any

from basira.core.errors import InputError
from basira.ingest.base import (
    HEAD_BYTES,
    MALFORMED,
    IngestFormat,
    Item,
    first_object,
    looks_twarc,
    malformed,
    register,
)
from basira.ingest.clean import ReadOptions
from basira.ingest.jsonl import iter_json_lines
from basira.ingest.jsonstream import first_char, head_keys, open_json, stream_items
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


def _opt_str(obj: dict[str, Any], key: str, file: str, line: int | None, where: str) -> str | None:
    v = obj.get(key)
    if v is None:
        return None
    if not isinstance(v, str):
        raise InputError(file, line, f"{where}.{key}", "must be a string")
    return v


def _opt_id(obj: dict[str, Any], key: str, file: str, line: int | None, where: str) -> str | None:
    v = obj.get(key)
    if v is None or v == "":
        return None
    if isinstance(v, bool) or not isinstance(v, str | int):
        raise InputError(file, line, f"{where}.{key}", "must be a string")
    return str(v)


def _list(obj: dict[str, Any], key: str, file: str, line: int | None, where: str) -> list[Any]:
    v = obj.get(key)
    if v is None:
        return []
    if not isinstance(v, list):
        raise InputError(file, line, f"{where}.{key}", "must be a list")
    return v


def _dict(obj: dict[str, Any], key: str, file: str, line: int | None, where: str) -> dict[str, Any]:
    v = obj.get(key)
    if v is None:
        return {}
    if not isinstance(v, dict):
        raise InputError(file, line, f"{where}.{key}", "must be an object")
    return v


# Fields kept in `extra` as given (docs/formats.md): edits, withholding, and what places a post or user.
_TWEET_EXTRA = (
    "edit_history_tweet_ids",
    "edit_controls",
    "withheld",
    "conversation_id",
    "in_reply_to_user_id",
    "possibly_sensitive",
    "geo",
)
_USER_EXTRA = ("withheld", "protected", "verified", "verified_type", "location", "url", "pinned_tweet_id")


def _user(u: Any, file: str, line: int | None, where: str) -> AccountRecord:
    if not isinstance(u, dict):
        raise InputError(file, line, where, "must be an object")
    uid = u.get("id")
    if not isinstance(uid, str | int) or isinstance(uid, bool) or uid == "":
        raise InputError(file, line, f"{where}.id", "missing" if uid is None else "must be a string")
    extra = {k: u[k] for k in _USER_EXTRA if u.get(k) is not None}
    return AccountRecord(
        platform=PLATFORM,
        external_id=str(uid),
        handle=_opt_str(u, "username", file, line, where),
        display_name=_opt_str(u, "name", file, line, where),
        bio=_opt_str(u, "description", file, line, where),
        created_at=_time(u.get("created_at"), file, line, f"{where}.created_at"),
        profile_image_hash=image_identity(u.get("profile_image_url")),
        source_file=file,
        source_line=line,
        extra=extra or None,
        where=where,
    )


def _entity_values(ents: dict[str, Any], key: str, attr: str, file: str, line, where: str) -> list[str]:
    out = []
    for i, e in enumerate(_list(ents, key, file, line, where)):
        if not isinstance(e, dict):
            raise InputError(file, line, f"{where}.{key}[{i}]", "must be an object")
        v = e.get(attr)
        if v is None or v == "":
            continue
        if not isinstance(v, str):
            raise InputError(file, line, f"{where}.{key}[{i}].{attr}", "must be a string")
        out.append(v)
    return out


def _urls(ents: dict[str, Any], file: str, line, where: str) -> list[str]:
    out = []
    for i, u in enumerate(_list(ents, "urls", file, line, where)):
        if not isinstance(u, dict):
            raise InputError(file, line, f"{where}.urls[{i}]", "must be an object")
        if u.get("media_key"):
            continue
        for k in ("unwound_url", "expanded_url", "url"):
            v = u.get(k)
            if v is not None and not isinstance(v, str):
                raise InputError(file, line, f"{where}.urls[{i}].{k}", "must be a string")
        if u.get("expanded_url") or u.get("url"):
            out.append(u.get("unwound_url") or u.get("expanded_url") or u.get("url"))
    return out


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
    for i, ref in enumerate(_list(t, "referenced_tweets", file, line, where)):
        if not isinstance(ref, dict) or "id" not in ref:
            raise InputError(
                file, line, f"{where}.referenced_tweets[{i}]", "must be an object with type and id"
            )
        ref_id = _opt_id(ref, "id", file, line, f"{where}.referenced_tweets[{i}]")
        kind = _REFERENCE.get(ref.get("type")) if isinstance(ref.get("type"), str) else None
        if kind and ref_id:
            links[kind] = ref_id
    if note and isinstance(note.get("entities"), dict):
        ents, ents_where = note["entities"], f"{where}.note_tweet.entities"
    else:
        ents, ents_where = _dict(t, "entities", file, line, where), f"{where}.entities"
    mentions = _entity_values(ents, "mentions", "username", file, line, ents_where)
    hashtags = _entity_values(ents, "hashtags", "tag", file, line, ents_where)
    urls = _urls(ents, file, line, ents_where)
    attachments = _dict(t, "attachments", file, line, where)
    items = []
    for i, key in enumerate(_list(attachments, "media_keys", file, line, f"{where}.attachments")):
        if not isinstance(key, str):
            raise InputError(file, line, f"{where}.attachments.media_keys[{i}]", "must be a string")
        m = media.get(key, {})
        url = m.get("url") or m.get("preview_image_url")
        kind = m.get("type")
        items.append(
            MediaRecord(
                url=url if isinstance(url, str) else None, kind=kind if isinstance(kind, str) else None
            )
        )
    author = _opt_id(t, "author_id", file, line, where)
    lang = _opt_str(t, "lang", file, line, where)
    extra: dict[str, Any] = {k: t[k] for k in _TWEET_EXTRA if t.get(k) is not None}
    edits = t.get("edit_history_tweet_ids")
    if isinstance(edits, list) and edits and str(edits[0]) != str(tid):
        extra["edit_of"] = str(edits[0])  # an edited version: the chain starts at the original tweet
    return PostRecord(
        platform=PLATFORM,
        external_id=str(tid),
        account_external_id=author,
        handle=users[author].handle if author is not None and author in users else None,
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
        # The X community the post was made in: the nearest thing X has to a forum's thread or a group.
        thread=_opt_id(t, "community_id", file, line, where),
        extra=extra or None,
        where=where,
    )


def _guard(fn, where: str, file: str, line: int | None, *args) -> AccountRecord | PostRecord | InputError:
    """fn(*args), or the InputError it raised; a shape no check foresaw is still a per-record error."""
    try:
        return fn(*args)
    except InputError as exc:
        return exc
    except MALFORMED as exc:
        return malformed(file, line, where, exc)


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
    try:
        includes = _dict(resp, "includes", file, line, where or "response")
        users_in = _list(includes, "users", file, line, f"{pre}includes")
        media_in = _list(includes, "media", file, line, f"{pre}includes")
        tweets_in = _list(includes, "tweets", file, line, f"{pre}includes")
        _list(resp, "errors", file, line, where or "response")
    except InputError as exc:
        yield line, exc  # the response's shape is wrong: none of it can be read safely
        return
    users: dict[str, AccountRecord] = {}
    for i, u in enumerate(users_in):
        w = f"{pre}includes.users[{i}]"
        rec = _guard(_user, w, file, line, u, file, line, w)
        if isinstance(rec, AccountRecord):
            users[rec.external_id] = rec
        yield line, rec
    yield from _suspensions(resp, users, file, line)
    media = {
        m["media_key"]: m
        for m in media_in
        if isinstance(m, dict) and isinstance(m.get("media_key"), str) and m.get("media_key")
    }
    data = resp.get("data")
    tweets = [] if data is None else data if isinstance(data, list) else [data]
    # A users lookup puts users, not tweets, in data.
    for i, t in enumerate(tweets):
        w = f"{pre}data[{i}]" if isinstance(data, list) else f"{pre}data"
        if isinstance(t, dict) and "text" not in t and "username" in t:
            yield line, _guard(_user, w, file, line, t, file, line, w)
            continue
        yield line, _guard(_tweet, w, file, line, t, users, media, file, line, w)
    for i, t in enumerate(tweets_in):
        w = f"{pre}includes.tweets[{i}]"
        yield line, _guard(_tweet, w, file, line, t, users, media, file, line, w)


def response_from_flat(t: dict[str, Any]) -> dict[str, Any]:
    """A twarc-flattened tweet as the response it came from: inlined users, media and referenced tweets
    back in `includes`, so one mapping serves both shapes."""
    users: list[Any] = []
    tweets: list[Any] = []
    media: list[Any] = []

    def collect(tw: Any, depth: int) -> None:
        if not isinstance(tw, dict) or depth > 3:
            return
        for k in ("author", "in_reply_to_user"):
            if isinstance(tw.get(k), dict) and tw[k].get("id") is not None:
                users.append(tw[k])
        att = tw.get("attachments")
        if isinstance(att, dict) and isinstance(att.get("media"), list):
            media.extend(m for m in att["media"] if isinstance(m, dict))
        refs = tw.get("referenced_tweets")
        if isinstance(refs, list):
            for r in refs:
                if isinstance(r, dict) and "text" in r:
                    inner = {k: v for k, v in r.items() if k != "type"}
                    tweets.append(inner)
                    collect(inner, depth + 1)

    collect(t, 0)
    return {"data": t, "includes": {"users": users, "tweets": tweets, "media": media}}


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
        obj = first_object(path, head)
        if obj is not None:
            return bool(_RESPONSE_KEYS & obj.keys()) or looks_twarc(obj) or _only_user_errors(obj)
        return bool(_RESPONSE_KEYS & head_keys(head, ""))

    def iter_records(self, path: str, options: ReadOptions | None = None) -> Iterator[Item]:
        with open_json(path) as fh:
            head = fh.read(HEAD_BYTES)
        if first_char(head) == b"[":
            for i, resp in enumerate(stream_items(path, "item"), start=1):
                yield from records_from_response(resp, path, None, where=f"[{i - 1}]")
            return
        if first_object(path, head) is not None:
            for lineno, obj in iter_json_lines(path, options):
                if isinstance(obj, InputError):
                    yield lineno, obj
                elif looks_twarc(obj):
                    yield from records_from_response(response_from_flat(obj), path, lineno)
                else:
                    yield from records_from_response(obj, path, lineno)
        else:  # pretty-printed response objects, one after another
            for i, resp in enumerate(stream_items(path, "", multiple_values=True), start=1):
                yield from records_from_response(resp, path, None, where=f"response {i}")
