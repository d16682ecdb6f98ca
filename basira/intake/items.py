"""One submitted content item: checked field by field, so a bad item is refused alone, with the field named."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Any

from basira.core.errors import InputError
from basira.core.time import parse_time
from basira.ingest.clean import ReadOptions, clean_record
from basira.ingest.records import AccountRecord, MediaRecord, PostRecord

MAX_BATCH = 1000
_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
_HEX32 = re.compile(r"^[0-9a-fA-F]{32}$")
_ITEM_FIELDS = {"platform", "post_id", "account", "text", "lang", "media", "urls", "reply_to", "quote_of",
                "repost_of", "created_at", "thread", "mentions", "hashtags"}
_ACCOUNT_FIELDS = {"id", "handle", "display_name", "bio", "created_at", "profile_image_hash"}
_MEDIA_FIELDS = {"url", "kind", "sha256", "pdq", "md5", "data_base64", "mime", "uploaded_bytes"}
_HASHES = ("sha256", "pdq", "md5")


# clean_record's names for the record fields -> this API's names
_POST_NAMES = {"id": "post_id", "account_id": "account.id", "handle": "account.handle"}
_ACCOUNT_NAMES = {"id": "id"}


class ItemError(InputError):
    """A refused item: `field` names what is wrong (dotted, e.g. `account.id`, `media[0].pdq`)."""


@dataclass(slots=True)
class IntakeMedia(MediaRecord):
    """One submitted photo or video. `source` says where its hashes come from: `hashes` (given by the platform),
    `upload` (its bytes came base64 in the item and were hashed at intake; the bytes are not kept) or `url`
    (fetched and hashed when the item is processed; `error` then says why it could not be). Its md5, sha256
    and pdq are all stored with the post."""

    source: str = "hashes"
    mime: str | None = None
    size: int | None = None
    error: str | None = None


def _err(index: int, field: str | None, reason: str) -> ItemError:
    return ItemError(f"item {index}", None, field, reason)


def _ident(raw: dict[str, Any], key: str, index: int, where: str = "", required: bool = False) -> str | None:
    v = raw.get(key)
    if v is None:
        if required:
            raise _err(index, where + key, "required")
        return None
    if isinstance(v, bool) or not isinstance(v, str | int):
        raise _err(index, where + key, "must be a string (or a whole number)")
    v = str(v)
    if not v.strip():
        raise _err(index, where + key, "must not be empty")
    return v


def _text(raw: dict[str, Any], key: str, index: int, where: str = "") -> str | None:
    v = raw.get(key)
    if v is not None and not isinstance(v, str):
        raise _err(index, where + key, "must be a string")
    return v


def _time(raw: dict[str, Any], key: str, index: int, where: str = "") -> Any:
    v = raw.get(key)
    if v is None:
        return None
    try:
        return parse_time(v)
    except ValueError as exc:
        raise _err(index, where + key, str(exc)) from None


def _strings(raw: dict[str, Any], key: str, index: int) -> list[str]:
    v = raw.get(key)
    if v is None:
        return []
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise _err(index, key, "must be a list of strings")
    return list(v)


def _unknown(raw: dict[str, Any], allowed: set[str], index: int, where: str = "") -> None:
    extra = sorted(k for k in raw if k not in allowed)
    if extra:
        raise _err(index, where + str(extra[0]), f"unknown field (expected one of {', '.join(sorted(allowed))})")


def parse_item(raw: Any, index: int, options: ReadOptions) -> tuple[dict[str, Any], PostRecord, AccountRecord | None]:
    """(the item as stored in the queue, its post, its account) or ItemError naming the field."""
    if not isinstance(raw, dict):
        raise _err(index, None, "must be a JSON object")
    _unknown(raw, _ITEM_FIELDS, index)
    platform = _ident(raw, "platform", index, required=True)
    post_id = _ident(raw, "post_id", index, required=True)
    text = raw.get("text")
    if not isinstance(text, str):
        raise _err(index, "text", "required, a string" if text is None else "must be a string")
    account = raw.get("account")
    acc: AccountRecord | None = None
    if account is not None:
        if not isinstance(account, dict):
            raise _err(index, "account", "must be an object")
        _unknown(account, _ACCOUNT_FIELDS, index, "account.")
        acc = AccountRecord(platform, _ident(account, "id", index, "account.", required=True),  # type: ignore[arg-type]
                            handle=_text(account, "handle", index, "account."),
                            display_name=_text(account, "display_name", index, "account."),
                            bio=_text(account, "bio", index, "account."),
                            created_at=_time(account, "created_at", index, "account."),
                            profile_image_hash=_text(account, "profile_image_hash", index, "account."))
    media_raw = raw.get("media") or []
    if not isinstance(media_raw, list):
        raise _err(index, "media", "must be a list")
    media = [_media(m, index, i) for i, m in enumerate(media_raw)]
    post = PostRecord(platform, post_id, acc.external_id if acc else None, text,  # type: ignore[arg-type]
                      created_at=_time(raw, "created_at", index), handle=acc.handle if acc else None,
                      lang=_text(raw, "lang", index), reply_to=_ident(raw, "reply_to", index),
                      quote_of=_ident(raw, "quote_of", index), repost_of=_ident(raw, "repost_of", index),
                      mentions=_strings(raw, "mentions", index), hashtags=_strings(raw, "hashtags", index),
                      urls=_strings(raw, "urls", index), media=media, thread=_text(raw, "thread", index),
                      source_file="api:content")
    try:
        clean_record(post, options)
    except InputError as exc:
        raise _err(index, _POST_NAMES.get(exc.field or "", exc.field), exc.reason) from None
    if acc is not None:
        try:
            clean_record(acc, options)
        except InputError as exc:
            raise _err(index, "account." + _ACCOUNT_NAMES.get(exc.field or "", exc.field or ""), exc.reason) from None
    stored = {k: v for k, v in raw.items() if v is not None}
    if any(m.source == "upload" for m in media):
        stored["media"] = [_stored_media(m) for m in media]  # the hashes, never the uploaded bytes
    stored["platform"], stored["post_id"], stored["text"] = platform, post_id, post.text
    return stored, post, acc


def _upload_cap() -> int:
    from basira.core.settings import Settings

    return int(Settings().hma_fetch_max_bytes)  # uploads are held to the fetches' size cap, as on /h/hash


def _media(m: Any, index: int, i: int) -> IntakeMedia:
    where = f"media[{i}]."
    if not isinstance(m, dict):
        raise _err(index, f"media[{i}]", "must be an object with url, data_base64, sha256, pdq or md5")
    _unknown(m, _MEDIA_FIELDS, index, where)
    for key, pattern, digits in (("sha256", _HEX64, 64), ("pdq", _HEX64, 64), ("md5", _HEX32, 32)):
        v = m.get(key)
        if v is not None and (not isinstance(v, str) or not pattern.match(v)):
            raise _err(index, where + key, f"must be {digits} hex digits")
    url, kind, mime = _text(m, "url", index, where), _text(m, "kind", index, where), _text(m, "mime", index, where)
    given = {k: m[k].lower() for k in _HASHES if m.get(k)}
    data = m.get("data_base64")
    if data is not None:
        if given:
            raise _err(index, where + "data_base64", "give either data_base64 or precomputed hashes, not both")
        return _upload(data, kind, mime, url, index, where)
    if not url and not given:
        raise _err(index, f"media[{i}]", "give a url, data_base64 or a precomputed hash (sha256, pdq, md5)")
    size = m.get("uploaded_bytes")  # an upload hashed at intake, read back from the queue
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
        raise _err(index, where + "uploaded_bytes", "must be a whole number of bytes")
    source = "upload" if size is not None and given else "hashes" if given else "url"
    return IntakeMedia(url=url, kind=kind, sha256=given.get("sha256"), pdq=given.get("pdq"), md5=given.get("md5"),
                       source=source, mime=mime, size=size)


def _upload(data: Any, kind: str | None, mime: str | None, url: str | None, index: int, where: str) -> IntakeMedia:
    from basira.ingest.media_fetch import FetchError, hash_media_bytes

    if not isinstance(data, str) or not data:
        raise _err(index, where + "data_base64", "must be a non-empty base64 string")
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise _err(index, where + "data_base64", "not valid base64 (RFC 4648, standard alphabet)") from None
    cap = _upload_cap()
    if len(raw) > cap:
        raise _err(index, where + "data_base64", f"{len(raw):,} bytes, over the {cap:,}-byte cap "
                                                 "(BASIRA_HMA_FETCH_MAX_BYTES)")
    try:
        got = hash_media_bytes(raw, mime or "", kind)
    except FetchError as exc:
        raise _err(index, where + "mime", str(exc)) from None
    h = got.hashes
    return IntakeMedia(url=url, kind=kind, sha256=h.get("sha256"), pdq=h.get("pdq"), md5=h.get("md5"),
                       source="upload", mime=mime, size=len(raw))


def _stored_media(m: IntakeMedia) -> dict[str, Any]:
    out: dict[str, Any] = {"url": m.url, "kind": m.kind, "mime": m.mime, "sha256": m.sha256, "pdq": m.pdq,
                           "md5": m.md5}
    if m.source == "upload":
        out["uploaded_bytes"] = m.size
    return {k: v for k, v in out.items() if v is not None}
