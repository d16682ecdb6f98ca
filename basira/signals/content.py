"""What a signal type reads of a stored post: its content type (as python-threatexchange pairs a SignalType with
its ContentTypes), pure.

A post offers three kinds of content to match: its text, its URLs and its media (the hashes ingest computed for
each photo or video: Basira stores hashes, not the files). A content type knows where its content is in a
`PostContent` and yields it piece by piece with where it came from ("text", "url:<n>", "media:<n>:<type>");
a signal type (basira.signals.base.SignalType) names its content type in `post_content` and turns each piece
into its query signal (`signal_from`: the text's MinHash, the URL's MD5, the stored PDQ as it is). So a new
signal type that reads posts is one file: it names a content type here, and `match_posts` asks it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

__all__ = ["CONTENT_TYPES", "ContentType", "MediaContent", "PostContent", "TextContent", "UrlContent"]


@dataclass(frozen=True)
class PostContent:
    """What a post offers to match: its text, URLs and media hashes (dicts with `sha256`, `pdq`, `md5`...)."""

    id: int
    text: str | None = None
    urls: Sequence[str] = ()
    media: Sequence[Mapping[str, Any]] = ()


class ContentType(ABC):
    """One kind of content of a stored post. Subclasses are stateless."""

    name: ClassVar[str]

    @classmethod
    @abstractmethod
    def pieces(cls, post: PostContent, signal_type: str) -> Iterator[tuple[str, str]]:
        """(where, value) of this content in `post` for the signal type named `signal_type`: a text or URL as
        stored, or each media's hash stored under that type's name. Empty pieces are left out."""


class TextContent(ContentType):
    """The post's text (empty or blank: none)."""

    name = "text"

    @classmethod
    def pieces(cls, post: PostContent, signal_type: str) -> Iterator[tuple[str, str]]:
        if post.text and post.text.strip():
            yield "text", post.text


class UrlContent(ContentType):
    """The post's URLs, in order, as received."""

    name = "url"

    @classmethod
    def pieces(cls, post: PostContent, signal_type: str) -> Iterator[tuple[str, str]]:
        for n, u in enumerate(post.urls):
            if u:
                yield f"url:{n}", u


class MediaContent(ContentType):
    """The post's photos and videos, each by the hashes ingest stored (a signal type reads the one under its
    name: `sha256`, `pdq`, ...)."""

    name = "media"

    @classmethod
    def pieces(cls, post: PostContent, signal_type: str) -> Iterator[tuple[str, str]]:
        for n, m in enumerate(post.media):
            value = m.get(signal_type)
            if value:
                yield f"media:{n}:{signal_type}", str(value)


CONTENT_TYPES: dict[str, type[ContentType]] = {c.name: c for c in (TextContent, UrlContent, MediaContent)}
