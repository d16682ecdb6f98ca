"""`basira classify` and `basira eval`: the output contract, bad input, and atomic output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from basira.cli import app

FIXTURES = Path(__file__).parent / "fixtures"
SYNTHETIC = FIXTURES / "detect_synthetic.jsonl"
runner = CliRunner()


def test_classify_writes_one_result_per_record_with_the_contract_fields(tmp_path):
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["classify", str(SYNTHETIC), "--output", str(out)])
    assert result.exit_code == 0, result.output
    source = [json.loads(line) for line in SYNTHETIC.read_text("utf-8").splitlines()]
    rows = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert [r["id"] for r in rows] == [s["id"] for s in source]
    for row, src in zip(rows, source, strict=True):
        assert set(row) >= {"id", "score", "flagged", "lang", "categories", "signals", "policy", "evidence"}
        assert row["policy"] in (None, "terrorist_support", "hate_speech")
        assert (row["policy"] == "terrorist_support") == row["flagged"]
        assert isinstance(row["score"], float) and 0.0 <= row["score"] <= 1.0
        assert isinstance(row["flagged"], bool) and isinstance(row["categories"], list)
        for ev in row["evidence"]:
            assert src["text"][ev["start"] : ev["end"]] == ev["text"] and ev["why"]
    assert {r["lang"] for r in rows} >= {"ar", "en", "ru"}
    assert any(r["flagged"] for r in rows) and not all(r["flagged"] for r in rows)


def test_classify_reads_stdin_and_writes_stdout():
    line = json.dumps({"id": 7, "text": "Police arrested two men, officials said", "extra": [1, 2]})
    proc = subprocess.run(
        [sys.executable, "-m", "basira.cli", "classify", "-"], input=line + "\n", capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    [row] = [json.loads(x) for x in proc.stdout.splitlines()]
    assert row["id"] == 7 and row["flagged"] is False and "extra" not in row


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'{"id": "a", "text": "ok"}\n{"id": "b", "text": \n', ":2: invalid JSON"),
        (b'{"id": "a", "text": "ok"}\n{"text": "no id"}\n', ":2: field 'id': missing"),
        (b'{"id": "a"}\n', ":1: field 'text': missing"),
        (b'{"id": "a", "text": 5}\n', ":1: field 'text': must be a string"),
        (b'{"id": "a", "text": "\xff\xfe bad"}\n', ":1: invalid UTF-8"),
        (b"", "empty input"),
        (b"[1, 2]\n", ":1: expected a JSON object"),
    ],
)
def test_bad_input_names_file_line_and_field_and_leaves_output_untouched(tmp_path, content, expected):
    src = tmp_path / "in.jsonl"
    src.write_bytes(content)
    out = tmp_path / "out.jsonl"
    out.write_text("previous results\n")
    proc = subprocess.run(
        [sys.executable, "-m", "basira.cli", "classify", str(src), "--output", str(out)], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert str(src) in proc.stderr and expected in proc.stderr
    assert out.read_text() == "previous results\n"
    assert {p.name for p in tmp_path.iterdir()} == {"in.jsonl", "out.jsonl"}  # no temporary file left behind


def test_missing_input_file_is_a_clear_error(tmp_path):
    result = runner.invoke(app, ["classify", str(tmp_path / "nope.jsonl"), "--output", str(tmp_path / "o.jsonl")])
    assert result.exit_code == 2
    assert not (tmp_path / "o.jsonl").exists()


def test_eval_reports_per_file_and_language_metrics():
    result = runner.invoke(app, ["eval", str(SYNTHETIC), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    source = [json.loads(line) for line in SYNTHETIC.read_text("utf-8").splitlines()]
    file_counts = report["by_file"]["detect_synthetic"]
    assert file_counts["n"] == len(source)
    assert file_counts["positives"] == sum(r["label"] for r in source)
    assert set(report["by_lang"]) >= {"ar", "en", "ru", "all"}
    from basira.detect import load_detector

    detections = load_detector().detect([r["text"] for r in source], [r["lang"] for r in source])
    assert file_counts["flagged"] == sum(d.flagged for d in detections)
    assert file_counts["true_positives"] == sum(d.flagged and r["label"] == 1 for d, r in zip(detections, source, strict=True))
    assert {"worst_false_positives", "worst_false_negatives", "thresholds"} <= set(report)


def test_eval_table_output_names_the_metrics():
    result = runner.invoke(app, ["eval", str(SYNTHETIC)])
    assert result.exit_code == 0, result.output
    assert "detect_synthetic" in result.output and "F1" in result.output


def test_fast_mode_skips_the_second_stage_but_keeps_the_contract(tmp_path):
    full, fast = tmp_path / "full.jsonl", tmp_path / "fast.jsonl"
    assert runner.invoke(app, ["classify", str(SYNTHETIC), "-o", str(full)]).exit_code == 0
    assert runner.invoke(app, ["classify", str(SYNTHETIC), "-o", str(fast), "--fast"]).exit_code == 0
    a = [json.loads(x) for x in full.read_text("utf-8").splitlines()]
    b = [json.loads(x) for x in fast.read_text("utf-8").splitlines()]
    assert [r["id"] for r in a] == [r["id"] for r in b]
    assert all(set(x) == set(y) for x, y in zip(a, b, strict=True))
