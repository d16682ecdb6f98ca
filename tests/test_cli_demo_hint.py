"""The demo's "Next" hints name a command that runs from where the demo ran (issue 15: they named a bare `basira`
that was not on PATH). PATH is this function's input, so the tests set it."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from basira.cli.scan import _basira_command

SCRIPT = Path(sys.executable).parent / "basira"  # the virtualenv's console script
pytestmark = pytest.mark.skipif(not SCRIPT.exists(), reason="run from a virtualenv with basira installed")


def test_not_on_path_the_hint_is_the_virtualenvs_script_and_it_runs(monkeypatch):
    monkeypatch.setenv("PATH", os.pathsep.join(("/usr/bin", "/bin")))
    monkeypatch.chdir(SCRIPT.parent.parent.parent)  # the checkout holding .venv, where `make demo` runs
    hint = _basira_command()
    assert hint == os.path.join(SCRIPT.parent.parent.name, "bin", "basira")  # ".venv/bin/basira"
    run = subprocess.run([hint, "--help"], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PATH": "/usr/bin:/bin"})
    assert run.returncode == 0, run.stderr
    assert "scan" in run.stdout and "demo" in run.stdout


def test_on_path_the_hint_is_plain_basira(monkeypatch):
    monkeypatch.setenv("PATH", os.pathsep.join((str(SCRIPT.parent), "/usr/bin", "/bin")))
    assert _basira_command() == "basira"


def test_another_basira_first_on_path_is_not_named(monkeypatch, tmp_path):
    other = tmp_path / "basira"
    other.write_text("#!/bin/sh\nexit 3\n")
    other.chmod(other.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", os.pathsep.join((str(tmp_path), str(SCRIPT.parent), "/usr/bin", "/bin")))
    monkeypatch.chdir(SCRIPT.parent.parent.parent)
    assert _basira_command() == os.path.join(SCRIPT.parent.parent.name, "bin", "basira")
