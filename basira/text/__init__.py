"""Text normalization (with offsets back to the original) and language identification."""

from basira.text.lang import detect_language, detect_languages
from basira.text.normalize import (
    NormalizedText,
    extract_hashtags,
    extract_mentions,
    extract_urls,
    normalize,
    normalize_text,
)
from basira.text.script import script_of

__all__ = [
    "NormalizedText",
    "detect_language",
    "detect_languages",
    "extract_hashtags",
    "extract_mentions",
    "extract_urls",
    "normalize",
    "normalize_text",
    "script_of",
]
