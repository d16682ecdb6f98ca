"""The store: the only module that talks to the database (SQLite by default, PostgreSQL by URL)."""

from basira.store import network_models  # noqa: F401 - registers the follows table with the models
from basira.store.store import Checkpoint, Store, canonical_json, event_hash, migrate, open_store

__all__ = ["Checkpoint", "Store", "canonical_json", "event_hash", "migrate", "open_store"]
