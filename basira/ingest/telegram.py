"""Telegram Desktop exports (result.json): one chat or channel, or a full account export of many."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ijson

from basira.core.errors import InputError
from basira.ingest.base import IngestFormat, Item, register
from basira.ingest.jsonstream import first_char, head_keys, open_json
from basira.ingest.records import AccountRecord, MediaRecord, PostRecord, parse_time

PLATFORM = "telegram"
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


def _message(msg: dict[str, Any], chat: _Chat, base: Path, file: str, where: str) -> Iterator[Any]:
    """Author account (first time seen is the caller's business) and the post, or an InputError."""
    if msg.get("type", "message") != "message":
        return  # service messages: joins, pins, title changes
    mid = msg.get("id")
    if not isinstance(mid, int | str) or isinstance(mid, bool):
        yield InputError(file, None, f"{where}.id", "missing" if mid is None else "must be an integer")
        return
    try:
        if msg.get("date_unixtime") is not None:
            created = parse_time(str(msg["date_unixtime"]))
        elif msg.get("date") is not None:
            created = parse_time(msg["date"])  # local time of the exporting machine; taken as UTC
        else:
            created = None
    except ValueError as exc:
        yield InputError(file, None, f"{where}.date", str(exc))
        return
    raw = msg.get("text", "")
    if not isinstance(raw, str | list):
        yield InputError(file, None, f"{where}.text", "must be a string or a list of text parts")
        return
    text, ents = _flatten(raw)
    if isinstance(msg.get("text_entities"), list):
        ents = [e for e in msg["text_entities"] if isinstance(e, dict)]
    mentions, hashtags, urls = [], [], []
    for e in ents:
        kind, value = e.get("type"), str(e.get("text", ""))
        if kind == "mention":
            mentions.append(value.lstrip("@"))
        elif kind == "mention_name":
            mentions.append(f"user{e['user_id']}" if e.get("user_id") is not None else value)
        elif kind == "hashtag":
            hashtags.append(value.lstrip("#"))
        elif kind == "link":
            urls.append(value)
        elif kind == "text_link" and e.get("href"):
            urls.append(str(e["href"]))
    media = []
    for key, kind in _MEDIA_FIELDS:
        rel = msg.get(key)
        if isinstance(rel, str) and rel:
            if key == "thumbnail" and media:
                continue  # a thumbnail of the file already listed
            media.append(
                MediaRecord(
                    url=None if rel.startswith("(") else rel,  # "(File not included. ...)": not downloaded
                    kind=kind or msg.get("media_type") or "file",
                    sha256=_sha256_of(base, rel),
                )
            )
    author = msg.get("from_id")
    author = (
        str(author) if author is not None else (f"channel{chat.id}" if chat.type in CHANNEL_TYPES else None)
    )
    if author is not None:
        name = msg.get("from") if isinstance(msg.get("from"), str) else None
        yield AccountRecord(PLATFORM, author, display_name=name, source_file=file)
    reply = msg.get("reply_to_message_id")
    fwd = msg.get("forwarded_from_id") or msg.get("forwarded_from")
    yield PostRecord(
        platform=PLATFORM,
        external_id=f"{chat.id}/{mid}",
        account_external_id=author,
        text=text,
        created_at=created,
        reply_to=f"{chat.id}/{reply}" if reply is not None else None,
        forwarded_from=str(fwd) if fwd is not None else None,
        mentions=mentions,
        hashtags=hashtags,
        urls=urls,
        media=media,
        source_file=file,
    )


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

    def iter_records(self, path: str) -> Iterator[Item]:
        base = Path(path).resolve().parent
        msg_prefixes = {(p + ".messages.item" if p else "messages.item"): p for p in _CHAT_PREFIXES}
        chat_fields = {(f"{p}.{k}" if p else k): k for p in _CHAT_PREFIXES for k in ("id", "name", "type")}
        chat = _Chat()
        seen_authors: set[str] = set()
        builder: ijson.ObjectBuilder | None = None
        msg_prefix = ""
        n_msg = 0
        with open_json(path) as fh:
            try:
                for prefix, event, value in ijson.parse(fh, use_float=True):
                    if builder is not None:
                        builder.event(event, value)
                        if event == "end_map" and prefix == msg_prefix:
                            msg, builder = builder.value, None
                            n_msg += 1
                            yield from self._emit(msg, chat, base, path, n_msg, seen_authors)
                        continue
                    if event == "start_map" and prefix in msg_prefixes:
                        if chat.id is None:
                            raise InputError(path, None, "id", "the chat's id must come before its messages")
                        builder, msg_prefix = ijson.ObjectBuilder(), prefix
                        builder.event(event, value)
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
