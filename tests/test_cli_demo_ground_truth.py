"""`basira demo` scans the simulated platform's files, not its ground_truth.json (the answer key): no
"skipped ... cannot tell the input format" about its own file (issue 15 audit)."""

from __future__ import annotations

from typer.testing import CliRunner

from basira.cli import app


def test_demo_does_not_try_to_scan_its_ground_truth(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(app, ["demo", "--accounts", "60", "--out", str(tmp_path / "plat"),
                                   "--db", str(tmp_path / "demo.db")])
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    assert (tmp_path / "plat" / "ground_truth.json").exists()
    assert "cannot tell the input format" not in text and "skipped" not in text.split("Top cases")[0], text
    assert "ground_truth" in text  # still named in the hints, as the answer key
