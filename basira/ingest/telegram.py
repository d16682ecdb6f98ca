"""Telegram Desktop exports (result.json): one chat or channel, or a full account export of many."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ijson

from basira.core.errors import InputError
from basira.ingest.base import MALFORMED, IngestFormat, Item, malformed, register
from basira.ingest.clean import _BAD_CHARS, ID_MAX, ReadOptions
from basira.ingest.jsonstream import first_char, head_keys, open_json, plain_numbers
from basira.ingest.records import AccountRecord, MediaRecord, PostRecord, parse_time

PLATFORM = "telegram"
_JSON_KIND = {"start_map": "an object", "string": "a string", "number": "a number", "boolean": "a boolean"}
CHANNEL_TYPES = {"public_channel", "private_channel"}
# Where chats sit: a single-chat export is the chat itself; a full export lists them.
_CHAT_PREFIXES = ("", "chats.list.item", "left_chats.list.item")
_MEDIA_FIELDS = (("photo", "photo"), ("file", None), ("thumbnail", None))


def _flatten(text: Any) -> tuple[str, list[dict[str, Any]]]:
    """The plain text and the entity list of a message's `text` (a string or a list of parts)."""
    if isinstance(text, str):
        return text, [{"type": "plain", "text": text}]
    parts: list[str] = []
    ents: list[dict[str, Any]] = []
    for part in text if isinstance(text, list) else []:
        if isinstance(part, str):
            parts.append(part)
            ents.append({"type": "plain", "text": part})
        elif isinstance(part, dict):
            parts.append(str(part.get("text", "")))
            ents.append(part)
    return "".join(parts), ents


def _sha256_of(base: Path, rel: str) -> str | None:
    """sha256 of an exported media file, if it was downloaded and lies inside the export folder."""
    if not rel or rel.startswith("(") or "://" in rel:
        return None  # "(File not included. ...)" or a remote reference
    try:
        target = (base / rel).resolve()
        if base not in target.parents or not target.is_file():
            return None
        h = hashlib.sha256()
        with open(target, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        return h.hexdigest()
    except OSError:
        return None


class _Chat:
    def __init__(self) -> None:
        self.id: str | None = None
        self.name: str | None = None
        self.type: str | None = None
        self.announced = False


_PEER_PREFIXES = ("user", "channel", "chat")


def _peer(value: Any, chat: _Chat, field: str) -> str | None:
    """An account id as current exports write it (`user123`, `channel456`). Old exports (before 2021) wrote
    bare numbers: the channel's own posts carry the chat id (so `10083966286` in a channel is the account
    `channel10083966286`), and in other chats the number is a user."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"{field}: must be a string such as user123")
    text = str(value).strip()
    if not text or len(text) > ID_MAX or _BAD_CHARS.search(text):
        raise ValueError(f"{field}: must be an id such as user123 (at most {ID_MAX} plain characters)")
    if text.lstrip("-").isdigit():
        bare = text.lstrip("-")
        if chat.type in CHANNEL_TYPES and bare == str(chat.id).lstrip("-"):
            return f"channel{bare}"
        return f"user{bare}"
    return text


def _bare_chat(peer: str) -> str:
    """The bare chat id of a peer id (`channel123` -> `123`), as chat ids appear in post ids."""
    for p in _PEER_PREFIXES:
        if peer.startswith(p) and peer[len(p) :].lstrip("-").isdigit():
            return peer[len(p) :]
    return peer


def _opt_str(msg: dict[str, Any], key: str, where: str) -> str | None:
    v = msg.get(key)
    if v is None or v == "":
        return None
    if not isinstance(v, str | int) or isinstance(v, bool):
        raise ValueError(f"{key}: must be a string")
    return str(v)


class _Bad(Exception):
    def __init__(self, field: str, reason: str) -> None:
        self.field, self.reason = field, reason


def _message(msg: dict[str, Any], chat: _Chat, base: Path, file: str, where: str) -> Iterator[Any]:
    """Author account (first time seen is the caller's business) and the post, or an InputError."""
    try:
        yield from _message_records(msg, chat, base, file, where)
    except _Bad as exc:
        yield InputError(file, None, f"{where}.{exc.field}", exc.reason)
    except MALFORMED as exc:
        yield malformed(file, None, where, exc)


def _message_records(msg: dict[str, Any], chat: _Chat, base: Path, file: str, where: str) -> Iterator[Any]:
    kind_ = msg.get("type", "message")
    if not isinstance(kind_, str):
        raise _Bad("type", "must be a string")
    if kind_ != "message":
        return  # service messages: joins, pins, title changes
    mid = msg.get("id")
    if not isinstance(mid, int | str) or isinstance(mid, bool) or mid == "":
        raise _Bad("id", "missing" if mid is None else "must be an integer")
    created = _time(msg, "date_unixtime", "date")
    edited = _time(msg, "edited_unixtime", "edited")
    raw = msg.get("text", "")
    if not isinstance(raw, str | list):
        raise _Bad("text", "must be a string or a list of text parts")
    text, ents = _flatten(raw)
    if msg.get("text_entities") is not None:
        if not isinstance(msg["text_entities"], list):
            raise _Bad("text_entities", "must be a list")
        ents = [e for e in msg["text_entities"] if isinstance(e, dict)]
    mentions, hashtags, urls = [], [], []
    for i, e in enumerate(ents):
        kind, value = e.get("type"), e.get("text", "")
        if not isinstance(value, str):
            raise _Bad(f"text_entities[{i}].text", "must be a string")
        if kind == "mention":
            mentions.append(value.lstrip("@"))
        elif kind == "mention_name":
            uid = e.get("user_id")
            if uid is not None and (isinstance(uid, bool) or not isinstance(uid, int | str)):
                raise _Bad(f"text_entities[{i}].user_id", "must be an integer")
            mentions.append(f"user{uid}" if uid is not None else value)
        elif kind == "hashtag":
            hashtags.append(value.lstrip("#"))
        elif kind == "link":
            urls.append(value)
        elif kind == "text_link" and e.get("href"):
            if not isinstance(e["href"], str):
                raise _Bad(f"text_entities[{i}].href", "must be a string")
            urls.append(e["href"])
    media_type = msg.get("media_type")
    if media_type is not None and not isinstance(media_type, str):
        raise _Bad("media_type", "must be a string")
    media = []
    for key, kind in _MEDIA_FIELDS:
        rel = msg.get(key)
        if rel is not None and not isinstance(rel, str):
            raise _Bad(key, "must be a string (a path in the export)")
        if rel:
            if key == "thumbnail" and media:
                continue  # a thumbnail of the file already listed
            media.append(
                MediaRecord(
                    url=None if rel.startswith("(") else rel,  # "(File not included. ...)": not downloaded
                    kind=kind or media_type or "file",
                    sha256=_sha256_of(base, rel),
                )
            )
    try:
        author = _peer(msg.get("from_id"), chat, "from_id")
        fwd_id = _peer(msg.get("forwarded_from_id"), chat, "forwarded_from_id")
        reply_peer = _peer(msg.get("reply_to_peer_id"), chat, "reply_to_peer_id")
        extra_fields = {
            k: _opt_str(msg, k, where) for k in ("forwarded_from", "author", "via_bot", "saved_from", "from")
        }
    except ValueError as exc:
        field, _, reason = str(exc).partition(": ")
        raise _Bad(field, reason) from None
    if author is None and chat.type in CHANNEL_TYPES:
        author = f"channel{chat.id}"
    if author is not None:
        yield AccountRecord(PLATFORM, author, display_name=extra_fields["from"], source_file=file, where=where)
    reply = msg.get("reply_to_message_id")
    if reply is not None and (isinstance(reply, bool) or not isinstance(reply, int | str)):
        raise _Bad("reply_to_message_id", "must be an integer")
    extra: dict[str, Any] = {}
    reply_chat = chat.id
    if reply_peer is not None:
        # A reply to a message of another chat: its post id is that chat's, which may not be in this export.
        reply_chat = _bare_chat(reply_peer)
        if reply_chat != str(chat.id):
            extra["reply_to_peer"] = reply_peer
            extra["reply_external"] = True
    if edited is not None:
        extra["edited_at"] = edited.isoformat()
    if extra_fields["author"]:
        extra["author_signature"] = extra_fields["author"]  # the channel admin who signed the post
    for k in ("via_bot", "saved_from"):
        if extra_fields[k]:
            extra[k] = extra_fields[k]
    if fwd_id and extra_fields["forwarded_from"]:
        extra["forwarded_from_name"] = extra_fields["forwarded_from"]
    yield PostRecord(
        platform=PLATFORM,
        external_id=f"{chat.id}/{mid}",
        account_external_id=author,
        text=text,
        created_at=created,
        reply_to=f"{reply_chat}/{reply}" if reply is not None else None,
        forwarded_from=fwd_id or extra_fields["forwarded_from"],
        mentions=mentions,
        hashtags=hashtags,
        urls=urls,
        media=media,
        source_file=file,
        thread=str(chat.id),
        extra=extra or None,
        where=where,
    )


def _time(msg: dict[str, Any], unix_key: str, local_key: str):
    """`date_unixtime` (Unix seconds as a string), else `date` (local time of the exporting machine, taken
    as UTC); likewise `edited_unixtime` / `edited`."""
    key = unix_key if msg.get(unix_key) is not None else local_key
    v = msg.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, str | int | float):
        raise _Bad(key, "must be a time")
    try:
        return parse_time(str(v) if key == unix_key else v)
    except ValueError as exc:
        raise _Bad(key, str(exc)) from None


@register
class TelegramExport(IngestFormat):
    name = "telegram"
    description = "Telegram Desktop export (result.json), one chat or a full export"

    def sniff(self, path: str, head: bytes) -> bool:
        if first_char(head) != b"{":
            return False
        keys = head_keys(head, "")
        return {"type", "id", "messages"} <= keys or bool(
            {"chats", "left_chats", "personal_information"} & keys
        )

    def iter_records(self, path: str, options: ReadOptions | None = None) -> Iterator[Item]:
        options = options or ReadOptions()
        base = Path(path).resolve().parent
        msg_prefixes = {(p + ".messages.item" if p else "messages.item"): p for p in _CHAT_PREFIXES}
        list_prefixes = {(p + ".messages" if p else "messages") for p in _CHAT_PREFIXES}
        chat_fields = {(f"{p}.{k}" if p else k): k for p in _CHAT_PREFIXES for k in ("id", "name", "type")}
        chat = _Chat()
        seen_authors: set[str] = set()
        builder: ijson.ObjectBuilder | None = None
        msg_prefix = ""
        n_msg = 0
        size = 0  # bytes of strings in the message being built, against the record limit
        oversize = False
        with open_json(path) as fh:
            try:
                for prefix, event, value in plain_numbers(ijson.parse(fh)):
                    if builder is not None:
                        if not oversize:
                            if isinstance(value, str):
                                size += len(value) + 8
                            if size > options.max_record_bytes:
                                oversize = True  # stop building; skip to its end
                            else:
                                builder.event(event, value)
                        if event == "end_map" and prefix == msg_prefix:
                            msg, builder = builder.value, None
                            n_msg += 1
                            if oversize:
                                yield None, InputError(
                                    path,
                                    None,
                                    f"chat {chat.id} message #{n_msg}",
                                    f"record too long: over {options.max_record_bytes:,} bytes of text "
                                    "(BASIRA_MAX_RECORD_BYTES); skipped",
                                )
                                oversize = False
                                continue
                            yield from self._emit(msg, chat, base, path, n_msg, seen_authors)
                        continue
                    if event == "start_map" and prefix in msg_prefixes:
                        if chat.id is None:
                            raise InputError(path, None, "id", "the chat's id must come before its messages")
                        builder, msg_prefix, size = ijson.ObjectBuilder(), prefix, 0
                        builder.event(event, value)
                    elif prefix in msg_prefixes and event in ("string", "number", "boolean", "null", "start_array"):
                        n_msg += 1
                        yield None, InputError(path, None, f"chat {chat.id} message #{n_msg}", "must be an object")
                    elif prefix in list_prefixes and event in ("start_map", "string", "number", "boolean"):
                        # Not a list: a message object keyed by id, say. Say so instead of 0 posts.
                        raise InputError(
                            path, None, f"chat {chat.id}.messages", f"must be a list, not {_JSON_KIND[event]}"
                        )
                    elif event == "start_map" and prefix in ("chats.list.item", "left_chats.list.item"):
                        chat = _Chat()
                    elif prefix in chat_fields and event in ("string", "number"):
                        setattr(chat, chat_fields[prefix], str(value))
            except ijson.JSONError as exc:
                raise InputError(path, None, None, f"invalid JSON: {exc}") from None
            except UnicodeDecodeError as exc:
                raise InputError(path, None, None, f"invalid UTF-8: {exc.reason}") from None

    def _emit(self, msg: Any, chat: _Chat, base: Path, path: str, n: int, seen: set[str]) -> Iterator[Item]:
        where = f"chat {chat.id} message #{n}"
        if not isinstance(msg, dict):
            yield None, InputError(path, None, where, "must be an object")
            return
        if chat.type in CHANNEL_TYPES and not chat.announced:
            chat.announced = True
            ext = f"channel{chat.id}"
            seen.add(ext)
            yield None, AccountRecord(PLATFORM, ext, display_name=chat.name, source_file=path)
        for item in _message(msg, chat, base, path, where):
            if isinstance(item, AccountRecord):
                if item.external_id in seen:
                    continue
                seen.add(item.external_id)
            yield None, item
