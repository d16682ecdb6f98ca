"""The leave-source-out study's machinery on a small synthetic corpus: forked folds agree with serial ones, and
a dump re-derives the table at any head-room without refitting (the trade-off curve in docs/model-card.md)."""

from __future__ import annotations

import numpy as np
import pytest

from basira.detect.features import FeatureConfig
from basira.detect.train import Corpus, Example, TrainConfig, holdout_at_headroom, source_holdout

SUPPORT = ["انفروا", "باقية", "وتتمدد", "الخلافة", "البيعة", "جنود", "نفير", "الدولة"]
FILLER = ["اليوم", "الناس", "كلام", "الطريق", "المدينة", "السوق", "البيت", "العمل", "الله", "الروافض", "الكلاب"]


def _corpus() -> Corpus:
    rng = np.random.default_rng(3)
    examples = []
    for i in range(700):
        label = int(i < 220)
        words = list(rng.choice(FILLER, 6)) + (list(rng.choice(SUPPORT, 3)) if label else [])
        if label == 0 and rng.random() < 0.04:  # a few negatives borrow the propaganda's words
            words += list(rng.choice(SUPPORT, 2))
        file, source = ("ar_isis_tweets", "t") if label else (
            ("ar_offensive", f"x:ID{i % 3 + 1}") if i % 4 else ("ar_news_ant", "antcorpus"))
        examples.append(Example(id=f"e{i}", text=" ".join(words), label=label, lang="ar", file=file, source=source,
                                group=f"g{i}", hate=int("الكلاب" in words) if label == 0 else 0))
    return Corpus.build(examples, FeatureConfig(char_features=2**14, word_features=2**12))


@pytest.fixture(scope="module")
def corpus():
    return _corpus()


def _strip(report: dict) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "cpu_seconds"} for r in report["families"]]


def test_forked_folds_agree_with_serial_ones_and_a_dump_reproduces_the_table(corpus, tmp_path):
    config = TrainConfig(features=corpus.config)
    serial = source_holdout([], None, config, corpus=corpus, dump=tmp_path / "serial")
    forked = source_holdout([], None, config, corpus=corpus, jobs=2, dump=tmp_path / "forked")
    assert {r["family"] for r in serial["families"]} == {"ar_news_ant", "ar_offensive:ID1", "ar_offensive:ID2",
                                                         "ar_offensive:ID3"}
    assert _strip(serial) == _strip(forked)
    again = holdout_at_headroom(tmp_path / "forked", corpus.examples, config.limit_headroom)
    by_family = {r["family"]: r for r in again["families"]}
    for row in serial["families"]:
        assert by_family[row["family"]]["flagged"] == row["flagged"]
        assert by_family[row["family"]]["ar_isis_tweets_f1"] == row["ar_isis_tweets_f1"]
    # a looser head-room never flags fewer held-out rows (the thresholds can only come down)
    loose = {r["family"]: r for r in holdout_at_headroom(tmp_path / "forked", corpus.examples, 3.0)["families"]}
    assert all(loose[f]["flagged"] >= r["flagged"] for f, r in by_family.items())


def test_unknown_family_is_refused_before_any_fit(corpus):
    with pytest.raises(ValueError, match="no such source family"):
        source_holdout([], ["ar_offensive:ID9"], TrainConfig(features=corpus.config), corpus=corpus)


def test_a_gate_only_variant_equals_the_fold_fitted_with_it_and_dumps_a_study_of_its_own(corpus, tmp_path):
    # The study's "variants" refit only the gate on each fold's n-gram model: the same gate_stance through the
    # variant path must give the fold's own figures exactly, and its dump must re-derive them.
    config = TrainConfig(features=corpus.config, gate_stance=())
    report = source_holdout([], ["ar_news_ant", "ar_offensive:ID1"], config, corpus=corpus, dump=tmp_path,
                            gate_variants=[(), ("attributed_speech", "margin×scripture_frame")])
    for row in report["families"]:
        same = row["variants"]["v3"]
        assert (same["flagged"], same["ar_isis_tweets_f1"]) == (row["flagged"], row["ar_isis_tweets_f1"])
        assert set(row["variants"]) == {"v3", "attributed_speech+margin×scripture_frame"}
    again = holdout_at_headroom(next(tmp_path.glob("gate=*v3")), corpus.examples, config.limit_headroom)
    assert {r["family"]: r["flagged"] for r in again["families"]} == {r["family"]: r["flagged"] for r in report["families"]}


def test_the_headroom_curve_is_the_study_re_derived_at_each_headroom(corpus, tmp_path):
    from basira.detect.train import headroom_curve

    config = TrainConfig(features=corpus.config)
    study = source_holdout([], None, config, corpus=corpus, dump=tmp_path)
    curve = headroom_curve(tmp_path, corpus.examples, [config.limit_headroom, 3.0])
    assert [r["headroom"] for r in curve] == [config.limit_headroom, 3.0]
    at_shipped = curve[0]
    assert at_shipped["folds"] == len(study["families"])
    assert at_shipped["held_out_flagged"] == sum(r["flagged"] for r in study["families"])
    assert sorted(at_shipped["over_limit"]) == sorted(study["over_limit"])
    worst = max(study["families"], key=lambda r: r["flag_rate"] / r["limit"])
    assert at_shipped["worst_family"] == worst["family"]
    # a looser head-room spends more of the limits: never fewer held-out flags
    assert curve[1]["held_out_flagged"] >= at_shipped["held_out_flagged"]
