"""Score texts: calibrated probability of supporting a jihadist organisation, categories and evidence."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from basira.detect.embedding import SentenceEmbedder
from basira.detect.indicators import find_indicators
from basira.detect.lexicon import SUPPORT_CATEGORIES
from basira.detect.model import MODEL_DIR, LinearModel
from basira.detect.stance import stance_matrix
from basira.text import detect_language, normalize, normalize_text, script_of

MAX_EVIDENCE = 8
MAX_MODEL_WORDS = 4  # beyond the indicator phrases, the few words the model weighs most
UNSPECIFIED_SUPPORT = "other_support"
_WORD = re.compile(r"\w+")
# Words never shown as model evidence: function words, and the name of God and everyday religious formulas,
# which the model may weigh but which no reviewer should read as a sign of propaganda.
_NOT_EVIDENCE = frozenset(
    normalize_text(w)
    for w in (
        "the for and of to in a an is are was were be on with this that from by who what it its as at or not but "
        "they them their we our you your he his she her all will have has had can just so if about more than "
        "في من على الى إلى عن ان أن إن ما لا هذا هذه ذلك التي الذي الذين و او أو كل قد ثم هو هي هم نحن انت مع بعد قبل "
        "عند كان يا لم لن بل حتى إذا اذا "
        "и в на не что с по за к из это как он она они мы вы но а то все так его её их для от до "
        "الله بالله والله لله اللهم بإذن باذن إن_شاء_الله سبحان الحمد allah god insha inshallah аллах бог"
    ).split()
)


_WORD_CACHE_MAX = 200_000
REPORT_FRAME_MIN = 2
_ENDORSING = frozenset(c for c in SUPPORT_CATEGORIES if c != "propaganda_brand")


def _words(normalized: str) -> list[tuple[int, int, str]]:
    """Candidate evidence words: not function words, the name of God, digits or very short words."""
    return [
        (m.start(), m.end(), m.group(0))
        for m in _WORD.finditer(normalized)
        if len(m.group(0)) > 2 and m.group(0) not in _NOT_EVIDENCE and not m.group(0).isdigit()
    ]


@dataclass(frozen=True, slots=True)
class Evidence:
    """A span of the *original* text that drove the decision, and why."""

    start: int
    end: int
    text: str
    why: str

    def to_dict(self) -> dict:
        return {"start": self.start, "end": self.end, "text": self.text, "why": self.why}


TERRORIST_SUPPORT = "terrorist_support"
HATE_SPEECH = "hate_speech"


@dataclass(frozen=True, slots=True)
class Detection:
    score: float
    flagged: bool
    lang: str
    categories: list[str] = field(default_factory=list)
    signals: list[str] = field(default_factory=list)  # other policies' signals, e.g. sectarian_hate
    evidence: list[Evidence] = field(default_factory=list)
    # Which policy the text falls under: "terrorist_support" (flagged), "hate_speech" (not support, but the
    # hate head says hate speech: a different queue), or None.
    policy: str | None = None
    hate_score: float | None = None


class Detector:
    """Loaded once per process; `detect` is thread-safe (no shared mutable state)."""

    def __init__(self, model: LinearModel, threshold: float | None = None, cascade: bool = True):
        self.model = model
        self.cascade = cascade and model.has_second_stage
        self.embedder = SentenceEmbedder() if self.cascade else None
        if self.embedder is not None:
            self.embedder.prefetch()  # load the encoder while the first stage works through the first batch
        self.features = model.extractor()
        self.override = threshold  # one threshold for every language, from --threshold
        self.threshold = model.threshold if threshold is None else threshold
        self.version = model.version
        # word -> its own margin, for evidence; a pure function of the model, so racing writers agree
        self._word_weights: dict[str, float] = {}

    @property
    def thresholds(self) -> dict[str, float]:
        """The decision thresholds in force: 'default' and any per-language ones."""
        if self.override is not None:
            return {"default": self.override}
        return {"default": self.model.threshold, **self.model.lang_thresholds, **self.model.script_thresholds}

    def threshold_for(self, lang: str | None) -> float:
        return self.override if self.override is not None else self.model.threshold_for(lang)

    def threshold_for_text(self, normalized: str, lang: str | None) -> float:
        """The decision threshold for one text: by its script on v2 models (not by short-text language ID)."""
        if self.override is not None:
            return self.override
        if self.model.script_thresholds:
            return self.model.threshold_for_script(script_of(normalized))
        return self.model.threshold_for(lang)

    @classmethod
    def load(cls, directory: Path = MODEL_DIR, threshold: float | None = None, cascade: bool = True) -> Detector:
        return cls(LinearModel.load(directory), threshold, cascade)

    def margins(self, normalized: Sequence[str]) -> np.ndarray:
        """The logistic model's raw margins (no penalty): also how evidence words are weighed."""
        x = self.features.transform(normalized)
        return x @ self.model.coef + self.model.intercept

    def first_margins(self, normalized: Sequence[str]) -> np.ndarray:
        """First-stage decision margins: the support gate's logit (v2), or v1's raw margins less its penalty."""
        return self._first(normalized)[0]

    def _first(self, normalized: Sequence[str]) -> tuple[np.ndarray, np.ndarray | None]:
        """First-stage margins and the hate head's scores (None without a hate head), from one feature pass."""
        x, indicators = self.features.transform_with_indicators(normalized)
        first = x @ self.model.coef + self.model.intercept
        hate = hate_logits = None
        if self.model.hate_coef is not None:
            hate_logits = x @ self.model.hate_coef + self.model.hate_intercept
            hate = 1.0 / (1.0 + np.exp(-np.clip(hate_logits, -40, 40)))
        if self.model.gate is not None:
            hl = hate_logits if hate_logits is not None else np.zeros(len(first))
            stance = stance_matrix(normalized) if self.model.gate_stance else None
            return self.model.gate_logit(first, indicators, hl, stance), hate
        if self.model.no_support_penalty:
            has_support = np.asarray(x[:, self.features.support_columns].sum(axis=1)).ravel() > 0
            first = first - self.model.no_support_penalty * ~has_support
        return first, hate

    def combined_margins(
        self, normalized: Sequence[str], langs: Sequence[str | None]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Final margins, and which texts the second stage read.

        A long article is scored whole: its sublinear, length-normalized features keep the reporting voice
        of the whole piece, which is what separates journalism that quotes a slogan from the slogan itself.
        """
        return self._combined(normalized, langs)[:2]

    def _combined(
        self, normalized: Sequence[str], langs: Sequence[str | None]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        m = self.model
        first, hate = self._first(normalized) if normalized else (np.zeros(0), None)
        if not m.has_second_stage:
            return first, np.zeros(len(first), dtype=bool), hate
        centers = np.array([m.band_center(lang) for lang in langs])
        band = np.abs(first - centers) <= m.band_halfwidth if self.cascade else np.zeros(len(first), dtype=bool)
        second = np.full(len(first), m.emb_fill)
        if band.any():
            assert self.embedder is not None and m.emb_coef is not None
            idx = np.flatnonzero(band)
            # The encoder reads the normalized text: invisible characters, bidi controls and look-alike letters
            # must not move its vector any more than they move the first stage. Each distinct text is encoded
            # once (reposts and copy-paste campaigns repeat texts; the encoder is the costly part).
            distinct = list(dict.fromkeys(normalized[i] for i in idx))
            values = self.embedder.encode(distinct) @ m.emb_coef + m.emb_intercept
            by_text = dict(zip(distinct, values, strict=True))
            second[idx] = [by_text[normalized[i]] for i in idx]
        return first + m.emb_weight * second, band, hate

    def score(self, texts: Sequence[str], langs: Sequence[str | None] | None = None) -> np.ndarray:
        """Calibrated scores in [0, 1]."""
        langs = [(langs[i] if langs else None) or detect_language(t) for i, t in enumerate(texts)]
        normalized = [normalize_text(t) for t in texts]
        margins, _ = self.combined_margins(normalized, langs)
        cuts = np.array([self.threshold_for_text(n, lang) for n, lang in zip(normalized, langs, strict=True)])
        return self.model.calibrate_ranked(margins, cuts) if normalized else self.model.calibrate(margins)

    def detect(self, texts: Sequence[str], langs: Sequence[str | None] | None = None) -> list[Detection]:
        normalized = [normalize_text(t) for t in texts]
        langs = [(langs[i] if langs else None) or detect_language(t) for i, t in enumerate(texts)]
        margins, _, hate = self._combined(normalized, langs)
        cuts = [self.threshold_for_text(n, lang) for n, lang in zip(normalized, langs, strict=True)]
        scores = self.model.calibrate_ranked(margins, np.array(cuts)) if normalized else self.model.calibrate(margins)
        scores = self._report_frame_cap(normalized, scores, cuts)
        flags = [bool(s >= c) for s, c in zip(scores, cuts, strict=True)]
        hate_cut = self.model.hate_threshold
        weights = self.word_weights(w for n, f in zip(normalized, flags, strict=True) if f for _, _, w in _words(n))
        results = []
        for i, (text, norm, score, lang, flagged) in enumerate(zip(texts, normalized, scores, langs, flags, strict=True)):
            hits = find_indicators(norm)
            signals = sorted({h.category for h in hits if h.category == "sectarian_hate"})
            hs = None if hate is None else round(float(hate[i]), 4)
            if not flagged:
                policy = HATE_SPEECH if hs is not None and hs >= hate_cut else None
                results.append(Detection(round(float(score), 6), False, lang, [], signals, [], policy, hs))
                continue
            categories = sorted({h.category for h in hits if h.category in SUPPORT_CATEGORIES})
            evidence = self.explain(text, weights)
            results.append(Detection(round(float(score), 6), True, lang, categories or [UNSPECIFIED_SUPPORT], signals,
                                     evidence, TERRORIST_SUPPORT, hs))
        return results

    def _report_frame_cap(self, normalized: Sequence[str], scores: np.ndarray, cuts: Sequence[float]) -> np.ndarray:
        """A text in the reporting frame is not support: scores capped just under the threshold (ranked, not flagged).

        The frame: at least REPORT_FRAME_MIN distancing cues («عاجل», «تنظيم الدولة», «يتبنى», "claimed
        responsibility", «взяло на себя ответственность» …) and no endorsing act (no call to join, pledge,
        glorification or threat); naming the group's outlets is allowed, because reports cite them. The n-gram
        model cannot see that a headline about an Amaq claim reports the claim rather than spreads it.
        """
        if self.override is not None or self.model.gate is None:
            return scores
        return report_frame_cap(normalized, scores, cuts)

    def word_weights(self, words: Iterable[str]) -> dict[str, float]:
        """Each word's own first-stage margin (without the intercept), scored in one batch and cached."""
        cache = self._word_weights
        found: dict[str, float] = {}
        missing = []
        for w in set(words):
            if (v := cache.get(w)) is not None:
                found[w] = v
            else:
                missing.append(w)
        if missing:
            missing.sort()
            computed = dict(zip(missing, (self.margins(missing) - self.model.intercept).tolist(), strict=True))
            if len(cache) + len(computed) > _WORD_CACHE_MAX:
                cache.clear()
            cache.update(computed)
            found.update(computed)
        return found

    def explain(self, text: str, weights: dict[str, float] | None = None) -> list[Evidence]:
        """Evidence on the original text: indicator phrases, then the words the model weighs most."""
        nt = normalize(text)
        spans: list[tuple[int, int, str]] = []
        for hit in find_indicators(nt.text):
            if hit.category in SUPPORT_CATEGORIES:
                spans.append((hit.start, hit.end, f"{hit.category} indicator: «{hit.term}»"))
        words = _words(nt.text)
        if words:
            weights = weights or {}
            if need := [w for _, _, w in words if w not in weights]:
                weights = {**weights, **self.word_weights(need)}
            ranked = sorted(words, key=lambda w: weights[w[2]], reverse=True)
            strong = [w for w in ranked if weights[w[2]] > 1.0][:MAX_MODEL_WORDS]
            for start, end, word in strong:
                if not any(s <= start and end <= e for s, e, _ in spans):
                    spans.append((start, end, f"model: «{word}» weighs towards propaganda"))
        evidence = []
        for start, end, why in sorted(spans)[: MAX_EVIDENCE * 2]:
            o_start, o_end = nt.to_original(start, end)
            evidence.append(Evidence(o_start, o_end, text[o_start:o_end], why))
        return evidence


def in_report_frame(normalized: str) -> bool:
    """At least REPORT_FRAME_MIN distancing/reporting cues and no endorsing act (see Detector._report_frame_cap)."""
    hits = find_indicators(normalized)
    if any(h.category in _ENDORSING for h in hits):
        return False
    return sum(h.category == "distancing" for h in hits) >= REPORT_FRAME_MIN


def report_frame_cap(normalized: Sequence[str], scores: np.ndarray, cuts: Sequence[float]) -> np.ndarray:
    """Scores of flagged texts in the reporting frame, capped just under their threshold."""
    out = np.array(scores, dtype=np.float64)
    for i, (norm, cut) in enumerate(zip(normalized, cuts, strict=True)):
        if out[i] >= cut and in_report_frame(norm):
            out[i] = min(out[i], np.nextafter(cut, 0.0) - 1e-6)
    return out


@lru_cache(maxsize=4)
def load_detector(directory: Path = MODEL_DIR, threshold: float | None = None, cascade: bool = True) -> Detector:
    """The shared, lazily loaded detector (one per process, threshold and cascade setting)."""
    return Detector.load(directory, threshold, cascade)
