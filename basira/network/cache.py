"""The analysis the web pages read, computed on demand and kept per process.

Nothing computes it at server start: the first network page computes it (and waits), the case page's panel
starts it in the background and says it is being computed; queue pages never touch it.

Where it is computed: in a child process at the lowest CPU priority (`compute_apart`), not in the server's
own threads. The analysis is CPU-bound Python (~7 CPU-seconds over the bench's 100,000 posts, ~12 s wall):
a thread of the server held the GIL that long and every page the process served meanwhile waited for it
(a niced thread only lowers the OS priority, not its share of the GIL). The child opens the same database,
computes, and sends the view back pickled; the server holds the GIL only to unpickle it (~0.3-0.6 s for
those 100,000 posts, 22 MB). A database another process cannot open (in-memory SQLite) is computed here.

Why not store it: `basira network build` does not persist results (communities are renumbered on every run
and risk depends on the whole graph), and the analysis is a few seconds on a demo-sized platform, so a
per-process cache is simpler and never out of step with a schema. Invalidation is explicit: the cache is
keyed by `network_fingerprint` (the latest post, follow, detection and account ids and the suspension
count), checked at most every FINGERPRINT_SECONDS; when it changes the next request recomputes. While one
thread recomputes, others keep serving the previous analysis rather than queueing behind it.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from basira.core.time import utcnow
from basira.network.views import NetworkView

if TYPE_CHECKING:
    from basira.store import Store

FINGERPRINT_SECONDS = 5.0


@dataclass(frozen=True)
class Snapshot:
    view: NetworkView
    fingerprint: tuple
    computed_at: datetime
    seconds: float  # how long the analysis took
    flag_threshold: float


def compute(store: Store) -> tuple[NetworkView, float]:
    """Load, analyse, and index everything the pages show; returns the view and the flag threshold used."""
    from basira.network.analysis import analyze, coordinated_groups, returning_accounts
    from basira.network.load import detector_threshold, load_network_data

    threshold = detector_threshold()
    data = load_network_data(store, flag_threshold=threshold)
    return NetworkView(analyze(data), returning_accounts(data), coordinated_groups(data)), threshold


def compute_apart(store: Store) -> tuple[NetworkView, float]:
    """`compute(store)` in a child process at the lowest CPU priority (the same result: the same code over the
    same database); in this process when the database is not one another process can open."""
    url = _shared_url(store)
    if url is None:
        return compute(store)
    import multiprocessing

    # spawn: a fresh interpreter (a fork of a threaded server would copy its locks and its pooled connections)
    try:
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
            return pool.submit(_compute_at, url).result()
    except (BrokenProcessPool, OSError):  # no child could start, or it died (killed for memory): compute here
        return compute(store)


def _compute_at(url: str) -> tuple[NetworkView, float]:
    """The child's side of compute_apart."""
    try:
        os.setpriority(os.PRIO_PROCESS, 0, 19)  # the whole child (if not already): the server's requests go first
    except (AttributeError, OSError):  # no nice (Windows) or not allowed: run at normal priority
        pass
    from basira.store import open_store

    store = open_store(url, migrate_schema=False)  # the server migrated it
    try:
        return compute(store)
    finally:
        store.close()


def _shared_url(store: Store) -> str | None:
    """The store's URL when another process can open the same database (not an in-memory SQLite one)."""
    url = store.engine.url
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        return None
    return url.render_as_string(hide_password=False)


class AnalysisCache:
    def __init__(self, clock=time.monotonic) -> None:
        self._lock = threading.Lock()  # held while computing
        self._snapshot: Snapshot | None = None
        self._checked = float("-inf")
        self._clock = clock
        self.warming: threading.Thread | None = None  # the latest background computation

    def peek(self) -> Snapshot | None:
        """The current analysis, however old, without touching the database."""
        return self._snapshot

    def invalidate(self) -> None:
        self._checked = float("-inf")

    def get(self, store: Store) -> Snapshot:
        """A fresh analysis: computed now if there is none or the data changed since (others meanwhile get the
        previous one)."""
        from basira.network.repository import network_fingerprint

        snap = self._snapshot
        if snap is not None and self._clock() - self._checked < FINGERPRINT_SECONDS:
            return snap
        fp = network_fingerprint(store)
        self._checked = self._clock()
        if snap is not None and snap.fingerprint == fp:
            return snap
        if not self._lock.acquire(blocking=snap is None):
            return snap  # type: ignore[return-value]  # someone is recomputing: serve the previous one
        try:
            if self._snapshot is not None and self._snapshot.fingerprint == fp:
                return self._snapshot
            t0 = time.perf_counter()
            view, threshold = compute_apart(store)
            self._snapshot = Snapshot(view, fp, utcnow(), time.perf_counter() - t0, threshold)
            return self._snapshot
        finally:
            self._lock.release()

    def current(self, store: Store) -> Snapshot | None:
        """For pages that must not wait (the case panel): the analysis at hand, however old; when there is
        none or the data changed, a background recompute starts."""
        from basira.network.repository import network_fingerprint

        snap = self._snapshot
        if snap is not None and self._clock() - self._checked < FINGERPRINT_SECONDS:
            return snap
        if snap is None or network_fingerprint(store) != snap.fingerprint:
            if not self._lock.locked():
                self.warm(store)
        else:
            self._checked = self._clock()
        return snap

    def warm(self, store: Store) -> threading.Thread:
        """Compute in the background, so that no page waits for it: a thread that waits (without the GIL) for
        the child process computing it (compute_apart)."""

        def run() -> None:
            _lower_priority()  # this thread, and so the child it starts (a process inherits its creator's nice)
            try:
                self.get(store)
            except Exception:  # noqa: BLE001, S110 - a failed warm-up is retried by the first request
                pass

        t = threading.Thread(target=run, name="basira-network-warm", daemon=True)
        self.warming = t
        t.start()
        return t


def _lower_priority() -> None:
    """Nice the calling thread to 19 (Linux schedules threads as tasks: this thread only); elsewhere, nothing."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    except (AttributeError, OSError):  # no setpriority (Windows) or not allowed: run at normal priority
        pass


_CACHES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def cache_for(store: Store) -> AnalysisCache:
    """The process's cache for one store (the pages and the case panel share it)."""
    with _CACHES_LOCK:
        cache = _CACHES.get(store)
        if cache is None:
            cache = _CACHES[store] = AnalysisCache()
        return cache
