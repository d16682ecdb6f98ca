"""Follow edges: JSON Lines of {"source_id": follower, "target_id": followed} (as `basira simulate` writes
follows.jsonl, and as X API v2 followers/following lookups flatten to). Optional "platform" (default "x")."""

from __future__ import annotations

from collections.abc import Iterator

from basira.core.errors import InputError
from basira.ingest.base import IngestFormat, Item, first_object, register
from basira.ingest.clean import ReadOptions
from basira.ingest.jsonl import iter_json_lines
from basira.ingest.records import FollowRecord

DEFAULT_PLATFORM = "x"
_KEYS = ("source_id", "target_id")


def _id(obj: dict, key: str, file: str, line: int) -> str:
    v = obj.get(key)
    if v is None or v == "":
        raise InputError(file, line, key, "missing")
    if isinstance(v, bool) or not isinstance(v, str | int):
        raise InputError(file, line, key, "must be a string or an integer")
    return str(v)


@register
class Follows(IngestFormat):
    name = "follows"
    description = "follow edges, JSON Lines of source_id (follower) and target_id (followed)"

    def sniff(self, path: str, head: bytes) -> bool:
        obj = first_object(path, head)
        return obj is not None and all(k in obj for k in _KEYS) and "text" not in obj

    def iter_records(self, path: str, options: ReadOptions | None = None) -> Iterator[Item]:
        for lineno, obj in iter_json_lines(path, options):
            if isinstance(obj, InputError):
                yield lineno, obj
                continue
            try:
                platform = obj.get("platform") or DEFAULT_PLATFORM
                if not isinstance(platform, str):
                    raise InputError(path, lineno, "platform", "must be a string")
                yield lineno, FollowRecord(
                    platform, _id(obj, "source_id", path, lineno), _id(obj, "target_id", path, lineno), path, lineno
                )
            except InputError as exc:
                yield lineno, exc
