"""`basira banks`: bad input is one clear line on stderr naming the file, line or option, exit 2, never a
traceback; only what Basira refuses (BasiraError) is caught that way."""

from __future__ import annotations

from typer.testing import CliRunner

from basira.cli import app


def _run(*args: str):
    res = CliRunner().invoke(app, list(args))
    assert "Traceback" not in res.output
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    return res


def test_bad_options_name_the_option(tmp_path):
    db = str(tmp_path / "b.db")
    res = _run("banks", "create", "b", "--threshold", "pdq24", "--db", db)
    assert res.exit_code == 2 and "--threshold" in res.output and "'pdq24': expected SIGNAL=DISTANCE" in res.output
    res = _run("banks", "create", "b", "--threshold", "pdq=near", "--db", db)
    assert res.exit_code == 2 and "'pdq=near'" in res.output
    res = _run("banks", "create", "b", "--threshold", "nosuch=3", "--db", db)
    assert res.exit_code == 2 and "unknown signal type 'nosuch'" in res.output
    assert _run("banks", "list", "--db", db).output == ""  # nothing was created


def test_bad_files_name_the_file_and_line(tmp_path):
    db = str(tmp_path / "b.db")
    assert _run("banks", "create", "b", "--db", db).exit_code == 0
    bad = tmp_path / "feed.txt"
    bad.write_text("pdq " + "ab" * 32 + "\nnot-a-line\n")
    res = _run("banks", "import", "b", str(bad), "--db", db)
    assert res.exit_code == 2 and f"{bad}:2: expected" in res.output  # file:line, as every bad input
    res = _run("banks", "import", "b", str(tmp_path / "missing.txt"), "--db", db)
    assert res.exit_code == 2 and "missing.txt" in res.output and "cannot read" in res.output
    assert _run("banks", "list", "--db", db).output.startswith("b\t0 items")  # the bad file stored nothing


def test_missing_bank_and_item_and_markup_in_names(tmp_path):
    db = str(tmp_path / "b.db")
    assert _run("banks", "create", "b", "--db", db).exit_code == 0  # export only reads: it needs a database
    res = _run("banks", "export", "[red]x", str(tmp_path / "out.txt"), "--db", db)
    assert res.exit_code == 2 and "no bank named '[red]x'" in res.output  # printed as given, not as Rich markup
    res = _run("banks", "react", "999", "seen", "--db", db)
    assert res.exit_code == 2 and "no bank item 999" in res.output
