"""The shipped detector on hand-written text it has never seen (tests/fixtures/unseen_written, evaluation only).

Every row is label 0: duas, condolences, greetings, scripture (fighting verses and jihad hadith included), sermons,
news of attacks and trials (reported claims included), counter-speech, and Arabic sectarian and political quarrels.
A file passes when each kind of text in it stays under issue 11's false-flag limit for that kind of source:
religious text and news ≤ 0.5 %, counter-speech and sectarian/political quarrels ≤ 1 %. The files are small
(62–280 rows), so a limit of 0.5 % on a slice of fewer than 200 rows allows no flag at all.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from basira.detect import load_detector
from basira.detect.detector import TERRORIST_SUPPORT

FOLDER = Path(__file__).parent / "fixtures" / "unseen_written"
RELIGIOUS = {"dua", "condolence", "greeting", "phrase", "quran", "hadith", "khutbah", "hajj", "halaqa", "convert", "misc"}
# Issue 11's targets: held-out religious texts and news ≤ 0.5 % flagged, every other negative source ≤ 1 %.
LIMITS = {**dict.fromkeys(RELIGIOUS | {"news"}, ("religious and news", 0.005)),
          **dict.fromkeys({"counter", "sectarian", "political"}, ("counter-speech and quarrels", 0.01))}
FILES = {
    "en_religious": "en", "en_news_counter": "en", "ru_religious": "ru", "ru_news": "ru", "ar_religious_sectarian": "ar",
}
# Files the shipped model (v4) fails today, measured 2026-12-02. strict: the day one passes, the test fails until
# its marker is removed.
KNOWN_FAILURES = {
    "en_religious": "known: English devotional false flags (47/280 with v4), issue 11; detect-en lane fixes it",
    "en_news_counter": "known: English news quoting the group's words and counter-speech flagged (3/107 with v4), "
                       "issue 11",
    "ar_religious_sectarian": "known: an Arabic sectarian slur flagged as support (1 of 37 quarrel and counter-speech rows with v4), issue 11",
}


def rows_of(stem: str) -> list[dict]:
    path = FOLDER / f"{stem}.jsonl"
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def detector():
    return load_detector()


def test_fixture_files_are_well_formed_negatives():
    assert sorted(p.stem for p in FOLDER.glob("*.jsonl")) == sorted(FILES)
    ids: set[str] = set()
    for stem, lang in FILES.items():
        rows = rows_of(stem)
        texts = [r["text"] for r in rows]
        assert len(set(texts)) == len(texts), stem
        for r in rows:
            assert set(r) == {"id", "text", "label", "lang", "genre", "source"}, r
            assert r["label"] == 0 and r["lang"] == lang and r["source"] == "basira-written-eval", r
            assert r["genre"] in LIMITS and r["text"].strip(), r
            assert r["id"] not in ids, r["id"]
            ids.add(r["id"])


@pytest.mark.parametrize(
    "stem",
    [pytest.param(s, marks=pytest.mark.xfail(strict=True, reason=KNOWN_FAILURES[s])) if s in KNOWN_FAILURES else s
     for s in FILES],
)
def test_unseen_written_text_stays_under_its_false_flag_limit(detector, stem):
    rows = rows_of(stem)
    # No language hint: a platform's post arrives without one (with the rows' own `lang`, as `basira eval` passes
    # it, the flags were the same on every file when measured).
    detections = detector.detect([r["text"] for r in rows])
    flagged = [(d.score, r) for d, r in zip(detections, rows, strict=True) if d.policy == TERRORIST_SUPPORT]
    assert all(d.flagged == (d.policy == TERRORIST_SUPPORT) for d in detections)
    over = []
    report = [f"{stem}: {len(flagged)}/{len(rows)} flagged ({len(flagged) / len(rows):.2%})"]
    for kind, limit in sorted(set(LIMITS.values())):
        n = sum(LIMITS[r["genre"]][0] == kind for r in rows)
        k = sum(LIMITS[r["genre"]][0] == kind for _, r in flagged)
        if n:
            report.append(f"  {kind}: {k}/{n} = {k / n:.2%} (limit {limit:.1%})")
            if k / n > limit:
                over.append(kind)
    report += [f"  {s:.3f} {r['id']} [{r['genre']}] {r['text']}" for s, r in sorted(flagged, key=lambda x: -x[0])]
    assert not over, "\n".join(report)


def test_training_does_not_read_these_files_by_default():
    from basira.detect.train import DEFAULT_EXTRA

    assert not any(FOLDER in Path(p).resolve().parents for p in DEFAULT_EXTRA)
