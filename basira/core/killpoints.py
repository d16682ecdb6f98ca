"""Test-only pause points: let the crash-recovery tests `kill -9` a run at an exact step.

Set `<ENV>=where:n` (e.g. `after:3`) and the run prints `<label>-paused` to stderr and sleeps at that point.
Unset (always, outside those tests), nothing happens.
"""

from __future__ import annotations

import sys
import time


def pause_point(env: str) -> tuple[str, int] | None:
    """The (where, n) requested by the environment variable `env`, or None."""
    from basira.core.settings import Settings

    value = Settings.from_env().test_pauses.get(env)
    if not value:
        return None
    where, _, n = value.partition(":")
    return where, int(n)


def pause(label: str) -> None:
    print(f"{label}-paused", file=sys.stderr, flush=True)
    time.sleep(3600)
