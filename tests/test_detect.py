"""The shipped detector, end to end: scores, categories, evidence, robustness, and the safe model format."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from basira.detect import load_detector
from basira.detect.model import MODEL_DIR, WEIGHTS_FILE, LinearModel
from basira.detect.obfuscate import OBFUSCATIONS, obfuscate
from basira.text import normalize_text

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
    assert set(model.script_thresholds) <= {"arabic", "latin", "cyrillic"} and model.script_thresholds
    assert all(0.0 < t < 1.0 for t in model.script_thresholds.values())
    assert model.gate is not None and model.hate_coef is not None
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


def test_first_stage_is_the_learned_gate_over_margins_indicators_and_hate(detector):
    # v2 replaces v1's hand-set no-support penalty and its embedding band with the gate (basira/detect/gate.py);
    # v4 adds the stance columns its gate_stance names (basira/detect/stance.py).
    from basira.detect.gate import GATE_FEATURES, gate_matrix
    from basira.detect.stance import stance_matrix
    from basira.text import normalize_text

    model = detector.model
    assert not model.has_second_stage and len(model.gate) == len(GATE_FEATURES) + len(model.gate_stance) + 1
    normalized = [normalize_text(r["text"]) for r in SYNTHETIC]
    x = detector.features.transform(normalized)
    k = detector.features.n_indicator_columns
    hate = x @ model.hate_coef + model.hate_intercept
    g = gate_matrix(detector.margins(normalized), x[:, -k:].toarray(), hate, stance_matrix(normalized), model.gate_stance)
    assert np.allclose(detector.first_margins(normalized), g @ model.gate[:-1] + model.gate[-1])


def test_model_evidence_skips_function_words_and_the_name_of_god(detector):
    text = "May Allah accept the knights of martyrdom who sold this world for the next #Khilafah #Baqiyah"
    [d] = detector.detect([text])
    assert d.flagged
    shown = {e.text.lower() for e in d.evidence}
    assert "knights of martyrdom" in shown
    assert not shown & {"the", "for", "this", "who", "allah", "of"}


# Cases the issue names: ordinary religious text and reporting must not be flagged (issue 11).
NOT_SUPPORT = [
    "أصبحنا على فطرة الإسلام وعلى كلمة الإخلاص وعلى دين نبينا محمد صلى الله عليه وسلم",
    "عاجل | تنظيم الدولة الإسلامية يتبنى الهجوم على نقطة تفتيش عبر وكالة أعماق",
    "قال رسول الله صلى الله عليه وسلم: من مات ولم يغز ولم يحدث به نفسه مات على شعبة من نفاق",
    "اللهم ارحم شهداءنا واغفر لهم",
    "Police arrested two men accused of spreading propaganda for the so-called Islamic State, officials said",
]


@pytest.mark.parametrize("text", NOT_SUPPORT)
def test_dua_hadith_and_reported_claims_are_not_flagged(detector, text):
    [d] = detector.detect([text])
    assert not d.flagged and d.policy != "terrorist_support", d.score


def test_reporting_frame_caps_the_score_below_the_threshold(detector):
    headline = NOT_SUPPORT[1]
    [d] = detector.detect([headline])
    assert d.score < detector.threshold_for_text(normalize_text(headline), "ar")
    # the same brand spread with an endorsing act is still support
    [p] = detector.detect(["انفروا يا شباب الإسلام، وكالة أعماق تنشر بشائر جنود الخلافة، الدولة الإسلامية باقية"])
    assert p.flagged and p.policy == "terrorist_support"


def test_policy_routes_hate_speech_apart_from_terrorist_support(detector):
    flagged, insult, plain = detector.detect(
        [SYNTHETIC[0]["text"], "يا رافضي يا كلب يا ابن المتعة", "الجو جميل اليوم في الرياض"]
    )
    assert flagged.policy == "terrorist_support"
    assert not insult.flagged and insult.policy == "hate_speech" and "sectarian_hate" in insult.signals
    assert plain.policy is None
    assert 0.0 <= insult.hate_score <= 1.0


def test_threshold_depends_on_script_not_on_guessed_language(detector):
    text = "We renew our bayah to Amir al-Muminin, we pledge to hear and obey"
    results = [detector.detect([text], [lang])[0] for lang in ("en", "sq", "tl", None)]
    assert len({(r.score, r.flagged) for r in results}) == 1


RU = [json.loads(line) for line in (FIXTURES / "detect_ru_synthetic.jsonl").read_text("utf-8").splitlines()]


def test_russian_fixture_is_large_split_by_template_and_marked_synthetic():
    assert sum(r["label"] == 1 for r in RU) >= 100 and sum(r["label"] == 0 for r in RU) >= 100
    train = {r["template"] for r in RU if r["split"] == "train"}
    test = {r["template"] for r in RU if r["split"] == "test"}
    assert train and test and not train & test
    assert all("SYNTHETIC" in r["note"] for r in RU)


def test_russian_held_out_templates_recall_and_no_false_flags(detector):
    test = [r for r in RU if r["split"] == "test"]
    flags = [d.flagged for d in detector.detect([r["text"] for r in test])]
    positives = [f for f, r in zip(flags, test, strict=True) if r["label"] == 1]
    negatives = [f for f, r in zip(flags, test, strict=True) if r["label"] == 0]
    assert sum(positives) / len(positives) >= 0.8
    assert sum(negatives) <= 1


def test_condemnation_is_a_stance_cue_apart_from_the_reporting_register():
    # Pro-ISIS news accounts write «عاجل» and «قتلى» too; outsiders' names for the group are what condemn it.
    from basira.detect.indicators import count_indicators

    condemning = count_indicators(normalize_text("قتل 15 من عناصر تنظيم داعش الإرهابي في غارات جوية"))
    assert condemning["condemnation"] >= 1 and condemning["distancing"] >= 1
    breaking = count_indicators(normalize_text("عاجل | قتلى في صفوف المرتدين"))
    assert breaking["distancing"] >= 1 and breaking["condemnation"] == 0
    assert count_indicators(normalize_text("Police arrested so-called Islamic State militants"))["condemnation"] >= 1


def test_news_paragraphs_stay_with_their_article_in_the_split_and_the_holdout():
    from basira.detect.train import PARAGRAPH_SUFFIX, Example, limit_for, news_paragraphs

    body = ". ".join(f"جملة رقم {i} من مقال إخباري طويل عن مكافحة الإرهاب في المنطقة" for i in range(12))
    article = Example(id="n1", text=body, label=0, lang="ar", file="ar_news_ant", source="antcorpus", group="n1")
    tweet = Example(id="t1", text=body, label=0, lang="ar", file="ar_offensive", source="x:ID2", group="t1")
    parts = news_paragraphs([article, tweet])
    assert 1 <= len(parts) <= 3 and all(60 <= len(p.text) <= 400 for p in parts)
    assert {p.file for p in parts} == {"ar_news_ant" + PARAGRAPH_SUFFIX}
    # held out with the article (same family), dev with it (same split unit), and under the news limit
    assert {p.family for p in parts} == {article.family} and {p.is_dev for p in parts} == {article.is_dev}
    assert limit_for(parts[0].file) == limit_for(article.family) == 0.005


def _spread_model(k: float) -> LinearModel:
    from basira.detect.features import FeatureConfig

    return LinearModel(config=FeatureConfig(), idf=np.zeros(1), coef=np.zeros(1), intercept=0.0, calib_a=0.5,
                       calib_b=-0.4, rank_spread=k)


def test_rank_spread_keeps_every_decision_and_the_order_and_spreads_the_flagged_range():
    rng = np.random.default_rng(7)
    margins = np.concatenate([rng.normal(0, 6, 5000), [100.0, 120.0, 140.0]])  # the last three saturate Platt (1.0)
    cuts = np.where(rng.random(len(margins)) < 0.5, 0.87, 0.5)
    plain, ranked = _spread_model(0.0), _spread_model(2.0)
    before = plain.calibrate_ranked(margins, cuts)
    after = ranked.calibrate_ranked(margins, cuts)
    assert np.array_equal(before, plain.calibrate(margins))  # k = 0: the plain Platt score
    assert np.array_equal(before >= cuts, after >= cuts)  # nobody flagged or unflagged by the spread
    below = before < cuts
    assert np.array_equal(before[below], after[below])  # unflagged scores untouched
    for cut in (0.87, 0.5):  # within a threshold, the order of flags is kept, and the saturated ones are told apart
        flagged = (before >= cuts) & (cuts == cut)
        order = np.argsort(margins[flagged], kind="stable")
        assert (np.diff(after[flagged][order]) >= 0).all()
    assert len(np.unique(after[-3:])) == 3 and after[-3:].max() < 1.0 and (before[-3:] == 1.0).all()
    flagged = before >= cuts
    assert (after[flagged] >= 0.999).mean() < (before[flagged] >= 0.999).mean() / 2


def test_shipped_scores_spread_over_the_flagged_range(detector):
    texts = [r["text"] for r in SYNTHETIC if r["label"] == 1 and r["lang"] in ("ar", "en")]
    found = detector.detect(texts)
    assert detector.model.rank_spread > 0
    normalized = [normalize_text(t) for t in texts]
    margins = detector.first_margins(normalized)
    plain = detector.model.calibrate(margins)
    cuts = np.array([detector.threshold_for_text(n, None) for n in normalized])
    assert [d.flagged for d in found] == list(plain >= cuts)  # the spread decides nothing
    flagged = [d.score for d in found if d.flagged]
    assert flagged and max(flagged) < 0.999 < plain.max()


KK_UZ = [json.loads(line) for line in (FIXTURES / "detect_kk_uz_synthetic.jsonl").read_text("utf-8").splitlines()]


def test_kazakh_uzbek_fixture_is_large_marked_synthetic_and_never_trained_on():
    from basira.detect.train import DEFAULT_EXTRA

    assert sum(r["label"] == 1 for r in KK_UZ) >= 100 and sum(r["label"] == 0 for r in KK_UZ) >= 100
    assert {(r["lang"], r["script"]) for r in KK_UZ} == {("kk", "Cyrl"), ("uz", "Latn"), ("uz", "Cyrl")}
    assert {r["kind"] for r in KK_UZ if r["label"] == 0} == {"news", "prayer", "condemnation"}
    assert all("SYNTHETIC" in r["note"] for r in KK_UZ)
    assert all("kk_uz" not in p.name for p in DEFAULT_EXTRA)  # a measure only


def test_kazakh_uzbek_reach_and_no_false_flags(detector):
    # Measured with basira-detector-0.1.0-57418bb94a+spread2 and again with v4 (…-5f70790d24, stance gate)
    # (v5, …-94049f067a: see docs/model-card.md):
    # recall 0.56 (kk 0.65, uz Cyrillic 0.62, uz Latin
    # 0.40: the Latin cut is 0.87 in v3, 0.915 in v4, the Cyrillic 0.50), 0 of 120 hard negatives flagged; before the kk/uz lexicon
    # terms, recall 0.00. The floor below fails if the terms stop matching or a negative kind starts to flag.
    found = detector.detect([r["text"] for r in KK_UZ], [r["lang"] for r in KK_UZ])
    positives = [d.flagged for d, r in zip(found, KK_UZ, strict=True) if r["label"] == 1]
    negatives = [d.flagged for d, r in zip(found, KK_UZ, strict=True) if r["label"] == 0]
    assert sum(positives) / len(positives) >= 0.5
    assert sum(negatives) <= 1
