"""Banks: the repository of hash-matching banks, beside the pure policy in `basira.signals.banks`.

The only code that reads or writes the bank tables (`basira.store.bank_models`). Like the other repositories,
writers take the caller's unit of work and reads take the Store:

    with store.transaction() as tx:
        banks.create_bank(tx, "known", actor="cli")
        banks.add_entries(tx, "known", entries, actor="cli")

so a workflow's bank changes, their events and whatever else it writes commit together. The exchange syncs
(`sync_bank`, `sync_exchange`) take the Store: they read a file, URL or live exchange between their units of
work (one per page, so an interrupted sync resumes where it stopped).

Four concerns, one private module each: banks and their items (`_items`), exchange syncs and their checkpoints
(`_sync`), recorded matches and the scan's pass over posts (`_matches`, which opens or raises cases through
`basira.cases.intake` — `_cases`), and the review's "remove and bank it" listeners (`_review`). Import from
here, not from those modules.
"""

from basira.banks._items import (
    BankError,
    add_content,
    add_entries,
    bank_state,
    content_id_of,
    content_items,
    create_bank,
    delete_bank,
    entries_of,
    get_bank,
    get_item,
    iter_items,
    list_banks,
    load_matcher,
    record_reaction,
    update_bank,
    update_item,
)
from basira.banks._matches import (
    RecordedMatch,
    has_items,
    matches_for,
    posts_to_match,
    record_matches,
    record_post_matches,
    scan_resume_point,
)
from basira.banks._review import (
    bank_on_removal,
    require_positive_bank,
    unbank_on_undo,
)
from basira.banks._sync import (
    ExchangeSource,
    ExchangeSync,
    exchange_fed_banks,
    exchange_sources,
    get_sync_checkpoint,
    save_sync,
    sync_bank,
    sync_exchange,
)

__all__ = [
    "BankError",
    "ExchangeSource",
    "ExchangeSync",
    "RecordedMatch",
    "add_content",
    "add_entries",
    "bank_on_removal",
    "bank_state",
    "content_id_of",
    "content_items",
    "create_bank",
    "delete_bank",
    "entries_of",
    "exchange_fed_banks",
    "exchange_sources",
    "get_bank",
    "get_item",
    "get_sync_checkpoint",
    "has_items",
    "iter_items",
    "list_banks",
    "load_matcher",
    "matches_for",
    "posts_to_match",
    "record_matches",
    "record_post_matches",
    "record_reaction",
    "require_positive_bank",
    "save_sync",
    "scan_resume_point",
    "sync_bank",
    "sync_exchange",
    "unbank_on_undo",
    "update_bank",
    "update_item",
]
