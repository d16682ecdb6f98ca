"""The last check before the store: every record from every format is cleaned and bounded here, so that what
one database accepts the other does too (a NUL, a lone surrogate or a 300-character handle once passed SQLite
and failed a whole PostgreSQL batch).

- Text fields: U+0000, other C0/C1 control characters (except tab, newline, carriage return) and lone
  surrogates become U+FFFD, one for one, so lengths and evidence offsets do not move.
- Identifiers (ids, platform, links): a control character or more than the column holds is an error naming
  the field; so is a `lang` longer than a language tag or a post text over the configured cap.
- `extra`: kept as given, cleaned the same way, bounded in depth and size (a field too big to keep is listed
  in `extra["_dropped"]` instead).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

from basira.core.errors import InputError
from basira.ingest.records import AccountRecord, FollowRecord, MediaRecord, PostRecord

# Control characters except \t \n \r, and lone surrogates (which no database stores as UTF-8).
_BAD_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
REPLACEMENT = "\ufffd"
# Column sizes in basira/store/models.py.
ID_MAX = 128
PLATFORM_MAX = 64
HANDLE_MAX = 256
FORWARDED_MAX = 256
THREAD_MAX = 256
LANG_MAX = 16
KIND_MAX = 32
STATUS_MAX = 32
HASH_MAX = 128
LIST_ITEMS_MAX = 1000  # mentions, hashtags, urls, media per post
EXTRA_DEPTH_MAX = 16
EXTRA_BYTES_MAX = 64 * 1024
DEFAULT_MAX_TEXT_CHARS = 1_000_000


@dataclass(frozen=True)
class ReadOptions:
    """How a format reads a file: per-record bounds (Settings.max_text_chars, Settings.max_record_bytes) and
    the platform of generic records that name none (`basira scan --platform`)."""

    max_text_chars: int = DEFAULT_MAX_TEXT_CHARS
    max_record_bytes: int = 16 * 1024 * 1024  # one JSON line / CSV record / JSON message, in bytes
    default_platform: str | None = None

    @classmethod
    def from_settings(cls, settings: Any | None = None, default_platform: str | None = None) -> ReadOptions:
        if settings is None:
            from basira.core.settings import Settings

            settings = Settings()
        return cls(settings.max_text_chars, settings.max_record_bytes, default_platform)


def clean_text(value: str) -> str:
    return _BAD_CHARS.sub(REPLACEMENT, value) if _BAD_CHARS.search(value) else value


def _opt_text(value: str | None) -> str | None:
    return None if value is None else clean_text(value)


# Record attributes by the names the generic formats give them in the input.
_INPUT_NAMES = {
    "external_id": "id",
    "account_external_id": "account_id",
    "source_external_id": "source_id",
    "target_external_id": "target_id",
}


class _Checker:
    def __init__(self, rec: Any, where: str | None) -> None:
        self.rec = rec
        self.where = where  # the format's name for the record ("data[0]"), prefixed to field names

    def error(self, field: str, reason: str) -> InputError:
        field = _INPUT_NAMES.get(field, field)
        name = f"{self.where}.{field}" if self.where else field
        return InputError(self.rec.source_file or "<input>", self.rec.source_line, name, reason)

    def ident(self, field: str, limit: int = ID_MAX, required: bool = False) -> None:
        v = getattr(self.rec, field)
        if v is None:
            if required:
                raise self.error(field, "missing")
            return
        if not isinstance(v, str):
            raise self.error(field, "must be a string")
        if required and not v.strip():
            raise self.error(field, "missing")
        if len(v) > limit:
            raise self.error(field, f"too long: {len(v)} characters (at most {limit})")
        if _BAD_CHARS.search(v):
            raise self.error(field, "contains a control character")

    def text(self, field: str, limit: int | None = None) -> None:
        v = getattr(self.rec, field)
        if v is None:
            return
        if not isinstance(v, str):
            raise self.error(field, "must be a string")
        if limit is not None and len(v) > limit:
            raise self.error(field, f"too long: {len(v)} characters (at most {limit})")
        setattr(self.rec, field, clean_text(v))

    def str_list(self, field: str, limit: int = 2048) -> None:
        v = getattr(self.rec, field)
        if not isinstance(v, list):
            raise self.error(field, "must be a list of strings")
        if len(v) > LIST_ITEMS_MAX:
            raise self.error(field, f"too many items: {len(v)} (at most {LIST_ITEMS_MAX})")
        out = []
        for i, x in enumerate(v):
            if not isinstance(x, str):
                raise self.error(f"{field}[{i}]", "must be a string")
            if len(x) > limit:
                raise self.error(f"{field}[{i}]", f"too long: {len(x)} characters (at most {limit})")
            out.append(clean_text(x))
        setattr(self.rec, field, out)


def _clean_json(value: Any, depth: int) -> Any:
    if depth > EXTRA_DEPTH_MAX:
        raise ValueError("nested too deeply")
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(str(k)): _clean_json(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean_json(v, depth + 1) for v in value]
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return None
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 1 << 63:
        return str(value) if abs(value) < 10**4000 else None  # JSON readers elsewhere stop at 64 bits
    if value is None or isinstance(value, bool | int | float):
        return value
    return clean_text(str(value))  # Decimal and other scalars a JSON reader may give


def clean_extra(extra: dict[str, Any] | None) -> dict[str, Any] | None:
    """`extra` cleaned and bounded: a field nested too deeply or too large is dropped and named in `_dropped`."""
    if not extra:
        return None
    out: dict[str, Any] = {}
    dropped: list[str] = []
    size = 0
    for k, v in extra.items():
        key = clean_text(str(k))[:256]
        try:
            cv = _clean_json(v, 1)
            n = len(orjson.dumps(cv))
        except (ValueError, TypeError, RecursionError, orjson.JSONEncodeError):
            dropped.append(key)
            continue
        if size + n > EXTRA_BYTES_MAX:
            dropped.append(key)
            continue
        size += n
        out[key] = cv
    if dropped:
        out["_dropped"] = dropped[:100]
    return out


def _media(c: _Checker, items: list[MediaRecord]) -> None:
    if not isinstance(items, list):
        raise c.error("media", "must be a list")
    if len(items) > LIST_ITEMS_MAX:
        raise c.error("media", f"too many items: {len(items)} (at most {LIST_ITEMS_MAX})")
    for i, m in enumerate(items):
        if not isinstance(m, MediaRecord):
            raise c.error(f"media[{i}]", "must be a media object")
        for f, limit in (("kind", KIND_MAX), ("sha256", 64), ("pdq", 64)):
            v = getattr(m, f)
            if v is not None and (not isinstance(v, str) or len(v) > limit or _BAD_CHARS.search(v)):
                raise c.error(f"media[{i}].{f}", f"must be a string of at most {limit} plain characters")
        if m.url is not None:
            if not isinstance(m.url, str):
                raise c.error(f"media[{i}].url", "must be a string")
            if len(m.url) > 8192:
                raise c.error(f"media[{i}].url", f"too long: {len(m.url)} characters (at most 8192)")
            m.url = clean_text(m.url)


def clean_record(rec: Any, options: ReadOptions, where: str | None = None) -> Any:
    """The record, cleaned in place and returned; InputError when a field cannot be stored as given."""
    c = _Checker(rec, where or getattr(rec, "where", None))
    if isinstance(rec, PostRecord):
        c.ident("platform", PLATFORM_MAX, required=True)
        c.ident("external_id", required=True)
        c.ident("account_external_id")
        for f in ("reply_to", "quote_of", "repost_of"):
            c.ident(f)
        c.ident("forwarded_from", FORWARDED_MAX)
        if not isinstance(rec.text, str):
            raise c.error("text", "must be a string")
        if len(rec.text) > options.max_text_chars:
            raise c.error(
                "text",
                f"too long: {len(rec.text):,} characters (the cap is {options.max_text_chars:,}; "
                "BASIRA_MAX_TEXT_CHARS)",
            )
        rec.text = clean_text(rec.text)
        c.text("handle", HANDLE_MAX)
        c.ident("lang", LANG_MAX)
        c.text("thread", THREAD_MAX)
        for f in ("mentions", "hashtags", "urls"):
            c.str_list(f, 8192 if f == "urls" else 2048)
        _media(c, rec.media)
        rec.extra = clean_extra(rec.extra)
    elif isinstance(rec, AccountRecord):
        c.ident("platform", PLATFORM_MAX, required=True)
        c.ident("external_id", required=True)
        c.text("handle", HANDLE_MAX)
        c.text("display_name", 10_000)
        c.text("bio", 100_000)
        c.ident("status", STATUS_MAX)
        c.ident("profile_image_hash", HASH_MAX)
        rec.extra = clean_extra(rec.extra)
    elif isinstance(rec, FollowRecord):
        c.ident("platform", PLATFORM_MAX, required=True)
        c.ident("source_external_id", required=True)
        c.ident("target_external_id", required=True)
    return rec
