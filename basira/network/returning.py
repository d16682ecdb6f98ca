"""Returning accounts: a suspended account back under a new handle. For each new account, rank suspended or
removed accounts by handle pattern, display name, bio, profile image, shared follows and mentions, and
writing style; every candidate carries the evidence for its score.

Candidates come from blocking (an inverted index), never from all pairs: keys are the handle's
transliteration skeleton and its tokens, the skeleton's prefix, name tokens, the image hash and the
accounts followed or following. Very common keys (blocks over `max_block`) are ignored.
"""

from __future__ import annotations

import math
import re
import unicodedata
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from basira.text import normalize_text

DAY = 86_400
# Logistic weights over the features below, set by hand (strong identity signals — handle pattern, image —
# weigh most) and checked on `basira simulate` tuning seeds; the intercept makes a pair with no evidence ~0.
WEIGHTS: dict[str, float] = {
    "handle": 4.0,
    "handle_skeleton": 2.0,
    "handle_numbered": 2.0,
    "name": 2.5,
    "bio": 2.5,
    "image": 4.0,
    "followees": 3.0,
    "followers": 2.0,
    "mentioned": 1.0,
    "style": 1.0,
    "gap": 1.5,
}
INTERCEPT = -9.0
CERTAIN_LOGIT = 5.0  # p > 0.993: past this, candidates tie and the latest suspension ranks first
# Calibrated on tuning seeds 11, 101, 102 (docs/network.md): true pairs scored >= 0.997, the best wrong
# candidate 0.71 (same display name and bio, another handle and picture).
THRESHOLD = 0.9

_LEET_INSIDE = re.compile(r"(?<=[a-z])[0134578@$]+(?=[a-z])")
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "@": "a", "$": "s"})
_NON_ALPHA = re.compile(r"[^a-z]+")
_DIGRAPHS = (("kh", "h"), ("gh", "g"), ("ph", "f"), ("ck", "k"), ("q", "k"), ("x", "ks"), ("w", "u"), ("z", "s"))
_VOWELS = re.compile(r"[aeiouy]+")
_REPEAT = re.compile(r"(.)\1+")
_TRAILING_NUMBER = re.compile(r"^(.*?)(\d+)$")
_WORD = re.compile(r"\w+")
# Words returning accounts add to their display name, and honorifics too common to tell accounts apart.
_NAME_NOISE = frozenset(
    "back returned return again new acc account official عوده عدنا عدت رجعت الحساب حساب вернулась вернулся "
    "снова новый акк аккаунт".split()
)
_HANDLE_STOP = frozenset({"umm", "um", "abu", "abou", "bint", "ibn", "bin", "ukhti", "akh", "akhi", "al", "el", "the"})


@dataclass
class Profile:
    """What is known about an account for matching. Times are Unix seconds."""

    id: int
    handle: str | None = None
    display_name: str | None = None
    bio: str | None = None
    created_at: int | None = None
    suspended_at: int | None = None
    image: str | None = None
    followers: frozenset[int] = frozenset()
    followees: frozenset[int] = frozenset()
    mentioned: frozenset[int] = frozenset()
    style: np.ndarray | None = None  # unit vector from style_vector()


@dataclass
class Candidate:
    account: int
    score: float
    features: dict[str, float]
    evidence: list[str] = field(default_factory=list)


@dataclass
class ReturningMatch:
    account: int
    candidates: list[Candidate]
    threshold: float = THRESHOLD

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None

    @property
    def likely(self) -> bool:
        return bool(self.candidates) and self.candidates[0].score >= self.threshold


# --- normalisation -----------------------------------------------------------------------------------------


def fold_handle(handle: str | None) -> str:
    """Lowercase letters only: leetspeak inside words undone (khal1d → khalid), digits and _ dropped."""
    if not handle:
        return ""
    h = unicodedata.normalize("NFKC", handle).lower()
    h = _LEET_INSIDE.sub(lambda m: m.group(0).translate(_LEET), h)
    return _NON_ALPHA.sub("", h)


@lru_cache(maxsize=1 << 18)
def skeleton(word: str) -> str:
    """Transliteration-insensitive key: consonants only, digraphs folded, doubles collapsed
    (sumayya, somaya, sumaiya → smy; khadija, khadeeja, hadijah → hdj; mohammed, muhammad, mhmd → mhmd)."""
    s = word
    for a, b in _DIGRAPHS:
        s = s.replace(a, b)
    s = _VOWELS.sub("", s)
    s = _REPEAT.sub(r"\1", s)
    return s[:-1] if s.endswith("h") and len(s) > 2 else s


def handle_tokens(handle: str | None) -> list[str]:
    if not handle:
        return []
    h = unicodedata.normalize("NFKC", handle).lower()
    h = _LEET_INSIDE.sub(lambda m: m.group(0).translate(_LEET), h)
    return [t for t in _NON_ALPHA.split(h) if len(t) >= 3 and t not in _HANDLE_STOP]


@lru_cache(maxsize=1 << 18)
def clean_text(text: str | None, drop_digits: bool = True) -> str:
    """normalize_text, then words only (digits and return markers such as "back" or "عودة" dropped)."""
    if not text:
        return ""
    words = _WORD.findall(normalize_text(text))
    if drop_digits:
        words = [w for w in words if not w.isdigit()]
    return " ".join(w for w in words if w not in _NAME_NOISE and w not in ("url", "user"))


def trigrams(text: str) -> frozenset[str]:
    t = f" {text} "
    return frozenset(t[i : i + 3] for i in range(len(t) - 2)) if text else frozenset()


def bigrams(text: str) -> frozenset[str]:
    return frozenset(text[i : i + 2] for i in range(len(text) - 1)) if len(text) > 1 else frozenset({text})


def jaccard(a: frozenset, b: frozenset) -> float:
    if not a or not b:
        return 0.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter) if inter else 0.0


def dice(a: frozenset, b: frozenset) -> float:
    if not a or not b:
        return 0.0
    return 2 * len(a & b) / (len(a) + len(b))


STYLE_DIM = 256


def style_vector(texts: Iterable[str], dim: int = STYLE_DIM) -> np.ndarray | None:
    """A unit vector of hashed character 3-grams of an account's normalized posts (None without text)."""
    v = np.zeros(dim, np.float32)
    for text in texts:
        t = clean_text(text)
        for i in range(len(t) - 2):
            v[zlib.crc32(t[i : i + 3].encode()) % dim] += 1.0
    norm = float(np.linalg.norm(v))
    return v / norm if norm else None


def image_similarity(a: str | None, b: str | None) -> float | None:
    """1 for the same image identity; for two equal-length hex perceptual hashes, 1 - Hamming/bits; None if unknown."""
    if not a or not b:
        return None
    if a == b:
        return 1.0
    if len(a) == len(b) and len(a) >= 16 and all(c in "0123456789abcdef" for c in a + b):
        bits = len(a) * 4
        d = bin(int(a, 16) ^ int(b, 16)).count("1")
        return max(0.0, 1 - 2 * d / bits)  # random hashes differ in half the bits: score 0
    return 0.0


# --- prepared profiles and the index ---------------------------------------------------------------------


@dataclass
class _Prepared:
    p: Profile
    folded: str
    skel: str
    tokens: list[str]
    handle_grams: frozenset[str]
    name: str
    name_grams: frozenset[str]
    bio_grams: frozenset[str]
    stem: str  # handle lowercased without a trailing number
    number: int | None


def _prepare(p: Profile) -> _Prepared:
    folded = fold_handle(p.handle)
    name = clean_text(p.display_name)
    low = (p.handle or "").lower()
    m = _TRAILING_NUMBER.match(low)
    stem, number = (m.group(1).rstrip("_"), int(m.group(2))) if m and len(m.group(2)) <= 3 else (low.rstrip("_"), None)
    return _Prepared(
        p, folded, skeleton(folded), [skeleton(t) for t in handle_tokens(p.handle)], bigrams(folded), name,
        trigrams(name), trigrams(clean_text(p.bio)), stem, number,
    )


def _keys(q: _Prepared) -> tuple[list[int], list[int]]:
    """(identity keys, social keys) as ints: one shared identity key makes a candidate; social keys need two."""
    ident = []
    if len(q.skel) >= 3:
        ident.append("s:" + q.skel)
    if len(q.skel) >= 5:
        ident.append("q:" + q.skel[:4])
    ident += ["t:" + t for t in q.tokens if len(t) >= 3]
    ident += ["n:" + w for w in q.name.split() if len(w) >= 3]
    if q.p.image:
        ident.append("i:" + q.p.image)
    # str hashes are salted per process, which is fine for an index that lives in one process.
    social = [2 * a for a in q.p.followees] + [2 * a + 1 for a in q.p.followers]
    return list({hash(k) for k in ident}), social


class _Postings:
    """key → row ids, as two sorted numpy arrays (compact and fast for millions of postings)."""

    def __init__(self, keys: list[int], rows: list[int]) -> None:
        k = np.array(keys, np.int64)
        r = np.array(rows, np.int64)
        order = np.argsort(k, kind="stable")
        self.keys, self.rows = k[order], r[order]

    def lookup(self, keys: list[int], max_block: int) -> np.ndarray:
        """Row ids of every key's block, blocks larger than max_block left out (repeats kept)."""
        if not keys or not len(self.keys):
            return np.zeros(0, np.int64)
        q = np.array(keys, np.int64)
        lo = np.searchsorted(self.keys, q, "left")
        hi = np.searchsorted(self.keys, q, "right")
        size = hi - lo
        ok = (size > 0) & (size <= max_block)
        if not ok.any():
            return np.zeros(0, np.int64)
        lo, size = lo[ok], size[ok]
        starts = np.repeat(lo - np.concatenate(([0], np.cumsum(size)[:-1])), size)
        return self.rows[starts + np.arange(size.sum())]


class ReturningIndex:
    """An inverted index over suspended/removed accounts; query it with new accounts."""

    def __init__(self, old: Sequence[Profile], *, max_block: int = 200) -> None:
        self.old = [_prepare(p) for p in old]
        self.max_block = max_block
        ik: list[int] = []
        ir: list[int] = []
        sk: list[int] = []
        sr: list[int] = []
        for i, q in enumerate(self.old):
            ident, social = _keys(q)
            ik += ident
            ir += [i] * len(ident)
            sk += social
            sr += [i] * len(social)
        self.ident = _Postings(ik, ir)
        self.social = _Postings(sk, sr)
        self.suspended = np.array([q.p.suspended_at if q.p.suspended_at is not None else -(2**62) for q in self.old],
                                  np.int64)
        self.ids = np.array([q.p.id for q in self.old], np.int64)

    def candidates(self, q: _Prepared, max_gap_days: float | None = None) -> np.ndarray:
        ident, social = _keys(q)
        hits = np.unique(self.ident.lookup(ident, self.max_block))
        soc = self.social.lookup(social, self.max_block)
        if len(soc):
            rows, counts = np.unique(soc, return_counts=True)
            hits = np.union1d(hits, rows[counts >= 2])
        if not len(hits):
            return hits
        keep = self.ids[hits] != q.p.id
        created = q.p.created_at
        if created is not None:
            gap = created - self.suspended[hits]
            keep &= gap >= -DAY  # not created (more than a day) before the old account was suspended
            if max_gap_days is not None:
                keep &= gap <= max_gap_days * DAY
        return hits[keep]

    def match(self, new: Sequence[Profile], *, top_k: int = 5, min_score: float = 0.05,
              threshold: float = THRESHOLD, max_gap_days: float | None = None) -> list[ReturningMatch]:
        min_logit = math.log(min_score / (1 - min_score)) if 0 < min_score < 1 else -math.inf
        out = []
        for p in new:
            q = _prepare(p)
            scored = []
            for i in self.candidates(q, max_gap_days).tolist():
                feats = pair_features(self.old[i], q)
                z = score_logit(feats)
                if z >= min_logit:
                    scored.append((z, -int(self.suspended[i]), i, feats))
            if not scored:
                continue
            # Rank by the logit (probabilities saturate); on a tie, the latest suspension: a persona returns
            # as the continuation of its most recent account.
            scored.sort(key=lambda x: (-round(min(x[0], CERTAIN_LOGIT), 1), x[1], self.old[x[2]].p.id))
            cands = [Candidate(self.old[i].p.id, round(1 / (1 + math.exp(-z)), 4),
                               {k: round(v, 4) for k, v in feats.items()}, evidence(self.old[i], q, feats))
                     for z, _, i, feats in scored[:top_k]]
            out.append(ReturningMatch(p.id, cands, threshold))
        return out


def find_returning(new: Sequence[Profile], old: Sequence[Profile], *, top_k: int = 5, min_score: float = 0.05,
                   threshold: float = THRESHOLD, max_block: int = 200,
                   max_gap_days: float | None = None) -> list[ReturningMatch]:
    """Ranked candidates among `old` (suspended or removed accounts) for each account in `new` that has any."""
    return ReturningIndex(old, max_block=max_block).match(
        new, top_k=top_k, min_score=min_score, threshold=threshold, max_gap_days=max_gap_days)


# --- features, score, evidence ---------------------------------------------------------------------------


def pair_features(old: _Prepared, new: _Prepared) -> dict[str, float]:
    o, n = old.p, new.p
    f: dict[str, float] = {}
    f["handle"] = dice(old.handle_grams, new.handle_grams) if old.folded and new.folded else 0.0
    f["handle_skeleton"] = 1.0 if len(old.skel) >= 3 and old.skel == new.skel else 0.0
    numbered = 0.0
    if old.stem and old.stem == new.stem and old.p.handle != new.p.handle:
        # The next number (x → x2, x2 → x3) is the strongest sign; a bigger one is weaker; a smaller one, weaker still.
        nxt = (old.number or 1) + 1
        numbered = 1.0 if new.number == nxt else 0.7 if (new.number or 0) > (old.number or 0) else 0.4
    f["handle_numbered"] = numbered
    f["name"] = jaccard(old.name_grams, new.name_grams)
    f["bio"] = jaccard(old.bio_grams, new.bio_grams)
    img = image_similarity(o.image, n.image)
    f["image"] = img if img is not None else 0.0
    f["followees"] = jaccard(o.followees, n.followees)
    f["followers"] = jaccard(o.followers, n.followers)
    f["mentioned"] = jaccard(o.mentioned, n.mentioned)
    f["style"] = float(o.style @ n.style) if o.style is not None and n.style is not None else 0.0
    if o.suspended_at is not None and n.created_at is not None:
        f["gap"] = math.exp(-max(0, n.created_at - o.suspended_at) / (30 * DAY))
    else:
        f["gap"] = 0.0
    return f


def score_logit(f: dict[str, float], weights: dict[str, float] | None = None, intercept: float = INTERCEPT) -> float:
    w = weights or WEIGHTS
    return intercept + sum(w[k] * f.get(k, 0.0) for k in w)


def score_features(f: dict[str, float], weights: dict[str, float] | None = None, intercept: float = INTERCEPT) -> float:
    return 1 / (1 + math.exp(-score_logit(f, weights, intercept)))


def evidence(old: _Prepared, new: _Prepared, f: dict[str, float]) -> list[str]:
    o, n = old.p, new.p
    out = []
    if f["handle_numbered"]:
        out.append(f"handle @{n.handle} continues @{o.handle}")
    elif f["handle_skeleton"]:
        out.append(f"handle @{n.handle} is a respelling of @{o.handle} (both '{old.skel}')")
    elif f["handle"] >= 0.5:
        out.append(f"handle @{n.handle} resembles @{o.handle} ({f['handle']:.0%})")
    if f["name"] >= 0.4:
        out.append(f"display name {n.display_name!r} ~ {o.display_name!r} ({f['name']:.0%})")
    if f["bio"] >= 0.4:
        out.append(f"bio {f['bio']:.0%} similar")
    if f["image"] >= 0.99:
        out.append("same profile image")
    elif f["image"] > 0:
        out.append(f"profile image hash {f['image']:.0%} similar")
    for key, what in (("followees", "follows"), ("followers", "followers"), ("mentioned", "mentioned accounts")):
        if f[key] > 0:
            shared = len(getattr(o, key) & getattr(n, key))
            out.append(f"{shared} shared {what} (Jaccard {f[key]:.2f})")
    if f["style"] >= 0.5:
        out.append(f"writing style similarity {f['style']:.2f}")
    if o.suspended_at is not None and n.created_at is not None:
        gap = (n.created_at - o.suspended_at) / DAY
        out.append(f"created {gap:.1f} days after the suspension" if gap >= 0 else
                   f"created {-gap:.1f} days before the suspension")
    return out
