"""The generic schema shared by the JSON Lines and CSV formats (see docs/formats.md)."""

from __future__ import annotations

from typing import Any

from basira.core.errors import InputError
from basira.ingest.records import AccountRecord, MediaRecord, PostRecord, parse_time

POST_FIELDS = (
    "type platform id account_id handle text lang created_at reply_to quote_of repost_of forwarded_from "
    "mentions hashtags urls media thread page channel"
).split()
THREAD_ALIASES = ("thread", "page", "channel")  # the thread, page or channel a post belongs to
ACCOUNT_FIELDS = (
    "type platform id handle display_name bio created_at suspended_at removed_at status profile_image_hash"
).split()
STATUSES = ("active", "suspended", "removed")
_POST_KEYS = frozenset(POST_FIELDS)
_ACCOUNT_KEYS = frozenset(ACCOUNT_FIELDS)


def _extra(obj: dict[str, Any], known: frozenset[str]) -> dict[str, Any] | None:
    """The fields Basira has no column for, kept as given (empty CSV cells and nulls left out)."""
    out = {k: v for k, v in obj.items() if k not in known and v is not None and v != ""}
    return out or None


def _thread(obj: dict[str, Any], file: str, line: int | None) -> str | None:
    found = [(k, _id(obj, k, file, line)) for k in THREAD_ALIASES]
    given = [(k, v) for k, v in found if v is not None]
    if len({v for _, v in given}) > 1:
        raise InputError(file, line, given[1][0], f"differs from '{given[0][0]}'; give one of {', '.join(THREAD_ALIASES)}")
    return given[0][1] if given else None


def _id(obj: dict[str, Any], key: str, file: str, line: int | None, required: bool = False) -> str | None:
    v = obj.get(key)
    if v is None or v == "":
        if required:
            raise InputError(file, line, key, "missing")
        return None
    if isinstance(v, bool) or not isinstance(v, str | int):
        raise InputError(file, line, key, "must be a string or an integer")
    return str(v)


def _str(obj: dict[str, Any], key: str, file: str, line: int | None) -> str | None:
    v = obj.get(key)
    if v is None or v == "":
        return None
    if not isinstance(v, str):
        raise InputError(file, line, key, "must be a string")
    return v


def _time(obj: dict[str, Any], key: str, file: str, line: int | None):
    v = obj.get(key)
    if v is None or v == "":
        return None
    try:
        return parse_time(v)
    except ValueError as exc:
        raise InputError(file, line, key, str(exc)) from None


def _str_list(obj: dict[str, Any], key: str, file: str, line: int | None) -> list[str]:
    v = obj.get(key)
    if v is None or v == "":
        return []
    if isinstance(v, str):  # CSV: space-separated
        return v.split()
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise InputError(file, line, key, "must be a list of strings")
    return v


def _media(obj: dict[str, Any], file: str, line: int | None) -> list[MediaRecord]:
    v = obj.get("media")
    if v is None or v == "":
        return []
    if isinstance(v, str):  # CSV: space-separated URLs
        return [MediaRecord(url=u) for u in v.split()]
    if not isinstance(v, list):
        raise InputError(file, line, "media", "must be a list of objects")
    out = []
    for i, m in enumerate(v):
        if isinstance(m, str):
            out.append(MediaRecord(url=m))
            continue
        if not isinstance(m, dict):
            raise InputError(file, line, f"media[{i}]", "must be an object or a URL string")
        fields = {}
        for k in ("url", "kind", "sha256", "pdq", "md5"):
            x = m.get(k)
            if x is not None and not isinstance(x, str):
                raise InputError(file, line, f"media[{i}].{k}", "must be a string")
            fields[k] = x
        for k, n in (("sha256", 64), ("pdq", 64), ("md5", 32)):
            x = fields[k]
            if x is not None and (len(x) != n or any(c not in "0123456789abcdefABCDEF" for c in x)):
                raise InputError(file, line, f"media[{i}].{k}", f"must be {n} hex digits")
            if x is not None:
                fields[k] = x.lower()
        out.append(MediaRecord(**fields))
    return out


def record_from_generic(
    obj: dict[str, Any], file: str, line: int | None, default_platform: str | None = None
) -> AccountRecord | PostRecord:
    """Map one generic JSONL object or CSV row to a record; InputError names the field at fault.
    `default_platform` (basira scan --platform) stands in for a missing `platform`."""
    kind = obj.get("type") or "post"
    if not isinstance(kind, str):
        raise InputError(file, line, "type", "must be 'post' or 'account'")
    platform = _str(obj, "platform", file, line) or default_platform
    if not platform:
        raise InputError(file, line, "platform", "missing (give it per record, or pass --platform NAME)")
    ext = _id(obj, "id", file, line, required=True)
    assert ext is not None
    if kind == "account":
        status = _str(obj, "status", file, line)
        if status is not None and status not in STATUSES:
            raise InputError(file, line, "status", f"must be one of {', '.join(STATUSES)}")
        return AccountRecord(
            platform=platform,
            external_id=ext,
            handle=_str(obj, "handle", file, line),
            display_name=_str(obj, "display_name", file, line),
            bio=_str(obj, "bio", file, line),
            created_at=_time(obj, "created_at", file, line),
            suspended_at=_time(obj, "suspended_at", file, line),
            removed_at=_time(obj, "removed_at", file, line),
            status=status,
            profile_image_hash=_str(obj, "profile_image_hash", file, line),
            source_file=file,
            source_line=line,
            extra=_extra(obj, _ACCOUNT_KEYS),
        )
    if kind != "post":
        raise InputError(file, line, "type", "must be 'post' or 'account'")
    text = obj.get("text")
    if not isinstance(text, str):
        raise InputError(file, line, "text", "missing" if text is None else "must be a string")
    lang = _str(obj, "lang", file, line)
    return PostRecord(
        platform=platform,
        external_id=ext,
        account_external_id=_id(obj, "account_id", file, line),
        handle=_str(obj, "handle", file, line),
        text=text,
        lang=lang,
        created_at=_time(obj, "created_at", file, line),
        reply_to=_id(obj, "reply_to", file, line),
        quote_of=_id(obj, "quote_of", file, line),
        repost_of=_id(obj, "repost_of", file, line),
        forwarded_from=_id(obj, "forwarded_from", file, line),
        mentions=[m.lstrip("@") for m in _str_list(obj, "mentions", file, line)],
        hashtags=[h.lstrip("#") for h in _str_list(obj, "hashtags", file, line)],
        urls=_str_list(obj, "urls", file, line),
        media=_media(obj, file, line),
        source_file=file,
        source_line=line,
        thread=_thread(obj, file, line),
        extra=_extra(obj, _POST_KEYS),
    )
