"""`basira scan` of a file with malformed records scans and stores the good ones, names each bad one
(file:line: field) and exits 2 (house rule: bad input is exit 2); a clean file exits 0 (issue 15 audit)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _scan(tmp_path, name: str, lines: list[str]) -> subprocess.CompletedProcess[str]:
    f = tmp_path / name
    f.write_text("".join(x + "\n" for x in lines), encoding="utf-8")
    return subprocess.run([sys.executable, "-m", "basira.cli", "scan", str(f), "--db", str(tmp_path / "s.db"),
                           "--platform", "forum"], capture_output=True, text=True, timeout=300, cwd=tmp_path,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "COLUMNS": "300"})


def test_bad_records_exit_2_and_are_named_the_good_ones_are_kept(tmp_path):
    good = [json.dumps({"id": i, "text": f"hello number {i}"}) for i in range(1, 5)]
    bad = [good[0], "{not json", good[1], json.dumps({"id": 9, "text": "x", "created_at": 1e20}), good[2],
           json.dumps({"text": "no id"}), good[3]]
    r = _scan(tmp_path, "bad.jsonl", bad)
    assert r.returncode == 2, r.stderr
    out = " ".join((r.stdout + r.stderr).split())
    assert "Traceback" not in out
    assert "3 malformed records skipped" in out
    for line in (2, 4, 6):
        assert f"bad.jsonl:{line}:" in out, out
    assert "field 'created_at'" in out
    from basira.store import open_store

    with open_store(str(tmp_path / "s.db")) as store:
        assert store.count_posts() == 4  # nothing good lost
    again = _scan(tmp_path, "good.jsonl", good)  # a clean file: exit 0
    assert again.returncode == 0, again.stderr
