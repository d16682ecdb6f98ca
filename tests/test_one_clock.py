"""One clock: Basira reads the wall clock only through basira.core.time (`utcnow`), so that services can take a
clock and tests can pass their own. A `datetime.now(...)` / `datetime.utcnow()` anywhere else in basira/ fails
here, with where it is."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "basira"
WALL_CLOCK = re.compile(r"\bdatetime\.(now|utcnow|today)\(")


def test_only_core_time_reads_the_wall_clock():
    found = [f"{p.relative_to(ROOT.parent)}:{n}: {line.strip()}"
             for p in sorted(ROOT.rglob("*.py")) if p != ROOT / "core" / "time.py"
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if WALL_CLOCK.search(line)]
    assert found == []


def test_the_check_sees_a_call():
    assert WALL_CLOCK.search("x = datetime.now(UTC)") and not WALL_CLOCK.search("x = utcnow()")
