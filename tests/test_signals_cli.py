"""basira banks create|import|export|sync|list and basira match, end to end on a SQLite file."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from basira.cli import app
from basira.signals.pdq import PdqSignal
from tests.test_signals_types import make_image


def test_banks_and_match(tmp_path):
    r = CliRunner()
    db = str(tmp_path / "b.db")
    img = tmp_path / "known.png"
    make_image(3).save(img)
    other = tmp_path / "other.png"
    make_image(4).save(other)
    bank_file = tmp_path / "tat.csv"
    bank_file.write_text(f"hash,type,ideology,entity\n{PdqSignal.hash_file(img)},pdq,jihadist,IS\n")

    assert r.invoke(app, ["banks", "create", "tat", "--threshold", "pdq=24", "--db", db]).exit_code == 0
    res = r.invoke(app, ["banks", "import", "tat", str(bank_file), "--db", db])
    assert res.exit_code == 0 and "1 added" in res.output
    res = r.invoke(app, ["banks", "list", "--db", db])
    assert "tat\t1 items\tpositive pdq<=24" in res.output

    res = r.invoke(app, ["match", str(img), str(other), "--record", "--db", db])
    assert res.exit_code == 0, res.output
    lines = [json.loads(x) for x in res.output.splitlines()]
    assert lines[0]["matched"] and not lines[1]["matched"]
    m = lines[0]["results"][0]["matches"][0]
    assert m["bank"] == "tat" and m["labels"] == {"ideology": "jihadist", "entity": "IS"} and m["distance"] == 0

    out = tmp_path / "out.stix.json"
    res = r.invoke(app, ["banks", "export", "tat", str(out), "--db", db])
    assert res.exit_code == 0 and "wrote 1 items" in res.output and "PDQ" in out.read_text()

    feed = tmp_path / "feed.txt"
    feed.write_text("video_md5 d41d8cd98f00b204e9800998ecf8427e\n")
    res = r.invoke(app, ["banks", "sync", "tat", str(feed), "--db", db])
    assert res.exit_code == 0 and "1 added" in res.output and "full read" in res.output
    res = r.invoke(app, ["banks", "sync", "tat", str(feed), "--db", db])
    assert "0 added" in res.output and "incremental" in res.output

    res = r.invoke(app, ["banks", "import", "nope", str(bank_file), "--db", db])
    assert res.exit_code == 2 and "no bank" in res.output
