"""Text normalization (with offsets back to the original) and language identification."""

from basira.text.normalize import (
    NormalizedText,
    extract_hashtags,
    extract_mentions,
    extract_urls,
    normalize,
    normalize_text,
)

__all__ = [
    "NormalizedText",
    "extract_hashtags",
    "extract_mentions",
    "extract_urls",
    "normalize",
    "normalize_text",
]
