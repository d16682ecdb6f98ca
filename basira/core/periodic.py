"""A daemon thread that runs one step every few seconds: the background jobs of `basira serve` (webhook deliveries,
compliance ticks) share it."""

from __future__ import annotations

import threading
from collections.abc import Callable


class PeriodicLoop:
    """Run `step()` every `interval` seconds until `stop()`. A failing round is dropped: the next one retries, since
    every step is written to be safe to run again."""

    def __init__(self, step: Callable[[], object], interval: float, name: str,
                 on_stop: Callable[[], None] | None = None) -> None:
        self.interval = interval
        self._step, self._on_stop = step, on_stop
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        if self._on_stop is not None and not self._thread.is_alive():
            self._on_stop()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self._step()
            except Exception:  # noqa: BLE001 - keep the loop alive; the next round retries
                pass
