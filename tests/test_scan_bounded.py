"""Bounded memory in the scan path (issue 13 item 3): long texts scored in chunks with evidence offsets on
the original text, scoring batches bounded by text length, a record over the size cap skipped unread."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from basira.ingest import ingest_file
from basira.ingest.base import LongLine, detect_format, iter_lines
from basira.scan.text_chunks import chunk_bounds, detect_bounded
from basira.store.detections import posts_lacking_detection

FIX = Path(__file__).parent / "fixtures"
# SYNTHETIC, non-operational (tests/fixtures/detect_synthetic.jsonl)
FLAGGED = next(
    orjson.loads(line)["text"] for line in (FIX / "detect_synthetic.jsonl").read_bytes().splitlines()
    if orjson.loads(line)["id"] == "syn-en-pos-1"
)
FILLER = "The weather report for the coast says light rain in the morning and sun later today. "


@pytest.fixture(scope="module")
def det():
    from basira.detect import load_detector

    return load_detector()


def test_chunk_bounds_cover_the_text_with_overlap():
    text = ("word " * 5000).strip()
    bounds = chunk_bounds(len(text), 1000, 100, text)
    assert bounds[0][0] == 0 and bounds[-1][1] == len(text)
    for (a1, b1), (a2, _b2) in zip(bounds, bounds[1:], strict=False):
        assert b1 - a1 <= 1000 and a2 < b1 and b1 - a2 <= 100 + 1  # overlapping, each bounded
        assert text[b1 - 1] == " "  # cut at whitespace
    assert chunk_bounds(10, 1000, 100) == [(0, 10)]


def test_long_text_scored_in_chunks_keeps_evidence_on_the_original(det):
    alone = det.detect([FLAGGED], langs=["en"])[0]
    assert alone.flagged and alone.evidence
    pos = len(FILLER) * 600  # ~52,000 characters in, in the middle of a chunk
    text = FILLER * 600 + FLAGGED + " " + FILLER * 600
    [d] = detect_bounded(det, [text], ["en"], chunk_chars=8000)
    assert d.flagged and d.score >= alone.score - 0.05
    assert d.categories and set(d.categories) == set(alone.categories)
    assert d.evidence and all(text[e.start : e.end] == e.text for e in d.evidence)
    assert any(pos <= e.start < pos + len(FLAGGED) for e in d.evidence)
    clean = FILLER * 1200
    [c] = detect_bounded(det, [clean], ["en"], chunk_chars=8000)
    assert not c.flagged
    # Short texts are unchanged by the wrapper.
    [s] = detect_bounded(det, [FLAGGED], ["en"])
    assert (s.score, s.flagged, s.categories) == (alone.score, alone.flagged, alone.categories)


def test_scoring_batches_are_bounded_by_text_length(store, tmp_path):
    rows = [{"platform": "forum", "id": f"p{i}", "text": "x" * 1000} for i in range(10)]
    f = tmp_path / "p.jsonl"
    f.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    ingest_file(store, str(f))
    seen, last, sizes = [], 0, []
    while True:
        batch, last = posts_lacking_detection(store, "m", last, 100, max_chars=3500)
        if not batch:
            break
        sizes.append(len(batch))
        seen += [b["id"] for b in batch]
    assert sizes == [3, 3, 3, 1] and len(set(seen)) == 10  # none lost, none twice
    batch, _ = posts_lacking_detection(store, "m", 0, 100, max_chars=10)
    assert len(batch) == 1  # always at least one post


def test_iter_lines_skips_a_long_line_unread(tmp_path):
    f = tmp_path / "l.bin"
    f.write_bytes(b"short\n" + b"y" * 5000 + b"\nafter\nlast")
    with open(f, "rb") as fh:
        got = list(iter_lines(fh, 100))
    assert got == [(1, b"short\n"), (2, LongLine(5001)), (3, b"after\n"), (4, b"last")]


def test_record_over_the_size_cap_is_skipped_and_the_rest_kept(store, tmp_path):
    from basira.ingest.clean import ReadOptions

    f = tmp_path / "big.jsonl"
    # The long text first and the keys that identify the format after it, escapes included.
    big = {"text": 'z\\"\u00e9' * 100_000, "platform": "forum", "id": "big", "type": "post"}
    with open(f, "wb") as fh:
        fh.write(orjson.dumps(big) + b"\n")  # the long line first: detection must still work
        for i in range(3):
            fh.write(orjson.dumps({"platform": "forum", "id": f"s{i}", "text": "small"}) + b"\n")
    assert detect_format(str(f)).name == "jsonl"
    res = ingest_file(store, str(f), options=ReadOptions(max_record_bytes=100_000))
    assert [(e["line"], e["field"]) for e in res.errors] == [(1, None)]
    assert "record too long: " in res.errors[0]["reason"] and "BASIRA_MAX_RECORD_BYTES" in res.errors[0]["reason"]
    assert store.count_posts() == 3


def test_first_object_of_a_long_line_reads_keys_after_the_value(tmp_path):
    from basira.ingest.base import CONTAINER, first_object, read_head

    f = tmp_path / "x.jsonl"
    f.write_bytes(orjson.dumps({"data": [{"id": "1", "text": "q" * 200_000}], "includes": {}, "n": 5}) + b"\n{}\n")
    obj = first_object(str(f), read_head(str(f)))
    assert obj == {"data": CONTAINER, "includes": CONTAINER, "n": None}
    assert detect_format(str(f)).name == "x_v2"
