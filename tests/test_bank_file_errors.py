"""A bank file's bad line is refused the way bad input is (InputError's `file:line: field 'x': reason`), as a
BankFileError (an ExchangeError of kind `input`): from `read_entries`, `sync_source` and `basira banks import`
(exit 2, one line, nothing stored), said in Arabic and Russian from its templates (file, line and field stay)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from basira.cli import app
from basira.core.errors import BasiraError
from basira.core.i18n import speaking
from basira.signals.exchange import BankFileError, ExchangeError, read_entries, sync_source
from basira.web.errors import describe

MD5 = "a" * 32
GOOD = f'{{"signal_type": "md5", "signal": "{MD5}"}}'


@pytest.mark.parametrize(("line", "field", "reason"), [
    ('{"signal_type": "pdq", "signal": "zz"}', "signal", "not a PDQ hash (64 hex characters): 'zz'"),
    ('{"signal_type": "md5"}', "signal", "missing"),
    ('{"signal": "x"}', "signal_type", "missing"),
    ('{"signal_type": "md5", "signal": 5}', "signal", "must be a string"),
    (f'{{"signal_type": "md5", "signal": "{MD5}", "labels": [1]}}', "labels", "must be a JSON object"),
    (f'{{"signal_type": "md5", "signal": "{MD5}", "added_at": "soon"}}', "added_at", "not an ISO 8601 time: 'soon'"),
    ('["md5"]', None, "expected a JSON object (one item per line)"),
    ("{nope", None, "invalid JSON: Expecting property name enclosed in double quotes (column 2)"),
])
def test_a_bad_jsonl_line_names_its_file_line_and_field(tmp_path, line, field, reason):
    path = tmp_path / "feed.jsonl"
    path.write_text(f"{GOOD}\n\n{line}\n")
    with pytest.raises(BankFileError) as got:
        read_entries(path)
    e = got.value
    assert isinstance(e, ExchangeError) and isinstance(e, BasiraError) and not isinstance(e, ValueError)
    assert (e.file, e.line, e.field, e.reason, e.kind) == (str(path), 3, field, reason, "input")
    assert str(e) == (f"{path}:3: field '{field}': {reason}" if field else f"{path}:3: {reason}")
    with pytest.raises(BankFileError) as synced:
        sync_source(str(path))
    assert str(synced.value) == str(e)  # the sync names its source the same way


def test_the_refusal_is_said_in_arabic_and_russian_with_file_line_and_field_kept(tmp_path):
    path = tmp_path / "feed.jsonl"
    path.write_text('{"signal_type": "pdq", "signal": "zz"}\n')
    with pytest.raises(BankFileError) as got:
        read_entries(path)
    with speaking("ar"):
        assert describe(got.value) == f"{path}:1: الحقل 'signal': ليست بصمة PDQ (64 محرفًا ست عشريًّا): 'zz'"
    with speaking("ru"):
        assert describe(got.value) == f"{path}:1: поле 'signal': не хеш PDQ (64 шестнадцатеричных символов): 'zz'"
    path.write_text(f'{GOOD}\n["x"]\n')
    with pytest.raises(BankFileError) as got:
        read_entries(path)
    with speaking("ru"):
        assert describe(got.value) == f"{path}:2: ожидался объект JSON (один элемент на строку)"


def test_threatexchange_files_name_the_line_too(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text(f"md5 {MD5}\nnot-a-line\n")
    with pytest.raises(BankFileError) as got:
        read_entries(path)
    assert str(got.value) == f"{path}:2: expected '<signal_type> <signal>', got 'not-a-line'"
    with speaking("ar"):
        assert describe(got.value) == f"{path}:2: المتوقَّع '<signal_type> <signal>'، والمعطى 'not-a-line'"


def test_banks_import_refuses_the_file_in_one_line_and_stores_nothing(tmp_path):
    db = str(tmp_path / "b.db")
    r = CliRunner()
    assert r.invoke(app, ["banks", "create", "b", "--db", db]).exit_code == 0
    path = tmp_path / "feed.jsonl"
    path.write_text(f'{GOOD}\n{{"signal_type": "md5", "signal": "{MD5}", "labels": "x"}}\n')
    res = r.invoke(app, ["banks", "import", "b", str(path), "--db", db])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert f"{path}:2: field 'labels': must be a JSON object" in res.output
    assert r.invoke(app, ["banks", "list", "--db", db]).output.startswith("b\t0 items")
