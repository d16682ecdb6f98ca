"""The scan's hash-matching pass: ingested posts' text, URLs and media hashes against every bank.

Runs after scoring, so a case a match raises already carries the detector's score. Resumable: each batch
commits its matches, case changes and the banks' scan checkpoints together, and a match already recorded on a
post is never recorded twice. A bank that gained items sends the pass back over all posts (new hashes find old
posts). With no bank items at all the pass costs one query.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from basira.store import Store

BATCH = 1000


@dataclass
class HashScanResult:
    posts_matched: int = 0  # posts looked at
    matches_new: int = 0  # new acted-on matches (vetoed and quarantined ones are recorded but not counted)
    cases_new: int = 0
    cases_raised: int = 0


def match_ingested_posts(store: Store, batch_size: int = BATCH) -> HashScanResult:
    """Match every post not yet matched against the current banks; open or raise cases for new matches."""
    from basira import banks as repo
    from basira.signals.banks import match_posts

    out = HashScanResult()
    if not repo.has_items(store):
        return out
    after, tops = repo.scan_resume_point(store)  # before loading items: a later item means a re-match, not a miss
    matcher = repo.load_matcher(store)
    while batch := repo.posts_to_match(store, after, batch_size):
        found = match_posts(matcher, batch)
        after = batch[-1].id
        new, opened, raised = repo.record_post_matches(
            store, found, last_post_id=after, bank_tops=tops, monitor=matcher.monitor
        )
        out.posts_matched += len(batch)
        out.matches_new += new
        out.cases_new += opened
        out.cases_raised += raised
    return out
