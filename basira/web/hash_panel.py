"""The case page's "Hash matches" panel: which bank items the case's post matched (from `basira scan`).

It lives in web/, the face that shows it, because it reads banks/ and registers into review/'s panel registry:
review/ imports neither banks/ nor compliance/ (docs/architecture.md)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from basira import banks as repo
from basira.banks import RecordedMatch
from basira.review.panels import Panel, register_panel

if TYPE_CHECKING:
    from basira.review.repository import CaseView

_LABELS = (("entity", "entity"), ("ideology", "ideology"), ("content_type", "content type"),
           ("behaviour", "behaviour"))
_STATUS = {"match": "", "vetoed": " — vetoed by an allow-list", "quarantined": " — item quarantined"}


def match_rows(matches: Sequence[RecordedMatch]) -> list[tuple[str, str]]:
    """(label, value) rows, one per recorded match: bank, signal and distance; the item's labels and opinion."""
    rows = []
    for m in matches:
        labels = m.labels
        shown = [f"{name}: {labels[k]}" for k, name in _LABELS if labels.get(k) not in (None, "")]
        shown += [f"{k}: {v}" for k, v in sorted(labels.items()) if k not in dict(_LABELS) and v not in (None, "")]
        value = " · ".join([*shown, f"opinion: {m.opinion or 'positive'}"])
        if m.source:
            value += f" · source: {m.source}"
        head = (f"{m.bank} · item {m.item_id} · {m.signal_type} · distance {m.distance:g}"
                f"{_STATUS.get(m.status or 'match', '')}")
        rows.append((head, value))
    return rows


@register_panel("hash_matches")
def hash_matches_panel(store: Any, detail: CaseView) -> Panel | None:
    case = detail.case
    if case.get("subject_kind") != "post":
        return None
    rows = match_rows(repo.matches_for(store, f"post:{case['subject_id']}"))
    return Panel("Hash matches", rows, "No hash-bank matches recorded for this content.")
