"""The store: the only module that talks to the database (SQLite by default, PostgreSQL by URL)."""

# Every table module registers with the one metadata here, so migrations and checks always see them all.
from basira.store import (  # noqa: F401
    bank_models,
    compliance_models,
    group_models,
    intake_models,
    network_models,
    review_models,
)
from basira.store.db import migrate
from basira.store.events import canonical_json, event_hash
from basira.store.store import Store, open_store

__all__ = ["Store", "canonical_json", "event_hash", "migrate", "open_store"]
