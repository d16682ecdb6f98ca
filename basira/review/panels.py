"""Extension seam for the case page: later work (hash matches, network context) registers a panel provider.

A provider takes (store, case detail) and returns a Panel, or None when it has nothing to say."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from basira.review.repository import CaseView


@dataclass(frozen=True)
class Panel:
    title: str
    rows: list[tuple[str, str]] = field(default_factory=list)  # (label, value), both escaped when shown
    empty: str = "Nothing recorded."
    links: list[tuple[str, str]] = field(default_factory=list)  # (text, local URL), shown as a list of links


Provider = Callable[[Any, "CaseView"], Panel | None]
PANELS: dict[str, Provider] = {}
PLACEHOLDERS = {
    "hash_matches": Panel("Hash matches", [], "No hash-bank matches recorded for this content."),
    "network": Panel("Network context", [], "No network analysis recorded for this account."),
}


def register_panel(name: str) -> Callable[[Provider], Provider]:
    def wrap(fn: Provider) -> Provider:
        PANELS[name] = fn
        return fn

    return wrap


def panels_for(store: Any, detail: CaseView) -> list[Panel]:
    out = []
    for name in dict.fromkeys([*PLACEHOLDERS, *PANELS]):
        provider = PANELS.get(name)
        panel = None
        if provider is not None:
            try:
                panel = provider(store, detail)
            except Exception as exc:  # noqa: BLE001 - one broken panel must not break the case page
                panel = Panel(name, [], f"This panel failed: {type(exc).__name__}")
        out.append(panel or PLACEHOLDERS.get(name) or Panel(name))
    return out
