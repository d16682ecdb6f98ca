"""The base of the records a package hands to its faces (pages, the REST API, the CLI): frozen dataclasses read by
attribute, built from a row by field name, and serialised back the same way — `to_dict()` is the JSON the API
prints, nested records and lists of them included."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Any, Self

__all__ = ["Record", "plain"]


class Record:
    """Mixed into `@dataclass(frozen=True, slots=True)` records (review's decisions, compliance's orders …)."""

    __slots__ = ()

    @classmethod
    def from_row(cls, row: Mapping[Any, Any], **extra: Any) -> Self:
        """Built from a row (or any mapping) by field name; `extra` gives or overrides fields."""
        names = [f.name for f in fields(cls)]  # type: ignore[arg-type]
        return cls(**{n: extra[n] if n in extra else row[n] for n in names})

    def to_dict(self) -> dict[str, Any]:
        return {f.name: plain(getattr(self, f.name)) for f in fields(self)}  # type: ignore[arg-type]


def plain(v: Any) -> Any:
    """A field value as JSON reads it: records as dicts, lists and tuples as lists."""
    if isinstance(v, Record):
        return v.to_dict()
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    return v
