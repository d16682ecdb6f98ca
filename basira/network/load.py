"""Fetch what the network algorithms need from the store (through its public query functions)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING

from basira.network.data import NetworkData, build_network_data

if TYPE_CHECKING:
    from basira.store import Store


def detector_threshold(default: float = 0.5) -> float:
    """The packaged detector's decision threshold, read from its metadata (no model load)."""
    try:
        from basira.detect.model import MODEL_DIR

        return float(json.loads((MODEL_DIR / "detector.json").read_text())["threshold"])
    except (ImportError, OSError, KeyError, ValueError):
        return default


def load_network_data(
    store: Store,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    model_version: str | None = None,
    flag_threshold: float | None = None,
) -> NetworkData:
    """Accounts, posts in [since, until) with detector scores, and follows, as NetworkData.
    A post counts as flagged when its score reaches `flag_threshold` (default: the detector's threshold)."""
    from basira.network.repository import iter_follows, iter_network_posts, network_accounts

    accounts = network_accounts(store)
    posts = [p for batch in iter_network_posts(store, since=since, until=until, model_version=model_version)
             for p in batch]
    follows = [f for batch in iter_follows(store) for f in batch]
    threshold = detector_threshold() if flag_threshold is None else flag_threshold
    return build_network_data(accounts, posts, follows, flag_threshold=threshold)
