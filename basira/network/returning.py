"""Returning accounts: a suspended account back under a new handle. For each new account, rank suspended or
removed accounts by every signal the platform's data has — each optional: handle and display name (robust to
case, separators, script and numbering), the suspension-to-creation gap (creation order enforced), bio,
profile image, writing style, shared URLs, domains, hashtags, threads and media, followers and followees,
and accounts mentioned or replied to. Every candidate carries the evidence for its score, in words.

Candidates come from blocking (an inverted index), never from all pairs. Identity keys — one shared key
makes a candidate: the handle without case, separators or script; its stem without a trailing number; its
transliteration skeleton, tokens and prefix; display-name tokens; the image; media hashes; URLs. Substring
keys (5-letter pieces of the handle) make a candidate when they cover half of the shorter handle, so a
joined-up handle meets its spaced form. Social keys (follows, mentions, replies, threads, hashtags,
domains) need two. A key shared by more than `max_block` old accounts keeps the 20 suspended most
recently before the new account was created (not none: a strong signal in a common block still counts).
"""

from __future__ import annotations

import math
import re
import unicodedata
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache

import numpy as np

from basira.text import normalize_text

DAY = 86_400
# Logistic weights over the features below, set by hand and checked on `basira simulate` tuning seeds and
# on public Wikipedia ban-evasion pairs (docs/network.md). Each feature is in [0, 1]. A pair with no
# evidence scores ~0; one strong handle signal (the same handle apart from case or script, or the next
# number of a distinctive stem) with a short suspension gap reaches the threshold on its own, so a platform
# that shares only usernames and dates still gets flags; profile and network signals add up the same way.
WEIGHTS: dict[str, float] = {
    "handle": 3.0,  # bigram Dice of the folded handles
    "handle_same": 5.0,  # identical apart from case, separators, script, leetspeak
    "handle_numbered": 4.5,  # same stem, another number (next number 1.0)
    "handle_contained": 5.0,  # one handle's letters inside the other's (joined-up vs spaced)
    "handle_skeleton": 3.5,  # same transliteration skeleton (scaled down below 5 consonants)
    "name": 2.5,
    "bio": 2.5,
    "image": 4.0,
    "followees": 3.0,
    "followers": 2.0,
    "mentioned": 1.5,
    "replied": 1.5,
    "urls": 2.5,
    "domains": 1.0,
    "hashtags": 1.5,
    "threads": 3.0,
    "media": 3.0,
    "style": 1.0,
    "gap": 2.0,  # exp(-gap / 30 days)
    "gap_hours": 1.5,  # exp(-gap / 1 day): ban evaders often come back within minutes or hours
}
# Contradictions: a family both accounts show that does not match at all. Returning accounts change
# pictures and names less often than not, so a complete mismatch lowers the score, never to nothing.
PENALTIES: dict[str, float] = {"name": 1.5, "image": 0.8, "social": 2.5}
INTERCEPT = -7.0
CERTAIN_LOGIT = 5.0  # p > 0.993: past this, candidates close to the best tie and the latest suspension ranks first
TIE_MARGIN = 2.0
THRESHOLD = 0.9
MAX_CANDIDATES = 400  # scored per new account at most (those sharing the most keys)
RECENT_SUSPENSIONS = 10  # the accounts suspended last before a new one appeared are candidates whatever their handle

_LEET_INSIDE = re.compile(r"(?<=[a-z])[0134578@$]+(?=[a-z])")
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "@": "a", "$": "s"})
_NON_ALPHA = re.compile(r"[^a-z]+")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_DIGRAPHS = (("kh", "h"), ("gh", "g"), ("ph", "f"), ("ck", "k"), ("q", "k"), ("x", "ks"), ("w", "u"), ("z", "s"))
_VOWELS = re.compile(r"[aeiouy]+")
_REPEAT = re.compile(r"(.)\1+")
_TRAILING_NUMBER = re.compile(r"^(.*?)(\d+)$")
_WORD = re.compile(r"\w+")
# Cyrillic and Arabic letters to Latin (a romanisation close to how people spell their handles).
_TRANSLIT = str.maketrans({
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z", "и": "i",
    "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t",
    "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "",
    "э": "e", "ю": "yu", "я": "ya", "і": "i", "ї": "yi", "є": "ye", "ґ": "g",
    "ا": "a", "أ": "a", "إ": "i", "آ": "a", "ٱ": "a", "ء": "", "ؤ": "u", "ئ": "i", "ب": "b", "ت": "t",
    "ث": "th", "ج": "j", "ح": "h", "خ": "kh", "د": "d", "ذ": "dh", "ر": "r", "ز": "z", "س": "s", "ش": "sh",
    "ص": "s", "ض": "d", "ط": "t", "ظ": "z", "ع": "", "غ": "gh", "ف": "f", "ق": "q", "ك": "k", "ل": "l",
    "م": "m", "ن": "n", "ه": "h", "ة": "a", "و": "u", "ي": "i", "ى": "a", "ـ": "", "پ": "p", "چ": "ch",
    "گ": "g", "ک": "k", "ی": "i",
})
# Words returning accounts add to their display name, and honorifics too common to tell accounts apart.
_NAME_NOISE = frozenset(
    "back returned return again new acc account official عوده عدنا عدت رجعت الحساب حساب вернулась вернулся "
    "снова новый акк аккаунт".split()
)
_HANDLE_STOP = frozenset({"umm", "um", "abu", "abou", "bint", "ibn", "bin", "ukhti", "akh", "akhi", "al", "el", "the"})
_GRAM = 5  # substring keys: letters of the folded handle, 5 at a time


@dataclass
class Profile:
    """What is known about an account for matching; every field but `id` may be missing. Times are Unix
    seconds; `first_seen` (its first post) stands in for an unknown creation time."""

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
    replied: frozenset[int] = frozenset()
    urls: frozenset[str] = frozenset()
    domains: frozenset[str] = frozenset()
    hashtags: frozenset[str] = frozenset()
    threads: frozenset[str] = frozenset()
    media: frozenset[str] = frozenset()  # media hashes (sha256 or PDQ hex)
    first_seen: int | None = None

    @property
    def since(self) -> int | None:
        """When the account existed at the latest: its creation, else its first post."""
        return self.created_at if self.created_at is not None else self.first_seen


@dataclass
class Candidate:
    account: int
    score: float
    features: dict[str, float]
    evidence: list[str] = field(default_factory=list)
    profile: str = "handles"  # the evidence profile of the pair: handles, profiles or network


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


@lru_cache(maxsize=1 << 18)
def to_latin(text: str) -> str:
    """Lower-case Latin letters for comparison: NFKC, case folded, accents dropped, Cyrillic and Arabic
    romanised (خديجة → khdija, Мадина → madina); anything else kept."""
    s = unicodedata.normalize("NFKC", text).casefold().translate(_TRANSLIT)
    if not s.isascii():
        s = "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))
    return s


def _unleet(s: str) -> str:
    return _LEET_INSIDE.sub(lambda m: m.group(0).translate(_LEET), s)


def fold_handle(handle: str | None) -> str:
    """Lowercase Latin letters only: script romanised, leetspeak inside words undone (khal1d → khalid),
    digits, spaces and separators dropped (R.K Nehal Sharma → rknehalsharma)."""
    if not handle:
        return ""
    return _NON_ALPHA.sub("", _unleet(to_latin(handle)))


def handle_key(handle: str | None) -> str:
    """Letters and digits: the handle apart from case, separators, script and leetspeak."""
    if not handle:
        return ""
    return _NON_ALNUM.sub("", _unleet(to_latin(handle)))


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
    """Words of a handle: split at separators, digits and camelCase (AbuKhalid_2 → abu, khalid)."""
    if not handle:
        return []
    h = _unleet(to_latin(_CAMEL.sub(" ", unicodedata.normalize("NFKC", handle))))
    return [t for t in _NON_ALPHA.split(h) if len(t) >= 3 and t not in _HANDLE_STOP]


def split_number(key: str) -> tuple[str, int | None, int]:
    """(stem, trailing number or None, digits of the number) of a handle_key: account10000 → (account, 10000, 5)."""
    m = _TRAILING_NUMBER.match(key)
    if not m or not m.group(1):
        return key, None, 0
    digits = m.group(2)
    return m.group(1), int(digits[-18:]), len(digits)


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


def grams(text: str, n: int = _GRAM) -> frozenset[str]:
    return frozenset(text[i : i + n] for i in range(len(text) - n + 1))


def jaccard(a: frozenset, b: frozenset) -> float:
    if not a or not b:
        return 0.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter) if inter else 0.0


def dice(a: frozenset, b: frozenset) -> float:
    if not a or not b:
        return 0.0
    return 2 * len(a & b) / (len(a) + len(b))


def shared_strength(a: frozenset, b: frozenset, half: float = 1.0) -> float:
    """1 - exp(-shared/half): a few shared rare items (URLs, media, threads) are strong whatever the totals."""
    if not a or not b:
        return 0.0
    n = len(a & b)
    return 1 - math.exp(-n / half) if n else 0.0


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
    folded: str  # letters only
    key: str  # letters and digits
    skel: str
    tokens: list[str]
    handle_grams: frozenset[str]
    sub_grams: frozenset[str]
    name: str
    name_grams: frozenset[str]
    bio_grams: frozenset[str]
    stem: str
    number: int | None
    has_profile: bool  # display name, bio or image known
    has_network: bool  # follows, mentions, replies or any activity known


def handle_skeleton(handle: str | None) -> str:
    """The skeletons of the handle's words, joined (sarah_muhajira2, sara.muhajira → sr+mhjr)."""
    if not handle:
        return ""
    h = _unleet(to_latin(_CAMEL.sub(" ", unicodedata.normalize("NFKC", handle))))
    return "".join(skeleton(t) for t in _NON_ALPHA.split(h) if t)


@lru_cache(maxsize=1 << 17)
def _handle_parts(handle: str) -> tuple[str, str, str, tuple[str, ...]]:
    """(folded letters, letters and digits, word skeletons joined, word skeletons of handle_tokens)."""
    base = _unleet(to_latin(handle))
    words = _unleet(to_latin(_CAMEL.sub(" ", unicodedata.normalize("NFKC", handle))))
    parts = [t for t in _NON_ALPHA.split(words) if t]
    return (_NON_ALPHA.sub("", base), _NON_ALNUM.sub("", base), "".join(skeleton(t) for t in parts),
            tuple(skeleton(t) for t in parts if len(t) >= 3 and t not in _HANDLE_STOP))


def _prepare(p: Profile) -> _Prepared:
    folded, key, skel, tokens = _handle_parts(p.handle) if p.handle else ("", "", "", ())
    stem, number, _ = split_number(key)
    name = clean_text(to_latin(p.display_name)) if p.display_name else ""
    return _Prepared(
        p, folded, key, skel, list(tokens), bigrams(folded), grams(folded), name, trigrams(name),
        trigrams(clean_text(p.bio)), stem, number,
        bool(p.display_name or p.bio or p.image),
        bool(p.followers or p.followees or p.mentioned or p.replied or p.urls or p.hashtags or p.threads
             or p.media or p.style is not None),
    )


def _h(s: str) -> int:
    # str hashes are salted per process, which is fine for an index that lives in one process.
    return hash(s)


def _keys(q: _Prepared, query: bool = False) -> tuple[list[int], list[int], list[int]]:
    """(identity keys, substring keys, social keys) as ints; `query`: the keys a new account looks up."""
    ident: list[str] = []
    if len(q.key) >= 3:
        ident.append("f:" + q.key)
    if len(q.stem) >= 3:
        ident.append("s:" + q.stem)
        # The exact predecessor's number (old: its own, or 1 if none; new: one less): an exact key, so the
        # next number is found even among thousands of accounts with the same stem.
        if not query:
            ident.append(f"n:{q.stem}:{q.number if q.number is not None else 1}")
        elif q.number is not None:
            ident.append(f"n:{q.stem}:{q.number - 1}")
    if len(q.skel) >= 3:
        ident.append("k:" + q.skel)
    if len(q.skel) >= 5:
        ident.append("q:" + q.skel[:4])
    ident += ["t:" + t for t in q.tokens if len(t) >= 3]
    ident += ["n:" + w for w in q.name.split() if len(w) >= 3]
    p = q.p
    if p.image:
        ident.append("i:" + p.image)
    ident += ["m:" + m for m in p.media]
    ident += ["u:" + u for u in p.urls]
    social = [hash((kind, x)) for kind, xs in (("F", p.followees), ("R", p.followers), ("M", p.mentioned),
                                               ("P", p.replied), ("T", p.threads), ("H", p.hashtags),
                                               ("D", p.domains)) for x in xs]
    return list({_h(k) for k in ident}), [_h("g:" + g) for g in q.sub_grams], social


_NEVER = -(2**62)


class _Postings:
    """key → row ids, as sorted numpy arrays (compact and fast for millions of postings). Within a key, rows
    are in order of suspension time, so a large block can keep its latest suspensions before a time."""

    def __init__(self, keys: list[int], rows: list[int], times: np.ndarray) -> None:
        k = np.array(keys, np.int64)
        r = np.array(rows, np.int64)
        t = times[r] if len(r) else np.zeros(0, np.int64)
        order = np.lexsort((t, k))
        self.keys, self.rows, self.times = k[order], r[order], t[order]

    def lookup(self, keys: list[int], max_block: int, before: int | None = None, keep: int = 20) -> np.ndarray:
        """Row ids of every key's block (repeats kept); a block larger than max_block keeps only the `keep`
        rows suspended last at or before `before` (the latest overall if None)."""
        if not keys or not len(self.keys):
            return np.zeros(0, np.int64)
        q = np.array(keys, np.int64)
        lo = np.searchsorted(self.keys, q, "left")
        hi = np.searchsorted(self.keys, q, "right")
        big = np.nonzero(hi - lo > max_block)[0]
        for j in big.tolist():
            a, b = int(lo[j]), int(hi[j])
            if before is not None:
                b = a + int(np.searchsorted(self.times[a:b], before, "right"))
            lo[j], hi[j] = max(a, b - keep), b
        size = hi - lo
        ok = size > 0
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
        self.suspended = np.array([q.p.suspended_at if q.p.suspended_at is not None else _NEVER for q in self.old],
                                  np.int64)
        self.created = np.array([q.p.since if q.p.since is not None else _NEVER for q in self.old], np.int64)
        self.ids = np.array([q.p.id for q in self.old], np.int64)
        self.n_grams = np.array([len(q.sub_grams) for q in self.old], np.int64)
        parts: dict[str, tuple[list[int], list[int]]] = {"ident": ([], []), "sub": ([], []), "social": ([], [])}
        for i, q in enumerate(self.old):
            for name, ks in zip(("ident", "sub", "social"), _keys(q), strict=True):
                parts[name][0].extend(ks)
                parts[name][1].extend([i] * len(ks))
        self.ident, self.sub, self.social = (_Postings(k, r, self.suspended) for k, r in parts.values())
        # Time is a signal too: the accounts suspended last before a new one appears are always candidates.
        self.by_time = np.argsort(self.suspended, kind="stable")
        self.times_sorted = self.suspended[self.by_time]

    def candidates(self, q: _Prepared, max_gap_days: float | None = None) -> np.ndarray:
        """Old rows that could be this account's predecessor: sharing an identity key, half the substring
        keys of the shorter handle, or two social keys; suspended (and created) before it was created."""
        ident, sub, social = _keys(q, query=True)
        before = q.p.since
        hits = [self.ident.lookup(ident, self.max_block, before)]
        counts = []
        s = self.sub.lookup(sub, self.max_block, before)
        if len(s):
            rows, n = np.unique(s, return_counts=True)
            need = np.maximum(2, np.ceil(0.5 * np.minimum(self.n_grams[rows], len(sub))))
            hits.append(rows[n >= need])
            counts.append((rows, n))
        soc = self.social.lookup(social, self.max_block, before)
        if len(soc):
            rows, n = np.unique(soc, return_counts=True)
            hits.append(rows[n >= 2])
            counts.append((rows, n))
        if before is not None and RECENT_SUSPENSIONS:
            end = int(np.searchsorted(self.times_sorted, before, "right"))
            recent = self.by_time[max(0, end - RECENT_SUSPENSIONS):end]
            hits.append(recent[self.suspended[recent] != _NEVER])
        found = np.unique(np.concatenate(hits))
        if not len(found):
            return found
        keep = self.ids[found] != q.p.id
        if before is not None:
            # Time runs one way: the old account was suspended before the new one existed, and created before it.
            sus = self.suspended[found]
            keep &= (sus == _NEVER) | (sus <= before)
            cre = self.created[found]
            keep &= (cre == _NEVER) | (cre < before)
            if max_gap_days is not None:
                keep &= (sus == _NEVER) | (before - sus <= max_gap_days * DAY)
        found = found[keep]
        if len(found) > MAX_CANDIDATES:
            # Too many to score: keep those sharing the most keys (identity keys count most).
            weight = np.zeros(len(self.old), np.float64)
            weight[self.ident.lookup(ident, self.max_block, before)] += 10
            for rows, n in counts:
                weight[rows] += n
            found = found[np.argsort(-weight[found], kind="stable")[:MAX_CANDIDATES]]
        return found

    def match(self, new: Sequence[Profile], *, top_k: int = 5, min_score: float = 0.05,
              threshold: float = THRESHOLD, max_gap_days: float | None = None,
              workers: int = 1) -> list[ReturningMatch]:
        """Ranked candidates for each new account that has any. `workers` > 1 splits the new accounts over
        forked processes that share the index (copy-on-write); where fork is unavailable, one process."""
        if workers > 1 and len(new) >= 2 * workers:
            import multiprocessing as mp

            if "fork" in mp.get_all_start_methods():
                global _FORKED
                _FORKED = (self, dict(top_k=top_k, min_score=min_score, threshold=threshold,
                                      max_gap_days=max_gap_days))
                step = -(-len(new) // workers)
                chunks = [list(new[i:i + step]) for i in range(0, len(new), step)]
                pool = mp.get_context("fork").Pool(workers)
                try:
                    parts = pool.map(_match_forked, chunks)
                    pool.close()
                    pool.join()  # reaped, so their CPU time is counted as the caller's children
                    return [m for part in parts for m in part]
                finally:
                    pool.terminate()
                    _FORKED = None
        return self._match(new, top_k=top_k, min_score=min_score, threshold=threshold, max_gap_days=max_gap_days)

    def _match(self, new: Sequence[Profile], *, top_k: int, min_score: float, threshold: float,
               max_gap_days: float | None) -> list[ReturningMatch]:
        min_logit = math.log(min_score / (1 - min_score)) if 0 < min_score < 1 else -math.inf
        out = []
        for p in new:
            q = _prepare(p)
            scored = []
            for i in self.candidates(q, max_gap_days).tolist():
                feats = pair_features(self.old[i], q)
                z = score_logit(feats)
                if z >= min_logit:
                    scored.append((z, i, feats))
            if not scored:
                continue
            # Rank by the logit (probabilities saturate). Near-certain candidates within TIE_MARGIN of the
            # best tie, and the suspension closest before the creation ranks first among them: a persona
            # returns as the continuation of its most recent account.
            best = max(z for z, _, _ in scored)

            def rank(x: tuple[float, int, dict], best: float = best) -> tuple:
                z, i = x[0], x[1]
                tied = z >= CERTAIN_LOGIT and z >= best - TIE_MARGIN
                return (0 if tied else 1, -int(self.suspended[i]) if tied else -z, -z, self.old[i].p.id)

            scored.sort(key=rank)
            cands = [Candidate(self.old[i].p.id, round(1 / (1 + math.exp(-z)), 4),
                               {k: round(v, 4) for k, v in feats.items()}, evidence(self.old[i], q, feats),
                               evidence_profile(self.old[i], q))
                     for z, i, feats in scored[:top_k]]
            out.append(ReturningMatch(p.id, cands, threshold))
        return out


_FORKED: tuple[ReturningIndex, dict] | None = None


def _match_forked(chunk: list[Profile]) -> list[ReturningMatch]:
    index, kw = _FORKED  # type: ignore[misc]  # set by the parent before forking
    return index._match(chunk, **kw)


def find_returning(new: Sequence[Profile], old: Sequence[Profile], *, top_k: int = 5, min_score: float = 0.05,
                   threshold: float = THRESHOLD, max_block: int = 200,
                   max_gap_days: float | None = None) -> list[ReturningMatch]:
    """Ranked candidates among `old` (suspended or removed accounts) for each account in `new` that has any."""
    return ReturningIndex(old, max_block=max_block).match(
        new, top_k=top_k, min_score=min_score, threshold=threshold, max_gap_days=max_gap_days)


# --- features, score, evidence ---------------------------------------------------------------------------


def evidence_profile(old: _Prepared, new: _Prepared) -> str:
    """What the pair can be judged on: handles (and dates) only, profiles too, or network and activity."""
    if old.has_network and new.has_network:
        return "network"
    if old.has_profile and new.has_profile:
        return "profiles"
    return "handles"


def _numbered(old: _Prepared, new: _Prepared) -> float:
    """Same stem, another number: the next number (x → x2, x2 → x3) 1.0, a few on 0.8, a bigger one 0.6,
    a smaller one 0.4; scaled down for short stems (ali → ali2 is common among strangers). A
    case-only change is not one."""
    if len(old.stem) < 3 or old.stem != new.stem or old.number == new.number:
        return 0.0
    prev = old.number if old.number is not None else 1
    if new.number == prev + 1:
        v = 1.0
    elif new.number is not None and 0 < new.number - prev <= 10:
        v = 0.8  # a few numbers on: x3 → x5
    elif new.number is not None and new.number > prev:
        v = 0.6  # bigger: Account10000 → Account30000 (name326 → name_9538 is also what strangers pick)
    else:
        v = 0.4
    return v * min(1.0, len(old.stem) / 7)


def _contained(a: str, b: str) -> float:
    """How much of the shorter handle's letters run inside the longer one (5-letter pieces; from 6 letters)."""
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    if len(short) < 6 or short == long_:
        return 0.0
    gs = grams(short)
    share = 1.0 if short in long_ else len(gs & grams(long_)) / len(gs) if gs else 0.0
    if share < 0.8:
        return 0.0  # partial overlap is what the bigram similarity measures
    return share * min(1.0, len(short) / 10)  # "mohamed" inside "mohamedali" says less than a long name


def pair_features(old: _Prepared, new: _Prepared) -> dict[str, float]:
    o, n = old.p, new.p
    f: dict[str, float] = {}
    both_handles = bool(old.folded and new.folded)
    f["handle"] = dice(old.handle_grams, new.handle_grams) if both_handles else 0.0
    f["handle_same"] = 1.0 if len(old.key) >= 3 and old.key == new.key else 0.0
    f["handle_numbered"] = _numbered(old, new)
    f["handle_contained"] = _contained(old.folded, new.folded) if both_handles else 0.0
    f["handle_skeleton"] = min(1.0, len(old.skel) / 5) if len(old.skel) >= 3 and old.skel == new.skel else 0.0
    f["name"] = jaccard(old.name_grams, new.name_grams)
    f["bio"] = jaccard(old.bio_grams, new.bio_grams)
    img = image_similarity(o.image, n.image)
    f["image"] = img if img is not None else 0.0
    f["followees"] = jaccard(o.followees, n.followees)
    f["followers"] = jaccard(o.followers, n.followers)
    f["mentioned"] = jaccard(o.mentioned, n.mentioned)
    f["replied"] = jaccard(o.replied, n.replied)
    f["urls"] = shared_strength(o.urls, n.urls)
    f["domains"] = jaccard(o.domains, n.domains)
    f["hashtags"] = jaccard(o.hashtags, n.hashtags)
    f["threads"] = max(jaccard(o.threads, n.threads), shared_strength(o.threads, n.threads, 3.0))
    f["media"] = shared_strength(o.media, n.media)
    f["style"] = float(o.style @ n.style) if o.style is not None and n.style is not None else 0.0
    since = n.since
    if o.suspended_at is not None and since is not None:
        f["gap"] = math.exp(-max(0, since - o.suspended_at) / (30 * DAY))
        f["gap_hours"] = math.exp(-max(0, since - o.suspended_at) / DAY)
    else:
        f["gap"] = f["gap_hours"] = 0.0
    # Contradictions, only where both accounts show the family.
    f["name_mismatch"] = 1.0 if old.name_grams and new.name_grams and f["name"] < 0.15 else 0.0
    f["image_mismatch"] = 1.0 if img is not None and img < 0.5 else 0.0
    social_known = (o.followees or o.followers) and (n.followees or n.followers)
    f["social_mismatch"] = 1.0 if social_known and not (o.followees & n.followees or o.followers & n.followers) else 0.0
    return f


_PATTERNS = ("handle_same", "handle_numbered", "handle_contained", "handle_skeleton")


def score_logit(f: dict[str, float], weights: dict[str, float] | None = None, intercept: float = INTERCEPT) -> float:
    w = weights or WEIGHTS
    # The handle signals overlap (a same handle is also similar, its skeleton equal): count the strongest
    # pattern in full and the others at a third.
    pattern = [w[k] * f.get(k, 0.0) for k in _PATTERNS]
    top = max(pattern)
    z = intercept + top + (sum(pattern) - top) / 3
    z += sum(v * f.get(k, 0.0) for k, v in w.items() if k not in _PATTERNS)
    z -= (PENALTIES["name"] * f.get("name_mismatch", 0.0) + PENALTIES["image"] * f.get("image_mismatch", 0.0)
          + PENALTIES["social"] * f.get("social_mismatch", 0.0))
    return z


def score_features(f: dict[str, float], weights: dict[str, float] | None = None, intercept: float = INTERCEPT) -> float:
    return 1 / (1 + math.exp(-score_logit(f, weights, intercept)))


def _day(t: int) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d")


def _some(items: Iterable[str], k: int = 3) -> str:
    xs = sorted(items)
    return ", ".join(xs[:k]) + (f" and {len(xs) - k} more" if len(xs) > k else "")


def evidence(old: _Prepared, new: _Prepared, f: dict[str, float]) -> list[str]:
    """What matched, in words: each line names the values compared and how they compare."""
    o, n = old.p, new.p
    out = []
    lines = {}
    if f["handle_same"]:
        how = "identical" if o.handle == n.handle else "the same apart from case, separators or script"
        lines["handle_same"] = f"handle @{n.handle} and @{o.handle}: {how} ('{old.key}')"
    if f["handle_numbered"]:
        a = "no number" if old.number is None else str(old.number)
        b = "no number" if new.number is None else str(new.number)
        nxt = "the next number" if new.number == (old.number or 1) + 1 else "another number"
        lines["handle_numbered"] = f"handle @{n.handle} continues @{o.handle}: stem '{old.stem}', {nxt} ({a} → {b})"
    if f["handle_contained"]:
        short = min(old.folded, new.folded, key=len)
        lines["handle_contained"] = f"handle @{n.handle} and @{o.handle} share the letters '{short}'"
    if f["handle_skeleton"] and not f["handle_same"]:
        lines["handle_skeleton"] = f"handle @{n.handle} is a respelling of @{o.handle} (both '{old.skel}')"
    out += [lines[k] for k in sorted(lines, key=lambda k: -WEIGHTS[k] * f[k])]
    if f["handle"] >= 0.5 and not f["handle_same"]:
        out.append(f"handle letters {f['handle']:.0%} similar ('{new.folded}' ~ '{old.folded}')")
    if f["name"] >= 0.4:
        out.append(f"display name {n.display_name!r} ~ {o.display_name!r} ({f['name']:.0%})")
    elif f["name_mismatch"]:
        out.append(f"display names differ ({n.display_name!r} vs {o.display_name!r})")
    if f["bio"] >= 0.4:
        out.append(f"bio {f['bio']:.0%} similar")
    if f["image"] >= 0.99:
        out.append("same profile image")
    elif f["image"] > 0:
        out.append(f"profile image hash {f['image']:.0%} similar")
    elif f["image_mismatch"]:
        out.append("different profile images")
    for key, what in (("followees", "follows"), ("followers", "followers"), ("mentioned", "mentioned accounts"),
                      ("replied", "accounts replied to")):
        if f[key] > 0:
            shared = len(getattr(o, key) & getattr(n, key))
            out.append(f"{shared} shared {what} (Jaccard {f[key]:.2f})")
    if f["social_mismatch"]:
        out.append("no follows or followers in common")
    for key, what in (("urls", "URLs"), ("domains", "domains"), ("hashtags", "hashtags"), ("threads", "threads"),
                      ("media", "media hashes")):
        if f[key] > 0:
            shared = getattr(o, key) & getattr(n, key)
            shown = _some(("#" + x if key == "hashtags" else x[:16] if key == "media" else x) for x in shared)
            out.append(f"{len(shared)} shared {what}: {shown}")
    if f["style"] >= 0.5:
        out.append(f"writing style similarity {f['style']:.2f}")
    since = n.since
    if o.suspended_at is not None and since is not None:
        gap = (since - o.suspended_at) / DAY
        made = "created" if n.created_at is not None else "first seen"
        out.append(f"@{o.handle or o.id} suspended {_day(o.suspended_at)}; @{n.handle or n.id} {made} "
                   f"{_day(since)}, {gap:.1f} days later")
    return out
