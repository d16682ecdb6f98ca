"""Which cases are copies of one another: the grouping keys of a post. Pure.

Two posts share a key when one reposts (retweets) the other or both repost the same original
(`rp:` + the original's id), when they carry the same media file (`md:` + SHA-256), or when their normalized text
falls in the same MinHash band (`tx:` + band + hash): 6 bands of 10 of the 64 MinHash values, so texts with an
estimated Jaccard similarity of about 0.84 or more share a band with probability one half or more, and ≥ 0.95 almost
always. A leading "RT @user: " is dropped first, so a textual retweet meets its original. Forwards (Telegram)
carry no original id, only the channel: they group by their text and media.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

BANDS, ROWS = 6, 10
MIN_TEXT = 24  # normalized characters: shorter texts ("join us") are too common to group by
KIND_ORDER = ("repost", "media", "text")  # a case joining by several keys is recorded under the first
_RT = re.compile(r"^\s*RT\s+@[\w.]{1,64}:\s*", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class PostForGrouping:
    platform_id: int
    external_id: str
    text: str
    repost_of: str | None = None
    media_sha256: tuple[str, ...] = ()


def kind_of(key: str) -> str:
    return {"rp": "repost", "md": "media", "tx": "text"}.get(key.split(":", 1)[0], "text")


def text_keys(text: str) -> list[str]:
    from basira.signals.text import minhash_values
    from basira.text import normalize_text

    norm = normalize_text(_RT.sub("", text or ""))
    if len(norm.strip()) < MIN_TEXT:
        return []
    vals = minhash_values(norm, normalized=True)
    out = []
    for b in range(BANDS):
        band = vals[b * ROWS:(b + 1) * ROWS].tobytes()
        out.append(f"tx:{b}:{hashlib.sha256(band).hexdigest()[:24]}")
    return out


def group_keys(p: PostForGrouping, text: list[str] | None = None) -> list[str]:
    """Every key of a post, strongest evidence first. `text`: its text_keys when computed already (where the post
    was scored)."""
    keys = [f"rp:{p.platform_id}:{p.external_id}"]  # an original meets its reposts
    if p.repost_of:  # not quotes: a quote adds its own words (a journalist's quote is not the propaganda)
        keys.append(f"rp:{p.platform_id}:{p.repost_of}")
    keys += [f"md:{h}" for h in dict.fromkeys(p.media_sha256) if h]
    keys += text_keys(p.text) if text is None else text
    return [k[:96] for k in keys]


def strongest(keys: Iterable[str]) -> str:
    kinds = {kind_of(k) for k in keys}
    return next((k for k in KIND_ORDER if k in kinds), "text")
