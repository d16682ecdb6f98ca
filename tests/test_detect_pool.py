"""`basira classify` on two worker processes: the same output as one process, in input order; bad input still
fails cleanly (file, line, field; exit 2; no partial output)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

from basira.detect import load_detector
from basira.detect.batch import BATCH, POOL_MIN_BYTES, classify_pool, classify_stream, pool_workers

FIXTURES = Path(__file__).parent / "fixtures"
BASE = [json.loads(line) for line in (FIXTURES / "detect_synthetic.jsonl").read_text("utf-8").splitlines()]


def _big_input(path: Path, n: int) -> list[dict]:
    """n records over several batches: repeated texts (as reposts) and variants (new words, new evidence)."""
    rows = []
    for i in range(n):
        src = BASE[i % len(BASE)]
        text = src["text"] if i % 3 else f"{src['text']} {i} #{'خبر' if i % 2 else 'news'}{i % 7}"
        rows.append({"id": i if i % 5 == 0 else f"p{i}", "text": text})
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return rows


def test_two_workers_write_exactly_what_one_process_writes(tmp_path):
    src = tmp_path / "in.jsonl"
    rows = _big_input(src, 3 * BATCH + 77)
    detector = load_detector()
    single, parallel = io.BytesIO(), io.BytesIO()
    assert classify_stream(str(src), single, detector) == len(rows)
    seen: list[int] = []
    with classify_pool(detector, 2) as pool:
        assert pool is not None
        assert classify_stream(str(src), parallel, detector, seen.append, pool) == len(rows)
    assert parallel.getvalue() == single.getvalue()
    assert sum(seen) == len(rows) and len(seen) == 4  # progress advanced once per batch
    out = [json.loads(line) for line in parallel.getvalue().splitlines()]
    assert [r["id"] for r in out] == [r["id"] for r in rows]
    assert any(r["flagged"] for r in out) and any(r["evidence"] for r in out)


def test_workers_are_used_only_for_large_files(tmp_path):
    small, big = tmp_path / "small.jsonl", tmp_path / "big.jsonl"
    _big_input(small, 20)
    big.write_bytes(b" " * POOL_MIN_BYTES)
    assert pool_workers(str(small)) == 0
    assert pool_workers("-") == 0
    assert pool_workers(str(tmp_path / "missing.jsonl")) == 0
    assert pool_workers(str(big)) == 2


def test_bad_line_deep_in_a_large_file_fails_cleanly_with_workers(tmp_path):
    src = tmp_path / "in.jsonl"
    rows = _big_input(src, 3000)
    assert src.stat().st_size >= POOL_MIN_BYTES  # the CLI takes the worker path
    with src.open("a", encoding="utf-8") as fh:
        fh.write('{"id": "x", "text": 5}\n')
    out = tmp_path / "out.jsonl"
    out.write_text("previous results\n")
    proc = subprocess.run(
        [sys.executable, "-m", "basira.cli", "classify", str(src), "--output", str(out)], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert f"{src}:{len(rows) + 1}: field 'text': must be a string" in proc.stderr
    assert out.read_text() == "previous results\n"
    assert {p.name for p in tmp_path.iterdir()} == {"in.jsonl", "out.jsonl"}


def test_cli_with_workers_matches_the_in_process_output(tmp_path):
    src = tmp_path / "in.jsonl"
    _big_input(src, 3000)
    assert pool_workers(str(src)) == 2
    out = tmp_path / "out.jsonl"
    proc = subprocess.run(
        [sys.executable, "-m", "basira.cli", "classify", str(src), "--output", str(out)], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    expected = io.BytesIO()
    classify_stream(str(src), expected, load_detector())
    assert out.read_bytes() == expected.getvalue()


def test_a_batch_scores_each_distinct_text_once_with_the_same_results():
    from basira.detect.batch import detect_distinct

    detector = load_detector()
    texts = [r["text"] for r in BASE[:40]]
    batch = texts + texts[::-1] + texts[:7]  # every text two or three times, in another order
    seen: list[list[str]] = []

    class Recording:
        def detect(self, xs):
            seen.append(list(xs))
            return detector.detect(xs)

    got = detect_distinct(Recording(), batch)  # type: ignore[arg-type]
    assert got == detector.detect(batch)
    assert seen == [list(dict.fromkeys(batch))]
    assert any(d.flagged and d.evidence for d in got)
    seen.clear()
    assert detect_distinct(Recording(), texts) == detector.detect(texts) and seen == [texts]  # no copies: as is
