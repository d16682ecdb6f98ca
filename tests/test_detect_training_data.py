"""The training sources written for Basira (basira/detect/training): well-formed, marked synthetic, read by
`basira train` by default, held out as a family of their own at the religious limit, and disjoint from the
independent evaluation set (tests/fixtures/unseen_written) they are measured on."""

from __future__ import annotations

import json
from pathlib import Path

from basira.detect.train import (
    DEFAULT_EXTRA,
    DEFAULT_FILE_WEIGHTS,
    STRICT_LIMIT,
    TRAINING_DIR,
    holdout_families,
    limit_for,
    load_examples,
)
from basira.text import normalize_text

DEVOTIONAL = TRAINING_DIR / "en_devotional_written.jsonl"
PAIRS = TRAINING_DIR / "en_counterfactual_written.jsonl"
UNSEEN = Path(__file__).parent / "fixtures" / "unseen_written"


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def test_written_sources_are_well_formed_and_marked_synthetic():
    devotional, pairs = _rows(DEVOTIONAL), _rows(PAIRS)
    assert len(devotional) >= 500 and all(r["label"] == 0 for r in devotional)
    assert sum(r["label"] for r in pairs) == len(pairs) // 2 >= 40
    ids = [r["id"] for r in devotional + pairs]
    assert len(set(ids)) == len(ids)
    texts = [r["text"] for r in devotional + pairs]
    assert len(set(texts)) == len(texts)
    for r in devotional + pairs:
        assert r["lang"] == "en" and r["text"].strip() and r["note"].startswith("SYNTHETIC"), r
    # each counterfactual pair shares its account, so both halves fall on one side of the dev split
    by_account: dict[str, list[int]] = {}
    for r in pairs:
        by_account.setdefault(r["account"], []).append(r["label"])
    assert all(sorted(v) == [0, 1] for v in by_account.values())


def test_basira_train_reads_them_and_holds_the_devotional_source_out_at_the_religious_limit():
    assert DEVOTIONAL in DEFAULT_EXTRA and PAIRS in DEFAULT_EXTRA
    examples = load_examples([DEVOTIONAL, PAIRS])
    families = holdout_families(examples)
    assert families == ["en_devotional_written"]  # the pairs carry positives: never a held-out negative family
    assert limit_for("en_devotional_written") == STRICT_LIMIT == 0.005
    assert DEFAULT_FILE_WEIGHTS["en_devotional_written"] > 0
    assert all(e.hate == 0 for e in examples if e.file == "en_devotional_written")


def test_no_training_row_is_in_the_independent_evaluation_set():
    unseen = {normalize_text(r["text"]) for p in UNSEEN.glob("*.jsonl") for r in _rows(p)}
    written = {normalize_text(r["text"]) for p in (DEVOTIONAL, PAIRS) for r in _rows(p)}
    shared = unseen & written
    # Both were written independently; a stock formula of a few words ("ameen ya rabb") is what anyone writes
    # (one such row is shared, measured), a sentence is not.
    assert unseen and all(len(t.split()) <= 3 for t in shared), sorted(shared)
