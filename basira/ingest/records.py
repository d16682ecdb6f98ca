"""Plain records exchanged between ingest formats and the store."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from basira.core.time import parse_time, utc  # noqa: F401 - moved to basira.core.time; re-exported


@dataclass(slots=True)
class MediaRecord:
    url: str | None = None
    kind: str | None = None  # photo, video, animated_gif, file, voice_message, ...
    sha256: str | None = None  # hex, of the file's bytes
    pdq: str | None = None  # hex, 256-bit PDQ perceptual hash
    md5: str | None = None  # hex, of the file's bytes (the content API hashes media to all three)


@dataclass(slots=True)
class AccountRecord:
    platform: str
    external_id: str
    handle: str | None = None
    display_name: str | None = None
    bio: str | None = None
    created_at: datetime | None = None
    suspended_at: datetime | None = None
    removed_at: datetime | None = None
    status: str | None = None  # active, suspended, removed; None: unknown, keep what is stored
    profile_image_hash: str | None = None
    source_file: str | None = None
    source_line: int | None = None
    extra: dict[str, Any] | None = None  # fields of the input Basira has no column for, as given
    # The id is unknown (a suspension reported by username): the store applies the record to the account it
    # knows by this handle, and keeps it under external_id ("@handle") only if it knows none.
    match_handle: bool = False
    where: str | None = None  # the format's name for the record in its file ("data[0]"), for error messages


@dataclass(slots=True)
class PostRecord:
    platform: str
    external_id: str
    account_external_id: str | None
    text: str
    created_at: datetime | None = None  # aware, UTC
    handle: str | None = None
    lang: str | None = None
    reply_to: str | None = None
    quote_of: str | None = None
    repost_of: str | None = None
    forwarded_from: str | None = None
    mentions: list[str] = field(default_factory=list)
    hashtags: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    media: list[MediaRecord] = field(default_factory=list)
    source_file: str | None = None
    source_line: int | None = None
    # The thread, page, channel or group the post belongs to (co-activity: accounts posting in the same one).
    thread: str | None = None
    extra: dict[str, Any] | None = None  # fields of the input Basira has no column for, as given
    where: str | None = None  # the format's name for the record in its file ("data[0]"), for error messages


@dataclass(slots=True)
class FollowRecord:
    """`source` follows `target` (external account ids on one platform)."""

    platform: str
    source_external_id: str
    target_external_id: str
    source_file: str | None = None
    source_line: int | None = None


Record = AccountRecord | PostRecord
