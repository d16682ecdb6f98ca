"""The shipped detector, end to end: scores, categories, evidence, robustness, and the safe model format."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from basira.detect import load_detector
from basira.detect.model import MODEL_DIR, WEIGHTS_FILE, LinearModel
from basira.detect.obfuscate import OBFUSCATIONS, obfuscate

FIXTURES = Path(__file__).parent / "fixtures"
SYNTHETIC = [json.loads(line) for line in (FIXTURES / "detect_synthetic.jsonl").read_text("utf-8").splitlines()]


@pytest.fixture(scope="module")
def detector():
    return load_detector()


def test_model_file_holds_plain_numeric_arrays_only():
    with np.load(MODEL_DIR / WEIGHTS_FILE, allow_pickle=False) as arrays:
        for name in arrays.files:
            assert arrays[name].dtype.kind == "f", name
    model = LinearModel.load()
    assert 0.0 < model.threshold < 1.0
    assert all(0.0 < t < 1.0 for t in model.lang_thresholds.values())
    assert model.coef.shape[0] == model.extractor().n_features


@pytest.mark.parametrize("row", [r for r in SYNTHETIC if r["lang"] in ("ar", "en")], ids=lambda r: r["id"])
def test_synthetic_examples_are_decided_as_labelled(detector, row):
    [d] = detector.detect([row["text"]])
    assert d.flagged == bool(row["label"]), (d.score, detector.thresholds)


def test_scores_are_probabilities_and_threshold_decides(detector):
    texts = [r["text"] for r in SYNTHETIC]
    scores = detector.score(texts)
    assert ((scores >= 0) & (scores <= 1)).all()
    for d, s in zip(detector.detect(texts), scores, strict=True):
        assert d.score == pytest.approx(s, abs=1e-6)
        assert d.flagged == (s >= detector.threshold_for(d.lang))


def test_flagged_text_has_categories_and_evidence_on_original_offsets(detector):
    text = next(r["text"] for r in SYNTHETIC if r["id"] == "syn-ar-pos-2")
    obfuscated = "\u200f" + text.replace("البيعة", "البيـــعة").replace("أمير", "أَمِير")
    for t in (text, obfuscated):
        [d] = detector.detect([t])
        assert d.flagged
        assert "pledge" in d.categories
        assert d.evidence
        for ev in d.evidence:
            assert t[ev.start : ev.end] == ev.text
            assert ev.why


def test_unflagged_text_has_no_categories(detector):
    [d] = detector.detect(["الجو جميل اليوم في الرياض"])
    assert not d.flagged and d.categories == [] and d.evidence == []


def test_sectarian_hate_is_a_separate_signal(detector):
    [d] = detector.detect(["الروافض المجوس لا يريدون خيرا للعرب"])
    assert "sectarian_hate" in d.signals
    assert "sectarian_hate" not in d.categories


def test_obfuscation_barely_moves_scores(detector):
    clean = [r["text"] for r in SYNTHETIC if r["label"] == 1]
    zwj = ["\u200d".join(t[i : i + 3] for i in range(0, len(t), 3)) for t in clean]
    tatweel = [t.replace("ا", "اـ").replace("ل", "لـــ") for t in clean]
    for variant in (zwj, tatweel):
        assert np.abs(detector.score(variant) - detector.score(clean)).max() < 0.05


def test_long_article_is_scored_whole(detector):
    news = next(r["text"] for r in SYNTHETIC if r["id"] == "syn-ar-neg-1")
    propaganda = next(r["text"] for r in SYNTHETIC if r["id"] == "syn-ar-pos-1")
    reporting = " ".join([news] * 125)  # ~15,000 characters
    preaching = " ".join([propaganda] * 170)
    assert min(len(reporting), len(preaching)) > 15000
    report, sermon = detector.detect([reporting, preaching])
    assert not report.flagged
    assert sermon.flagged and sermon.evidence


def test_threshold_override_changes_decisions(detector):
    text = SYNTHETIC[5]["text"]
    [score] = detector.score([text])
    below, above = load_detector(threshold=max(0.0, score - 1e-3)), load_detector(threshold=min(1.0, score + 1e-3))
    assert below.detect([text])[0].flagged
    assert not above.detect([text])[0].flagged


@pytest.mark.parametrize("kind", sorted(OBFUSCATIONS))
def test_each_obfuscation_keeps_synthetic_propaganda_flagged(detector, kind):

    positives = [r["text"] for r in SYNTHETIC if r["label"] == 1]
    variants = [obfuscate(t, kind, seed=3) for t in positives]
    assert variants != positives  # the obfuscation really changed the text
    assert all(d.flagged for d in detector.detect(variants)), kind


def test_obfuscation_is_reproducible():

    text = SYNTHETIC[0]["text"]
    assert obfuscate(text, "tatweel", seed=1) == obfuscate(text, "tatweel", seed=1)
    assert obfuscate(text, "tatweel", seed=1) != obfuscate(text, "tatweel", seed=2)


def test_second_stage_reads_only_texts_near_a_threshold(detector):
    from basira.detect import Detector
    from basira.text import normalize_text

    model = detector.model
    assert model.has_second_stage
    fast = Detector(model, cascade=False)
    texts = [r["text"] for r in SYNTHETIC]
    langs = [r["lang"] for r in SYNTHETIC]
    normalized = [normalize_text(t) for t in texts]
    full, band = detector.combined_margins(normalized, langs)
    quick, none = fast.combined_margins(normalized, langs)
    assert not none.any()
    first = detector.first_margins(normalized)
    centers = np.array([model.band_center(lang) for lang in langs])
    assert (band == (np.abs(first - centers) <= model.band_halfwidth)).all()
    assert np.allclose(full[~band], quick[~band])


def test_model_evidence_skips_function_words_and_the_name_of_god(detector):
    text = "May Allah accept the knights of martyrdom who sold this world for the next #Khilafah #Baqiyah"
    [d] = detector.detect([text])
    assert d.flagged
    shown = {e.text.lower() for e in d.evidence}
    assert "knights of martyrdom" in shown
    assert not shown & {"the", "for", "this", "who", "allah", "of"}


def test_texts_without_a_support_indicator_pay_the_penalty(detector):
    from basira.detect.indicators import find_indicators
    from basira.detect.lexicon import SUPPORT_CATEGORIES
    from basira.text import normalize_text

    assert detector.model.no_support_penalty > 0
    normalized = [normalize_text(r["text"]) for r in SYNTHETIC] + [normalize_text("الروافض المجوس لا يريدون خيرا للعرب")]
    has_support = np.array([any(h.category in SUPPORT_CATEGORIES for h in find_indicators(t)) for t in normalized])
    assert has_support.any() and (~has_support).any()
    gap = detector.margins(normalized) - detector.first_margins(normalized)
    assert np.allclose(gap[has_support], 0.0)
    assert np.allclose(gap[~has_support], detector.model.no_support_penalty, atol=1e-5)
