"""Stance features (basira.detect.stance): each fires on its frame and not on a near miss, in Arabic and English;
the anchor prefilter never hides a match; the gate's stance columns are wired only when a model asks for them.

Every fixture here is SYNTHETIC, minimal and non-operational: a few words that show a frame (a self-name, a
province next to "attack", a verse bracket), written for these tests; none is taken from real propaganda.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from basira.detect.gate import GATE_FEATURES, gate_matrix
from basira.detect.indicators import CATEGORIES
from basira.detect.model import LinearModel
from basira.detect.stance import (
    _ANCHORS,
    STANCE_FEATURES,
    stance_columns,
    stance_matrix,
    stance_matrix_unfiltered,
    stance_of,
)
from basira.text import normalize_text

# (feature, fires on, near miss that must not fire) — SYNTHETIC
CASES = [
    ("group_we", "نحن جنود الدولة الإسلامية", "نحن جنود الوطن"),
    ("group_we", "خلافتنا باقية", "خلافات بين الجيران"),
    ("group_we", "our caliphate remains", "our state remains strong"),
    ("self_name", "الدولة الإسلامية باقية", "تنظيم الدولة الإسلامية يتبنى الهجوم"),
    ("self_name", "جنود دولة الخلافة", "ما يسمى بدولة الخلافة"),
    ("self_name", "الخلافة الإسلامية قادمة", "الخلافة الإسلامية المزعومة"),
    ("self_name", "the islamic state remains", "the so-called islamic state"),
    ("self_name", "soldiers of the islamic state", "the islamic state group said"),
    ("wilayah_op", "ولاية سيناء تنفذ هجوما", "ولاية الخرطوم تفتتح مدرسة"),
    ("wilayah_op", "wilayat sinai claims an attack", "wilayat khartoum opened a school"),
    ("enemy_sect", "جيش المرتدين", "كانوا مرتدين ملابس بيضاء"),
    ("enemy_sect", "apostate forces withdrew", "an apostate from the party"),
    ("attack_praise", "هجوم على الثكنة ولله الحمد", "الهجوم على المدينة مدان"),
    ("attack_praise", "the attack, alhamdulillah", "the attack was condemned"),
    ("scripture_frame", "قال تعالى ﴿ وأقيموا الصلاة ﴾", "قال الوزير إن الصلاة"),
    ("scripture_frame", "عن أبي هريرة رضي الله عنه قال", "عن أبي وأمي"),
    ("scripture_frame", "narrated abu huraira: the prophet said", "he narrowly missed the bus"),
    ("scripture_frame", "передал абу хурайра", "передача о погоде"),
    ("prayer_open", "اللهم اغفر لنا", "قلت له اللهم اغفر لنا"),
    ("prayer_open", "بسم الله الرحمن الرحيم الحمد لله رب العالمين", "بسم الله الرحمن الرحيم أعلنت الوزارة"),
    ("prayer_open", "O Allah, forgive us", "he said o allah"),
    ("devotion", "Praying for my mother tonight, may Allah grant her shifa", "praying mantis photos from the garden"),
    ("devotion", "we will meet again in jannah inshallah", "in shallow water"),
    ("devotion", "Thank you all. Ameen", "the amendment passed"),
    ("devotion", "Jumu'ah Mubarak to everyone", "jumu was late to the match"),
    ("devotion", "please remember him in your duas", "the dual carriageway"),
    ("devotion", "وصلنا البيت والحمد لله", "حمدان وصل البيت"),
    ("devotion", "نلتقي غدا ان شاء الله", "نلتقي غدا في المقهى"),
    ("devotion", "توفي جدي رحمه الله", "رحمة صديقة اختي"),
    ("devotion", "брат, да помилует его Аллах", "да, помидоры созрели"),
    ("devotion", "до встречи, иншаАллах", "до встречи в пятницу"),
    ("attributed_speech", "وقال مصدر أمني إن الهجوم", "قال تعالى ﴿ وأقيموا الصلاة ﴾"),
    ("attributed_speech", "بحسب وكالة الأنباء", "بحسبك الله"),
    ("attributed_speech", "according to reuters, the group", "saida is a city"),
    ("attributed_speech", "по данным полиции", "данные о погоде"),
]


@pytest.mark.parametrize(("feature", "frame", "near_miss"), CASES)
def test_a_feature_fires_on_its_frame_and_not_on_a_near_miss(feature, frame, near_miss):
    assert stance_of(normalize_text(frame))[feature], frame
    assert not stance_of(normalize_text(near_miss))[feature], near_miss


def test_clitics_and_obfuscation_do_not_hide_a_frame():
    # normalize_text folds tatweel, diacritics and letter variants before any pattern reads the text
    assert stance_of(normalize_text("وللدولةِ الإسلاميـــة"))["self_name"]
    assert stance_of(normalize_text("والرافضة"))["enemy_sect"]
    assert stance_of(normalize_text("اللّهُمَّ اغفرْ لنا"))["prayer_open"]


def test_batch_rows_are_independent_and_match_single_texts():
    texts = [normalize_text(t) for _, t, _ in CASES] + [normalize_text(t) for _, _, t in CASES] + [""]
    batch = stance_matrix(texts)
    assert batch.shape == (len(texts), len(STANCE_FEATURES))
    for i, t in enumerate(texts):
        assert np.array_equal(batch[i], stance_matrix([t])[0])
    # a frame at the end of one text and the start of the next never joins into a match across them
    assert not stance_matrix([normalize_text("ولاية سيناء"), normalize_text("هجوم")])[:, STANCE_FEATURES.index("wilayah_op")].any()
    assert stance_matrix([]).shape == (0, len(STANCE_FEATURES))


_PIECES = sorted({a for anchors in _ANCHORS.values() for a in anchors} | {
    " ", ",", ":", "(", ")", "ال", "و", "ب", "ل", "قال", "قالت", "عن", "ابي", "هريره", "ابن", "2", "[البقره: 2]",
    "سيناء", "هجوم", "عمليه", "ما يسمي", "تنظيم", "داعش", "المزعومه", "the", "so-called", "group", "of iraq", "abu",
    "x", "ملابس", "سماء", "\u0651", "ة", "خلافه", "ولايه", "حسبك", "اكبر", "attack",
    "may", "in", "sha", "a", "'", "ameen", "aamen", "jumu'ah", "eid", "mubarak", "make", "my", "your", "duas",
    "request", "rahimullah", "rahimahullah", "insha'llah", "llah", "الله", "ان", "شاء", "رحمه", "да", "помилует", "ин", "ша", "аллах", "амин", "ramadan", "ramadhan",
})


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.sampled_from(_PIECES), max_size=14).map("".join), min_size=1, max_size=6))
def test_the_anchor_prefilter_never_hides_a_match(texts):
    assert np.array_equal(stance_matrix(texts), stance_matrix_unfiltered(texts))


def test_gate_without_stance_names_is_v3_exactly():
    rng = np.random.default_rng(1)
    margins, hate = rng.normal(size=20), rng.normal(size=20)
    indicators = rng.integers(0, 2, size=(20, 2 * len(CATEGORIES))).astype(float)  # log counts, then flags
    base = gate_matrix(margins, indicators, hate)
    assert np.array_equal(base, gate_matrix(margins, indicators, hate, np.ones((20, len(STANCE_FEATURES))), ()))
    assert base.shape[1] == len(GATE_FEATURES)
    flags = rng.integers(0, 2, size=(20, len(STANCE_FEATURES))).astype(float)
    wide = gate_matrix(margins, indicators, hate, flags, ("scripture_frame", "margin×attributed_speech"))
    assert np.array_equal(wide[:, : base.shape[1]], base)
    assert np.array_equal(wide[:, -2], flags[:, STANCE_FEATURES.index("scripture_frame")])
    assert np.allclose(wide[:, -1], margins * flags[:, STANCE_FEATURES.index("attributed_speech")])
    with pytest.raises(ValueError, match="without the stance flags"):
        gate_matrix(margins, indicators, hate, None, ("scripture_frame",))
    assert stance_columns(flags, margins, ()).shape == (20, 0)


def test_a_model_with_stance_columns_scores_through_them_and_round_trips(tmp_path):
    from basira.detect.detector import Detector

    shipped = LinearModel.load()
    detector = Detector(shipped, cascade=False)
    texts = [normalize_text(t) for t in ("قال تعالى ﴿ وأقيموا الصلاة ﴾", "الصلاة في وقتها", "the prophet said pray")]
    before = detector.first_margins(texts)
    # the same gate, plus one stance column with weight -3: only the texts that quote scripture move, by -3
    names = shipped.gate_stance + ("scripture_frame",)
    assert shipped.gate is not None
    gate = np.concatenate([shipped.gate[:-1], [-3.0] * (len(names) - len(shipped.gate_stance)), shipped.gate[-1:]])
    model = dataclasses.replace(shipped, gate_stance=names, gate=gate)
    after = Detector(model, cascade=False).first_margins(texts)
    flags = stance_matrix(texts)[:, STANCE_FEATURES.index("scripture_frame")]
    assert flags.tolist() == [1.0, 0.0, 1.0]
    if not shipped.gate_stance:
        assert np.allclose(after - before, -3.0 * flags)
    model.save(tmp_path)
    loaded = LinearModel.load(tmp_path)
    assert loaded.gate_stance == names
    assert np.array_equal(Detector(loaded, cascade=False).first_margins(texts), after)


def test_train_refuses_an_unknown_stance_feature_before_reading_any_data(tmp_path):
    from typer.testing import CliRunner

    from basira.cli import app

    (tmp_path / "x.jsonl").write_text('{"id": "1", "text": "t", "label": 0}\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["train", "--data", str(tmp_path), "--gate-stance", "scripture_frame,bogus",
                                      "--out", str(tmp_path / "m")])
    assert result.exit_code == 2 and "unknown stance feature 'bogus'" in result.stderr
    assert not (tmp_path / "m").exists()
